"""Writes the committed seed corpora of the fuzz targets: a few tiny, valid files per format.

Run from the package root with the test environment's Python (torch, safetensors, Pillow):
    .venv/bin/python Fuzz/make_seeds.py
Every file is regenerated from fixed values, so the output is the same on every run.
"""
import collections
import io
import os
import shutil
import zipfile

import torch
from PIL import Image
from safetensors.torch import save as safetensors_bytes

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def folder(target):
    path = os.path.join(ROOT, target)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def write(target_dir, name, data):
    with open(os.path.join(target_dir, name), "wb") as f:
        f.write(data)


def safetensors_seeds():
    out = folder("safetensors")
    write(out, "two-tensors.safetensors", safetensors_bytes(
        {"weight": torch.arange(4, dtype=torch.float32).reshape(2, 2), "bias": torch.tensor([1, -2, 3])}))
    write(out, "metadata.safetensors", safetensors_bytes(
        {"x": torch.tensor([0.5, -1.5], dtype=torch.bfloat16), "empty": torch.zeros(0, 3, dtype=torch.float16)},
        metadata={"format": "pt", "tasks": "[\"age\"]"}))
    write(out, "scalar-bool.safetensors", safetensors_bytes(
        {"flag": torch.tensor(True), "u8": torch.tensor([[1, 2, 3]], dtype=torch.uint8)}))


def pth_files():
    """(name, bytes) of small torch.save files covering the shapes PthFile reads."""
    files = []
    linear = torch.nn.Linear(2, 2)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
        linear.bias.copy_(torch.tensor([0.5, -0.5]))
    bn = torch.nn.BatchNorm1d(2)
    state = collections.OrderedDict(linear.state_dict())
    state.update({f"bn.{k}": v for k, v in bn.state_dict().items()})  # includes an int64 scalar
    files.append(("state-dict.pth", state))
    base = torch.arange(6, dtype=torch.float64).reshape(2, 3)
    files.append(("views.pth", {"column": base[:, 1], "transposed": base.t(), "whole": base,
                                "half": torch.tensor([1.5, 2.5], dtype=torch.float16)}))
    files.append(("checkpoint.pth", {"state_dict": {"w": torch.tensor([[7]], dtype=torch.int32)}, "epoch": 3,
                                     "lr": 0.1, "name": "tiny", "flags": (True, None), "ids": [1, 2]}))
    out = []
    for name, obj in files:
        buffer = io.BytesIO()
        torch.save(obj, buffer)
        out.append((name, buffer.getvalue()))
    return out


def pth_and_pickle_seeds():
    pth_out, pickle_out = folder("pth"), folder("pickle")
    for name, data in pth_files():
        write(pth_out, name, data)
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            record = next(n for n in z.namelist() if n.endswith("/data.pkl"))
            write(pickle_out, name.replace(".pth", ".pkl"), z.read(record))


def gradient(width, height):
    return Image.frombytes("RGB", (width, height), bytes(
        (x * 60 + y * 7) % 256 if c == 0 else (y * 60) % 256 if c == 1 else (x * y * 20) % 256
        for y in range(height) for x in range(width) for c in range(3)))


def image_bytes(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def image_seeds():
    rgb = gradient(4, 4)
    jpeg = folder("jpeg")
    write(jpeg, "rgb-4x4.jpg", image_bytes(rgb, "JPEG", quality=90))
    write(jpeg, "gray-4x4.jpg", image_bytes(rgb.convert("L"), "JPEG", quality=90))
    write(jpeg, "progressive-16x8.jpg", image_bytes(gradient(16, 8), "JPEG", quality=75, progressive=True))
    write(jpeg, "cmyk-4x4.jpg", image_bytes(rgb.convert("CMYK"), "JPEG", quality=90))
    png = folder("png")
    write(png, "rgb-4x4.png", image_bytes(rgb, "PNG"))
    write(png, "palette-4x4.png", image_bytes(rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=4), "PNG"))
    write(png, "rgba-4x4.png", image_bytes(rgb.convert("RGBA"), "PNG"))
    write(png, "gray16-4x4.png", image_bytes(rgb.convert("L").convert("I;16"), "PNG"))


def text_seeds():
    names = {
        "regular": "25_0_1_20170116174525125.jpg.chip.jpg",
        "missing-race": "61_1_20170109142408075.jpg.chip.jpg",
        "space-before-extension": "39_1_20170116174525125 .jpg.chip.jpg",
        "empty-gender": "53__0_20170116184028385.jpg.chip.jpg",
        "no-date": "25_0_1.jpg",
        "no-dot": "1_0_0_20161219140623097jpg.chip.jpg",
        "in-folder": "UTKFace/100_1_0_20170112213303693.jpg.chip.jpg",
    }
    out = folder("utkface")
    for key, name in names.items():
        write(out, key + ".txt", name.encode())
    manifests = {
        "indices.csv": "path,age,gender,race\na.jpg,25,0,1\nb.jpg,61,1,\nc.jpg,,0,4\n",
        "names.csv": "\ufeffpath,age,gender,race\r\n\"x, y.jpg\",3.5,f,b\r\nz.jpg,70,m,a\r\n",
        "quoted.csv": "path,race,age,gender,extra\n\"q\"\"uote.png\",c,1e1,true,\"multi\nline\"\n",
        # After the NUL byte: the class-mapping JSON the loader reads beside the manifest.
        "with-mapping.csv": "path,age,gender,race\na.jpg,1,x,q\nb.jpg,2,y,r\n\0"
                            "{\"gender\": [\"x\", \"y\"], \"race\": [\"q\", \"r\", \"s\"]}",
    }
    out = folder("csv")
    for name, text in manifests.items():
        write(out, name, text.encode())


if __name__ == "__main__":
    safetensors_seeds()
    pth_and_pickle_seeds()
    image_seeds()
    text_seeds()
    for target in sorted(os.listdir(ROOT)):
        files = os.listdir(os.path.join(ROOT, target))
        size = sum(os.path.getsize(os.path.join(ROOT, target, f)) for f in files)
        print(f"{target}: {len(files)} files, {size} bytes")
