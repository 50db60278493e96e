#!/usr/bin/env python3
"""PyTorch's CPU forward on the same workloads as txbench, for comparison.

Prints one line per measurement in txbench's format:
    pytorch <name> <seconds> s <GFLOP/s> GFLOP/s peak <MiB> MiB
Peak memory is the growth of the process's maximum resident set during the run.
"""
import math
import os
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
# As many threads as tx's OpenBLAS: one per core this process may run on.
torch.set_num_threads(int(os.environ.get("OPENBLAS_NUM_THREADS") or len(os.sched_getaffinity(0))))


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


def report(name, seconds, flops, peak, cost=None):
    line = f"pytorch {name} {seconds:.6f} s {flops / seconds / 1e9:.1f} GFLOP/s peak {peak:.0f} MiB"
    if cost:
        line += f" faults {cost[0]:.0f} sys {cost[1] * 1000:.1f} ms"
    print(line, flush=True)


def cost(fn, runs=3):
    """Page faults and system time per run, after a warm-up (as txbench's cost)."""
    fn()
    before = resource.getrusage(resource.RUSAGE_SELF)
    for _ in range(runs):
        fn()
    after = resource.getrusage(resource.RUSAGE_SELF)
    faults = (after.ru_minflt + after.ru_majflt) - (before.ru_minflt + before.ru_majflt)
    return faults / runs, (after.ru_stime - before.ru_stime) / runs


def attention(b, n, d, causal, repeats=3):
    q, k, v = (torch.randn(b, n, d) for _ in range(3))
    before = rss_mib()
    run = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    seconds = best_of(run, repeats)
    flops = 4 * b * n * n * d / (2 if causal else 1)
    report(f"attention b={b} n={n} d={d}{' causal' if causal else ''}", seconds, flops, rss_mib() - before,
           cost(run) if n == 4096 else None)


def attention_backward(b, n, d, causal, repeats=3, dO_only=False):
    """SDPA's forward and backward (or, with dO_only, the backward alone), as txbench's
    attention rows of the backward."""
    with torch.enable_grad():
        q, k, v = (torch.randn(b, n, d, requires_grad=True) for _ in range(3))
        grad = torch.randn(b, n, d)
        before = rss_mib()
        if dO_only:
            out = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
            t = time.perf_counter()
            torch.autograd.grad(out, (q, k, v), grad)
            seconds = time.perf_counter() - t
            report(f"attention backward b={b} n={n} d={d}{' causal' if causal else ''}", seconds,
                   10 * b * n * n * d / (2 if causal else 1), rss_mib() - before)
            return
        run = lambda: torch.autograd.grad(F.scaled_dot_product_attention(q, k, v, is_causal=causal), (q, k, v), grad)
        seconds = best_of(run, repeats)
    report(f"attention forward+backward b={b} n={n} d={d}{' causal' if causal else ''}", seconds,
           14 * b * n * n * d / (2 if causal else 1), rss_mib() - before)


def encoder_layer(n=512, d=512, h=8, dff=2048):
    layer = torch.nn.TransformerEncoderLayer(d, h, dff, dropout=0.0, batch_first=True).eval()
    x = torch.randn(1, n, d)
    before = rss_mib()
    seconds = best_of(lambda: layer(x), 10)
    flops = 2 * n * d * d * 4 + 4 * n * n * d + 2 * 2 * n * d * dff
    report(f"encoder_block n={n} d={d} heads={h} d_ff={dff}", seconds, flops, rss_mib() - before,
           cost(lambda: layer(x), 10))


def encoder_training(n=512, d=512, h=8, dff=2048):
    """A training step of the same layer (post-LN, ReLU, no dropout, train mode), as
    txbench's: the forward, the loss sum(out * R) for a fixed random R, and loss.backward()
    to every parameter and to x, the gradients set to None before each run (so each
    run makes fresh ones, as tx's tape does). Also the process's CPU time per run."""
    with torch.enable_grad():
        layer = torch.nn.TransformerEncoderLayer(d, h, dff, dropout=0.0, batch_first=True).train()
        x = torch.randn(1, n, d, requires_grad=True)
        R = torch.randn(1, n, d)
        leaves = list(layer.parameters()) + [x]

        def run():
            for t in leaves:
                t.grad = None
            (layer(x) * R).sum().backward()

        before = rss_mib()
        seconds = best_of(run, 10)
        run()
        cpu = time.process_time()
        for _ in range(5):
            run()
        cpu = (time.process_time() - cpu) / 5
        assert all(t.grad is not None for t in leaves)
        linear = 2 * n * d * d * 4 + 2 * 2 * n * d * dff
        name = f"encoder_block training step n={n} d={d} heads={h} d_ff={dff}"
        print(f"pytorch cpu time of {name}: {cpu * 1000:.1f} ms per run")
        report(name, seconds, 3 * linear + 14 * n * n * d, rss_mib() - before, cost(run, 5))


