#!/usr/bin/env python3
"""Writes the PyTorch reference fixtures for tx's Transformer builtins.

Run on a developer machine with PyTorch and safetensors installed (not in CI):

    python3 Tests/TransformerTests/Fixtures/make_fixtures.py

Each case is one .safetensors file next to this script. Parameters are stored in
tx's conventions (row-vector weights W = weight.T of shape [d_in, d_out]; additive
float masks), under the dotted names tx's load() nests into records, e.g.
"p.attn.Wq" becomes f.p.attn.Wq. Inputs and expected outputs are plain names.
"""
import math
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)
torch.use_deterministic_algorithms(True)


def save(name, tensors):
    tensors = {k: v.detach().to(torch.float32).contiguous() for k, v in tensors.items()}
    save_file(tensors, os.path.join(HERE, name + ".safetensors"))


def additive(bool_blocked):
    """A boolean 'blocked' mask as tx's additive float mask."""
    return torch.zeros(bool_blocked.shape).masked_fill(bool_blocked, float("-inf"))


def padding(lengths, n):
    """tx's padding_mask(lengths, n): [b, 1, n], -inf at key positions >= length."""
    blocked = torch.arange(n)[None, :] >= torch.tensor(lengths)[:, None]
    return additive(blocked)[:, None, :], blocked


def mha_params(prefix, m):
    d = m.embed_dim
    w, b = m.in_proj_weight, m.in_proj_bias
    return {
        prefix + "Wq": w[:d].T, prefix + "bq": b[:d],
        prefix + "Wk": w[d:2 * d].T, prefix + "bk": b[d:2 * d],
        prefix + "Wv": w[2 * d:].T, prefix + "bv": b[2 * d:],
        prefix + "Wo": m.out_proj.weight.T, prefix + "bo": m.out_proj.bias,
    }


