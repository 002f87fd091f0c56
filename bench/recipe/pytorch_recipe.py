"""The issue's best PyTorch recipe for UTKFace, trained on HydraNet's own split, so that the two
can be compared on the same faces at the same wall-clock (README, "A UTKFace recipe").

  python pytorch_recipe.py --data UTKFACE --splits TRAIN.json VALIDATION.json TEST.json
                           [--epochs 4] [--size 64] [--seed 0] [--threads 2] [--output result.json]

The recipe (issue #12): torchvision ResNet-18 (ImageNet stem, no pretrained weights, fc
removed) with 512-256-k heads, 64 px, Adam lr 1e-3 with a per-step cosine schedule to 0,
batch 64, random horizontal flip and 4-pixel zero-pad-and-crop, age as L1 on standardised
years, BCE-with-logits for gender, cross-entropy for race, equal weights. Images are
decoded once with PIL (RGB, resized to SIZE with bilinear antialiasing) and kept as uint8,
which is the fastest way a PyTorch user would feed them; decoding counts in the wall time.

The three split files are what `hydranet evaluate --model M --data UTKFACE --split S
--predictions S.json` writes for S = train, validation, test: HydraNet's own split (only
the "image" names are read). Validation is scored after every epoch; the test split once,
at the end. Prints one JSON line with the metrics and
the wall time; --output also writes it to a file.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image
from torch import nn

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def labels(name):
    """UTKFace's [age]_[gender]_[race]_[date].jpg.chip.jpg; a field missing before the date
    (a few files have no race) is a missing label (NaN), as HydraNet reads it."""
    fields = os.path.basename(name).split("_")
    values = []
    for f in fields:
        if len(f) >= 8 or not f.isdigit():  # the date stamp ends the label fields
            break
        values.append(float(f))
    values += [math.nan] * (3 - len(values))
    return values[:3]


def decode(folder, names, size):
    images = np.empty((len(names), size, size, 3), dtype=np.uint8)
    for i, name in enumerate(names):
        with Image.open(os.path.join(folder, os.path.basename(name))) as im:
            images[i] = np.asarray(im.convert("RGB").resize((size, size), Image.BILINEAR))
    x = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
    y = torch.tensor([labels(n) for n in names], dtype=torch.float64)
    race = torch.where(y[:, 2].isnan(), -100, y[:, 2]).long()  # -100: cross-entropy's ignore_index
    return x, y[:, 0].float(), y[:, 1].float(), race


def normalise(x):
    return (x.float() / 255 - MEAN) / STD


def augment(x, generator):
    """Random horizontal flip and 4-pixel zero-pad-and-crop, per image, on a uint8 batch."""
    n, _, h, w = x.shape
    flip = torch.rand(n, generator=generator) < 0.5
    x = torch.where(flip.view(n, 1, 1, 1), x.flip(3), x)
    padded = F.pad(x, (4, 4, 4, 4))
    dy = torch.randint(0, 9, (n,), generator=generator)
    dx = torch.randint(0, 9, (n,), generator=generator)
    return torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])


class HydraNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = torchvision.models.resnet18()
        self.backbone.fc = nn.Identity()
        self.heads = nn.ModuleList(nn.Sequential(nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, k)) for k in (1, 1, 5))

    def forward(self, x):
        f = self.backbone(x)
        return [h(f) for h in self.heads]


def macro_f1(predicted, truth, classes=5):
    scores = []
    for c in range(classes):
        tp = ((predicted == c) & (truth == c)).sum().item()
        fp = ((predicted == c) & (truth != c)).sum().item()
        fn = ((predicted != c) & (truth == c)).sum().item()
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / classes


@torch.inference_mode()
def score(model, data, age_mean, age_std, batch=256):
    model.eval()
    x, age, gender, race = data
    outs = [[], [], []]
    for i in range(0, len(x), batch):
        for k, o in enumerate(model(normalise(x[i:i + batch]))):
            outs[k].append(o)
    a, g, r = (torch.cat(o) for o in outs)
    predicted_age = a.squeeze(1) * age_std + age_mean
    model.train()
    has_age, has_gender, has_race = ~age.isnan(), ~gender.isnan(), race >= 0
    return {"age_mae": (predicted_age - age)[has_age].abs().mean().item(),
            "gender_accuracy": ((g.squeeze(1) > 0).float() == gender)[has_gender].float().mean().item(),
            "race_accuracy": (r.argmax(1) == race)[has_race].float().mean().item(),
            "race_macro_f1": macro_f1(r.argmax(1)[has_race], race[has_race])}


def main():
    start = time.time()
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--splits", required=True, nargs=3, metavar=("TRAIN", "VALIDATION", "TEST"))
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--output")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    generator = torch.Generator().manual_seed(a.seed)
    splits = {}
    for name, path in zip(("train", "validation", "test"), a.splits):
        with open(path) as f:
            splits[name] = [entry["image"] for entry in json.load(f)]
        if not splits[name]:
            raise SystemExit(f"{path}: no images")
    data = {k: decode(a.data, splits[k], a.size) for k in ("train", "validation", "test")}
    decoded = time.time() - start
    x, age, gender, race = data["train"]
    age_mean, age_std = age[~age.isnan()].mean().item(), age[~age.isnan()].std().item()
    model = HydraNet()
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps_per_epoch = len(x) // a.batch  # the last partial batch is dropped
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=a.epochs * steps_per_epoch)
    history = []
    for epoch in range(a.epochs):
        order = torch.randperm(len(x), generator=generator)
        for s in range(steps_per_epoch):
            idx = order[s * a.batch:(s + 1) * a.batch]
            images = normalise(augment(x[idx], generator))
            out = model(images)
            y_age, y_gender = age[idx], gender[idx]
            ha, hg = ~y_age.isnan(), ~y_gender.isnan()
            loss = (F.l1_loss(out[0].squeeze(1)[ha], (y_age[ha] - age_mean) / age_std)
                    + F.binary_cross_entropy_with_logits(out[1].squeeze(1)[hg], y_gender[hg])
                    + F.cross_entropy(out[2], race[idx], ignore_index=-100))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
        v = score(model, data["validation"], age_mean, age_std)
        history.append({"epoch": epoch + 1, "seconds": time.time() - start, "validation": v})
        print(json.dumps(history[-1]), flush=True)
    result = {"recipe": "pytorch", "epochs": a.epochs, "size": a.size, "seed": a.seed, "decode_seconds": decoded,
              "validation": history[-1]["validation"], "test": score(model, data["test"], age_mean, age_std),
              "history": history, "wall_seconds": time.time() - start}
    print(json.dumps(result), flush=True)
    if a.output:
        with open(a.output, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
