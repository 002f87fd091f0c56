"""PyTorch side of hydranet-bench-ddp: the same ResNet-18 HydraNet step (3 heads, equal
weighting, SGD) on random 32x32 images, one process or under torchrun with DDP (gloo).
Prints `RESULT {"step": median seconds}` from rank 0."""
import argparse
import json
import os
import statistics
import time

import torch
import torch.nn.functional as F
import torchvision


class HydraNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = torchvision.models.resnet18(weights=None)
        self.backbone.fc = torch.nn.Identity()
        self.heads = torch.nn.ModuleList(
            torch.nn.Sequential(torch.nn.Linear(512, 256), torch.nn.ReLU(), torch.nn.Linear(256, k)) for k in (1, 1, 5))

    def forward(self, x):
        f = self.backbone(x)
        return [h(f) for h in self.heads]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--batch", type=int, default=64)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    distributed = "WORLD_SIZE" in os.environ
    world, rank = 1, 0
    if distributed:
        torch.distributed.init_process_group("gloo")
        world, rank = torch.distributed.get_world_size(), torch.distributed.get_rank()
    model = HydraNet()
    net = torch.nn.parallel.DistributedDataParallel(model) if distributed else model
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    n = a.batch // world
    g = torch.Generator().manual_seed(1 + rank)
    x = torch.randn(n, 3, a.size, a.size, generator=g)
    age, gender = torch.rand(n, generator=g), torch.randint(0, 2, (n,), generator=g).float()
    race = torch.randint(0, 5, (n,), generator=g)
    times = []
    for s in range(3 + a.steps):
        t0 = time.perf_counter()
        out = net(x)
        loss = F.l1_loss(out[0].reshape(-1), age) + F.binary_cross_entropy_with_logits(out[1].reshape(-1), gender) \
            + F.cross_entropy(out[2], race)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss.item()
        if s >= 3:
            times.append(time.perf_counter() - t0)
    if rank == 0:
        print("RESULT " + json.dumps({"step": statistics.median(times)}), flush=True)
    if distributed:
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
