"""Reference values for Tests/TorchTests/AutogradTests.swift.

Usage: python autograd.py OUTPUT.safetensors

A small MLP with two task losses over shared parameters, and the per-loss gradients that
`torch.autograd.grad(loss_t, params, retain_graph=True)` gives. Keys:

  mlp/x, mlp/y_reg, mlp/y_bin           data (float32)
  mlp/w1, mlp/b1, mlp/w2, mlp/b2        parameters (float32)
  mlp/l1, mlp/l2                        the two losses (0-d)
  mlp/g1/<param>, mlp/g2/<param>        d l1 / d param and d l2 / d param

Model (mirrored in Swift):
  h   = relu(linear(x, w1, b1));  out = linear(h, w2, b2)
  l1  = mse_loss(out[:, 0], y_reg)
  l2  = binary_cross_entropy_with_logits(out[:, 1], y_bin) + 0.5 * (out[:, 2] ** 2).mean()
"""
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.manual_seed(7)
x = torch.randn(8, 5)
y_reg = torch.randn(8)
y_bin = (torch.rand(8) < 0.5).float()
params = {
    "w1": torch.randn(16, 5) * 0.5,
    "b1": torch.randn(16) * 0.1,
    "w2": torch.randn(3, 16) * 0.3,
    "b2": torch.randn(3) * 0.1,
}
for p in params.values():
    p.requires_grad_(True)

h = F.relu(F.linear(x, params["w1"], params["b1"]))
out = F.linear(h, params["w2"], params["b2"])
l1 = F.mse_loss(out[:, 0], y_reg)
l2 = F.binary_cross_entropy_with_logits(out[:, 1], y_bin) + 0.5 * (out[:, 2] ** 2).mean()
names = list(params)
g1 = torch.autograd.grad(l1, [params[n] for n in names], retain_graph=True)
g2 = torch.autograd.grad(l2, [params[n] for n in names])

tensors = {"mlp/x": x, "mlp/y_reg": y_reg, "mlp/y_bin": y_bin, "mlp/l1": l1.detach(), "mlp/l2": l2.detach()}
for n in names:
    tensors[f"mlp/{n}"] = params[n].detach()
for n, a, b in zip(names, g1, g2):
    tensors[f"mlp/g1/{n}"] = a
    tensors[f"mlp/g2/{n}"] = b

if __name__ == "__main__":
    assert len(sys.argv) >= 2, "usage: autograd.py OUTPUT.safetensors [FINAL]"
    save_file({k: v.detach().clone().contiguous() for k, v in tensors.items()}, sys.argv[1])
