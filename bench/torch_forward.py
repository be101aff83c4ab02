"""PyTorch's side of bench/forward.sh: eval-mode forward time and onnx.load time.

usage: /usr/bin/python3 bench/torch_forward.py MODEL BATCH ITERS THREADS ONNX_FILE
MODEL is a torchvision name (resnet50, vit_b_16, efficientnet_b0); weights are random
(timing does not depend on them). Prints "forward_ms_median F forward_ms_min M onnx_load_ms L".
"""
import statistics
import sys
import time

import onnx
import torch
import torchvision

name, batch, iters, threads, onnx_file = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
torch.set_num_threads(threads)
t0 = time.perf_counter()
onnx.load(onnx_file)
onnx_ms = (time.perf_counter() - t0) * 1e3
model = getattr(torchvision.models, name)().eval()
x = torch.randn(batch, 3, 224, 224)
times = []
with torch.no_grad():
    for i in range(iters + 2):
        t0 = time.perf_counter()
        model(x)
        if i >= 2:
            times.append((time.perf_counter() - t0) * 1e3)
print(f"forward_ms_median {statistics.median(times):.1f} forward_ms_min {min(times):.1f} onnx_load_ms {onnx_ms:.1f}")
