#!/usr/bin/env python3
"""A model exported by `ftrun train -o` against onnxruntime (tests/train_cli.sh, case 7).

    check_export.py FTRUN TRAINED.onnx ORIGINAL.onnx WORKDIR

Runs `ftrun run TRAINED.onnx` and onnxruntime on the same input (batch 2 of the
model's input shape, fixed seed): both evaluate in float32 with eval-mode
BatchNorm on the learned statistics, so they differ only in summation order
(~1e-6); the check asks 1e-5 relative L2. Also asks that the trained model's
output differs from the original's, so the export did write the learned values.
Needs onnxruntime (the venv tests/run.sh makes) and onnx with numpy.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

TOL = 1e-5


def rel_l2(a, b):
    return float(np.linalg.norm((a - b).ravel()) / max(np.linalg.norm(b.ravel()), 1e-30))


def ftrun_run(ftrun, model, x_pb, out):
    r = subprocess.run([ftrun, "run", model, "--input", x_pb, "--output-dir", out, "--threads", "2"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("FAIL: ftrun run %s exited %d: %s" % (model, r.returncode, r.stderr.strip()))
    t = onnx.TensorProto()
    with open(os.path.join(out, "output_0.pb"), "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    ftrun, trained, original, work = sys.argv[1:]
    os.makedirs(work, exist_ok=True)
    sess = ort.InferenceSession(trained, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    shape = [2] + [d if isinstance(d, int) else 1 for d in inp.shape[1:]]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    x_pb = os.path.join(work, "X.pb")
    with open(x_pb, "wb") as f:
        f.write(numpy_helper.from_array(x, inp.name).SerializeToString())

    ours = ftrun_run(ftrun, trained, x_pb, os.path.join(work, "trained"))
    theirs = sess.run(None, {inp.name: x})[0]
    if ours.shape != theirs.shape:
        sys.exit("FAIL: ftrun output %s, onnxruntime %s" % (ours.shape, theirs.shape))
    err = rel_l2(ours.astype(np.float64), theirs.astype(np.float64))
    print("ftrun vs onnxruntime on %s, input %s: relative L2 %.3g (tolerance %g)" % (trained, shape, err, TOL))

    before = ftrun_run(ftrun, original, x_pb, os.path.join(work, "original"))
    moved = rel_l2(ours.astype(np.float64), before.astype(np.float64))
    print("trained vs original model output: relative L2 %.3g (must be > 1e-3)" % moved)
    if not err <= TOL:
        sys.exit("FAIL: the exported model differs from onnxruntime by %.3g" % err)
    if not moved > 1e-3:
        sys.exit("FAIL: the exported model computes what the original did: were the trained values written?")
    print("OK")


if __name__ == "__main__":
    main()
