"""PyTorch reference for hydranet-bench-mtl: the same HydraNet step in PyTorch.

  python pytorch_step.py SIZE BATCH STEPS THREADS

torchvision ResNet-18 (fc = Identity) + three MLP heads (512-256-{1,1,5}) as HydraNet
builds them, equal weighting (L1 + BCE-with-logits + CE summed), AdamW, one forward (backbone
once), one backward, one step per iteration. Prints {"seconds_per_step": median} after 2
warm-up steps.
"""
import json
import statistics
import sys
import time

import torch
import torchvision
from torch import nn
import torch.nn.functional as F

size, batch, steps, threads = (int(a) for a in sys.argv[1:5])
torch.set_num_threads(threads)
torch.manual_seed(0)
backbone = torchvision.models.resnet18()
backbone.fc = nn.Identity()
heads = nn.ModuleDict({n: nn.Sequential(nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, k))
                       for n, k in (("age", 1), ("gender", 1), ("race", 5))})
params = list(backbone.parameters()) + list(heads.parameters())
opt = torch.optim.AdamW(params, lr=1e-3)
x = torch.randn(batch, 3, size, size)
age = torch.rand(batch) * 80
gender = torch.randint(0, 2, (batch,)).float()
race = torch.randint(0, 5, (batch,))
times = []
for i in range(steps + 2):
    start = time.perf_counter()
    f = backbone(x)
    loss = (F.l1_loss(heads["age"](f).squeeze(1), age)
            + F.binary_cross_entropy_with_logits(heads["gender"](f).squeeze(1), gender)
            + F.cross_entropy(heads["race"](f), race))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    if i >= 2:
        times.append(time.perf_counter() - start)
print(json.dumps({"seconds_per_step": statistics.median(times)}))
