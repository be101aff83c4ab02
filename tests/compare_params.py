"""Compares the parameters of two trained ONNX models (ftrun train -o), tensor by tensor.

usage: /usr/bin/python3 tests/compare_params.py A.onnx B.onnx MAX_ABS [--moved-from INITIAL.onnx MIN_MOVE]
       /usr/bin/python3 tests/compare_params.py A.onnx B.onnx --differ MIN_ABS
       --rel (anywhere): the criterion is each tensor's relative L2 difference,
       |a - b| / |b|, instead of the largest absolute difference

Every float initializer of A must be in B with the same shape, and the largest
absolute difference over all of them must be <= MAX_ABS. With --moved-from, the
training must have moved the parameters of B away from INITIAL.onnx by more than
MIN_MOVE (largest absolute change), so that the comparison can fail: a run that
did not train, or trained on other data, would not be within MAX_ABS.
With --differ, the largest absolute difference must instead exceed MIN_ABS (a
run that should not match: the check that the comparison can tell them apart).
Prints the worst tensors; exits 1 on failure.
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def load(path):
    out = {}
    for t in onnx.load(path).graph.initializer:
        a = numpy_helper.to_array(t)
        if a.dtype == np.float32:
            out[t.name] = a.astype(np.float64)
    return out


def worst(a, b):
    rows = []
    for name, x in a.items():
        if name not in b or b[name].shape != x.shape:
            sys.exit(f"{name}: missing or of another shape in the second model")
        d = np.abs(x - b[name]).max() if x.size else 0.0
        den = np.linalg.norm(b[name])
        rows.append((d, np.linalg.norm(x - b[name]) / (den if den > 0 else 1.0), name))
    rows.sort(reverse=True)
    return rows


def main():
    args = sys.argv[1:]
    moved = None
    if "--moved-from" in args:
        i = args.index("--moved-from")
        moved = (args[i + 1], float(args[i + 2]))
        del args[i:i + 3]
    rel = "--rel" in args
    if rel:
        args.remove("--rel")
    differ = args[2] == "--differ"
    if differ:
        del args[2]
    a, b = load(args[0]), load(args[1])
    tol = float(args[2])
    rows = worst(a, b)
    if rel:
        rows = [(r, d, name) for d, r, name in rows]
        rows.sort(reverse=True)
        what = "relative L2 difference"
        print(f"{len(rows)} parameter tensors; largest relative L2 difference:")
        for r, d, name in rows[:5]:
            print(f"  {r:.3e} (max abs {d:.3e})  {name}")
    else:
        what = "max abs difference"
        print(f"{len(rows)} parameter tensors; largest |a - b| per tensor:")
        for d, r, name in rows[:5]:
            print(f"  {d:.3e} (relative L2 {r:.3e})  {name}")
    if differ:
        ok = rows[0][0] > tol
        print(f"{what} {rows[0][0]:.3e} {'>' if ok else '<='} {tol:g} (they must differ)")
        sys.exit(0 if ok else 1)
    ok = rows[0][0] <= tol
    print(f"{what} {rows[0][0]:.3e} {'<=' if ok else '>'} {tol:g}")
    if moved:
        m = worst(load(moved[0]), b)[0]
        moved_ok = m[0] > moved[1]
        print(f"training moved the parameters by up to {m[0]:.3e} ({m[2]}) {'>' if moved_ok else '<='} {moved[1]:g}")
        ok = ok and moved_ok
    sys.exit(0 if ok else 1)


main()
