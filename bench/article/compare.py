"""The seed article's code as written against `hydranet train` with the article's settings, on
the same real faces, interleaved round by round (part of hydranet-bench-train's run; runs
alone too). Each round runs, in fresh processes:

- `python article_as_written.py 1 THREADS` (bench/article: PIL decode every epoch, backbone
  three times per step, SGD lr 1e-4, batch 32, 32 px), from a folder holding `UTKFace/`;
- `hydranet train` on the same folder with the same settings (32 px, batch 32, SGD lr 1e-4, no
  schedule, equal weighting, no augmentation, 1 epoch, THREADS threads), from a cold decoded
  cache, validation and test evaluation and checkpoint writing included.

It measures each process from start to exit, the epoch's training images per second (the
article: its training loop; HydraNet: the epoch including validation) and the process's peak
RSS (wait4's ru_maxrss). Prints medians and HydraNet ÷ article ratios.

usage: .venv/bin/python bench/article/compare.py [--data DIR] [--count 4000] [--rounds 3] [--threads 2]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
parser = argparse.ArgumentParser()
parser.add_argument("--data", default=os.path.join(root, "..", "shared", "datasets", "utkface"))
parser.add_argument("--count", type=int, default=4000)
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--hydranet", default=os.path.join(root, ".build", "release", "hydranet"))
args = parser.parse_args()
if not os.path.isdir(args.data):
    sys.exit("no UTKFace folder at %s (give --data)" % args.data)
if not os.access(args.hydranet, os.X_OK):
    sys.exit("%s is not built (swift build -c release --product hydranet)" % args.hydranet)

work = tempfile.mkdtemp(prefix="hydranet-article-")
faces = os.path.join(work, "UTKFace")
os.mkdir(faces)
names = sorted(n for n in os.listdir(args.data) if n.endswith(".jpg"))[:args.count]
if len(names) < args.count:
    sys.exit("only %d faces in %s" % (len(names), args.data))
for name in names:
    os.symlink(os.path.abspath(os.path.join(args.data, name)), os.path.join(faces, name))


def run(command, cwd, env=None):
    """Runs command to its end: (seconds from start to exit, peak RSS bytes, stdout)."""
    out = tempfile.TemporaryFile(mode="w+")
    start = time.perf_counter()
    p = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(p.pid, 0)
    seconds = time.perf_counter() - start
    p.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    text = out.read()
    if p.returncode != 0:
        sys.exit("%s failed (%d):\n%s" % (" ".join(command), p.returncode, text))
    return seconds, usage.ru_maxrss * 1024, text


env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
results = {"article": [], "hydranet": []}
article = [sys.executable, os.path.join(root, "bench", "article", "article_as_written.py"), "1", str(args.threads)]
for r in range(args.rounds):
    seconds, rss, text = run(article, work, env)
    line = next(l for l in text.splitlines() if l.startswith("RESULT "))
    result = json.loads(line[7:])
    results["article"].append((seconds, result["train_images"] / result["epoch_seconds"][0], rss))

    cache = os.path.join(work, "cache-%d" % r)  # a cold cache: HydraNet decodes, as the article does
    output = os.path.join(work, "run-%d" % r)
    command = [args.hydranet, "train", "--data", faces, "--image-size", "32", "--batch-size", "32", "--optimizer", "sgd",
               "--lr", "1e-4", "--weight-decay", "0", "--schedule", "none", "--epochs", "1", "--weighting", "equal",
               "--no-augment", "--no-channels-last", "--no-flip-tta", "--label-smoothing", "0", "--class-balance", "none",
               "--threads", str(args.threads), "--device", "cpu", "--tensorboard", "off", "--log-every", "0",
               "--output", output]
    seconds, rss, text = run(command, work, dict(env, HYDRANET_CACHE=cache))
    train = int(re.search(r"split: (\d+) train", text).group(1))
    with open(os.path.join(output, "report.json")) as f:
        epoch = json.load(f)["epochs"][0]["seconds"]
    results["hydranet"].append((seconds, train / epoch, rss))
    print("round %d: article %.1f s (%.1f img/s), hydranet %.1f s (%.1f img/s)"
          % (r + 1, results["article"][-1][0], results["article"][-1][1], seconds, train / epoch), flush=True)
shutil.rmtree(work)


def med(side, i):
    return statistics.median(v[i] for v in results[side])


print()
print("%d UTKFace faces, 1 epoch, 32 px, batch 32, SGD lr 1e-4, %d threads, %d interleaved rounds, medians:"
      % (args.count, args.threads, args.rounds))
print()
print("| | the article's code as written (PyTorch) | `hydranet train`, same settings | HydraNet ÷ article |")
print("|---|---:|---:|---:|")
a, h = med("article", 0), med("hydranet", 0)
print("| process, start to exit | %.1f s | %.1f s | %.2f× faster |" % (a, h, a / h))
a, h = med("article", 1), med("hydranet", 1)
print("| epoch throughput | %.1f img/s | %.1f img/s (incl. validation) | %.2f× |" % (a, h, h / a))
a, h = med("article", 2), med("hydranet", 2)
print("| peak RSS | %.0f MiB | %.0f MiB | %.2f× |" % (a / 2**20, h / 2**20, h / a))