def padded_encoder(b=32, n=256, d=384, h=12, dff=1536, layers=6):
    """A BERT-sized encoder (all-MiniLM-L6-v2's shape) over a padded batch of 32
    sequences of 5 to 256 tokens with their key padding mask. PyTorch's default
    TransformerEncoder takes its fast path here: the padded batch becomes a nested
    tensor, so the padding costs it nothing in the linear layers either; the second
    line keeps the padding (enable_nested_tensor=False), as tx and BERT models do."""
    layer = torch.nn.TransformerEncoderLayer(d, h, dff, dropout=0.0, activation="gelu", batch_first=True)
    x = torch.randn(b, n, d)
    lengths = [5 + i * (n - 5) // (b - 1) for i in range(b)]
    padding = torch.arange(n)[None, :] >= torch.tensor(lengths)[:, None]
    perLayer = 2 * b * n * d * d * 4 + 4 * b * n * n * d + 2 * 2 * b * n * d * dff
    for nested, suffix in ((True, ""), (False, " unnested")):
        encoder = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=nested).eval()
        run = lambda: encoder(x, src_key_padding_mask=padding)
        before = rss_mib()
        seconds = best_of(run, 3)
        report(f"encoder padded b={b} n={n} d={d} heads={h} d_ff={dff} layers={layers} gelu{suffix}", seconds,
               perLayer * layers, rss_mib() - before, cost(run))



def products():
    """The products the encoder rows are made of, each on its own, named as txbench
    names them: a linear layer is F.linear(x, W, b) (nn.Linear's call, W [d_out, d_in]),
    one head's attention products are torch.matmul, with txbench's repetitions."""
    for who, operand, rows, d_in, d_out, role in (("encoder_block", "x", 512, 512, 512, "Wq Wk Wv Wo"),
                                                  ("encoder_block", "x", 512, 512, 2048, "FFN up"),
                                                  ("encoder_block", "h", 512, 2048, 512, "FFN down"),
                                                  ("encoder padded", "x", 8192, 384, 384, "Wq Wk Wv Wo"),
                                                  ("encoder padded", "x", 8192, 384, 1536, "FFN up"),
                                                  ("encoder padded", "h", 8192, 1536, 384, "FFN down")):
        x, W, b = torch.randn(rows, d_in), torch.randn(d_out, d_in), torch.randn(d_out)
        before = rss_mib()
        seconds = best_of(lambda: F.linear(x, W, b), 3 if rows > 512 else 10)
        report(f"{who} product {operand}[{rows},{d_in}] @ W[{d_out},{d_in}]' + b ({role})", seconds,
               2 * rows * d_in * d_out, rss_mib() - before)
    n, dk = 512, 64
    q, k, p, v = torch.randn(n, dk), torch.randn(n, dk), torch.randn(n, n), torch.randn(n, dk)
    before = rss_mib()
    seconds = best_of(lambda: torch.matmul(q, k.t()), 10)
    report(f"encoder_block product q[{n},{dk}] @ k[{n},{dk}]' (one head's scores)", seconds, 2 * n * n * dk,
           rss_mib() - before)
    seconds = best_of(lambda: torch.matmul(p, v), 10)
    report(f"encoder_block product p[{n},{n}] @ v[{n},{dk}] (one head's weights times V)", seconds, 2 * n * n * dk,
           rss_mib() - before)

if __name__ == "__main__":
    print(f"pytorch {torch.__version__}, {torch.get_num_threads()} threads")
    if "--backward" in sys.argv:
        # Only the gradient rows, as txbench --backward.
        for causal in (False, True):
            attention_backward(8, 1024, 64, causal)
        encoder_training()
        if "--long" in sys.argv:
            attention_backward(1, 50000, 64, True, dO_only=True)
        sys.exit(0)
    for n in (512, 1024, 2048, 4096):
        for causal in (False, True):
            attention(8, n, 64, causal)
    for causal in (False, True):
        attention_backward(8, 1024, 64, causal)
    encoder_layer()
    encoder_training()
    padded_encoder()
    products()
    if "--long" in sys.argv:
        attention(1, 50000, 64, False, repeats=1)
        attention_backward(1, 50000, 64, True, dO_only=True)
