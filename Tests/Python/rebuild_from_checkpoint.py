"""Rebuilds a HydraNet from its checkpoint with nothing but json, safetensors, torch and
torchvision (python/hydranet_torch.py, following docs/checkpoint-format.md), runs it on the
uint8 images of an "io" safetensors file, preprocessed as the checkpoint's `input` section
says, and prints as JSON, per task, the largest difference from HydraNet's outputs stored
beside them (and the regression values in user units, and the predicted class names).

usage: python rebuild_from_checkpoint.py CHECKPOINT IO_FILE
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import hydranet_torch  # noqa: E402

checkpoint, io_file = sys.argv[1], sys.argv[2]
model, spec = hydranet_torch.load(checkpoint)
io = load_file(io_file)
source = spec["input"]
assert source["channel_order"] == "RGB" and source["scale"] == 255
images = io["images"]
assert list(images.shape[2:]) == [source["height"], source["width"]], images.shape
x = hydranet_torch.normalize(images, spec)

result = {}
outputs = hydranet_torch.outputs(model, spec, x)
for task in spec["tasks"]:
    result[task["name"]] = (outputs[task["name"]] - io["out." + task["name"]].double()).abs().max().item()
answers = hydranet_torch.answers(model, spec, x)
for task in spec["tasks"]:
    if task["kind"] == "regression" and task["standardize"]:
        years = torch.tensor([row[task["name"]] for row in answers], dtype=torch.float64)
        result[task["name"] + "/units"] = (years - io["units." + task["name"]].double()).abs().max().item()
    if task["kind"] == "multiclass":
        result[task["name"] + "/labels"] = [row[task["name"]][0] for row in answers]
print(json.dumps(result))
