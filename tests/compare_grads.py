"""Compares two GRADS.onnx files tensor by tensor: relative L2 error per tensor.

usage: /usr/bin/python3 tests/compare_grads.py FTRUN.onnx TORCH.onnx [MAX_REL_L2]
Every tensor of TORCH.onnx must be in FTRUN.onnx with the same shape and
||a - b|| / ||b|| <= MAX_REL_L2 (default 1e-4); "loss" is compared the same way.
Prints the worst tensors; exits 1 on any failure.
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def load(path):
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}


def main():
    a, b = load(sys.argv[1]), load(sys.argv[2])
    bound = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-4
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
        den = np.linalg.norm(ref.astype(np.float64))
        rel = np.linalg.norm(got.astype(np.float64) - ref) / (den if den > 0 else 1.0)
        rows.append((rel, name))
        if not rel <= bound:
            bad += 1
    rows.sort(reverse=True)
    for rel, name in rows[:5]:
        print(f"  {rel:.3g}  {name}")
    worst = rows[0][0] if rows else float("nan")
    print(f"{'PASS' if bad == 0 else 'FAIL'}: {len(rows)} tensors, worst relative L2 {worst:.3g} (bound {bound:g}),"
          f" {bad} over the bound; {len(a) - len(b)} extra in {sys.argv[1]}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
