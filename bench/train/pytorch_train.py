"""PyTorch side of hydranet-bench-train: the same ResNet-18 HydraNet (torchvision ResNet-18
with fc = Identity, heads 512-256-{1,1,5}) in PyTorch eager, one measurement per process.

  python pytorch_train.py train SIZE BATCH STEPS THREADS PRECISION LAYOUT
  python pytorch_train.py eval  SIZE BATCH STEPS THREADS PRECISION LAYOUT
  python pytorch_train.py latency SIZE 1 STEPS THREADS PRECISION LAYOUT

train: equal weighting (L1 + BCE-with-logits + CE), AdamW, forward under
torch.autocast("cpu", bfloat16) for PRECISION bf16, losses in float32. eval/latency: eval
mode under torch.inference_mode. LAYOUT nchw or nhwc (channels_last model and input).
Prints `RESULT {json}`: median (and p99) seconds per step and the peak RSS (VmHWM).
"""
import contextlib
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F
import torchvision
from torch import nn


def peak_rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    mode, size, batch, steps, threads, precision, layout = sys.argv[1:8]
    size, batch, steps, threads = int(size), int(batch), int(steps), int(threads)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    backbone = torchvision.models.resnet18()
    backbone.fc = nn.Identity()
    heads = nn.ModuleList(nn.Sequential(nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, k)) for k in (1, 1, 5))
    model = nn.ModuleDict({"backbone": backbone, "heads": heads})
    x = torch.randn(batch, 3, size, size)
    if layout == "nhwc":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if precision == "bf16" else contextlib.nullcontext
    age, gender = torch.rand(batch), torch.randint(0, 2, (batch,)).float()
    race = torch.randint(0, 5, (batch,))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    times = []
    warmup = 3
    if mode == "train":
        model.train()
    else:
        model.eval()
    for i in range(warmup + steps):
        start = time.perf_counter()
        if mode == "train":
            with autocast():
                f = model["backbone"](x)
                out = [h(f).float() for h in model["heads"]]
            loss = (F.l1_loss(out[0].squeeze(1), age) + F.binary_cross_entropy_with_logits(out[1].squeeze(1), gender)
                    + F.cross_entropy(out[2], race))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss.item()
        else:
            with torch.inference_mode(), autocast():
                f = model["backbone"](x)
                out = [h(f).float() for h in model["heads"]]
                torch.softmax(out[2], 1).sum().item()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    times.sort()
    p99 = times[min(len(times) - 1, int(round(0.99 * (len(times) - 1))))]
    print("RESULT " + json.dumps({"median": statistics.median(times), "p99": p99, "peak_rss": peak_rss()}), flush=True)


if __name__ == "__main__":
    main()
