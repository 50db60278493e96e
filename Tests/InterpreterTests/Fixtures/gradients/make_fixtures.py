#!/usr/bin/env python3
"""Writes the reference gradients that GradientFixtureTests.swift holds tx's grad to.

Regenerate (on a developer's machine, never in CI):

    pip install torch numpy
    python3 Tests/InterpreterTests/Fixtures/gradients/make_fixtures.py
    # optional: check every case's loss with a built tx, and its gradients when that tx
    # has value_and_grad; --no-write checks the fixtures as they are, without rewriting
    python3 Tests/InterpreterTests/Fixtures/gradients/make_fixtures.py --check .build/debug/tx [--no-write]

Every case draws float32 inputs from seeded NumPy generators (one per group of cases,
and one per case for R, seeded by their names, so the files do not change from run to
run or when a case is added), recomputes the case in float64 PyTorch from those same
float32 values, and differentiates the scalar loss
sum(out * R), where R is a fixed random float32 tensor of out's shape (so every output
element matters). The tx test evaluates the same loss, written in tx in the case's
`body`, with value_and_grad(loss, wrt=...), and holds each gradient leaf to
||tx - ref|| / ||ref|| <= tolerance (1e-5 for operations, 1e-4 for blocks and stacks),
and its value to |tx - ref| <= tolerance * sum(|out * R|). PyTorch itself, run in
float32 on the same inputs, stays below 3e-6 on every leaf (float32_error below).

Files, per case in a folder named after it: each tensor input NAME.npy (float32; token
ids as int64, masks as bool), each record input NAME.safetensors (dotted names, lists by
index, as tx's load() nests them), R.npy, and the float64 reference gradients rounded
to float32 as grad.NAME.npy / grad.NAME.safetensors. manifest.json lists the cases:

    {"format": 1, "generator": ..., "torch": version,
     "cases": [{"name", "kind": "op" | "block", "tolerance",
                "params": [names in the order of the loss's parameters, R last],
                "inputs": {name: file}, "wrt": [names], "body": tx code of the loss's body,
                "grads": {name: file}, "leaves": [dotted paths from a wrt name: "x",
                "p.attn.Wq", "p.layers.0.ffn.W1"], "zero_leaves": [leaves whose exact
                gradient is 0, such as attention's key bias: stored as zeros and held to
                ||tx|| <= tolerance * grad_norm], "grad_norm": the norm of all the reference
                gradients together, "value": the float64 loss,
                "value_scale": sum(|out * R|), "float32_error": {leaf: the relative error
                of the same gradient computed by PyTorch in float32}, "notes",
                optionally "alternative_grads": {name: file} with notes saying what they are}],
     "models": [the gradient of embed with respect to all-MiniLM-L6-v2's whole record,
                written when the model is in the tx model cache (scripts/get-model), else
                kept as it was; its fields are described in minilm_case below]}

A test defines `fn loss(<params>) { <body> }` and calls
value_and_grad(loss, wrt=<wrt>)(<params>).

The reference follows tx's definitions (docs/LANGUAGE.md), written out where PyTorch's
differ: softmax (and attention) give zeros, and zero gradients, for a row whose scores
are all -inf (PyTorch gives NaN); cosine divides by max(|a| |b|, 1e-8); similarity
divides each row by max(|row|, 1e-8); var/std are the population forms unless ddof=1;
gelu is the exact erf form; causal attention lets query i see keys j <= i, also when
n_q != n_k. Conventions at kinks and ties are PyTorch's: maximum/minimum split the
gradient evenly between equal operands; max/min reductions (amax/amin) share it evenly
among tied maxima (max_axis_ties and min_axis_ties also save, as alternative.x.npy,
what torch.max(x, dim)/torch.min give: the whole gradient to the first tied index; the
test does not use them); relu and abs have derivative 0 at 0.
"""
import argparse
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(17)


def reseed(name):
    """Each group of cases draws its inputs, and each case its R, from a generator seeded
    by its name, so adding a case changes no other case's files."""
    global rng
    rng = np.random.default_rng(zlib.crc32(name.encode()))
torch.use_deterministic_algorithms(True)

CASES = []


# --- inputs -------------------------------------------------------------------------

def randn(*shape, scale=1.0, shift=0.0):
    return np.asarray(rng.standard_normal(shape) * scale + shift, dtype=np.float32)


def uniform(low, high, *shape):
    return rng.uniform(low, high, shape).astype(np.float32)


def ids(high, *shape):
    return rng.integers(0, high, shape).astype(np.int64)


def additive(blocked):
    """A boolean 'blocked' array as tx's additive float mask (0 allowed, -inf blocked)."""
    return np.where(blocked, np.float32(-np.inf), np.float32(0)).astype(np.float32)


def padding(lengths, n):
    """tx's padding_mask(lengths, n): [b, 1, n], -inf at key positions >= length."""
    blocked = np.arange(n)[None, :] >= np.array(lengths)[:, None]
    return additive(blocked)[:, None, :]


def init_mha(d):
    s = 1 / math.sqrt(d)
    return {"Wq": randn(d, d, scale=s), "bq": randn(d, scale=0.1), "Wk": randn(d, d, scale=s),
            "bk": randn(d, scale=0.1), "Wv": randn(d, d, scale=s), "bv": randn(d, scale=0.1),
            "Wo": randn(d, d, scale=s), "bo": randn(d, scale=0.1)}


def init_ln(d):
    return {"gamma": randn(d, scale=0.1, shift=1.0), "beta": randn(d, scale=0.1)}


def init_ffn(d, dff):
    return {"W1": randn(d, dff, scale=1 / math.sqrt(d)), "b1": randn(dff, scale=0.1),
            "W2": randn(dff, d, scale=1 / math.sqrt(dff)), "b2": randn(d, scale=0.1)}


def init_encoder_block(d, dff):
    return {"attn": init_mha(d), "ln1": init_ln(d), "ffn": init_ffn(d, dff), "ln2": init_ln(d)}


def init_decoder_block(d, dff):
    return {"self_attn": init_mha(d), "ln1": init_ln(d), "cross_attn": init_mha(d), "ln2": init_ln(d),
            "ffn": init_ffn(d, dff), "ln3": init_ln(d)}


# --- tx's operations in float64 PyTorch ---------------------------------------------

def softmax(s, dim=-1):
    """tx's softmax: a row of all -inf gives zeros (and passes no gradient)."""
    full = torch.isneginf(s).all(dim=dim, keepdim=True)
    p = torch.softmax(torch.where(full, torch.zeros_like(s), s), dim=dim)
    return torch.where(full, torch.zeros_like(p), p)


def attention(Q, K, V, mask=None, causal=False):
    s = Q @ K.transpose(-2, -1) / math.sqrt(Q.shape[-1])
    if mask is not None:
        s = s + mask.to(s.dtype)
    if causal:
        nq, nk = s.shape[-2], s.shape[-1]
        blocked = torch.arange(nk)[None, :] > torch.arange(nq)[:, None]
        s = s.masked_fill(blocked, float("-inf"))
    return softmax(s) @ V


def linear(x, W, b=None):
    return x @ W if b is None else x @ W + b


