#!/usr/bin/env python3
"""The character model of Benchmarks/char_model.tx in PyTorch, for scripts/bench --train:
the same sizes (2 pre-LN causal blocks, 4 heads, d 64, d_ff 256, context 64, exact GELU,
learned positions, an LM head tied to the token embeddings), the same AdamW settings and
schedule, batches of 32 windows of corpus("shakespeare") (tx's cache, scripts/get-text).

    char_model_reference.py speed [steps]   # ms per training step and tokens per second
    char_model_reference.py converge        # seconds until the validation loss <= 2.0 (at most 60 s)
"""
import math
import os
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("pytorch not installed: skipped")
    sys.exit(0)

torch.manual_seed(0)
# As many threads as tx's OpenBLAS: one per core this process may run on.
torch.set_num_threads(int(os.environ.get("OPENBLAS_NUM_THREADS") or len(os.sched_getaffinity(0))))
cache = os.environ.get("TX_MODELS") or os.path.expanduser("~/.cache/tx")
text = open(os.path.join(cache, "shakespeare.txt"), encoding="utf-8").read()
vocab = sorted(set(text))
index = {c: i for i, c in enumerate(vocab)}
data = torch.tensor([index[c] for c in text], dtype=torch.long)
n = int(0.9 * len(data))
train, val = data[:n], data[n:]
batch, block, d, heads, layers = 32, 64, 64, 4, 2
lr, warmup, total = 3e-3, 100, 1700


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.out = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (z.view(b, t, heads, d // heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.out(y.transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(len(vocab), d), nn.Embedding(block, d)
        nn.init.normal_(self.wte.weight, std=0.02)
        nn.init.normal_(self.wpe.weight, std=0.02)
        self.blocks = nn.ModuleList(Block() for _ in range(layers))
        self.norm = nn.LayerNorm(d)

    def forward(self, ids, targets):
        x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1]))
        for b in self.blocks:
            x = b(x)
        logits = self.norm(x) @ self.wte.weight.T
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))


def get_batch(split):
    starts = torch.randint(len(split) - block, (batch,))
    return (torch.stack([split[i:i + block] for i in starts]),
            torch.stack([split[i + 1:i + 1 + block] for i in starts]))


def warmup_cosine(t, min_lr=lr / 10):
    if t < warmup:
        return lr * (t + 1) / (warmup + 1)
    if t > total:
        return min_lr
    return min_lr + 0.5 * (1 + math.cos(math.pi * (t - warmup) / (total - warmup))) * (lr - min_lr)


model = GPT()
opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=0.1)


def train_step(t):
    x, y = get_batch(train)
    loss = model(x, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    for group in opt.param_groups:
        group["lr"] = warmup_cosine(t)
    opt.step()
    return loss.item()


mode = sys.argv[1] if len(sys.argv) > 1 else "speed"
if mode == "speed":
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    for t in range(20):
        train_step(t)
    start = time.perf_counter()
    for t in range(steps):
        train_step(20 + t)
    seconds = (time.perf_counter() - start) / steps
    print(f"pytorch char_model training step {seconds:.6f} s tokens/s {batch * block / seconds:.0f}")
else:
    torch.manual_seed(1)
    val_batches = [get_batch(val) for _ in range(8)]

    def val_loss():
        with torch.no_grad():
            return sum(model(x, y).item() for x, y in val_batches) / len(val_batches)

    start, t, loss = time.perf_counter(), 0, val_loss()
    while loss > 2.0 and time.perf_counter() - start < 60:
        for _ in range(50):
            train_step(t)
            t += 1
        loss = val_loss()
    print(f"pytorch char_model validation loss {loss:.3f} after {t} steps in {time.perf_counter() - start:.1f} s")
