"""Compares two GRADS.onnx files tensor by tensor: relative L2 error per tensor.

usage: /usr/bin/python3 tests/compare_grads.py FTRUN.onnx TORCH.onnx [MAX_REL_L2] [--self TORCH2.onnx]

Every tensor of TORCH.onnx must be in FTRUN.onnx with the same shape and
||a - b|| / ||b|| <= MAX_REL_L2 (default 1e-4); "loss" is compared the same way.

--self TORCH2.onnx gives a second PyTorch oracle computed with PyTorch's other
convolution algorithm (tests/torch_grads.py --no-mkldnn). Where PyTorch's two
answers differ from each other by e (relative L2), no float32 implementation can be
held closer to PyTorch than that, so the bound for that tensor becomes
max(MAX_REL_L2, 2e). This matters for ReLU + BatchNorm networks at batch 2
(docs/training.md): a pre-activation within float rounding of zero flips its ReLU
between two correct float32 evaluations, and BatchNorm's backward spreads that to
every earlier layer; and for parameters whose true gradient is exactly zero (a
BatchNorm bias followed only by more BatchNorms), where both sides return rounding
noise. Prints the worst tensors; exits 1 on any failure.
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def load(path):
    return {t.name: numpy_helper.to_array(t).astype(np.float64) for t in onnx.load(path).graph.initializer}


def rel(got, ref):
    den = np.linalg.norm(ref)
    return np.linalg.norm(got - ref) / (den if den > 0 else 1.0)


def main():
    args = sys.argv[1:]
    self_ref = None
    if "--self" in args:
        i = args.index("--self")
        self_ref = load(args[i + 1])
        del args[i:i + 2]
    a, b = load(args[0]), load(args[1])
    bound = float(args[2]) if len(args) > 2 else 1e-4
    rows, bad = [], 0
    for name, ref in b.items():
        if name not in a:
            print(f"FAIL missing gradient {name}")
            bad += 1
            continue
        got = a[name]
        if got.shape != ref.shape:
            print(f"FAIL {name}: shape {got.shape}, expected {ref.shape}")
            bad += 1
            continue
        e = rel(got, ref)
        s = rel(self_ref[name], ref) if self_ref is not None and name in self_ref else 0.0
        allowed = max(bound, 2 * s)
        rows.append((e, s, allowed, name))
        if not e <= allowed:
            bad += 1
            print(f"FAIL {name}: relative L2 {e:.3g} > {allowed:.3g} (PyTorch against itself: {s:.3g})")
    rows.sort(reverse=True)
    print("  worst tensors: relative L2 to PyTorch (PyTorch against itself)")
    for e, s, _, name in rows[:5]:
        print(f"  {e:.3g} ({s:.3g})  {name}")
    worst = rows[0][0] if rows else float("nan")
    under = sum(1 for e, _, _, _ in rows if e <= bound)
    print(f"{'PASS' if bad == 0 else 'FAIL'}: {len(rows)} tensors, worst relative L2 {worst:.3g}; {under} within "
          f"{bound:g}, {len(rows) - under - bad} within PyTorch's own spread, {bad} over")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
