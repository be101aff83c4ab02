"""PyTorch's side of bench/train_step.sh: the time of one training step.

usage: /usr/bin/python3 bench/torch_train_step.py MODEL BATCH ITERS THREADS

MODEL is a name from onnx_models/export.py (resnet50, efficientnet_b0, vit_b_16,
resnet18_fmnist, ...), rebuilt as export.py exports it (same seed, randomised normalisation
parameters, the model's own input shape) and trained as ftrun trains the exported graph:
training mode (BatchNorm on batch statistics), Dropout and StochasticDepth off (the exported
graph is the eval graph, where they are the identity), fp32. One step is
zero_grad, forward, cross-entropy, backward and torch.optim.SGD(lr 0.01, momentum 0.9) on one
fixed random batch (inputs uniform in [-1, 1), labels uniform over the classes); two warm-up
steps, then ITERS timed ones. Prints
"step_ms_median S step_ms_min M loss_first A loss_last B" (median = sorted[ITERS // 2], as
bench_train.c).
"""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "onnx_models"))
import export  # noqa: E402


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    name, batch, iters, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    shape = export.MODELS[name][1]
    model = export.build(name)
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout) or type(m).__name__ == "StochasticDepth":
            m.p = 0.0
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    gen = torch.Generator().manual_seed(1)
    x = torch.rand((batch,) + tuple(shape), generator=gen) * 2 - 1
    with torch.no_grad():
        model.eval()
        classes = model(x[:1]).shape[1]
        model.train()
    y = torch.randint(0, classes, (batch,), generator=gen)

    times = []
    losses = []
    for i in range(iters + 2):  # two warm-up steps
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        lv = loss.item()  # the step is synchronous on the CPU; item() is cheap
        if i >= 2:
            times.append((time.perf_counter() - t0) * 1e3)
        losses.append(lv)
    times.sort()
    print(f"step_ms_median {times[iters // 2]:.1f} step_ms_min {times[0]:.1f} "
          f"loss_first {losses[0]:.4f} loss_last {losses[-1]:.4f}")


if __name__ == "__main__":
    main()
