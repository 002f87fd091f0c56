"""Serving benchmark: `hydranet serve` (dynamic batching on and off) against the same model
served by FastAPI + uvicorn + PyTorch eager (reference_server.py), all on loopback, loaded by
wrk with predict.lua at concurrency 1, 8 and 32. Bounded: each cell runs --duration seconds
(after a 1 s warm-up); every server is stopped at the end. Prints a Markdown table.

    scripts/run train      # or any checkpoint
    .venv/bin/python bench/serve/bench.py --model runs/latest/best.safetensors
"""
import argparse
import glob
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def wait_ready(url, process, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"server exited with {process.returncode} before it was ready")
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                return
        except Exception:
            time.sleep(0.2)
    sys.exit(f"{url} not ready after {seconds} s")


def wrk(port, concurrency, seconds, image):
    command = ["wrk", "-t", str(min(concurrency, 2)), "-c", str(concurrency), "-d", f"{seconds}s", "--timeout", "10s",
               "-s", os.path.join(HERE, "predict.lua"), f"http://127.0.0.1:{port}"]
    out = subprocess.run(command, env=dict(os.environ, IMAGE=image), capture_output=True, text=True, timeout=seconds + 60)
    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT ")), None)
    if line is None:
        sys.exit(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")
    return json.loads(line[len("RESULT "):])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=os.path.join(ROOT, "runs/latest/best.safetensors"))
    parser.add_argument("--image", help="a face JPEG (default: one of the generated synthetic faces)")
    parser.add_argument("--hydranet", default=next((p for p in [os.path.join(ROOT, ".build/release/hydranet"), os.path.join(ROOT, ".build/debug/hydranet")] if os.path.exists(p)), "hydranet"))
    parser.add_argument("--duration", type=int, default=8, help="seconds per measurement")
    parser.add_argument("--concurrency", default="1,8,32")
    args = parser.parse_args()
    image = args.image or next(iter(sorted(glob.glob(os.path.expanduser("~/.cache/hydranet/synthetic-faces-*/*.jpg")))), None)
    if not image:
        sys.exit("no --image and no generated faces in ~/.cache/hydranet (run scripts/run train first)")
    levels = [int(c) for c in args.concurrency.split(",")]
    servers = [
        ("hydranet serve (batching on)", [args.hydranet, "serve", "--model", args.model, "--port", "18080", "--max-batch", "32",
                                          "--max-delay-ms", "5", "--device", "cpu"], 18080, "/readyz"),
        ("hydranet serve (batching off)", [args.hydranet, "serve", "--model", args.model, "--port", "18081", "--max-batch", "1",
                                           "--device", "cpu"], 18081, "/readyz"),
        ("FastAPI + uvicorn + PyTorch eager", [sys.executable, os.path.join(HERE, "reference_server.py"), args.model,
                                               "--port", "18082"], 18082, "/healthz"),
    ]
    print(f"{args.hydranet}, model {args.model}, image {image} ({os.path.getsize(image)} bytes), {args.duration} s per cell, "
          f"{os.cpu_count()} cores", flush=True)
    rows = []
    for name, command, port, ready in servers:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_ready(f"http://127.0.0.1:{port}{ready}", process)
            for c in levels:
                wrk(port, c, 1, image)  # warm-up
                r = wrk(port, c, args.duration, image)
                r.update(server=name, concurrency=c, rps=r["requests"] / (r["duration_us"] / 1e6))
                rows.append(r)
                print(f"  {name:36s} c={c:<3d} {r['rps']:8.1f} req/s  p50 {r['p50_us'] / 1000:7.2f} ms  "
                      f"p99 {r['p99_us'] / 1000:7.2f} ms  errors {r['errors']}", flush=True)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
            print(f"  {name}: stopped with exit status {code}", flush=True)
    print()
    print("| server | concurrency | requests/s | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['server']} | {r['concurrency']} | {r['rps']:.1f} | {r['p50_us'] / 1000:.2f} | {r['p99_us'] / 1000:.2f} | "
              f"{r['errors']} |")
    top = max(levels)
    cell = {(r["server"], r["concurrency"]): r for r in rows}
    on, ref = cell.get((servers[0][0], top)), cell.get((servers[2][0], top))
    if on and ref:
        print(f"\nat concurrency {top}: hydranet serve (batching) / FastAPI throughput = {on['rps'] / ref['rps']:.2f}×, "
              f"p99 {on['p99_us'] / 1000:.2f} ms vs {ref['p99_us'] / 1000:.2f} ms")
    errors = sum(r["errors"] for r in rows)
    print(f"errors in all runs: {errors}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