def mha(xq, xkv, p, heads, mask=None, causal=False):
    d = xq.shape[-1]

    def split(x):                        # [..., n, d] -> [..., h, n, d/h]
        return x.reshape(*x.shape[:-1], heads, d // heads).transpose(-3, -2)

    Q, K, V = split(linear(xq, p["Wq"], p["bq"])), split(linear(xkv, p["Wk"], p["bk"])), split(linear(xkv, p["Wv"], p["bv"]))
    if mask is not None and mask.dim() == 3:
        mask = mask.unsqueeze(-3)        # a head axis before the last two
    o = attention(Q, K, V, mask, causal)            # [..., h, n_q, d/h]
    o = o.transpose(-3, -2).reshape(*o.shape[:-3], o.shape[-2], d)
    return linear(o, p["Wo"], p["bo"])


def layernorm(x, p, eps=1e-5):
    return F.layer_norm(x, (x.shape[-1],), p["gamma"], p["beta"], eps=eps)


def ffn(x, p, activation="relu"):
    act = F.relu if activation == "relu" else F.gelu     # F.gelu's default is the exact erf form
    return linear(act(linear(x, p["W1"], p["b1"])), p["W2"], p["b2"])


def encoder_block(x, p, heads, mask=None, activation="relu", norm_first=False, eps=1e-5):
    if norm_first:
        h = layernorm(x, p["ln1"], eps)
        x1 = x + mha(h, h, p["attn"], heads, mask)
        return x1 + ffn(layernorm(x1, p["ln2"], eps), p["ffn"], activation)
    x1 = layernorm(x + mha(x, x, p["attn"], heads, mask), p["ln1"], eps)
    return layernorm(x1 + ffn(x1, p["ffn"], activation), p["ln2"], eps)


def decoder_block(y, memory, p, heads, causal=True, mask=None, memory_mask=None):
    y1 = layernorm(y + mha(y, y, p["self_attn"], heads, mask, causal), p["ln1"])
    y2 = layernorm(y1 + mha(y1, memory, p["cross_attn"], heads, memory_mask), p["ln2"])
    return layernorm(y2 + ffn(y2, p["ffn"]), p["ln3"])


def encoder(x, p, heads, mask=None):
    for layer in p["layers"]:
        x = encoder_block(x, layer, heads, mask)
    return layernorm(x, p["norm"]) if p.get("norm") is not None else x


def decoder(y, memory, p, heads, causal=True, mask=None, memory_mask=None):
    for layer in p["layers"]:
        y = decoder_block(y, memory, layer, heads, causal, mask, memory_mask)
    return layernorm(y, p["norm"]) if p.get("norm") is not None else y


def norm(x, dim=None, keepdim=False):
    return torch.sqrt((x * x).sum() if dim is None else (x * x).sum(dim=dim, keepdim=keepdim))


def cosine(a, b, dim=-1):
    return (a * b).sum(dim) / torch.clamp_min(norm(a, dim) * norm(b, dim), 1e-8)


def similarity(a, b=None):
    b = a if b is None else b
    a = a / torch.clamp_min(norm(a, -1, True), 1e-8)
    b = b / torch.clamp_min(norm(b, -1, True), 1e-8)
    return a @ b.T


def var(x, dim=None, ddof=0, keepdim=False):
    if dim is None:
        return torch.var(x, correction=ddof)
    return torch.var(x, dim=dim, correction=ddof, keepdim=keepdim)


# --- files ----------------------------------------------------------------------------

def flatten(value, prefix=""):
    """A nested record (dicts and lists) as {dotted name: array}."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    if isinstance(value, (list, tuple)):
        out = {}
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}{i}."))
        return out
    return {prefix[:-1]: value}


def write_safetensors(path, tensors):
    """The safetensors format, written directly (no safetensors package needed)."""
    dtypes = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int64): "I64",
              np.dtype(np.bool_): "BOOL"}
    header, blobs, offset = {}, [], 0
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        raw = a.tobytes()
        header[name] = {"dtype": dtypes[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def to_torch(value, grad):
    if isinstance(value, dict):
        return {k: to_torch(v, grad) for k, v in value.items()}
    if isinstance(value, list):
        return [to_torch(v, grad) for v in value]
    if value.dtype == np.int64:
        return torch.from_numpy(value)
    if value.dtype == np.bool_:
        return torch.from_numpy(value)
    return torch.from_numpy(value.astype(np.float64 if grad is not False else np.float32)).requires_grad_(bool(grad))


def leaves_of(value):
    return flatten(value) if isinstance(value, (dict, list)) else {"": value}


def case(name, body, inputs, wrt, ref, kind="op", notes="", alternative=None):
    """One case: `inputs` maps names to float32 arrays or nested records of them;
    `ref(**torch_inputs)` computes the output in PyTorch; `body` is the tx loss's body,
    which uses the inputs and R. `alternative(torch_inputs)`, if given, returns other
    conventions' gradients {name: tensor} to save beside the reference."""
    CASES.append(dict(name=name, body=body, inputs=inputs, wrt=wrt, ref=ref, kind=kind, notes=notes,
                      alternative=alternative))


def gradients(c, R, dtype):
    """The loss and the gradients of sum(ref(...) * R) in `dtype`, by leaf path."""
    t = {k: to_torch(v, False) for k, v in c["inputs"].items()}

    def cast(v, need):
        if isinstance(v, dict):
            return {k: cast(x, need) for k, x in v.items()}
        if isinstance(v, list):
            return [cast(x, need) for x in v]
        if v.dtype in (torch.int64, torch.bool):
            return v
        return v.to(dtype).detach().requires_grad_(need)

    t = {k: cast(v, k in c["wrt"]) for k, v in t.items()}
    out = c["ref"](**t)
    r = torch.from_numpy(R).to(dtype)
    loss = (out * r).sum()
    paths, tensors = [], []
    for name in c["wrt"]:
        for path, leaf in leaves_of(t[name]).items():
            paths.append(name + ("." + path if path else ""))
            tensors.append(leaf)
    grads = torch.autograd.grad(loss, tensors, allow_unused=True)
    grads = [torch.zeros_like(x) if g is None else g for x, g in zip(tensors, grads)]
    return out, loss, dict(zip(paths, grads)), t


def write_case(c):
    folder = os.path.join(HERE, c["name"])
    os.makedirs(folder, exist_ok=True)
    # Shape of the output first (a float64 pass with a dummy R), then R, then the real pass.
    t = {k: to_torch(v, False) for k, v in c["inputs"].items()}

    def f64(v):
        if isinstance(v, dict):
            return {k: f64(x) for k, x in v.items()}
        if isinstance(v, list):
            return [f64(x) for x in v]
        return v if v.dtype in (torch.int64, torch.bool) else v.double()

    with torch.no_grad():
        shape = tuple(c["ref"](**{k: f64(v) for k, v in t.items()}).shape)
    reseed(c["name"])
    R = randn(*shape)
    out, loss, grads, t64 = gradients(c, R, torch.float64)
    assert torch.isfinite(loss), c["name"]
    _, _, grads32, _ = gradients(c, R, torch.float32)
    files = {}
    for k, v in c["inputs"].items():
        if isinstance(v, (dict, list)):
            files[k] = f"{c['name']}/{k}.safetensors"
            write_safetensors(os.path.join(HERE, files[k]), flatten(v))
        else:
            files[k] = f"{c['name']}/{k}.npy"
            np.save(os.path.join(HERE, files[k]), v)
    files["R"] = f"{c['name']}/R.npy"
    np.save(os.path.join(HERE, files["R"]), R)
    # A leaf whose gradient is zero in exact arithmetic (the key bias of attention: softmax
    # ignores a constant added to a row's scores) has a float64 norm of ~1e-17 and no
    # meaningful relative error: it is stored as exact zeros, listed in zero_leaves, and
    # held to ||tx|| <= tolerance * grad_norm, the norm of the whole reference gradient.
    grad_norm = math.sqrt(sum(g.norm().item() ** 2 for g in grads.values()))
    zero_leaves = [p for p, g in grads.items() if g.norm().item() <= 1e-10 * grad_norm]
    for p in zero_leaves:
        grads[p] = torch.zeros_like(grads[p])
    grad_files, float32_error = {}, {}
    for name in c["wrt"]:
        mine = {p: g for p, g in grads.items() if p == name or p.startswith(name + ".")}
        for p, g in mine.items():
            assert torch.isfinite(g).all(), (c["name"], p)
            ref_norm = g.norm().item()
            err = (grads32[p].double() - g).norm().item()
            float32_error[p] = float(f"{err / (ref_norm if p not in zero_leaves else grad_norm):.3g}")
        if isinstance(c["inputs"][name], (dict, list)):
            grad_files[name] = f"{c['name']}/grad.{name}.safetensors"
            write_safetensors(os.path.join(HERE, grad_files[name]),
                              {p[len(name) + 1:]: np.ascontiguousarray(g.detach().numpy(), dtype=np.float32) for p, g in mine.items()})
        else:
            grad_files[name] = f"{c['name']}/grad.{name}.npy"
            np.save(os.path.join(HERE, grad_files[name]), np.ascontiguousarray(mine[name].detach().numpy(), dtype=np.float32))
    entry = {
        "name": c["name"], "kind": c["kind"], "tolerance": 1e-4 if c["kind"] == "block" else 1e-5,
        "params": list(c["inputs"]) + ["R"], "inputs": files, "wrt": c["wrt"], "body": c["body"],
        "grads": grad_files, "leaves": list(grads), "zero_leaves": zero_leaves, "grad_norm": grad_norm,
        "value": loss.item(),
        "value_scale": (out * torch.from_numpy(R).double()).abs().sum().item(),
        "float32_error": float32_error, "notes": c["notes"],
    }
    if c["alternative"] is not None:
        alt = c["alternative"](t64, R)
        entry["alternative_grads"] = {}
        for k, g in alt.items():
            path = f"{c['name']}/alternative.{k}.npy"
            np.save(os.path.join(HERE, path), np.ascontiguousarray(g.detach().numpy(), dtype=np.float32))
            entry["alternative_grads"][k] = path
    return entry


# --- the cases ------------------------------------------------------------------------

def binary_cases():
    reseed("binary_cases")
    a, b = randn(3, 4), randn(4)
    case("add_broadcast", "sum((a + b) * R)", {"a": a, "b": b}, ["a", "b"], lambda a, b: a + b)
    a, b = randn(2, 1, 4), randn(3, 1)
    case("sub_broadcast_both", "sum((a - b) * R)", {"a": a, "b": b}, ["a", "b"], lambda a, b: a - b,
         notes="both operands broadcast: [2, 1, 4] - [3, 1] is [2, 3, 4]")
    a, b = randn(3, 4), randn(3, 1)
    case("mul_broadcast", "sum((a * b) * R)", {"a": a, "b": b}, ["a", "b"], lambda a, b: a * b)
    a, b = randn(2, 3), uniform(0.5, 2.0, 2, 1) * np.sign(randn(2, 1))
    case("div_broadcast", "sum((a / b) * R)", {"a": a, "b": b}, ["a", "b"], lambda a, b: a / b)
    a = randn(3, 4)
    case("number_and_tensor", "sum((2 * a - 1 / (a * a + 1) + a / 4 - 3 - -a) * R)", {"a": a}, ["a"],
         lambda a: 2 * a - 1 / (a * a + 1) + a / 4 - 3 - -a, notes="numbers mixed with a tensor, unary minus")
    a, b = uniform(0.5, 2.0, 3, 4), randn(4, scale=0.7)
    case("pow_tensor_tensor", "sum((a ^ b) * R)", {"a": a, "b": b}, ["a", "b"], lambda a, b: a ** b,
         notes="a > 0; d/db = a^b log a")
    a = randn(3, 4)
    case("pow_integer_exponents", "sum((a ^ 2 + a ^ 3 - 2 ^ a) * R)", {"a": a}, ["a"],
         lambda a: a ** 2 + a ** 3 - 2 ** a, notes="negative bases with integral exponents")
    a = uniform(0.5, 2.0, 5)
    case("pow_half", "sum((a ^ 0.5 + a ^ -1.5) * R)", {"a": a}, ["a"], lambda a: a ** 0.5 + a ** -1.5)
    a, b = randn(3, 4), randn(4)
    a[0, :] = b                    # a whole row of ties
    a[1, 2] = b[2]
    case("maximum_ties", "sum(maximum(a, b) * R)", {"a": a, "b": b}, ["a", "b"], lambda a, b: torch.maximum(a, b),
         notes="ties (a[0, :] == b, a[1, 2] == b[2]) split the gradient evenly between a and b, as torch.maximum")
    case("minimum_ties", "sum(minimum(a, b) * R)", {"a": a.copy(), "b": b.copy()}, ["a", "b"],
         lambda a, b: torch.minimum(a, b), notes="ties split the gradient evenly, as torch.minimum")


def matmul_cases():
    reseed("matmul_cases")
    a, b = randn(3, 4), randn(4, 5)
    case("matmul_2d", "sum((a @ b) * R)", {"a": a, "b": b}, ["a", "b"], lambda a, b: a @ b)
    a, b = randn(2, 1, 3, 4), randn(3, 4, 5)
    case("matmul_batched_broadcast", "sum((a @ b) * R)", {"a": a, "b": b}, ["a", "b"], lambda a, b: a @ b,
         notes="[2, 1, 3, 4] @ [3, 4, 5] is [2, 3, 3, 5]: both batch axes broadcast")
    a, b = randn(2, 3, 4), randn(4, 5)
    case("matmul_batch_and_matrix", "sum((a @ b) * R)", {"a": a, "b": b}, ["a", "b"], lambda a, b: a @ b)
    a, b = randn(2, 3, 4), randn(2, 5, 4)
    case("matmul_transposed", "sum((a @ b') * R)", {"a": a, "b": b}, ["a", "b"],
         lambda a, b: a @ b.transpose(-2, -1), notes="b' is the transposed view (sgemm's transpose flag)")
    a, b = randn(4, 3), randn(4, 5)
    case("matmul_transposed_left", "sum((a' @ b) * R)", {"a": a, "b": b}, ["a", "b"], lambda a, b: a.T @ b)
    v, m, w = randn(4), randn(4, 3), randn(4)
    case("matmul_vectors", "sum(concat([v @ m, reshape(v @ w, 1)]) * R)", {"v": v, "m": m, "w": w}, ["v", "m", "w"],
         lambda v, m, w: torch.cat([(v @ m), (v @ w)[None]]), notes="[k] @ [k, m] and [k] @ [k] (a 0-d tensor)")


def indexing_cases():
    reseed("indexing_cases")
    x = randn(4, 5)
    case("slices", "sum(x[1:3, ::-1] * R)", {"x": x}, ["x"], lambda x: x[1:3].flip(-1))
    case("integer_index_and_step", "sum(concat([x[-1], x[0, ::2], x[:, 3]]) * R)", {"x": x.copy()}, ["x"],
         lambda x: torch.cat([x[-1], x[0, ::2], x[:, 3]]))
    E, i = randn(6, 3), np.array([[1, 4, 1], [0, 1, 5]], dtype=np.int64)
    case("gather_repeated_ids", "sum(E[i] * R)", {"E": E, "i": i}, ["E"], lambda E, i: E[i],
         notes="embedding lookup with repeated ids: row 1 gathers three times and its gradient sums them")
    x, perm = randn(3, 5), np.array([4, 0, 0, 2], dtype=np.int64)
    case("gather_axis1", "sum(x[:, perm] * R)", {"x": x, "perm": perm}, ["x"], lambda x, perm: x[:, perm])
    x = randn(3, 4)
    m = x > 0.2
    case("mask_select", "sum(x[m] * R)", {"x": x, "m": m}, ["x"], lambda x, m: x[m],
         notes="m is a bool .npy (a mask in tx); unselected entries get 0")
    x = randn(2, 3)
    case("new_axis", "sum((x[none] + x[:, none]) * R)", {"x": x}, ["x"],
         lambda x: x[None] + x[:, None], notes="[1, 2, 3] + [2, 1, 3]")


def shape_cases():
    reseed("shape_cases")
    x = randn(2, 3, 4)
    case("reshape", "sum(reshape(x, 4, -1) * R)", {"x": x}, ["x"], lambda x: x.reshape(4, -1))
    case("permute", "sum(permute(x, 2, 0, 1) * R)", {"x": x.copy()}, ["x"], lambda x: x.permute(2, 0, 1))
    S = randn(2, 4, 3)

    def transpose_ref(x, S):
        return torch.cat([x.transpose(0, 2).reshape(-1), (x.transpose(-2, -1) * S).sum()[None]])
    case("transpose", "sum(flatten(transpose(x, 0, 2)) * R[0:24]) + sum(x' * S) * R[24]",
         {"x": x.copy(), "S": S}, ["x"], transpose_ref,
         notes="transpose(x, 0, 2) and x' (the last two axes)")
    a, b = randn(2, 3), randn(4, 3)
    case("concat", "sum(concat([a, b, a], axis=0) * R)", {"a": a, "b": b}, ["a", "b"],
         lambda a, b: torch.cat([a, b, a], 0), notes="a appears twice")
    a, b = randn(2, 3), randn(2, 3)
    case("stack", "sum(stack([a, b], axis=1) * R)", {"a": a, "b": b}, ["a", "b"], lambda a, b: torch.stack([a, b], 1))
    x = randn(2, 6)
    case("split", "sum((split(x, 3)[0] * split(x, 3)[2]) * R)", {"x": x}, ["x"],
         lambda x: x[:, 0:2] * x[:, 4:6], notes="two of three parts; the middle one gets 0")
    x = randn(2, 1, 3, 1)
    case("squeeze_unsqueeze", "sum((squeeze(x) + unsqueeze(squeeze(x, axis=1), 0)[0, :, :, 0]) * R)", {"x": x}, ["x"],
         lambda x: x.squeeze() + x.squeeze(1).unsqueeze(0)[0, :, :, 0])
    x = randn(4, 4)
    case("tril_triu_flatten", "sum(flatten(tril(x) + 2 * triu(x, k=1)) * R)", {"x": x}, ["x"],
         lambda x: (torch.tril(x) + 2 * torch.triu(x, 1)).reshape(-1))


def elementwise_cases():
    reseed("elementwise_cases")
    c, a, b = randn(3, 4), randn(3, 4), randn(4)
    case("where", "sum(where(c > 0, a, b) * R)", {"c": c, "a": a, "b": b}, ["a", "b"],
         lambda c, a, b: torch.where(c > 0, a, b), notes="b broadcasts; its gradient sums the rows where c <= 0")
    x = randn(3, 5)
    for name in ["exp", "tanh", "sin", "cos", "sigmoid", "gelu"]:
        fn = F.gelu if name == "gelu" else getattr(torch, name)
        case(f"elementwise_{name}", f"sum({name}(x) * R)", {"x": x.copy()}, ["x"], lambda x, fn=fn: fn(x))
    xp = uniform(0.3, 3.0, 3, 5)
    case("elementwise_log", "sum(log(x) * R)", {"x": xp}, ["x"], lambda x: torch.log(x))
    case("elementwise_sqrt", "sum(sqrt(x) * R)", {"x": xp.copy()}, ["x"], lambda x: torch.sqrt(x))
    xz = x.copy()
    xz[0, 0] = 0
    case("elementwise_abs", "sum(abs(x) * R)", {"x": xz}, ["x"], lambda x: torch.abs(x),
         notes="x[0, 0] is 0: the gradient there is 0 (sign(0)), as PyTorch")
    case("elementwise_relu", "sum(relu(x) * R)", {"x": xz.copy()}, ["x"], lambda x: torch.relu(x),
         notes="x[0, 0] is 0: the gradient there is 0, as PyTorch")


def ordering_cases():
    """The everyday operations a PyTorch user reaches for: ellipsis subscripts, clip,
    cumsum, sort and flip (dropout's gradient, a mask drawn by tx, is held to its own
    output in the corpus, gradients.tx)."""
    reseed("ordering_cases")
    x = randn(2, 3, 4)
    case("ellipsis", "sum((x[..., 1:3] + x[0, ...][none, :, 1:3] + x[..., -1][..., none]) * R)", {"x": x}, ["x"],
         lambda x: x[..., 1:3] + x[0, ...][None, :, 1:3] + x[..., -1][..., None],
         notes="x[..., i] is x[:, :, i]: the same view and gradient")
    x = randn(3, 5)
    x[0, 0], x[1, 1], x[2, 2] = -0.5, 0.5, 0.25
    case("clip_both", "sum(clip(x, -0.5, 0.5) * R)", {"x": x}, ["x"], lambda x: torch.clamp(x, -0.5, 0.5),
         notes="x[0, 0] and x[1, 1] sit on the bounds: the gradient there is 1, as torch.clamp")
    case("clip_one_bound", "sum((clip(x, lo=0) + clip(x, none, 0.25)) * R)", {"x": x.copy()}, ["x"],
         lambda x: torch.clamp(x, min=0) + torch.clamp(x, max=0.25), notes="x[2, 2] is 0.25, on the upper bound")
    x = randn(3, 4, 5)
    case("cumsum_axes", "sum((cumsum(x) + cumsum(x, axis=1) * 2) * R)", {"x": x}, ["x"],
         lambda x: torch.cumsum(x, -1) + torch.cumsum(x, 1) * 2, notes="the gradient is the reverse running sum")
    x = randn(3, 6)
    x[0, 4] = x[0, 1]              # a tie
    case("sort_ascending_descending", "sum((sort(x) + sort(x, axis=0, descending=true)[:, :] * 0.5) * R)", {"x": x}, ["x"],
         lambda x: torch.sort(x, dim=-1, stable=True).values + torch.sort(x, dim=0, descending=True, stable=True).values * 0.5,
         notes="x[0, 1] == x[0, 4]: stable order sends each its own part of the gradient, as torch.sort(stable=True)")
    x = randn(2, 3, 4)
    case("flip", "sum((flip(x, axis=-1) + flip(x) * 2 + flip(x, axis=[0, 1]) * 3) * R)", {"x": x}, ["x"],
         lambda x: torch.flip(x, [-1]) + torch.flip(x, [0, 1, 2]) * 2 + torch.flip(x, [0, 1]) * 3)


def einsum_cases():
    reseed("einsum_cases")
    Q, K = randn(5, 8), randn(7, 8)
    case("einsum_attention_scores", "sum(einsum(\"qd,kd->qk\", Q, K) * R)", {"Q": Q, "K": K}, ["Q", "K"],
         lambda Q, K: torch.einsum("qd,kd->qk", Q, K), notes="Q @ K' written as einsum")
    a, b = randn(2, 3, 4), randn(2, 4, 5)
    case("einsum_batched_permuted", "sum(einsum(\"bij,bjk->kbi\", a, b) * R)", {"a": a, "b": b}, ["a", "b"],
         lambda a, b: torch.einsum("bij,bjk->kbi", a, b), notes="a batch letter, a contraction and a permuted output")
    x, y = randn(3, 4), randn(4, 5, 2)
    case("einsum_sums_and_implicit", "sum(concat([flatten(einsum(\"ij,jkl->l\", x, y)), flatten(einsum(\"jkl\", y)), flatten(einsum(\"ij->j\", x))]) * R)",
         {"x": x, "y": y}, ["x", "y"],
         lambda x, y: torch.cat([torch.einsum("ij,jkl->l", x, y).flatten(), torch.einsum("jkl", y).flatten(),
                                 torch.einsum("ij->j", x).flatten()]),
         notes="letters summed in one operand (i, k), the implicit output (jkl: its letters in order), a one-operand sum")



def einsum_more_cases():
    reseed("einsum_more_cases")
    Q, K = randn(2, 3, 5, 4), randn(1, 3, 6, 4)
    case("einsum_ellipsis_broadcast", "sum(einsum(\"...qd,...kd->...qk\", Q, K) * R)", {"Q": Q, "K": K}, ["Q", "K"],
         lambda Q, K: torch.einsum("...qd,...kd->...qk", Q, K),
         notes="'...' for the batch axes [b, h], K's b of size 1 broadcast against Q's 2")
    x, y = randn(2, 3, 4), randn(4, 5)
    case("einsum_ellipsis_implicit_and_summed",
         "sum(concat([flatten(einsum(\"...ij,jk\", x, y)), flatten(einsum(\"i...->i\", x))]) * R)",
         {"x": x, "y": y}, ["x", "y"],
         lambda x, y: torch.cat([torch.einsum("...ij,jk", x, y).flatten(), torch.einsum("i...->i", x).flatten()]),
         notes="the implicit output puts '...' first; '...' missing from an explicit output is summed (PyTorch)")
    a, b, c = randn(3, 4), randn(4, 5), randn(5, 2)
    case("einsum_three_chain", "sum(einsum(\"ij,jk,kl->il\", a, b, c) * R)", {"a": a, "b": b, "c": c}, ["a", "b", "c"],
         lambda a, b, c: torch.einsum("ij,jk,kl->il", a, b, c), notes="a @ b @ c in one einsum")
    q, k, v = randn(2, 2, 3, 4), randn(2, 2, 7, 4), randn(2, 2, 7, 5)
    case("einsum_three_attention", "sum(einsum(\"bhqd,bhkd,bhke->bhqe\", q, k, v) * R)", {"q": q, "k": k, "v": v},
         ["q", "k", "v"], lambda q, k, v: torch.einsum("bhqd,bhkd,bhke->bhqe", q, k, v),
         notes="unnormalised multi-head attention (Q K') V; tx's greedy order contracts K with V first "
               "([2, 2, 4, 5] is smaller than the scores' [2, 2, 3, 7])")
    A, X, Y, W = randn(3, 3), randn(2, 4, 4), randn(3, 3, 4), randn(4, 2)
    case("einsum_diagonal_trace",
         "sum(concat([einsum(\"ii->i\", A), flatten(einsum(\"ii\", A)), einsum(\"bii->b\", X), "
         "flatten(einsum(\"iij,jk->ik\", Y, W)), flatten(einsum(\"ijj->ji\", X))]) * R)",
         {"A": A, "X": X, "Y": Y, "W": W}, ["A", "X", "Y", "W"],
         lambda A, X, Y, W: torch.cat([torch.einsum("ii->i", A), torch.einsum("ii", A).flatten(), torch.einsum("bii->b", X),
                                       torch.einsum("iij,jk->ik", Y, W).flatten(), torch.einsum("ijj->ji", X).flatten()]),
         notes="a diagonal, a trace, a batch of traces, a diagonal contracted with a matrix, a diagonal kept "
               "as a permuted axis; the gradient lands on the diagonals")


def reduction_cases():
    reseed("reduction_cases")
    x = randn(3, 4, 5)
    case("sum_axis", "sum(sum(x, axis=1) * R)", {"x": x}, ["x"], lambda x: x.sum(1))
    case("sum_axes_keepdims", "sum(sum(x, axis=[0, 2], keepdims=true) * R)", {"x": x.copy()}, ["x"],
         lambda x: x.sum((0, 2), keepdim=True))
    case("sum_all", "sum(x) * R", {"x": x.copy()}, ["x"], lambda x: x.sum(), notes="R is 0-d")
    case("mean_axis", "sum(mean(x, axis=-1) * R)", {"x": x.copy()}, ["x"], lambda x: x.mean(-1))
    case("mean_all", "mean(x) * R", {"x": x.copy()}, ["x"], lambda x: x.mean())
    h, am = randn(2, 4, 3), np.array([[1, 1, 1, 0], [1, 1, 0, 0]], dtype=np.float32)
    case("mean_where", "sum(mean(h, axis=1, where=am[:, :, none]) * R)", {"h": h, "am": am}, ["h"],
         lambda h, am: (h * am[:, :, None]).sum(1) / am.sum(1)[:, None],
         notes="the masked mean over real tokens (embed's pooling); padded positions get 0")
    case("sum_where", "sum(sum(h, axis=1, where=am[:, :, none]) * R)", {"h": h.copy(), "am": am.copy()}, ["h"],
         lambda h, am: (h * am[:, :, None]).sum(1))
    xt = randn(3, 5)
    xt[0, 1] = xt[0, 3] = xt[0].max() + 0.5            # a tie for the row's maximum
    xt[1, :] = 0.25                                     # the whole row ties
    xt[2, 4] = xt[2].min() - 0.5
    xt[2, 0] = xt[2, 4]                                 # a tie for the row's minimum

    def max_dim_alternative(t, R):
        x = t["x"].detach().requires_grad_(True)
        (torch.max(x, dim=1).values * torch.from_numpy(R).double()).sum().backward()
        return {"x": x.grad}

    def min_dim_alternative(t, R):
        x = t["x"].detach().requires_grad_(True)
        (torch.min(x, dim=1).values * torch.from_numpy(R).double()).sum().backward()
        return {"x": x.grad}

    tie_note = ("ties share the gradient evenly, as torch.amax/amin (and torch.max(x) over all). "
                "alternative.x.npy is torch.max(x, dim=1)'s (torch.min's) gradient, which gives the whole "
                "gradient to the one index it returns; the test holds tx to the even split")
    case("max_axis_ties", "sum(max(x, axis=1) * R)", {"x": xt}, ["x"], lambda x: torch.amax(x, 1),
         notes=tie_note, alternative=max_dim_alternative)
    case("min_axis_ties", "sum(min(x, axis=1) * R)", {"x": xt.copy()}, ["x"], lambda x: torch.amin(x, 1),
         notes=tie_note, alternative=min_dim_alternative)
    xa = randn(3, 4)
    xa[2, 1] = xa[0, 3] = xa.max() + 1.0
    case("max_all_ties", "max(x) * R", {"x": xa}, ["x"], lambda x: torch.amax(x),
         notes="two tied maxima over all axes share the gradient evenly (torch.amax and torch.max(x) agree)")
    xa2 = randn(3, 4)
    case("min_all", "min(x) * R", {"x": xa2}, ["x"], lambda x: torch.amin(x))
    case("max_keepdims", "sum(max(x, axis=0, keepdims=true) * R)", {"x": randn(3, 4)}, ["x"],
         lambda x: torch.amax(x, 0, keepdim=True))
    x = randn(3, 5, scale=2.0)
    case("logsumexp_axis", "sum(logsumexp(x, axis=-1) * R)", {"x": x}, ["x"], lambda x: torch.logsumexp(x, -1))
    case("logsumexp_all", "logsumexp(x) * R", {"x": x.copy()}, ["x"], lambda x: torch.logsumexp(x, (0, 1)))
    x = randn(3, 6, shift=0.5)
    case("var_axis", "sum(var(x, axis=1) * R)", {"x": x}, ["x"], lambda x: var(x, 1), notes="population variance (ddof=0)")
    case("var_ddof1", "sum(var(x, axis=0, ddof=1) * R)", {"x": x.copy()}, ["x"], lambda x: var(x, 0, ddof=1))
    case("var_all", "var(x) * R", {"x": x.copy()}, ["x"], lambda x: var(x))
    case("std_axis", "sum(std(x, axis=-1, keepdims=true) * R)", {"x": x.copy()}, ["x"],
         lambda x: torch.sqrt(var(x, -1, keepdim=True)))
    case("std_all_ddof1", "std(x, ddof=1) * R", {"x": x.copy()}, ["x"], lambda x: torch.sqrt(var(x, ddof=1)))
    x = randn(3, 4)
    case("norm_axis", "sum(norm(x, axis=-1) * R)", {"x": x}, ["x"], lambda x: norm(x, -1))
    case("norm_all", "norm(x) * R", {"x": x.copy()}, ["x"], lambda x: norm(x))
    case("normalize_rows", "sum((x / norm(x, axis=-1, keepdims=true)) * R)", {"x": x.copy()}, ["x"],
         lambda x: x / norm(x, -1, True), notes="rows of length 1, as embed's last step")


def neural_cases():
    reseed("neural_cases")
    x = randn(3, 5, scale=2.0)
    case("softmax_last_axis", "sum(softmax(x) * R)", {"x": x}, ["x"], lambda x: softmax(x))
    case("softmax_axis0", "sum(softmax(x, axis=0) * R)", {"x": x.copy()}, ["x"], lambda x: softmax(x, 0))
    xm = randn(3, 5)
    M = np.zeros((3, 5), dtype=np.float32)
    M[0, 1] = M[0, 3] = -np.inf
    M[2, :] = -np.inf
    case("softmax_masked_rows", "sum(softmax(x + M) * R)", {"x": xm, "M": M}, ["x"], lambda x, M: softmax(x + M),
         notes="row 0 has two -inf entries (gradient 0 there); row 2 is all -inf: tx gives zeros, so the "
               "gradient of that row is 0 (PyTorch's softmax would give NaN)")
    x, g, b = randn(2, 3, 8, scale=2.0, shift=0.5), randn(8, scale=0.3, shift=1.0), randn(8, scale=0.3)
    case("layernorm", "sum(layernorm(x, gamma, beta) * R)", {"x": x, "gamma": g, "beta": b}, ["x", "gamma", "beta"],
         lambda x, gamma, beta: F.layer_norm(x, (8,), gamma, beta, eps=1e-5))
    x, W, b = randn(2, 3, 4), randn(4, 5, scale=0.5), randn(5)
    case("linear", "sum(linear(x, W, b) * R)", {"x": x, "W": W, "b": b}, ["x", "W", "b"], lambda x, W, b: x @ W + b)
    case("linear_no_bias", "sum(linear(x, W) * R)", {"x": x.copy(), "W": W.copy()}, ["x", "W"], lambda x, W: x @ W)
    a, b = randn(3, 4), randn(4)
    case("cosine", "sum(cosine(a, b) * R)", {"a": a, "b": b}, ["a", "b"], lambda a, b: cosine(a, b),
         notes="b broadcasts against the rows of a")
    a, b = randn(3, 4), randn(2, 4)
    a2, b2 = randn(4, 3), randn(4, 3)
    case("cosine_axis0", "sum(cosine(a, b, axis=0) * R)", {"a": a2, "b": b2}, ["a", "b"], lambda a, b: cosine(a, b, 0))
    case("similarity_two", "sum(similarity(a, b) * R)", {"a": a, "b": b}, ["a", "b"], lambda a, b: similarity(a, b))
    case("similarity_self", "sum(similarity(a) * R)", {"a": a.copy()}, ["a"], lambda a: similarity(a),
         notes="a on both sides: the gradient sums both paths")


def attention_cases():
    reseed("attention_cases")
    Q, K, V = randn(5, 8), randn(7, 8), randn(7, 6)
    case("attention", "sum(attention(Q, K, V) * R)", {"Q": Q, "K": K, "V": V}, ["Q", "K", "V"],
         lambda Q, K, V: attention(Q, K, V))
    case("attention_causal_rectangular", "sum(attention(Q, K, V, causal=true) * R)",
         {"Q": Q.copy(), "K": K.copy(), "V": V.copy()}, ["Q", "K", "V"],
         lambda Q, K, V: attention(Q, K, V, causal=True),
         notes="n_q = 5, n_k = 7: query i sees keys j <= i; keys 5 and 6 get zero gradients")
    X = randn(2, 6, 8)
    case("attention_self_causal_batched", "sum(attention(X, X, X, causal=true) * R)", {"X": X}, ["X"],
         lambda X: attention(X, X, X, causal=True), notes="X is Q, K and V at once")
    Qb, Kb, Vb = randn(2, 5, 8), randn(2, 7, 8), randn(2, 7, 6)
    M = randn(5, 7)
    case("attention_additive_mask", "sum(attention(Q, K, V, mask=M) * R)", {"Q": Qb, "K": Kb, "V": Vb, "M": M},
         ["Q", "K", "V", "M"], lambda Q, K, V, M: attention(Q, K, V, M),
         notes="a finite additive mask [5, 7] broadcast over the batch: its gradient is the summed score gradient")
    case("attention_padding_mask", "sum(attention(Q, K, V, mask=padding_mask([7, 4], 7)) * R)",
         {"Q": Qb.copy(), "K": Kb.copy(), "V": Vb.copy()}, ["Q", "K", "V"],
         lambda Q, K, V: attention(Q, K, V, torch.from_numpy(padding([7, 4], 7)).double()),
         notes="a padded batch: keys 4..6 of the second item get zero gradients")
    Mf = np.zeros((2, 5, 7), dtype=np.float32)
    Mf[0, 2, :] = -np.inf             # a fully masked query row
    Mf[1, :, 5:] = -np.inf
    Mf[1, 4, :] = -np.inf
    case("attention_fully_masked_row", "sum(attention(Q, K, V, mask=M) * R)",
         {"Q": Qb.copy(), "K": Kb.copy(), "V": Vb.copy(), "M": Mf}, ["Q", "K", "V"],
         lambda Q, K, V, M: attention(Q, K, V, M),
         notes="rows 2 of item 0 and 4 of item 1 are fully masked: their output is 0 and their queries' "
               "gradients are exactly 0, as are those of the masked keys and values")
    Ql, Kl, Vl = randn(4, 4), randn(1100, 4), randn(1100, 3)
    case("attention_1100_keys", "sum(attention(Q, K, V) * R)", {"Q": Ql, "K": Kl, "V": Vl}, ["Q", "K", "V"],
         lambda Q, K, V: attention(Q, K, V), notes="more than 1024 keys: tx's forward takes them 512 at a time")
    Qp, Kp, Vp = randn(2, 3, 4), randn(2, 1100, 4), randn(2, 1100, 2)
    case("attention_1100_keys_padded", "sum(attention(Q, K, V, mask=padding_mask([1100, 1030], 1100)) * R)",
         {"Q": Qp, "K": Kp, "V": Vp}, ["Q", "K", "V"],
         lambda Q, K, V: attention(Q, K, V, torch.from_numpy(padding([1100, 1030], 1100)).double()),
         notes="more than 1024 keys in a padded batch: the last 70 keys of item 1 get zero gradients")
    Qc = randn(1100, 4)
    case("attention_1100_causal", "sum(attention(Q, Q, V, causal=true) * R)", {"Q": Qc, "V": Vl.copy()}, ["Q", "V"],
         lambda Q, V: attention(Q, Q, V, causal=True), notes="1100 queries and keys, causal, Q is also K")
    d, h = 8, 2
    x, mem, p = randn(2, 5, d), randn(2, 6, d), init_mha(d)
    case("mha_self", "sum(mha(x, x, p, heads=2) * R)", {"x": x, "p": p}, ["x", "p"],
         lambda x, p: mha(x, x, p, 2))
    case("mha_causal", "sum(mha(x, x, p, heads=2, causal=true) * R)", {"x": x.copy(), "p": init_mha(d)}, ["x", "p"],
         lambda x, p: mha(x, x, p, 2, causal=True))
    case("mha_cross_padded", "sum(mha(x, memory, p, heads=2, mask=padding_mask([6, 3], 6)) * R)",
         {"x": x.copy(), "memory": mem, "p": init_mha(d)}, ["x", "memory", "p"],
         lambda x, memory, p: mha(x, memory, p, 2, torch.from_numpy(padding([6, 3], 6)).double()))
    x = randn(2, 5, d)
    case("ffn_relu", "sum(ffn(x, p) * R)", {"x": x, "p": init_ffn(d, 16)}, ["x", "p"], lambda x, p: ffn(x, p))
    case("ffn_gelu", "sum(ffn(x, p, activation=\"gelu\") * R)", {"x": x.copy(), "p": init_ffn(d, 16)}, ["x", "p"],
         lambda x, p: ffn(x, p, "gelu"))


def block_cases():
    reseed("block_cases")
    d, h, dff = 8, 2, 16
    x = randn(2, 5, d)
    case("encoder_block", "sum(encoder_block(x, p, heads=2) * R)", {"x": x, "p": init_encoder_block(d, dff)},
         ["x", "p"], lambda x, p: encoder_block(x, p, 2), kind="block", notes="post-LN, relu")
    case("encoder_block_padded", "sum(encoder_block(x, p, heads=2, mask=padding_mask([5, 3], 5)) * R)",
         {"x": x.copy(), "p": init_encoder_block(d, dff)}, ["x", "p"],
         lambda x, p: encoder_block(x, p, 2, torch.from_numpy(padding([5, 3], 5)).double()), kind="block",
         notes="a padded batch: item 1's last two positions are padding (as keys); their rows still count")
    case("encoder_block_prenorm_gelu", "sum(encoder_block(x, p, heads=2, activation=\"gelu\", norm_first=true) * R)",
         {"x": x.copy(), "p": init_encoder_block(d, dff)}, ["x", "p"],
         lambda x, p: encoder_block(x, p, 2, activation="gelu", norm_first=True), kind="block")
    y, mem = randn(2, 4, d), randn(2, 6, d)
    case("decoder_block", "sum(decoder_block(y, memory, p, heads=2, memory_mask=padding_mask([6, 4], 6)) * R)",
         {"y": y, "memory": mem, "p": init_decoder_block(d, dff)}, ["y", "memory", "p"],
         lambda y, memory, p: decoder_block(y, memory, p, 2,
                                            memory_mask=torch.from_numpy(padding([6, 4], 6)).double()),
         kind="block", notes="causal self-attention, cross-attention to a padded memory, post-LN")
    x = randn(2, 5, d)
    stack = {"layers": [init_encoder_block(d, dff), init_encoder_block(d, dff)], "norm": init_ln(d)}
    case("encoder_stack", "sum(encoder(x, p, heads=2, mask=padding_mask([5, 4], 5)) * R)", {"x": x, "p": stack},
         ["x", "p"], lambda x, p: encoder(x, p, 2, torch.from_numpy(padding([5, 4], 5)).double()), kind="block",
         notes="2 layers and a final norm; p.layers is a list, so leaves are p.layers.0.attn.Wq ...")
    src, tgt = randn(2, 5, d), randn(2, 4, d)
    model = {"encoder": {"layers": [init_encoder_block(d, dff)], "norm": init_ln(d)},
             "decoder": {"layers": [init_decoder_block(d, dff)], "norm": init_ln(d)}}

    def transformer(src, tgt, p):
        src_mask = torch.from_numpy(padding([5, 3], 5)).double()
        memory = encoder(src, p["encoder"], 2, src_mask)
        return decoder(tgt, memory, p["decoder"], 2, memory_mask=src_mask)
    case("transformer", "sum(transformer(src, tgt, p, heads=2, src_mask=padding_mask([5, 3], 5), "
         "memory_mask=padding_mask([5, 3], 5)) * R)", {"src": src, "tgt": tgt, "p": model}, ["src", "tgt", "p"],
         transformer, kind="block",
         notes="1 encoder and 1 decoder layer with final norms; a padded source batch; causal decoder")


def program_cases():
    reseed("program_cases")
    b, d, steps = 2, 4, 5
    h0, W, U, xs = randn(b, d), randn(d, d, scale=0.5), randn(3, d, scale=0.5), randn(steps, b, 3)

    def rnn(h, W, U, xs):
        for t in range(steps):
            h = torch.tanh(h @ W + xs[t] @ U)
        return h
    case("loop_rnn", "for t in range(5) {\n    h = tanh(h @ W + xs[t] @ U)\n}\nsum(h * R)",
         {"h": h0, "W": W, "U": U, "xs": xs}, ["h", "W", "U", "xs"], rnn,
         notes="a recurrence over 5 steps: W and U are used at every step, h is reassigned")
    E, W, i = randn(7, 4), randn(4, 4, scale=0.5), np.array([[1, 3, 1, 6], [0, 1, 2, 3]], dtype=np.int64)
    case("tied_embedding", "sum((tanh(E[i] @ W) @ E') * R)", {"E": E, "W": W, "i": i}, ["E", "W"],
         lambda E, W, i: torch.tanh(E[i] @ W) @ E.T,
         notes="the same E for the lookup (with repeated ids) and the output projection: its gradient sums both")
    h0, W = randn(2, 3), randn(3, 3, scale=0.6)

    def collect(h, W):
        outs = []
        for t in range(4):
            h = torch.tanh(h @ W + t)
            outs.append(h)
        return torch.stack(outs)
    case("loop_collect", "outs = []\nfor t in range(4) {\n    h = tanh(h @ W + t)\n    push(outs, h)\n}\n"
         "sum(stack(outs) * R)", {"h": h0, "W": W}, ["h", "W"], collect,
         notes="every step's state pushed to a list and stacked, as embed collects its batches")
    x, w = randn(4, 3), randn(3)

    def inplace(x, w):
        y = x.clone()
        y[0, :] = w
        y[1:] = y[1:] * 2
        y[2, 1] += x[3, 0]
        return y
    case("inplace_writes", "y = copy(x)\ny[0, :] = w\ny[1:] = y[1:] * 2\ny[2, 1] += x[3, 0]\nsum(y * R)",
         {"x": x, "w": w}, ["x", "w"], inplace,
         notes="writes into a copy: row 0 replaced by w (x[0] gets 0), rows 1.. doubled in place, one += of "
               "another entry of x")
    x = randn(2, 4)
    p = {"W1": randn(4, 5, scale=0.5), "b1": randn(5, scale=0.1), "layers": [{"W": randn(5, 5, scale=0.5)},
                                                                         {"W": randn(5, 3, scale=0.5)}]}

    def record_params(x, p):
        h = torch.tanh(x @ p["W1"] + p["b1"])
        for layer in p["layers"]:
            h = torch.relu(h @ layer["W"])
        return h
    case("record_fields", "h = tanh(x @ p.W1 + p.b1)\nfor layer in p.layers {\n    h = relu(h @ layer.W)\n}\nsum(h * R)",
         {"x": x, "p": p}, ["x", "p"], record_params,
         notes="the loss reads a record's fields and walks its list of layers itself; the gradient has p's shape")


# --- all-MiniLM-L6-v2: the gradient of embed with respect to the whole model record ------

MODEL = "all-MiniLM-L6-v2"
MINILM_SENTENCES = [0, 3, 31]          # of ../minilm/reference.json: 11, 13 and 8 tokens
PROJECTION_COLUMNS = 4


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    kinds = {"F32": np.float32, "F64": np.float64, "I64": np.int64}
    out = {}
    for name, h in header.items():
        if name != "__metadata__":
            b, e = h["data_offsets"]
            out[name] = np.frombuffer(data[b:e], dtype=kinds[h["dtype"]]).reshape(h["shape"])
    return out


def minilm_case(model_dir):
    """embed(m, sentences) of three sentences (one padded batch), differentiated with
    respect to the whole record load_model gives: m.embeddings is the checkpoint's
    embeddings record, m.encoder.layers[i] lib/bert.tx's bert_block (row-vector weights,
    the transposed views of the checkpoint's). The full gradient is 90 MB, so the
    fixture keeps: vectors (and the [2, 384] token types) whole; of the word and
    position embeddings the rows the sentences use (the others must be 0); of each
    matrix G [d_in, d_out] the product G @ U with a fixed random U [d_out, 4] and the
    norm of G. Token ids are the model tokenizer's, from ../minilm/reference.json."""
    name = "minilm_embed"
    folder = os.path.join(HERE, name)
    os.makedirs(folder, exist_ok=True)
    w = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    if all(k.startswith("bert.") for k in w):
        w = {k[5:]: v for k, v in w.items()}
    config = json.load(open(os.path.join(model_dir, "config.json")))
    heads, eps, d, layers = (config["num_attention_heads"], config["layer_norm_eps"], config["hidden_size"],
                             config["num_hidden_layers"])
    assert config["hidden_act"] == "gelu"
    reference = json.load(open(os.path.join(HERE, "..", "minilm", "reference.json"), encoding="utf-8"))
    sentences = [reference["sentences"][i] for i in MINILM_SENTENCES]
    id_lists = [reference["ids"][i] for i in MINILM_SENTENCES]
    b, n = len(id_lists), max(len(x) for x in id_lists)
    ids = np.zeros((b, n), dtype=np.int64)                      # [PAD] is id 0
    am = np.zeros((b, n), dtype=np.float32)
    for i, x in enumerate(id_lists):
        ids[i, :len(x)] = x
        am[i, :len(x)] = 1

    leaves = {}
    for k in ["word_embeddings.weight", "position_embeddings.weight", "token_type_embeddings.weight",
              "LayerNorm.weight", "LayerNorm.bias"]:
        leaves["embeddings." + k] = w["embeddings." + k]
    for i in range(layers):
        l, p = f"encoder.layer.{i}.", f"encoder.layers.{i}."
        for tx_name, hf in [("attn.Wq", "attention.self.query"), ("attn.Wk", "attention.self.key"),
                            ("attn.Wv", "attention.self.value"), ("attn.Wo", "attention.output.dense"),
                            ("ffn.W1", "intermediate.dense"), ("ffn.W2", "output.dense")]:
            leaves[p + tx_name] = w[l + hf + ".weight"].T
            leaves[p + tx_name.replace("W", "b")] = w[l + hf + ".bias"]
        for tx_name, hf in [("ln1", "attention.output.LayerNorm"), ("ln2", "output.LayerNorm")]:
            leaves[p + tx_name + ".gamma"] = w[l + hf + ".weight"]
            leaves[p + tx_name + ".beta"] = w[l + hf + ".bias"]
    reseed(name)
    R = randn(b, d)

    def run(dtype):
        t = {k: torch.from_numpy(np.array(v)).to(dtype).requires_grad_(True) for k, v in leaves.items()}
        e = "embeddings."
        x = t[e + "word_embeddings.weight"][torch.from_numpy(ids)] + t[e + "position_embeddings.weight"][:n] \
            + t[e + "token_type_embeddings.weight"][0]
        x = F.layer_norm(x, (d,), t[e + "LayerNorm.weight"], t[e + "LayerNorm.bias"], eps=eps)
        mask = torch.from_numpy(additive(am == 0)[:, None, :]).to(dtype)
        for i in range(layers):
            p = f"encoder.layers.{i}."
            block = {part: {k.split(".")[-1]: v for k, v in t.items() if k.startswith(p + part + ".")}
                     for part in ["attn", "ln1", "ffn", "ln2"]}
            x = encoder_block(x, block, heads, mask, activation="gelu", eps=eps)
        a = torch.from_numpy(am).to(dtype)
        pooled = (x * a[:, :, None]).sum(1) / a.sum(1)[:, None]
        out = pooled / norm(pooled, -1, True)
        loss = (out * torch.from_numpy(R).to(dtype)).sum()
        grads = torch.autograd.grad(loss, list(t.values()))
        return out, loss, dict(zip(t, grads))

    out, loss, grads = run(torch.float64)
    _, _, grads32 = run(torch.float32)
    grad_norm = math.sqrt(sum(g.norm().item() ** 2 for g in grads.values()))
    U = {str(k): randn(k, PROJECTION_COLUMNS) for k in sorted({v.shape[-1] for v in leaves.values() if v.ndim == 2})}
    word_rows = np.unique(ids)
    rows = {"embeddings.word_embeddings.weight": word_rows, "embeddings.position_embeddings.weight": np.arange(n)}
    kinds, stored, norms, float32_error, zero_leaves = {}, {}, {}, {}, []

    def reduce(leaf, g):
        if leaf in rows:
            return g[torch.from_numpy(rows[leaf])]
        if g.dim() == 2 and leaf != "embeddings.token_type_embeddings.weight":
            return g @ torch.from_numpy(U[str(g.shape[-1])]).double()
        return g

    for leaf, g in grads.items():
        kinds[leaf] = "rows" if leaf in rows else (
            "projected" if g.dim() == 2 and leaf != "embeddings.token_type_embeddings.weight" else "full")
        norms[leaf] = g.norm().item()
        if norms[leaf] <= 1e-10 * grad_norm:
            zero_leaves.append(leaf)
            g = torch.zeros_like(g)
        kept = reduce(leaf, g)
        stored[leaf] = kept.detach().numpy().astype(np.float32)
        mine = reduce(leaf, grads32[leaf].double())
        scale = grad_norm if leaf in zero_leaves else kept.norm().item()
        float32_error[leaf] = float(f"{(mine - kept).norm().item() / scale:.3g}")
        if kinds[leaf] == "rows":
            rest = grads[leaf].clone()
            rest[torch.from_numpy(rows[leaf])] = 0
            assert rest.norm().item() <= 1e-12 * grad_norm, leaf
    # Tensors of the record that embed does not use: their gradients are zeros.
    kinds["embeddings.position_ids"] = "full"
    zero_leaves.append("embeddings.position_ids")
    stored["embeddings.position_ids"] = np.zeros(w["embeddings.position_ids"].shape, dtype=np.float32)
    norms["embeddings.position_ids"] = 0.0

    files = {"R": f"{name}/R.npy"}
    np.save(os.path.join(HERE, files["R"]), R)
    projections = {}
    for k, u in U.items():
        projections[k] = f"{name}/U{k}.npy"
        np.save(os.path.join(HERE, projections[k]), u)
    row_files = {}
    for leaf, r in rows.items():
        row_files["m." + leaf] = f"{name}/rows.{leaf.split('.')[1]}.npy"
        np.save(os.path.join(HERE, row_files["m." + leaf]), r.astype(np.int64))
    grad_file = f"{name}/grad.m.safetensors"
    write_safetensors(os.path.join(HERE, grad_file), stored)
    return {
        "name": name, "model": MODEL, "kind": "block", "tolerance": 1e-4, "sentences": sentences,
        "params": ["m", "R"], "wrt": ["m"], "body": "sum(embed(m, sentences) * R)", "inputs": files,
        "projections": projections, "rows": row_files, "grads": {"m": grad_file},
        "leaves": {"m." + k: v for k, v in kinds.items()}, "norms": {"m." + k: v for k, v in norms.items()},
        "zero_leaves": ["m." + k for k in zero_leaves], "grad_norm": grad_norm, "value": loss.item(),
        "value_scale": (out * torch.from_numpy(R).double()).abs().sum().item(),
        "float32_error": {"m." + k: v for k, v in float32_error.items()},
        "notes": "m = load_model(\"all-MiniLM-L6-v2\"); sentences is the list above; only the record's tensors "
                 "are checked (its numbers and strings are not). A 'full' leaf is compared whole; a 'rows' leaf "
                 "on its rows (the file in rows, by leaf), the other rows must be 0; a 'projected' leaf G as G @ U "
                 "(U of projections, by G's last size) and by its norm (norms). grad.m.safetensors holds each "
                 "leaf so reduced, under its path without the leading m.",
    }


def build():
    binary_cases()
    matmul_cases()
    indexing_cases()
    shape_cases()
    elementwise_cases()
    reduction_cases()
    ordering_cases()
    einsum_cases()
    einsum_more_cases()
    neural_cases()
    attention_cases()
    block_cases()
    program_cases()


# --- checking the forward values with a tx binary -------------------------------------

def tx_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def tx_prelude(entry):
    """Loads a case's inputs and defines fn loss(params) { body }, as the Swift test does."""
    q = lambda path: tx_string(os.path.join(HERE, path))
    lines = [f"{name} = load({q(entry['inputs'][name])})" for name in sorted(entry["inputs"])]
    if "model" in entry:
        lines += [f"m = load_model({tx_string(entry['model'])})",
                  "sentences = [" + ", ".join(tx_string(s) for s in entry["sentences"]) + "]"]
    body = "\n".join("    " + line for line in entry["body"].split("\n"))
    return "\n".join(lines + [f"fn loss({', '.join(entry['params'])}) {{", body, "}"])


def tx_gradient_script(entry):
    """value_and_grad of the loss, then one line per leaf: 'leaf NAME error ||tx - ref|| ||ref||'
    (for the model case: the leaf reduced by its kind, and NAME[rest] / NAME[norm] lines)."""
    q = lambda path: tx_string(os.path.join(HERE, path))
    params = ", ".join(entry["params"])
    wrt = ", ".join(tx_string(w) for w in entry["wrt"])
    lines = [tx_prelude(entry),
             "reference = {" + ", ".join(f"{tx_string(w)}: load({q(entry['grads'][w])})" for w in entry["wrt"]) + "}",
             f"result = value_and_grad(loss, wrt=[{wrt}])({params})",
             'print(format("value {:.12e}", item(result.value)))',
             "fn report(leaf, a, ref) {",
             '    if type(a) != "tensor" { print(format("leaf {} kind {}", leaf, type(a))) }',
             '    else if shape(a) != shape(ref) { print(format("leaf {} shape {} instead of {}", leaf, shape(a), shape(ref))) }',
             '    else { print(format("leaf {} error {:.9e} {:.9e}", leaf, item(norm(a - ref)), item(norm(ref)))) }',
             "}"]
    if "model" not in entry:
        for leaf in entry["leaves"]:
            lines.append(f"report({tx_string(leaf)}, result.grad[{tx_string(leaf)}], reference[{tx_string(leaf)}])")
        return "\n".join(lines) + "\n"
    lines += ["U = {" + ", ".join(f"{tx_string(k)}: load({q(v)})" for k, v in sorted(entry["projections"].items())) + "}",
              "rows = {" + ", ".join(f"{tx_string(k)}: load({q(v)})" for k, v in sorted(entry["rows"].items())) + "}"]
    for leaf, kind in sorted(entry["leaves"].items()):
        name = tx_string(leaf)
        if kind == "rows":
            lines += [f"g = result.grad[{name}]; r = rows[{name}]", f"report({name}, g[r], reference[{name}])",
                      "h = copy(g); h[r] = 0",
                      f'print(format("leaf {{}}[rest] error {{:.9e}} {{:.9e}}", {name}, item(norm(h)), item(norm(reference[{name}]))))']
        elif kind == "projected":
            n = entry["norms"][leaf]
            lines += [f"g = result.grad[{name}]", f"report({name}, g @ U[str(size(g, -1))], reference[{name}])",
                      f'print(format("leaf {{}}[norm] error {{:.9e}} {{:.9e}}", {name}, abs(item(norm(g)) - {n!r}), {n!r}))']
        else:
            lines.append(f"report({name}, result.grad[{name}], reference[{name}])")
    return "\n".join(lines) + "\n"


def run_tx(tx, script, tmp, name):
    path = os.path.join(tmp, name + ".tx")
    with open(path, "w") as f:
        f.write(script)
    return subprocess.run([tx, path], capture_output=True, text=True)


def check(tx, entries, models):
    """Every case's loss with this tx against the reference value; and, when this tx has
    value_and_grad, every gradient leaf against the reference, as GradientFixtureTests does."""
    probe = subprocess.run([tx, "-e", "type(value_and_grad)"], capture_output=True, text=True)
    gradients = probe.returncode == 0
    if not gradients:
        print("this tx has no value_and_grad: checking the losses only")
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for e in entries + models:
            run = run_tx(tx, tx_prelude(e) + f"\nprint(format(\"value {{:.12e}}\", item(loss({', '.join(e['params'])}))))\n",
                         tmp, e["name"])
            problems = []
            if run.returncode != 0:
                problems.append(run.stderr.strip())
            else:
                value = float(run.stdout.split()[-1])
                err = abs(value - e["value"]) / e["value_scale"]
                if not err <= e["tolerance"]:
                    problems.append(f"loss {value:.9g}, reference {e['value']:.9g}: |diff| / sum|out R| = {err:.2e}")
            worst = 0.0
            if gradients and not problems:
                run = run_tx(tx, tx_gradient_script(e), tmp, e["name"] + "_grad")
                found = {}
                for line in run.stdout.split("\n"):
                    words = line.split(" ")
                    if words[0] == "leaf" and len(words) >= 3:
                        found[words[1]] = words[2:]
                if run.returncode != 0:
                    problems.append(run.stderr.strip())
                names = list(e["leaves"])
                if "model" in e:
                    names += [f"{k}[rest]" for k, v in e["leaves"].items() if v == "rows"]
                    names += [f"{k}[norm]" for k, v in e["leaves"].items() if v == "projected"]
                for leaf in names:
                    words = found.get(leaf)
                    if not words or words[0] != "error":
                        problems.append(f"{leaf}: {' '.join(words or ['not printed'])}")
                        continue
                    difference, size = float(words[1]), float(words[2])
                    bound = e["grad_norm"] if leaf in e["zero_leaves"] else size
                    rel = difference / bound if bound > 0 else difference
                    worst = max(worst, rel)
                    if not rel <= e["tolerance"]:
                        problems.append(f"{leaf}: {rel:.2e}")
            failed += bool(problems)
            if problems:
                print(f"FAIL {e['name']}: " + "; ".join(problems[:4]))
            else:
                print(f"ok   {e['name']}" + (f": worst leaf {worst:.2e} (tolerance {e['tolerance']:g})" if gradients else ""))
    print(f"{len(entries) + len(models) - failed} passed, {failed} failed")
    return failed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", metavar="TX", help="also run every case's forward loss with this tx binary")
    parser.add_argument("--model", metavar="DIR", help="the all-MiniLM-L6-v2 folder (default: the tx model cache)")
    parser.add_argument("--no-write", action="store_true", help="with --check: check the fixtures as they are")
    args = parser.parse_args()
    if args.no_write:
        if not args.check:
            parser.error("--no-write goes with --check TX")
        manifest = json.load(open(os.path.join(HERE, "manifest.json")))
        sys.exit(1 if check(args.check, manifest["cases"], manifest.get("models", [])) else 0)
    model_dir = args.model or os.path.join(os.environ.get("TX_MODELS", os.path.expanduser("~/.cache/tx")), MODEL)
    have_model = os.path.exists(os.path.join(model_dir, "model.safetensors"))
    build()
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    manifest_path = os.path.join(HERE, "manifest.json")
    old_models = json.load(open(manifest_path)).get("models", []) if os.path.exists(manifest_path) else []
    for entry in os.listdir(HERE):
        if entry == "minilm_embed" and not have_model:
            continue                     # keep the model case as it was
        if os.path.isdir(os.path.join(HERE, entry)) and not entry.startswith("."):
            shutil.rmtree(os.path.join(HERE, entry))
    entries = [write_case(c) for c in CASES]
    if have_model:
        models = [minilm_case(model_dir)]
    else:
        print(f"{MODEL} is not in {model_dir} (scripts/get-model fetches it): its case is kept as it was")
        models = old_models
    with open(manifest_path, "w") as f:
        json.dump({"format": 1, "generator": "make_fixtures.py", "torch": torch.__version__.split("+")[0],
                   "numpy": np.__version__, "cases": entries, "models": models}, f, indent=1)
    total = sum(os.path.getsize(os.path.join(root, name)) for root, _, files in os.walk(HERE) for name in files)
    print(f"{len(entries)} cases and {len(models)} model case, {total / 1024:.0f} KiB")
    worst = sorted(((max(e["float32_error"].values()), e["name"]) for e in entries + models), reverse=True)[:8]
    print("largest float32 PyTorch errors:", ", ".join(f"{n} {v:.2g}" for v, n in worst))
    if args.check:
        sys.exit(1 if check(args.check, entries, models) else 0)


if __name__ == "__main__":
    main()
