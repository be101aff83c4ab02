"""Compares two GRADS.onnx files tensor by tensor: relative L2 error per tensor.

usage: /usr/bin/python3 tests/compare_grads.py FTRUN.onnx TORCH.onnx [MAX_REL_L2] [--self TORCH2.onnx]
       [--factor K] [--whole]

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

--factor K replaces the 2 of 2e (--self must be given).

--whole judges the gradient as one vector (every parameter tensor concatenated, "loss"
apart): ||a - b|| / ||b|| over all of them <= max(MAX_REL_L2, K e_whole), and "loss" on
its own within the same bound; per-tensor figures are printed, not judged. This is the
measure for mixed precision (docs/amp.md): with bf16's 8-bit mantissa the gradients of
small tensors (BatchNorm biases, whose gradient is a sum of terms that nearly cancel)
carry relative errors of 0.1-0.3 in PyTorch's own autocast too, while the gradient as a
whole, which is what the optimizer applies, is measured to the precision the format has.
With --self naming PyTorch's autocast gradients, e_whole is how far PyTorch's own mixed
precision lands from its float32 gradients.
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
    self_ref, factor, whole = None, 2.0, False
    if "--self" in args:
        i = args.index("--self")
        self_ref = load(args[i + 1])
        del args[i:i + 2]
    if "--factor" in args:
        i = args.index("--factor")
        factor = float(args[i + 1])
        del args[i:i + 2]
    if "--whole" in args:
        args.remove("--whole")
        whole = True
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
        allowed = max(bound, factor * s)
        rows.append((e, s, allowed, name))
        if whole and name != "loss":
            continue
        if not e <= allowed:
            bad += 1
            print(f"FAIL {name}: relative L2 {e:.3g} > {allowed:.3g} (PyTorch against itself: {s:.3g})")
    rows.sort(reverse=True)
    print("  worst tensors: relative L2 to PyTorch (PyTorch against itself)")
    for e, s, _, name in rows[:5]:
        print(f"  {e:.3g} ({s:.3g})  {name}")
    worst = rows[0][0] if rows else float("nan")
    params = [n for _, _, _, n in rows if n != "loss"]
    def whole_rel(x):
        num = sum(float(((x[n] - b[n]) ** 2).sum()) for n in params)
        den = sum(float((b[n] ** 2).sum()) for n in params)
        return (num / den) ** 0.5 if den > 0 else float(num > 0)
    e_all = whole_rel(a)
    s_all = whole_rel(self_ref) if self_ref is not None and all(n in self_ref for n in params) else 0.0
    allowed = max(bound, factor * s_all)
    print(f"  whole gradient ({len(params)} tensors): relative L2 {e_all:.3g} (PyTorch against itself: "
          f"{s_all:.3g}); per tensor median {np.median([e for e, _, _, n in rows if n != 'loss']):.3g}")
    if whole:
        if not e_all <= allowed:
            bad += 1
            print(f"FAIL whole gradient: relative L2 {e_all:.3g} > {allowed:.3g}")
        print(f"{'PASS' if bad == 0 else 'FAIL'}: whole gradient relative L2 {e_all:.3g} within {allowed:.3g}"
              f" = max({bound:g}, {factor:g} x {s_all:.3g}); per tensor worst {worst:.3g}")
        sys.exit(1 if bad else 0)
    under = sum(1 for e, _, _, _ in rows if e <= bound)
    print(f"{'PASS' if bad == 0 else 'FAIL'}: {len(rows)} tensors, worst relative L2 {worst:.3g}; {under} within "
          f"{bound:g}, {len(rows) - under - bad} within PyTorch's own spread, {bad} over")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
