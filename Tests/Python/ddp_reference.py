"""PyTorch DDP reference for HydraNet's distributed tests (run by torchrun).

    torchrun --nproc-per-node 2 Tests/Python/ddp_reference.py DIR OUT

Rebuilds the model of DIR/init.safetensors (written by hydranet-ddp-check) from its
metadata, wraps it in torch.nn.parallel.DistributedDataParallel (gloo), trains on rank
RANK's share of each batch of DIR/batches.safetensors with the sum of the task losses
(equal weighting) and SGD (lr 0.05, momentum 0.9), and rank 0 saves the weights to OUT.
"""
import os
import sys

import torch
import torch.distributed as dist
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from hydranet_torch import load  # noqa: E402


class Heads(torch.nn.Module):
    """backbone once, then every head: the outputs in task order."""

    def __init__(self, model, names):
        super().__init__()
        self.model, self.names = model, names

    def forward(self, x):
        features = self.model["backbone"](x)
        return [self.model["heads"][n](features) for n in self.names]


def main():
    folder, out = sys.argv[1], sys.argv[2]
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    model, spec = load(os.path.join(folder, "init.safetensors"))
    model.train()
    tasks = spec["tasks"]
    net = torch.nn.parallel.DistributedDataParallel(Heads(model, [t["name"] for t in tasks]))
    data = load_file(os.path.join(folder, "batches.safetensors"))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    steps, batch = data["images"].shape[0], data["images"].shape[1]
    share = batch // world
    rows = slice(rank * share, (rank + 1) * share)
    for s in range(steps):
        outputs = net(data["images"][s][rows])
        loss = 0
        for task, output in zip(tasks, outputs):
            y = data[task["name"]][s][rows]
            if task["kind"] == "regression":
                target = (y - task["target_mean"]) / task["target_std"] if task["standardize"] else y
                loss = loss + F.l1_loss(output.reshape(-1), target)
            elif task["kind"] == "binary":
                loss = loss + F.binary_cross_entropy_with_logits(output, y.reshape(output.shape))
            else:
                loss = loss + F.cross_entropy(output, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if rank == 0:
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, out)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
