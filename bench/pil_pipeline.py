"""PyTorch reference measurements for the data benchmark (driven by hydranet-bench-data).

  python pil_pipeline.py pil FILELIST SIZE
      torchvision's PIL pipeline on every file of FILELIST (one path per line), in one
      process on one core: Image.open(p).convert('RGB') -> Resize((SIZE, SIZE)) -> ToTensor
      -> Normalize(ImageNet). Prints {"images": n, "seconds": wall, "cpu_seconds": cpu}.

  python pil_pipeline.py step SIZE BATCH THREADS
      One training step of torchvision's ResNet-18 (7 outputs: age + gender + 5 races, as
      HydraNet's UTKFace heads) on BATCH random SIZExSIZE images with SGD, THREADS intra-op
      threads. Prints {"seconds_per_step": t} (the fastest of 10 after 3 warm-up steps: the
      machine may be shared, the fastest step is the least disturbed one).
"""
import json
import sys
import time

import torch


def pil(files, size):
    from PIL import Image
    import torchvision.transforms as T

    torch.set_num_threads(1)
    tf = T.Compose([T.Resize((size, size)), T.ToTensor(),
                    T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    paths = [line.rstrip("\n") for line in open(files, encoding="utf-8") if line.strip()]
    for p in paths[:32]:  # warm-up (imports, first-call costs)
        tf(Image.open(p).convert("RGB"))
    start, cpu = time.perf_counter(), time.process_time()
    for p in paths:
        tf(Image.open(p).convert("RGB"))
    return {"images": len(paths), "seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu}


def step(size, batch, threads):
    import torchvision

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=7)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 3, size, size)
    y = torch.randn(batch, 7)
    times = []
    for i in range(13):
        start = time.perf_counter()
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        if i >= 3:
            times.append(time.perf_counter() - start)
    return {"seconds_per_step": min(times)}


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "pil":
        print(json.dumps(pil(sys.argv[2], int(sys.argv[3]))))
    elif mode == "step":
        print(json.dumps(step(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))))
    else:
        sys.exit(f"unknown mode {mode}")
