"""Time torchvision inference for `ventral bench import`: prints images/s (median of runs).

usage: torch_infer.py ARCH THREADS BATCH SECONDS   (ARCH: mobilenet_v2 or resnet18)
Random weights and a fixed random batch: speed does not depend on the values.
"""
import statistics, sys, time

import torch
import torchvision

arch, threads, batch, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(0)
model = getattr(torchvision.models, arch)().eval()
x = torch.randn(batch, 3, 224, 224)
times = []
with torch.no_grad():
    model(x)  # warm-up
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < 3:
        t0 = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - t0)
print("PEER %s %.3f" % (arch, batch / statistics.median(times)))
