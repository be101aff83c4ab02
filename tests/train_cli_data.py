#!/usr/bin/python3
"""Small inputs for tests/train_cli.sh (Debian's python3 with PIL, numpy and onnx).

    train_cli_data.py fmnist SRC OUT NTRAIN NTEST
        the first NTRAIN / NTEST images of the IDX folder SRC (Fashion-MNIST) as an
        uncompressed IDX folder OUT, so a run's held-out evaluation takes a moment
    train_cli_data.py folder OUT CLASSES PER_CLASS [BAD]
        an ImageFolder of 32 x 32 RGB PNGs: PER_CLASS images per class in train/,
        one per class in val/; with BAD, train/<class 0>/BAD is text, not an image
    train_cli_data.py convmodel OUT.onnx
        a Conv-only model, input (N,3,32,32), output (N,4,30,30): not a classifier
    train_cli_data.py biasmodel OUT.onnx [nan]
        logits = a bias whatever the image: Gemm(GlobalAveragePool(x), W = 0, b), x (N,3,8,8), 12 classes
        with b = 0 11 1 10 2 9 3 8 4 7 5 6 (top-1 class 1; top-5 classes 1 3 5 7 9); with nan, b[1] is NaN
        (top-1 class 3; top-5 classes 3 5 7 9 11)
    train_cli_data.py constmodel OUT.onnx
        y = Gemm((Flatten(x) * "onnx::Mul_1" + "pos") * "/Mul_output_0", W, b), x (N,1,2,2): two
        exporter-made float values of 4, a module tensor "pos" of 4 values, W (10,4), b (10)
"""
import gzip
import os
import shutil
import struct
import sys

import numpy as np


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = struct.unpack(">%dI" % rank, data[4:4 + 4 * rank])
    return data[:4], list(dims), data[4 + 4 * rank:]


def write_idx_subset(src, dst, n):
    head, dims, body = read_idx(src)
    per = int(np.prod(dims[1:])) if len(dims) > 1 else 1
    n = min(n, dims[0])
    with open(dst, "wb") as f:
        f.write(head)
        f.write(struct.pack(">%dI" % len(dims), n, *dims[1:]))
        f.write(body[: n * per])


def find(src, prefix, kind, k):
    for name in ("%s-%s-idx%d-ubyte" % (prefix, kind, k), "%s-%s-idx%d-ubyte.gz" % (prefix, kind, k)):
        if os.path.exists(os.path.join(src, name)):
            return os.path.join(src, name)
    sys.exit("%s: no %s-%s-idx%d-ubyte[.gz]" % (src, prefix, kind, k))


def make_fmnist(src, out, ntrain, ntest):
    os.makedirs(out, exist_ok=True)
    for prefix, n in (("train", ntrain), ("t10k", ntest)):
        for kind, k in (("images", 3), ("labels", 1)):
            write_idx_subset(find(src, prefix, kind, k), os.path.join(out, "%s-%s-idx%d-ubyte" % (prefix, kind, k)), n)


def make_folder(out, classes, per_class, bad):
    from PIL import Image

    shutil.rmtree(out, ignore_errors=True)
    rng = np.random.default_rng(classes * 100 + per_class)
    for split, count in (("train", per_class), ("val", 1)):
        for k in range(classes):
            d = os.path.join(out, split, "class%02d" % k)
            os.makedirs(d)
            for j in range(count):
                px = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
                px[:, :, k % 3] = 40 + 15 * k  # a class-dependent channel
                Image.fromarray(px, "RGB").save(os.path.join(d, "%03d.png" % j))
    if bad:
        with open(os.path.join(out, "train", "class00", bad), "w") as f:
            f.write("this is text, not a PNG\n")


def save_model(path, nodes, x_shape, y_shape, inits):
    """one input x, one output y (float32), opset 13, checked by onnx, saved to path"""
    import onnx
    from onnx import TensorProto, helper

    name = os.path.splitext(os.path.basename(path))[0]
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def make_convmodel(path):
    from onnx import helper, numpy_helper

    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((4, 3, 3, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(np.zeros(4, np.float32), "b")
    save_model(path, [helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv_only")], ["N", 3, 32, 32],
               ["N", 4, 30, 30], [w, b])


def make_biasmodel(path, nan):
    from onnx import helper, numpy_helper

    b = np.array([0, 11, 1, 10, 2, 9, 3, 8, 4, 7, 5, 6], np.float32)
    if nan:
        b[1] = np.nan
    inits = [numpy_helper.from_array(np.zeros((12, 3), np.float32), "W"), numpy_helper.from_array(b, "b")]
    nodes = [helper.make_node("GlobalAveragePool", ["x"], ["p"], name="pool"),
             helper.make_node("Flatten", ["p"], ["f"], name="flatten", axis=1),
             helper.make_node("Gemm", ["f", "W", "b"], ["y"], name="fc", transB=1)]
    save_model(path, nodes, ["N", 3, 8, 8], ["N", 12], inits)


def make_constmodel(path):
    from onnx import helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal(s).astype(np.float32), n)
             for n, s in (("onnx::Mul_1", (4,)), ("pos", (4,)), ("/Mul_output_0", (4,)), ("W", (10, 4)), ("b", (10,)))]
    nodes = [helper.make_node("Flatten", ["x"], ["f"], name="flatten", axis=1),
             helper.make_node("Mul", ["f", "onnx::Mul_1"], ["m"], name="scale"),
             helper.make_node("Add", ["m", "pos"], ["p"], name="embed"),
             helper.make_node("Mul", ["p", "/Mul_output_0"], ["q"], name="scale2"),
             helper.make_node("Gemm", ["q", "W", "b"], ["y"], name="fc", transB=1)]
    save_model(path, nodes, ["N", 1, 2, 2], ["N", 10], inits)


def main():
    a = sys.argv[1:]
    if len(a) == 5 and a[0] == "fmnist":
        make_fmnist(a[1], a[2], int(a[3]), int(a[4]))
    elif len(a) in (4, 5) and a[0] == "folder":
        make_folder(a[1], int(a[2]), int(a[3]), a[4] if len(a) == 5 else None)
    elif len(a) == 2 and a[0] == "convmodel":
        make_convmodel(a[1])
    elif len(a) in (2, 3) and a[0] == "biasmodel":
        make_biasmodel(a[1], len(a) == 3 and a[2] == "nan")
    elif len(a) == 2 and a[0] == "constmodel":
        make_constmodel(a[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
