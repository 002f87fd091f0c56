"""Rebuild a HydraNet checkpoint in PyTorch from its metadata alone (docs/checkpoint-format.md).

    from hydranet_torch import load
    model, spec = load("runs/latest/best.safetensors")   # torch.nn.ModuleDict, eval mode
    features = model["backbone"](x); age = model["heads"]["age"](features)

Needs only json, safetensors, torch and torchvision.
"""
import json

import torch
import torchvision
from safetensors import safe_open
from safetensors.torch import load_file


class ConvNet(torch.nn.Module):
    """HydraNet's small ConvNet backbone (`backbone.kind == "convnet"`)."""

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


def read_spec(path):
    """The `hydranet.model` description of a checkpoint, as a dict."""
    with safe_open(path, "pt") as f:
        metadata = f.metadata() or {}
    if "hydranet.model" not in metadata:
        raise ValueError("%s is not a HydraNet checkpoint (no hydranet.model metadata)" % path)
    spec = json.loads(metadata["hydranet.model"])
    if spec.get("format") != "hydranet-model" or spec.get("format_version") != 1:
        raise ValueError("%s: unsupported model description %r version %r"
                         % (path, spec.get("format"), spec.get("format_version")))
    return spec


def build(spec):
    """The (untrained) torch module a description names: ModuleDict(backbone=…, heads=…)."""
    backbone = spec["backbone"]
    if backbone["kind"] == "resnet":
        net = getattr(torchvision.models, "resnet%d" % backbone["depth"])(weights=None)
        if backbone["small_image_stem"]:
            net.conv1 = torch.nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
            net.maxpool = torch.nn.Identity()
        net.fc = torch.nn.Identity()
    elif backbone["kind"] == "convnet":
        net = ConvNet(backbone["channels"])
    else:
        raise ValueError("cannot rebuild backbone kind %r" % backbone["kind"])
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
    return torch.nn.ModuleDict({"backbone": net, "heads": heads})


def load(path):
    """The model of a checkpoint with its weights (strict), in eval mode, and its description."""
    spec = read_spec(path)
    model = build(spec)
    model.load_state_dict(load_file(path), strict=True)
    return model.eval(), spec


def normalize(images, spec):
    """uint8 N×3×H×W images to the model's input, as the description's `input` says."""
    source = spec["input"]
    mean = torch.tensor(source["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(source["std"]).view(1, 3, 1, 1)
    return (images.float() / source["scale"] - mean) / std


def outputs(model, spec, x):
    """Each task's head outputs (float64) for normalized input x, with flip test-time
    augmentation when the description asks for it (the mean over x and its mirror image)."""
    with torch.no_grad():
        def head_outputs(images):
            features = model["backbone"](images)
            return {t["name"]: model["heads"][t["name"]](features).double() for t in spec["tasks"]}
        result = head_outputs(x)
        if spec.get("test_time_flip", False):
            mirrored = head_outputs(torch.flip(x, dims=[3]))
            result = {k: (v + mirrored[k]) / 2 for k, v in result.items()}
    return result


def answers(model, spec, x):
    """Per-image answers in user units: {task: value | (label, probability) | [labels]}."""
    by_task = outputs(model, spec, x)
    rows = [dict() for _ in range(x.shape[0])]
    for task in spec["tasks"]:
        out, classes = by_task[task["name"]], task["classes"]
        name = lambda i: classes[i] if i < len(classes) else str(i)
        for i in range(x.shape[0]):
            if task["kind"] == "regression":
                v = out[i, 0].item()
                rows[i][task["name"]] = v * task["target_std"] + task["target_mean"] if task["standardize"] else v
            elif task["kind"] == "binary":
                p = torch.sigmoid(out[i, 0]).item()
                rows[i][task["name"]] = (name(1), p) if p >= 0.5 else (name(0), 1 - p)
            elif task["kind"] == "multiclass":
                probs = torch.softmax(out[i], 0)
                best = int(probs.argmax())
                rows[i][task["name"]] = (name(best), probs[best].item())
            else:
                probs = torch.sigmoid(out[i])
                rows[i][task["name"]] = [name(j) for j in range(len(probs)) if probs[j] >= 0.5]
    return rows
