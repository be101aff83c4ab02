#!/usr/bin/python3
"""
make_seeds.py OUT_DIR [MAX_BYTES] - seeds for the importer fuzz target.

For every ONNX backend node test, writes two models under MAX_BYTES (default 60000):
  NAME.onnx        the test's model as it is (graph inputs stay inputs: the fuzzer
                   reaches import and shape inference);
  NAME_const.onnx  the same with test_data_set_0's inputs baked in as initializers,
                   so that specialisation folds the node and runs its CPU kernel on
                   values the fuzzer then mutates (indices, shapes, axes).
Byte mutations rarely turn an input into an initializer; the second form gives
the fuzzer the kernels' input checks to attack from the start.
"""
import glob
import os
import sys

import onnx
from onnx import numpy_helper

NODE_DIR = "/usr/share/libonnx-testdata/data/node"
out = sys.argv[1]
max_bytes = int(sys.argv[2]) if len(sys.argv) > 2 else 60000
os.makedirs(out, exist_ok=True)
n = 0
for d in sorted(glob.glob(os.path.join(NODE_DIR, "test_*"))):
    name = os.path.basename(d)
    try:
        m = onnx.load(os.path.join(d, "model.onnx"))
    except Exception:
        continue
    b = m.SerializeToString()
    if len(b) <= max_bytes:
        with open(os.path.join(out, name + ".onnx"), "wb") as f:
            f.write(b)
        n += 1
    inits = {t.name for t in m.graph.initializer}
    inputs = [i for i in m.graph.input if i.name not in inits]
    ok = True
    for k, vi in enumerate(inputs):
        p = os.path.join(d, "test_data_set_0", "input_%d.pb" % k)
        if not os.path.exists(p):
            ok = False
            break
        t = onnx.TensorProto()
        with open(p, "rb") as f:
            t.ParseFromString(f.read())
        if t.data_type == onnx.TensorProto.STRING:
            ok = False
            break
        t.name = vi.name
        m.graph.initializer.append(t)
    if not ok or not inputs:
        continue
    keep = [i for i in m.graph.input if i.name in inits]
    del m.graph.input[:]
    m.graph.input.extend(keep)
    b = m.SerializeToString()
    if len(b) <= max_bytes:
        with open(os.path.join(out, name + "_const.onnx"), "wb") as f:
            f.write(b)
        n += 1
print("%d seeds in %s" % (n, out))
