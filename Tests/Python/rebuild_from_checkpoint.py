"""Rebuilds a HydraNet from its checkpoint with nothing but json, safetensors, torch and
torchvision (the schema in docs/checkpoint-format.md), runs it on the uint8 images in an
"io" safetensors file (preprocessed as the checkpoint's input section says) and prints, per
task, the largest difference from HydraNet's outputs stored beside them, as JSON.

usage: python rebuild_from_checkpoint.py CHECKPOINT IO_FILE
"""
import json
import sys

import torch
import torchvision
from safetensors import safe_open
from safetensors.torch import load_file

checkpoint, io_file = sys.argv[1], sys.argv[2]
with safe_open(checkpoint, "pt") as f:
    spec = json.loads(f.metadata()["hydranet.model"])
assert spec["format"] == "hydranet-model" and spec["format_version"] == 1, spec.get("format")

backbone = spec["backbone"]
if backbone["kind"] == "resnet":
    net = getattr(torchvision.models, "resnet%d" % backbone["depth"])(weights=None)
    if backbone["small_image_stem"]:
        net.conv1 = torch.nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        net.maxpool = torch.nn.Identity()
    net.fc = torch.nn.Identity()
elif backbone["kind"] == "convnet":
    class ConvNet(torch.nn.Module):
        def __init__(self, channels):
            super().__init__()
            stages, width = [], 3
            for out in channels:
                stages.append(torch.nn.Sequential(
                    torch.nn.Conv2d(width, out, 3, padding=1, bias=False), torch.nn.BatchNorm2d(out),
                    torch.nn.ReLU(), torch.nn.MaxPool2d(2)))
                width = out
            self.stages = torch.nn.Sequential(*stages)

        def forward(self, x):
            return torch.flatten(torch.nn.functional.adaptive_avg_pool2d(self.stages(x), 1), 1)
    net = ConvNet(backbone["channels"])
else:
    raise SystemExit("cannot rebuild backbone kind %r" % backbone["kind"])

heads = torch.nn.ModuleDict()
for task in spec["tasks"]:
    layout, layers, width = spec["heads"][task["name"]], [], backbone["feature_count"]
    for size in layout["hidden"]:
        layers += [torch.nn.Linear(width, size), torch.nn.ReLU()]
        if layout["dropout"] > 0:
            layers.append(torch.nn.Dropout(layout["dropout"]))
        width = size
    layers.append(torch.nn.Linear(width, task["outputs"]))
    heads[task["name"]] = torch.nn.Sequential(*layers)

model = torch.nn.ModuleDict({"backbone": net, "heads": heads})
model.load_state_dict(load_file(checkpoint), strict=True)
model.eval()

io = load_file(io_file)
source = spec["input"]
assert source["channel_order"] == "RGB" and source["scale"] == 255
images = io["images"]
assert list(images.shape[2:]) == [source["height"], source["width"]], images.shape
mean = torch.tensor(source["mean"]).view(1, 3, 1, 1)
std = torch.tensor(source["std"]).view(1, 3, 1, 1)
x = (images.float() / source["scale"] - mean) / std

result = {}
with torch.no_grad():
    features = model["backbone"](x)
    for task in spec["tasks"]:
        out = model["heads"][task["name"]](features)
        result[task["name"]] = (out.double() - io["out." + task["name"]].double()).abs().max().item()
        if task["kind"] == "regression" and task["standardize"]:
            years = out.double().view(-1) * task["target_std"] + task["target_mean"]
            result[task["name"] + "/units"] = (years - io["units." + task["name"]].double()).abs().max().item()
        if task["kind"] == "multiclass":
            names = [task["classes"][i] for i in out.argmax(1).tolist()]
            result[task["name"] + "/labels"] = names
print(json.dumps(result))
