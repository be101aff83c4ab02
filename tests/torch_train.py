"""PyTorch's side of the training parity test (tests/test_train.c sgd).

usage: /usr/bin/python3 tests/torch_train.py MODEL OUT_DIR STEPS BATCH LR MOMENTUM WD [IMAGE_SIZE] [--adamw] [--no-mkldnn]

Rebuilds MODEL as onnx_models/export.py exported it (same seed and randomisation), trains it
in training mode (BatchNorm on batch statistics, Dropout and StochasticDepth off) with
torch.optim.SGD(lr, momentum, weight_decay on tensors of rank > 1 only, as ftrun and timm group
them) for STEPS steps on fixed random batches, and writes OUT_DIR/batch_K_input.pb,
batch_K_labels.pb and losses.pb (the loss of each step, before its update).
"""
import os
import sys

import numpy as np
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "onnx_models"))
import export  # noqa: E402


def write(path, array, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(array, name).SerializeToString())


def main():
    if "--no-mkldnn" in sys.argv:
        sys.argv.remove("--no-mkldnn")
        torch.backends.mkldnn.enabled = False  # PyTorch's other convolution algorithm
    adamw = "--adamw" in sys.argv
    if adamw:
        sys.argv.remove("--adamw")
    name, out = sys.argv[1], sys.argv[2]
    steps, batch = int(sys.argv[3]), int(sys.argv[4])
    lr, momentum, wd = float(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
    shape = export.MODELS[name][1]
    if len(sys.argv) > 8:
        shape = (shape[0], int(sys.argv[8]), int(sys.argv[8]))
    model = export.build(name)
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout) or type(m).__name__ == "StochasticDepth":
            m.p = 0.0
    model.train()
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    groups = [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}]
    if adamw:  # MOMENTUM is then beta1; beta2 0.999, eps 1e-8 (PyTorch's and ftrun's defaults)
        opt = torch.optim.AdamW(groups, lr=lr, betas=(momentum, 0.999), eps=1e-8)
    else:
        opt = torch.optim.SGD(groups, lr=lr, momentum=momentum)
    os.makedirs(out, exist_ok=True)
    gen = torch.Generator().manual_seed(777)
    classes = None
    losses = []
    for k in range(steps):
        x = torch.randn((batch,) + tuple(shape), generator=gen)
        if classes is None:
            with torch.no_grad():
                model.eval()
                classes = model(x[:1]).shape[1]
                model.train()
        y = torch.randint(0, classes, (batch,), generator=gen)
        write(os.path.join(out, f"batch_{k}_input.pb"), x.numpy(), "input")
        write(os.path.join(out, f"batch_{k}_labels.pb"), y.numpy().astype(np.int64), "labels")
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    write(os.path.join(out, "losses.pb"), np.array(losses, dtype=np.float32), "losses")
    print(f"{name}: {steps} steps, losses {losses[0]:.6f} .. {losses[-1]:.6f}")


if __name__ == "__main__":
    main()
