"""One-image prediction from process start, HydraNet vs PyTorch, interleaved in one run.

Times, per round and in turn: `hydranet predict --model M IMAGE` (the release binary);
`python -c "import torch"` (what PyTorch pays before any work); and the same prediction
written in Python (bench/predict/pytorch_predict.py: import, rebuild from the checkpoint,
PIL decode and resize, forward). Prints medians and ratios.

usage: .venv/bin/python bench/predict/startup.py --model M --image I [--rounds 11]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--image", required=True)
parser.add_argument("--rounds", type=int, default=11)
parser.add_argument("--hydranet", default=os.path.join(root, ".build", "release", "hydranet"))
args = parser.parse_args()

commands = {
    "hydranet predict": [args.hydranet, "predict", "--model", args.model, args.image],
    "python -c 'import torch'": [sys.executable, "-c", "import torch"],
    "PyTorch predict (python)": [sys.executable, os.path.join(root, "bench", "predict", "pytorch_predict.py"),
                                 args.model, args.image],
}
times = {name: [] for name in commands}
outputs = {}
for _ in range(args.rounds):
    for name, command in commands.items():
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        times[name].append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit("%s failed (%d): %s" % (name, done.returncode, done.stderr))
        outputs[name] = done.stdout.strip()

print("one image, process start to answer, %d interleaved rounds (median, min-max):" % args.rounds)
base = statistics.median(times["hydranet predict"])
for name, values in times.items():
    median = statistics.median(values)
    print("  %-28s %7.3f s  (%.3f-%.3f)  %5.2fx hydranet" % (name, median, min(values), max(values), median / base))
print("answers:\n  hydranet: %s\n  pytorch:  %s" % (outputs["hydranet predict"].splitlines()[-1],
                                                   outputs["PyTorch predict (python)"]))
