"""Reference decodes and resizes for the HydraData codec tests (Tests/HydraDataTests).

Usage: python image_formats.py OUTPUT.safetensors

Generates small test images, encodes them in every format the decoder must read, and records
what PIL + torchvision make of them. Keys:

  file.<case>      the encoded file's bytes (uint8, 1-D)
  decoded.<case>   PIL's Image.open(...).convert('RGB') as uint8 3xHxW
  r32.<case>       torchvision.transforms.v2.functional.resize(decoded, [32, 32], antialias=True)
  r64.<case>       the same at 64x64 (only when the image is at least 64 on both sides)
  crop32.<case>    Resize(32) + CenterCrop(32) (shorter side, then centre crop)
  normalized       ToTensor + Normalize(ImageNet) of r32.jpeg_rgb, float32

16-bit PNGs: PIL's convert('RGB') clips 16-bit grey to 255, so the reference for those is
the high byte of every sample (what libpng's strip_16 gives and what PIL does for 16-bit RGB).
"""
import io
import struct
import sys
import zlib

import numpy as np
import torch
from PIL import Image
import torchvision.transforms.v2.functional as F
import torchvision.transforms as T
from safetensors.torch import save_file

rng = np.random.default_rng(1234)


def scene(h, w):
    """A photo-like test image: smooth gradients, a few hard-edged shapes, mild noise."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w, 3))
    for c in range(3):
        a, b, p = rng.uniform(-1, 1, 3)
        img[..., c] = 128 + 70 * np.sin(a * x / 9 + p) * np.cos(b * y / 11)
    for _ in range(6):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(5, min(h, w) / 3)
        mask = (y - cy) ** 2 + (x - cx) ** 2 < r * r
        img[mask] = rng.uniform(0, 255, 3)
    img += rng.normal(0, 6, img.shape)
    return np.clip(img.round(), 0, 255).astype(np.uint8)


def encode(im, fmt, **kw):
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png16(arr):
    """A 16-bit PNG (grey if arr is HxW, RGB if HxWx3) from uint16 data, written by hand."""
    h, w = arr.shape[:2]
    colour = 0 if arr.ndim == 2 else 2
    raw = b"".join(b"\x00" + arr[i].astype(">u2").tobytes() for i in range(h))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, colour, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b""))


def png_adam7(arr):
    """An 8-bit RGB PNG with Adam7 interlacing (PIL cannot write one), written by hand."""
    h, w = arr.shape[:2]
    raw = b""
    for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]:
        sub = arr[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        raw += b"".join(b"\x00" + sub[i].tobytes() for i in range(sub.shape[0]))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 1))
            + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b""))


base = scene(120, 160)          # non-square: 160 wide, 120 high
rgb = Image.fromarray(base, "RGB")
alpha = Image.fromarray(rng.integers(0, 256, (120, 160), dtype=np.uint8), "L")

cases = {}
cases["jpeg_rgb"] = encode(rgb, "JPEG", quality=90)
cases["jpeg_444"] = encode(rgb, "JPEG", quality=95, subsampling=0)
cases["jpeg_gray"] = encode(rgb.convert("L"), "JPEG", quality=90)
cases["jpeg_cmyk"] = encode(rgb.convert("CMYK"), "JPEG", quality=90)
cases["jpeg_progressive"] = encode(rgb, "JPEG", quality=85, progressive=True)
cases["jpeg_small"] = encode(Image.fromarray(scene(40, 24), "RGB"), "JPEG", quality=90)
cases["png_rgb"] = encode(rgb, "PNG")
cases["png_gray"] = encode(rgb.convert("L"), "PNG")
cases["png_palette"] = encode(rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=64), "PNG")
pal = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
cases["png_palette_trns"] = encode(pal, "PNG", transparency=3)
rgba = rgb.copy()
rgba.putalpha(alpha)
cases["png_rgba"] = encode(rgba, "PNG")
la = rgb.convert("L")
la.putalpha(alpha)
cases["png_gray_alpha"] = encode(la, "PNG")
wide16 = (base.astype(np.uint16) * 257 + rng.integers(0, 256, base.shape, dtype=np.uint16))
cases["png_rgb16"] = png16(wide16)
cases["png_gray16"] = png16(wide16[..., 1])
cases["png_interlaced"] = png_adam7(base)

out = {}
for name, data in cases.items():
    out[f"file.{name}"] = torch.frombuffer(bytearray(data), dtype=torch.uint8)
    if name == "png_rgb16":
        dec = torch.from_numpy((wide16 >> 8).astype(np.uint8)).permute(2, 0, 1).contiguous()
    elif name == "png_gray16":
        g = torch.from_numpy((wide16[..., 1] >> 8).astype(np.uint8))
        dec = g.unsqueeze(0).repeat(3, 1, 1).contiguous()
    else:
        dec = F.pil_to_tensor(Image.open(io.BytesIO(data)).convert("RGB")).contiguous()
    out[f"decoded.{name}"] = dec
    out[f"r32.{name}"] = F.resize(dec, [32, 32], antialias=True).contiguous()
    if min(dec.shape[1:]) >= 64:
        out[f"r64.{name}"] = F.resize(dec, [64, 64], antialias=True).contiguous()
    out[f"crop32.{name}"] = F.center_crop(F.resize(dec, 32, antialias=True), [32, 32]).contiguous()

norm = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
out["normalized"] = norm(F.to_dtype(out["r32.jpeg_rgb"], torch.float32, scale=True)).contiguous()
save_file(out, sys.argv[1])
