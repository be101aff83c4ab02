"""Runs every torchvision classification architecture through ftrun (the issue-2 promise:
any torchvision classifier that exports at opset 17 runs with no code change).

usage: /usr/bin/python3 onnx_models/zoo_check.py FTRUN WORK_DIR [NAME ...]

For each model: random weights (export.py's seed and randomisation), ONNX export at opset 17
exactly as export.py does, PyTorch eval-mode logits for one random 224x224 image (299 for
inception_v3), `ftrun run` on the same input, relative L2 of the logits (bound 1e-4).
Prints one line per model and a summary; exits 1 if any model fails to run or to match.
A model's files are removed once it passes (FT_ZOO_KEEP=1 keeps them); a failure's stay.
"""
import os
import shutil
import subprocess
import sys
import time
import warnings

import numpy as np
import onnx
import torch
import torchvision
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
import export  # noqa: E402

ZOO = ["alexnet", "vgg11", "googlenet", "inception_v3", "densenet121", "resnext50_32x4d", "wide_resnet50_2",
       "mobilenet_v2", "mobilenet_v3_large", "mnasnet0_5", "regnet_y_400mf", "regnet_x_400mf",
       "efficientnet_v2_s", "shufflenet_v2_x1_0", "swin_t", "maxvit_t", "vit_b_32", "convnext_tiny",
       "resnet18", "squeezenet1_1"]


def main():
    ftrun, work = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or ZOO
    keep = os.environ.get("FT_ZOO_KEEP", "0") != "0"
    os.makedirs(work, exist_ok=True)
    bad = 0
    for name in names:
        if not hasattr(torchvision.models, name):
            print(f"SKIP {name}: not in this torchvision ({torchvision.__version__})")
            continue
        torch.manual_seed(export.SEED)
        kw = {"aux_logits": False, "init_weights": True} if name in ("googlenet", "inception_v3") else {}
        model = getattr(torchvision.models, name)(weights=None, **kw)
        export.randomize(model)
        model.eval()
        hw = 299 if name == "inception_v3" else 224
        x = torch.randn(1, 3, hw, hw, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            ref = model(x).numpy()
        path = os.path.join(work, name + ".onnx")
        t0 = time.time()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(model, (x,), path, opset_version=17, do_constant_folding=False,
                                  training=torch.onnx.TrainingMode.PRESERVE, input_names=["input"],
                                  output_names=["logits"], dynamic_axes={"input": {0: "b"}, "logits": {0: "b"}})
        except Exception as e:  # noqa: BLE001 - an exporter limit is PyTorch's, not ftrun's
            print(f"SKIP {name}: PyTorch cannot export it at opset 17 ({str(e).splitlines()[0][:120]})")
            continue
        inp = os.path.join(work, name + "_input.pb")
        with open(inp, "wb") as f:
            f.write(numpy_helper.from_array(x.numpy(), "input").SerializeToString())
        out_dir = os.path.join(work, name + "_out")
        r = subprocess.run([ftrun, "run", path, "--input", inp, "--output-dir", out_dir], capture_output=True,
                           text=True)
        if r.returncode != 0:
            print(f"FAIL {name}: ftrun exit {r.returncode}: {r.stderr.strip()[:600]}")
            bad += 1
            continue
        got = numpy_helper.to_array(onnx.load_tensor(os.path.join(out_dir, "output_0.pb")))
        rel = np.linalg.norm(got.astype(np.float64) - ref) / np.linalg.norm(ref)
        ok = rel <= 1e-4
        bad += not ok
        print(f"{'PASS' if ok else 'FAIL'} {name}: relative L2 {rel:.2g} ({time.time() - t0:.1f} s)", flush=True)
        if ok and not keep:  # the twenty exports take 2.1 GB; what failed stays to be looked at
            shutil.rmtree(out_dir, ignore_errors=True)
            for f in (path, inp):
                os.remove(f)
    print(f"zoo: {bad} failed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
