"""The workloads of Benchmarks/minilm.tx in sentence-transformers (scripts/bench --model)."""
import os
import time

import torch
from sentence_transformers import SentenceTransformer

folder = os.path.join(os.environ.get("TX_MODELS", os.path.expanduser("~/.cache/tx")), "all-MiniLM-L6-v2")
model = SentenceTransformer(folder, device="cpu")
long = "".join(f"word{i} " for i in range(300))
batch = [f"{i} {long}" for i in range(32)]
assert len(model.tokenizer(batch[0], truncation=True, max_length=256)["input_ids"]) == 256
short = [f"The chef who ran kitchen number {i} was tired." for i in range(32)]


def best_of_3(f):
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


with torch.inference_mode():
    batched = best_of_3(lambda: model.encode(batch, batch_size=32))
    single = best_of_3(lambda: [model.encode([s]) for s in short])
print(f"sentence-transformers ({torch.get_num_threads()} threads) batched:       {batched * 1000:7.1f} ms  {32 / batched:7.1f} sentences/s")
print(f"sentence-transformers ({torch.get_num_threads()} threads) one at a time: {single * 1000:7.1f} ms  {32 / single:7.1f} sentences/s")
