#!/usr/bin/env python3
"""scripts/bench --train: Benchmarks/char_model.tx and char_model_reference.py (PyTorch) in
turn, five speed runs each, then one run each to a validation loss of 2.0; prints the CPU,
every line, and the medians with tx / PyTorch.

    char_model_summary.py TX_BINARY
"""
import os
import re
import statistics
import subprocess
import sys


def cpu():
    name, flags = "unknown CPU", set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name") and name == "unknown CPU":
                name = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    isa = "AVX-512" if "avx512f" in flags else ("AVX2 + FMA" if {"avx2", "fma"} <= flags else "no AVX2")
    return f"{name} ({isa}), {len(os.sched_getaffinity(0))} cores"


def run(command):
    out = subprocess.run(command, capture_output=True, text=True)
    line = (out.stdout.strip().splitlines() or [out.stderr.strip() or "no output"])[-1]
    print(line, flush=True)
    return line


tx = [sys.argv[1], "Benchmarks/char_model.tx"]
torch = [sys.executable, "Benchmarks/char_model_reference.py"]
print(f"CPU: {cpu()}")
rates = {"tx": [], "pytorch": []}
for _ in range(5):
    for side, command in (("tx", tx), ("pytorch", torch)):
        m = re.search(r"tokens/s ([0-9]+)", run(command + ["speed"]))
        if m:
            rates[side].append(float(m.group(1)))
for side, command in (("tx", tx), ("pytorch", torch)):
    run(command + ["converge"])
if rates["tx"] and rates["pytorch"]:
    mine, theirs = statistics.median(rates["tx"]), statistics.median(rates["pytorch"])
    print(f"median tokens/s: tx {mine:.0f}, PyTorch {theirs:.0f}, tx / PyTorch {mine / theirs:.2f}")
