"""The serving benchmark's reference: the same HydraNet checkpoint served by FastAPI + uvicorn +
PyTorch eager (one request, one forward: what a typical Python model server does).

    .venv/bin/python bench/serve/reference_server.py MODEL --port 8081

POST /v1/predict takes a raw JPEG/PNG body and answers like `hydranet serve` (every task in
user units: a value; a label and every class's probability). The model is rebuilt from the
checkpoint file alone by python/hydranet_torch.py; images are decoded and resized with PIL
(antialiased bilinear) to the checkpoint's input size and normalized as it says.
"""
import argparse
import io
import os
import sys

import numpy as np
import torch
import uvicorn
from fastapi import FastAPI, HTTPException, Request
from PIL import Image
from starlette.concurrency import run_in_threadpool

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import hydranet_torch  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("model")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=8081)
args = parser.parse_args()

model, spec = hydranet_torch.load(args.model)
size = (spec["input"]["width"], spec["input"]["height"])
app = FastAPI()


def predictions(x):
    with torch.no_grad():
        features = model["backbone"](x)
        out = {}
        for task in spec["tasks"]:
            y = model["heads"][task["name"]](features)[0].double()
            classes = task["classes"]
            if task["kind"] == "regression":
                v = y[0].item()
                out[task["name"]] = {"value": v * task["target_std"] + task["target_mean"] if task["standardize"] else v}
            elif task["kind"] == "binary":
                p = torch.sigmoid(y[0]).item()
                label = classes[1] if p >= 0.5 else classes[0]
                out[task["name"]] = {"label": label, "probability": max(p, 1 - p),
                                     "probabilities": {classes[0]: 1 - p, classes[1]: p}}
            else:
                probs = (torch.softmax(y, 0) if task["kind"] == "multiclass" else torch.sigmoid(y)).tolist()
                best = max(range(len(probs)), key=lambda i: probs[i])
                out[task["name"]] = {"label": classes[best], "probability": probs[best],
                                     "probabilities": dict(zip(classes, probs))}
        return out


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.post("/v1/predict")
async def predict_raw(request: Request):
    data = await request.body()
    try:
        image = Image.open(io.BytesIO(data)).convert("RGB")
    except Exception as e:
        raise HTTPException(415, f"not an image: {e}")
    return await run_in_threadpool(score, image)


def score(image):
    image = image.resize(size, Image.BILINEAR)
    x = torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1).unsqueeze(0)
    return {"images": [{"image": "image", "predictions": predictions(hydranet_torch.normalize(x, spec))}]}


# Warm up with one forward, as hydranet serve does before /readyz.
predictions(torch.zeros(1, 3, size[1], size[0]))
uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