def randomize(module):
    """Non-trivial biases and norms, so that every parameter is tested."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.dim() == 1:
                p.copy_(torch.randn_like(p) * 0.1 + (1.0 if "norm" in name and "weight" in name else 0.0))


def ln_params(prefix, norm):
    return {prefix + "gamma": norm.weight, prefix + "beta": norm.bias}


def ffn_params(prefix, layer):
    return {prefix + "W1": layer.linear1.weight.T, prefix + "b1": layer.linear1.bias,
            prefix + "W2": layer.linear2.weight.T, prefix + "b2": layer.linear2.bias}


def encoder_params(prefix, layer):
    return {**mha_params(prefix + "attn.", layer.self_attn), **ln_params(prefix + "ln1.", layer.norm1),
            **ffn_params(prefix + "ffn.", layer), **ln_params(prefix + "ln2.", layer.norm2)}


def decoder_params(prefix, layer):
    return {**mha_params(prefix + "self_attn.", layer.self_attn), **ln_params(prefix + "ln1.", layer.norm1),
            **mha_params(prefix + "cross_attn.", layer.multihead_attn), **ln_params(prefix + "ln2.", layer.norm2),
            **ffn_params(prefix + "ffn.", layer), **ln_params(prefix + "ln3.", layer.norm3)}


def softmax_case():
    x = torch.randn(4, 6)
    x[0, 1] = float("-inf")
    x[1, :3] = float("-inf")
    x[2, :] = float("-inf")                    # all -inf: tx gives zeros, PyTorch NaN
    expected = torch.nan_to_num(torch.softmax(x, dim=-1), nan=0.0)
    x3 = torch.randn(2, 3, 5)
    save("softmax", {"x": x, "out": expected, "x3": x3, "out3_axis1": torch.softmax(x3, dim=1)})


def layernorm_case():
    x = torch.randn(2, 3, 8) * 3 + 1
    gamma, beta = torch.randn(8), torch.randn(8)
    save("layernorm", {"x": x, "gamma": gamma, "beta": beta,
                       "out": F.layer_norm(x, (8,), gamma, beta, eps=1e-5)})


def sinusoidal_case():
    n, d = 12, 16
    pos = torch.arange(n, dtype=torch.float64)[:, None]
    i = torch.arange(0, d, 2, dtype=torch.float64)[None, :]
    angle = pos / torch.pow(10000.0, i / d)
    table = torch.zeros(n, d, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angle)
    table[:, 1::2] = torch.cos(angle)
    save("sinusoidal", {"out": table})


def attention_case():
    for b in (1, 2):
        q, k, v = torch.randn(b, 5, 8), torch.randn(b, 7, 8), torch.randn(b, 7, 6)
        lengths = [7, 4][:b]
        mask, _ = padding(lengths, 7)
        causal = torch.ones(5, 7).tril().logical_not()
        t = {"Q": q, "K": k, "V": v, "mask": mask,
             "out": F.scaled_dot_product_attention(q, k, v),
             "out_padded": F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
             "out_causal": F.scaled_dot_product_attention(q, k, v, attn_mask=additive(causal)),
             "weights": torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(8), dim=-1),
             "weights_padded": torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(8) + mask, dim=-1)}
        # Square causal self-attention, as the lecture's decoder uses it.
        x = torch.randn(b, 6, 8)
        t.update({"X": x, "out_self_causal": F.scaled_dot_product_attention(x, x, x, is_causal=True)})
        save(f"attention_b{b}", t)


def mha_case():
    d, h = 16, 4
    for b in (1, 2):
        m = torch.nn.MultiheadAttention(d, h, batch_first=True)
        randomize(m)
        m.eval()
        x = torch.randn(b, 5, d)
        mem = torch.randn(b, 7, d)
        lengths = [7, 5][:b]
        mask, blocked = padding(lengths, 7)
        self_out, self_w = m(x, x, x, need_weights=True, average_attn_weights=False)
        cross_out, cross_w = m(x, mem, mem, key_padding_mask=blocked, need_weights=True, average_attn_weights=False)
        causal = torch.ones(5, 5).tril().logical_not()
        causal_out, _ = m(x, x, x, attn_mask=causal, need_weights=False)
        save(f"mha_b{b}", {"x": x, "memory": mem, "mask": mask, "self_out": self_out, "self_weights": self_w,
                           "cross_out": cross_out, "cross_weights": cross_w, "causal_out": causal_out,
                           **mha_params("p.", m)})


def encoder_case():
    d, h, dff = 16, 4, 32
    for name, kwargs in (("relu", {}), ("gelu", {"activation": "gelu"}), ("prenorm", {"norm_first": True})):
        for b in (1, 2):
            layer = torch.nn.TransformerEncoderLayer(d, h, dff, dropout=0.0, batch_first=True, **kwargs)
            randomize(layer)
            layer.eval()
            x = torch.randn(b, 6, d)
            save(f"encoder_{name}_b{b}", {"x": x, "out": layer(x), **encoder_params("p.", layer)})


def decoder_case():
    d, h, dff = 16, 4, 32
    for name, kwargs in (("relu", {}), ("prenorm", {"norm_first": True})):
        for b in (1, 2):
            layer = torch.nn.TransformerDecoderLayer(d, h, dff, dropout=0.0, batch_first=True, **kwargs)
            randomize(layer)
            layer.eval()
            y, mem = torch.randn(b, 5, d), torch.randn(b, 8, d)
            causal = torch.nn.Transformer.generate_square_subsequent_mask(5)
            save(f"decoder_{name}_b{b}", {"y": y, "memory": mem,
                                          "out": layer(y, mem, tgt_mask=causal, tgt_is_causal=True),
                                          **decoder_params("p.", layer)})


def transformer_case():
    d, h, dff = 16, 4, 32
    for b in (1, 2):
        model = torch.nn.Transformer(d, h, 2, 2, dff, dropout=0.0, batch_first=True)
        randomize(model)
        model.eval()
        src, tgt = torch.randn(b, 7, d), torch.randn(b, 5, d)
        causal = torch.nn.Transformer.generate_square_subsequent_mask(5)
        out = model(src, tgt, tgt_mask=causal, tgt_is_causal=True)
        params = {}
        for i, layer in enumerate(model.encoder.layers):
            params.update(encoder_params(f"p.encoder.layers.{i}.", layer))
        params.update(ln_params("p.encoder.norm.", model.encoder.norm))
        for i, layer in enumerate(model.decoder.layers):
            params.update(decoder_params(f"p.decoder.layers.{i}.", layer))
        params.update(ln_params("p.decoder.norm.", model.decoder.norm))
        save(f"transformer_b{b}", {"src": src, "tgt": tgt, "out": out, **params})


if __name__ == "__main__":
    with torch.no_grad():
        softmax_case()
        layernorm_case()
        sinusoidal_case()
        attention_case()
        mha_case()
        encoder_case()
        decoder_case()
        transformer_case()
