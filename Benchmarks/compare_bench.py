#!/usr/bin/env python3
"""The table scripts/bench ends with: txbench's and pytorch_reference.py's lines side by
side, for the default kernels and the forced AVX2 path, with tx / PyTorch per row.

    compare_bench.py DIR    (DIR holds tx.txt, torch.txt, tx-avx2.txt, torch-avx2.txt)
"""
import os
import re
import sys

LINE = re.compile(r"^(tx|pytorch) (.+?) ([0-9.]+) s [0-9.]+ GFLOP/s(?: peak [0-9]+ MiB)?"
                  r"(?: faults ([0-9]+) sys ([0-9.]+) ms)?$")


def rows(path):
    """name -> (seconds, faults, system ms) from one output file."""
    found = {}
    if not os.path.exists(path):
        return found
    with open(path) as f:
        for line in f:
            m = LINE.match(line.strip())
            if m:
                found[m.group(2)] = (float(m.group(3)), m.group(4), m.group(5))
    return found


def milliseconds(seconds):
    """Tenths of a millisecond, or thousandths below one (the attention products)."""
    return f"{seconds * 1000:.{1 if seconds >= 1e-3 else 3}f}"


def table(title, tx, torch):
    print(f"\n{title}\n")
    print("| workload | tx ms | PyTorch ms | tx / PyTorch | tx faults, sys ms per run | PyTorch faults, sys ms per run |")
    print("|---|---|---|---|---|---|")
    for name, (seconds, faults, system) in tx.items():
        # A tx row measured through the interpreter too (" (value_and_grad)") is paired
        # with PyTorch's row of the same workload.
        base = name.removesuffix(" (value_and_grad)")
        matches = [(other, torch[other]) for other in (name, name + " unnested") if other in torch]
        if not matches and base in torch:
            matches = [(name, torch[base])]
        for other, (torch_seconds, torch_faults, torch_system) in matches or [(name, (None, None, None))]:
            label = name + other[len(name):].replace(" unnested", " (PyTorch without nested tensors)")
            mine = f"{faults}, {system}" if faults else ""
            theirs = f"{torch_faults}, {torch_system}" if torch_faults else ""
            ratio = f"{seconds / torch_seconds:.2f}" if torch_seconds else "n/a"
            torch_ms = milliseconds(torch_seconds) if torch_seconds else "n/a"
            print(f"| {label} | {milliseconds(seconds)} | {torch_ms} | {ratio} | {mine} | {theirs} |")


if __name__ == "__main__":
    folder = sys.argv[1]
    table("Default kernels (each side's best for this CPU)", rows(f"{folder}/tx.txt"), rows(f"{folder}/torch.txt"))
    table("Forced AVX2 path (tx: TX_KERNELS=avx2 OPENBLAS_CORETYPE=Haswell; PyTorch: ATEN_CPU_CAPABILITY=avx2 "
          "ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2)",
          rows(f"{folder}/tx-avx2.txt"), rows(f"{folder}/torch-avx2.txt"))
