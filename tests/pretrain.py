"""Trains an export.py model briefly on Fashion-MNIST in PyTorch and exports it with its
trained weights: the well-conditioned case of the gradient checks (docs/amp.md).

usage: /usr/bin/python3 tests/pretrain.py MODEL OUT_DIR [STEPS] [REF_BATCH] [THREADS]

MODEL is a 10-class, 3x32x32 model of onnx_models/export.py (resnet50_fmnist,
resnet18_fmnist). It starts from export.py's weights (seed, randomize()) and takes STEPS
(default 800; the tests take 300) SGD steps on Fashion-MNIST with the recipe of
docs/fashion-mnist.md but a lower learning rate (batch 64, momentum 0.9, lr 0.02 with 100
warmup steps then cosine, weight decay 5e-4 on rank > 1, flips), in training mode. Writes into OUT_DIR:
    MODEL.trained.pt                    the state dict (tests/torch_grads.py --state)
    MODEL_trained.onnx                  exported as export.py exports (eval mode, opset 17)
    MODEL_trained.ref/test_data_set_0/  input_0.pb: the first REF_BATCH (default 32) test
                                        images, preprocessed; labels_0.pb: their labels;
                                        output_0.pb: eval-mode logits
Why: a network with random weights and training-mode BatchNorm is chaotic at small batch
(PyTorch's own float32 algorithms disagree on resnet50's gradients by 2.8e-2, its bf16
autocast by 1.4 relative L2); after a few hundred steps on real data the gradients of real
images are a well-defined quantity again, and precision can be judged on them.
"""
import math
import os
import sys
import time

import numpy as np
import onnx
import torch
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "onnx_models"))
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
import export  # noqa: E402
from fmnist_torch import idx, prep  # noqa: E402


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    name, out = sys.argv[1], sys.argv[2]
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 800
    ref_batch = int(sys.argv[4]) if len(sys.argv) > 4 else 32
    threads = int(sys.argv[5]) if len(sys.argv) > 5 else (os.cpu_count() or 1)
    batch, lr, wd, warmup = 64, 0.02, 5e-4, 100
    torch.set_num_threads(threads)
    os.makedirs(out, exist_ok=True)
    xtr, ytr = prep(idx("train-images-idx3-ubyte.gz")), torch.from_numpy(idx("train-labels-idx1-ubyte.gz"))
    xte, yte = prep(idx("t10k-images-idx3-ubyte.gz")), torch.from_numpy(idx("t10k-labels-idx1-ubyte.gz"))

    model = export.build(name)
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}],
                          lr=lr, momentum=0.9)
    gen = torch.Generator().manual_seed(0)
    perm = torch.randperm(len(xtr), generator=gen)
    model.train()
    t0 = time.time()
    for step in range(steps):
        ids = perm[(step * batch) % (len(xtr) - batch):][:batch]
        x, y = xtr[ids].clone(), ytr[ids]
        flip = torch.rand(len(ids), generator=gen) < 0.5
        x[flip] = x[flip].flip(-1)
        cur = lr * (step + 1) / warmup if step < warmup else \
            lr * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))
        for g in opt.param_groups:
            g["lr"] = cur
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if step % 50 == 0 or step == steps - 1:
            print(f"{name}: step {step + 1}/{steps} loss {loss.item():.4f} ({time.time() - t0:.0f} s)", flush=True)

    model.eval()
    with torch.no_grad():
        correct = sum(int((model(xte[i:i + 500]).argmax(1) == yte[i:i + 500]).sum()) for i in range(0, 2000, 500))
    print(f"{name}: eval top1 on the first 2000 test images {correct / 2000:.4f}")
    state = os.path.join(out, name + ".trained.pt")
    torch.save(model.state_dict(), state)

    stem = name + "_trained"
    export.export_one(name, out, 2, False, state=state, stem=stem)
    d = os.path.join(out, stem + ".ref", "test_data_set_0")
    os.makedirs(d, exist_ok=True)
    x = xte[:ref_batch].contiguous()
    with torch.no_grad():
        logits = export.build(name, state).eval()(x)
    export.write_tensor(os.path.join(d, "input_0.pb"), x.numpy(), export.INPUT_NAME)
    export.write_tensor(os.path.join(d, "output_0.pb"), logits.numpy(), export.OUTPUT_NAME)
    with open(os.path.join(d, "labels_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(yte[:ref_batch].numpy().astype(np.int64), "labels").SerializeToString())
    print(f"{name}: wrote {stem}.onnx and {stem}.ref (batch {ref_batch})")


if __name__ == "__main__":
    main()
