"""PyTorch's side of the Fashion-MNIST comparison (docs/fashion-mnist.md).

usage: /usr/bin/python3 bench/fmnist_torch.py OUT.csv EPOCHS BATCH LR WD WARMUP THREADS [SEED]

The recipe is ftrun's (`ftrun train resnet18_fmnist.onnx --data /usr/share/datasets/fashion-mnist
--epochs E -b B --lr LR --wd WD --warmup-steps W`): the same network and initial weights
(onnx_models/export.py's resnet18_fmnist), images 28x28 grey -> bilinear resize to 32x32
(F.interpolate, align_corners=False, no antialias) -> 3 channels -> x/255 -> (x-0.5)/0.5 ->
random horizontal flip; SGD momentum 0.9, weight decay on tensors of rank > 1 only, linear
warmup then cosine to zero per step, cross-entropy; drop_last batches, reshuffled each epoch.
The shuffling and flips come from torch's generator, not ftrun's: the comparison is of the
recipe, not of the exact sample order. Writes a CSV row per epoch: epoch, train loss, test top1.
"""
import gzip
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "onnx_models"))
import export  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"


def idx(name):
    with gzip.open(os.path.join(DATA, name)) as f:
        raw = f.read()
    if raw[2] == 8 and raw[3] == 3:
        n, h, w = np.frombuffer(raw[4:16], dtype=">u4")
        return np.frombuffer(raw[16:], dtype=np.uint8).reshape(n, h, w)
    return np.frombuffer(raw[8:], dtype=np.uint8).astype(np.int64)


def prep(x):
    x = torch.from_numpy(x).float().unsqueeze(1)
    x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
    x = x.expand(-1, 3, -1, -1) / 255.0
    return (x - 0.5) / 0.5


def main():
    out, epochs, batch, lr, wd, warmup, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
        float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
    seed = int(sys.argv[8]) if len(sys.argv) > 8 else 0
    torch.set_num_threads(threads)
    xtr, ytr = prep(idx("train-images-idx3-ubyte.gz")), torch.from_numpy(idx("train-labels-idx1-ubyte.gz"))
    xte, yte = prep(idx("t10k-images-idx3-ubyte.gz")), torch.from_numpy(idx("t10k-labels-idx1-ubyte.gz"))
    model = export.build("resnet18_fmnist")
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}],
                          lr=lr, momentum=0.9)
    gen = torch.Generator().manual_seed(seed)
    per_epoch = len(xtr) // batch
    total = epochs * per_epoch
    step = 0
    with open(out, "w") as f:
        f.write("epoch,train_loss,test_top1,seconds\n")
        t0 = time.time()
        for epoch in range(epochs):
            model.train()
            perm = torch.randperm(len(xtr), generator=gen)
            run = 0.0
            for b in range(per_epoch):
                ids = perm[b * batch:(b + 1) * batch]
                x, y = xtr[ids].clone(), ytr[ids]
                flip = torch.rand(len(ids), generator=gen) < 0.5
                x[flip] = x[flip].flip(-1)
                cur = lr * (step + 1) / warmup if step < warmup else \
                    lr * 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total - warmup)))
                for g in opt.param_groups:
                    g["lr"] = cur
                opt.zero_grad()
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                run += loss.item()
                step += 1
            model.eval()
            right = 0
            with torch.no_grad():
                for s in range(0, len(xte), 500):
                    right += (model(xte[s:s + 500]).argmax(1) == yte[s:s + 500]).sum().item()
            top1 = right / len(xte)
            f.write(f"{epoch},{run / per_epoch:.5f},{top1:.4f},{time.time() - t0:.1f}\n")
            f.flush()
            print(f"epoch {epoch} loss {run / per_epoch:.4f} top1 {top1:.4f} ({time.time() - t0:.0f}s)")


if __name__ == "__main__":
    main()
