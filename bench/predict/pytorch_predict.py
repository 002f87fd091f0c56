"""The PyTorch side of bench/predict/startup.py: what a user would write to answer for one
photo with a HydraNet checkpoint in Python — import torch/torchvision/PIL, rebuild the model
from the checkpoint (python/hydranet_torch.py), decode and resize with PIL (torchvision's
Resize with antialias), normalize, forward, print the answers.

usage: python pytorch_predict.py CHECKPOINT IMAGE
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import hydranet_torch  # noqa: E402
import torch  # noqa: E402
import torchvision.transforms.functional as F  # noqa: E402
from PIL import Image  # noqa: E402

model, spec = hydranet_torch.load(sys.argv[1])
size = [spec["input"]["height"], spec["input"]["width"]]
image = F.pil_to_tensor(Image.open(sys.argv[2]).convert("RGB"))
image = F.resize(image, size, antialias=True).unsqueeze(0)
print(hydranet_torch.answers(model, spec, hydranet_torch.normalize(image, spec))[0])
