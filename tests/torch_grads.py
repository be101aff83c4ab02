"""PyTorch's gradients of an exported model, the oracle for `ftrun grad`.

usage: /usr/bin/python3 tests/torch_grads.py MODEL ONNX_FILE REF_DIR OUT.onnx [--no-mkldnn]
       [--autocast bf16|fp16] [--state TRAINED.pt] [--device cpu|cuda]

Rebuilds MODEL exactly as onnx_models/export.py made ONNX_FILE (same seed, same
randomisation), puts it in training mode with every Dropout and StochasticDepth
off (p = 0), runs REF_DIR/test_data_set_0/input_0.pb with the labels in
REF_DIR/test_data_set_0/labels_0.pb (written here on first use: fixed seed),
and writes OUT.onnx in GRADS.onnx's layout: one initializer per ONNX parameter
named as in ONNX_FILE, holding dLoss/dParam, plus "loss". Exporters rename and
transpose some weights (MatMul weights become "onnx::MatMul_N" = W^T); each
ONNX initializer is matched to the torch parameter with the same values, or
the transposed values, since export.py makes every initializer distinct.

--device cuda computes them on the GPU (scripts/device_check.sh: the PyTorch-on-the-same-GPU
oracle for ftrun's CUDA backend), with TF32 off so that float32 is float32.
"""
import os
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "onnx_models"))
import export  # noqa: E402


def main():
    name, onnx_file, ref_dir, out = sys.argv[1:5]
    if "--no-mkldnn" in sys.argv[5:]:
        # a second oracle: PyTorch with its other convolution algorithm, to measure how far
        # PyTorch's own gradients move when only float32 summation orders change
        torch.backends.mkldnn.enabled = False
    # a model trained by tests/pretrain.py: its state dict
    state = sys.argv[sys.argv.index("--state") + 1] if "--state" in sys.argv else None
    model = export.build(name, state)
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout) or type(m).__name__ == "StochasticDepth":
            m.p = 0.0
    set_dir = os.path.join(ref_dir, "test_data_set_0")
    x = numpy_helper.to_array(onnx.load_tensor(os.path.join(set_dir, "input_0.pb")))
    x = x.copy()
    model.eval()
    with torch.no_grad():
        classes = model(torch.from_numpy(x[:1])).shape[1]
    dev = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
    if dev == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    model.to(dev)
    model.train()
    labels_path = os.path.join(set_dir, "labels_0.pb")
    if not os.path.exists(labels_path):
        gen = np.random.default_rng(4321)
        lab = gen.integers(0, classes, size=(x.shape[0],), dtype=np.int64)
        with open(labels_path, "wb") as f:
            f.write(numpy_helper.from_array(lab, "labels").SerializeToString())
    lab = numpy_helper.to_array(onnx.load_tensor(labels_path))
    model.zero_grad()
    amp = sys.argv[sys.argv.index("--autocast") + 1] if "--autocast" in sys.argv else None
    # PyTorch's own mixed precision (on the CPU unless --device cuda): the oracle for `ftrun grad --amp` (issue 4);
    # no loss scaling, so fp16 gradients that underflow stay zero here
    with torch.autocast(dev, dtype={"bf16": torch.bfloat16, "fp16": torch.float16}[amp] if amp else None,
                        enabled=amp is not None):
        logits = model(torch.from_numpy(x).to(dev))
        loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(lab).to(dev))
    loss.backward()

    proto = onnx.load(onnx_file)
    params = [(n, p.detach().cpu().numpy(), p.grad.cpu().numpy()) for n, p in model.named_parameters() if p.grad is not None]
    by_bytes = {}
    for n, v, g in params:
        by_bytes[v.tobytes()] = (n, g, False)
        if v.ndim == 2:
            by_bytes[np.ascontiguousarray(v.T).tobytes()] = (n, g.T, True)
    inits = []
    for init in proto.graph.initializer:
        v = numpy_helper.to_array(init)
        if v.dtype != np.float32:
            continue
        hit = by_bytes.get(np.ascontiguousarray(v).tobytes())
        if hit is None:
            continue  # BatchNorm running statistics and other state: no gradient
        inits.append(numpy_helper.from_array(np.ascontiguousarray(hit[1]).reshape(v.shape), init.name))
    inits.append(numpy_helper.from_array(np.array(loss.item(), dtype=np.float32), "loss"))
    graph = onnx.helper.make_graph([], "torch_grads", [], [], initializer=inits)
    onnx.save(onnx.helper.make_model(graph), out)
    print(f"{name}: loss {loss.item():.6f}, {len(inits) - 1} parameter gradients of {len(params)}")


if __name__ == "__main__":
    main()
