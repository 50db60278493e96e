"""Reference values for tx's training builtins, from PyTorch.

Writes, next to this file:
- cross_entropy: logits [4, 5, 7] (float32), targets [4, 5] (class ids), mask [4, 5];
  F.cross_entropy's mean loss, the masked mean (reduction='sum' over the chosen positions
  divided by their count) and the gradient of each with respect to the logits (float64
  from the same float32 values).
- optimisers: parameters W [6, 5], b [5] and gradients for three steps (float32); the
  parameters after each of the three steps of torch.optim.SGD (momentum 0 and 0.9),
  Adam and AdamW (weight_decay 0.1), run in float32 as PyTorch runs them on the CPU.

Regenerate with `pip install torch numpy; python3 make_fixtures.py` (seeded: the files
come out the same).
"""
import os

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(2026)


def save(name, array):
    np.save(os.path.join(here, name + ".npy"), array)


# cross_entropy
logits = (rng.standard_normal((4, 5, 7)) * 3).astype(np.float32)
targets = rng.integers(0, 7, size=(4, 5))
mask = (rng.random((4, 5)) > 0.3).astype(np.float32)
save("ce_logits", logits)
save("ce_targets", targets.astype(np.float32))
save("ce_mask", mask)
z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
t = torch.tensor(targets)
loss = torch.nn.functional.cross_entropy(z.reshape(-1, 7), t.reshape(-1))
loss.backward()
save("ce_loss", np.array(loss.item(), dtype=np.float64))
save("ce_grad", z.grad.numpy())
z.grad = None
per = torch.nn.functional.cross_entropy(z.reshape(-1, 7), t.reshape(-1), reduction="none")
m = torch.tensor(mask, dtype=torch.float64).reshape(-1)
masked = (per * m).sum() / m.sum()
masked.backward()
save("ce_masked_loss", np.array(masked.item(), dtype=np.float64))
save("ce_masked_grad", z.grad.numpy())

# optimisers
W0 = rng.standard_normal((6, 5)).astype(np.float32)
b0 = rng.standard_normal(5).astype(np.float32)
save("W0", W0)
save("b0", b0)
grads = []
for k in range(3):
    gW = rng.standard_normal((6, 5)).astype(np.float32)
    gb = rng.standard_normal(5).astype(np.float32)
    save(f"gW{k}", gW)
    save(f"gb{k}", gb)
    grads.append((gW, gb))

optimisers = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
    "sgd_momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
    "adam": lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.9, 0.999), eps=1e-8),
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
}
for name, make in optimisers.items():
    W = torch.tensor(W0, requires_grad=True)
    b = torch.tensor(b0, requires_grad=True)
    opt = make([W, b])
    for k, (gW, gb) in enumerate(grads):
        W.grad = torch.tensor(gW)
        b.grad = torch.tensor(gb)
        opt.step()
        save(f"{name}_W{k + 1}", W.detach().numpy().copy())
        save(f"{name}_b{k + 1}", b.detach().numpy().copy())
