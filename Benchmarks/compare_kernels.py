"""Prints tx's and NumPy's kernel timings side by side (scripts/bench --kernels).

    python3 Benchmarks/compare_kernels.py tx.txt numpy.txt

Each input has one line per operation: the name in the first 34 columns, then the
best time in milliseconds.
"""
import math
import sys


def load(path):
    rows = {}
    for line in open(path):
        name, value = line.rstrip("\n")[:34].strip(), line[34:].strip()
        try:
            rows[name] = float(value)
        except ValueError:
            pass
    return rows


tx, numpy = load(sys.argv[1]), load(sys.argv[2])
print(f"{'operation':<34} {'tx ms':>9} {'numpy ms':>9} {'tx/numpy':>9}")
for name, t in tx.items():
    n = numpy.get(name, math.nan)
    print(f"{name:<34} {t:9.3f} {n:9.3f} {t / n:9.2f}")
