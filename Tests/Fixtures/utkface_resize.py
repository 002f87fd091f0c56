"""Reference decode + resize of real UTKFace files (Tests/HydraDataTests/ParityTests.swift).

Usage: python utkface_resize.py OUTPUT.safetensors

Takes every 348th file (sorted by name) of ../shared/datasets/utkface (48 files) and records
torchvision.transforms.v2.functional.resize(antialias=True) at 32x32 and 64x64 of PIL's decode
(Image.open(...).convert('RGB')). Keys: r32 and r64 (uint8 Nx3xHxW) and files (the names,
newline-separated, as UTF-8 bytes).
"""
import os
import sys

import torch
from PIL import Image
import torchvision.transforms.v2.functional as F
from safetensors.torch import save_file

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "datasets", "utkface")
names = sorted(n for n in os.listdir(root) if n.lower().endswith((".jpg", ".jpeg", ".png")))[::348]
r32, r64 = [], []
for n in names:
    x = F.pil_to_tensor(Image.open(os.path.join(root, n)).convert("RGB"))
    r32.append(F.resize(x, [32, 32], antialias=True))
    r64.append(F.resize(x, [64, 64], antialias=True))
files = torch.frombuffer(bytearray("\n".join(names).encode()), dtype=torch.uint8)
save_file({"r32": torch.stack(r32).contiguous(), "r64": torch.stack(r64).contiguous(), "files": files}, sys.argv[1])
