"""ResNet parity fixture: torchvision ResNet-18/34/50 with random weights (no download is
possible), their outputs, gradients and BatchNorm updates.

  python resnet.py OUT FINAL

Writes OUT (safetensors, references) and side files FINAL.resnet{18,34,50}.pth (torch.save
of the state dict) and FINAL.resnet{18,34,50}.safetensors. Keys in OUT, per depth D:
  rD/x             input, 2x3x64x64
  rD/eval_out      logits in eval mode
  rD/train_out     logits in train mode (a fresh copy of the model)
  rD/buffers/<b>   BatchNorm buffers after that one training forward
For D in (18, 50) (BasicBlock and Bottleneck), gradients are computed in float64, because
float32 BatchNorm backward on a small batch amplifies summation-order differences (thread
counts differ between the two processes) far above any fixed tolerance:
  rD/gw            float64 upstream gradient for the float64 model's train-mode logits
  rD/grad/<param>  d sum(out64*gw) / d param, computed in float64, stored as float32
Metadata rD.keys: the state-dict keys in torchvision's order, one per line.
"""
import copy
import sys

import torch
import torchvision
from safetensors.torch import save_file

torch.set_num_threads(1)
out_path, final = sys.argv[1], sys.argv[2]
refs, meta = {}, {}
for depth in (18, 34, 50):
    torch.manual_seed(depth)
    model = getattr(torchvision.models, f"resnet{depth}")()
    sd = model.state_dict()
    meta[f"r{depth}.keys"] = "\n".join(sd.keys())
    torch.save(sd, f"{final}.resnet{depth}.pth")
    save_file({k: v.contiguous() for k, v in sd.items()}, f"{final}.resnet{depth}.safetensors")

    x = torch.randn(2, 3, 64, 64)
    refs[f"r{depth}/x"] = x
    train_model = copy.deepcopy(model)
    model.eval()
    with torch.no_grad():
        refs[f"r{depth}/eval_out"] = model(x)
    grad_model = copy.deepcopy(train_model).double().train()
    train_model.train()
    with torch.no_grad():
        refs[f"r{depth}/train_out"] = train_model(x)
    for name, b in train_model.named_buffers():
        refs[f"r{depth}/buffers/{name}"] = b
    if depth in (18, 50):
        out = grad_model(x.double())
        gw = torch.randn_like(out)
        (out * gw).sum().backward()
        refs[f"r{depth}/gw"] = gw
        for name, p in grad_model.named_parameters():
            refs[f"r{depth}/grad/{name}"] = p.grad.float()

save_file({k: v.contiguous() for k, v in refs.items()}, out_path, metadata=meta)
