#!/usr/bin/env python3
"""PyTorch's CPU forward on the same workloads as txbench, for comparison.

Prints one line per measurement in txbench's format:
    pytorch <name> <seconds> s <GFLOP/s> GFLOP/s peak <MiB> MiB
Peak memory is the growth of the process's maximum resident set during the run.
"""
import math
import resource
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("pytorch not installed: skipped")
    sys.exit(0)

torch.manual_seed(0)
torch.set_grad_enabled(False)


def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def best_of(fn, repeats):
    """The fastest of at least `repeats` timed runs after a warm-up, repeating short
    workloads until about half a second has been measured (as txbench does)."""
    fn()
    best, total, runs = math.inf, 0.0, 0
    while runs < repeats or (total < 0.5 and runs < 1000):
        t = time.perf_counter()
        fn()
        seconds = time.perf_counter() - t
        best, total, runs = min(best, seconds), total + seconds, runs + 1
    return best


def report(name, seconds, flops, peak):
    print(f"pytorch {name} {seconds:.4f} s {flops / seconds / 1e9:.1f} GFLOP/s peak {peak:.0f} MiB", flush=True)


def attention(b, n, d, causal, repeats=3):
    q, k, v = (torch.randn(b, n, d) for _ in range(3))
    before = rss_mib()
    seconds = best_of(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal), repeats)
    flops = 4 * b * n * n * d / (2 if causal else 1)
    report(f"attention b={b} n={n} d={d}{' causal' if causal else ''}", seconds, flops, rss_mib() - before)


def encoder_layer(n=512, d=512, h=8, dff=2048):
    layer = torch.nn.TransformerEncoderLayer(d, h, dff, dropout=0.0, batch_first=True).eval()
    x = torch.randn(1, n, d)
    before = rss_mib()
    seconds = best_of(lambda: layer(x), 10)
    flops = 2 * n * d * d * 4 + 4 * n * n * d + 2 * 2 * n * d * dff
    report(f"encoder_block n={n} d={d} heads={h} d_ff={dff}", seconds, flops, rss_mib() - before)


if __name__ == "__main__":
    print(f"pytorch {torch.__version__}, {torch.get_num_threads()} threads")
    for n in (512, 1024, 2048, 4096):
        for causal in (False, True):
            attention(8, n, 64, causal)
    encoder_layer()
    if "--long" in sys.argv:
        attention(1, 50000, 64, False, repeats=1)
