"""Writes the reference data for what a practitioner calls on all-MiniLM-L6-v2 in tx:
batched tokenize (padding, pairs, truncation, offsets), decode, hidden_states,
batched attention_maps and embed's options, from Hugging Face transformers and
sentence-transformers.

Run on a developer's machine with sentence-transformers, transformers, torch and regex,
after scripts/get-model (or with the model folder as the first argument):

    python3 Tests/InterpreterTests/Fixtures/minilm_batch/make_fixtures.py [MODEL_DIR]

reference.json holds, for each case, the texts and the model tokenizer's output for
them (tokenizer(texts, padding=True, truncation=True, max_length=..., return_offsets_mapping=True)):
input_ids, attention_mask, token_type_ids, offset_mapping (Unicode code points, as
Python counts) and offsets (the same in characters, as tx's strings count them:
extended grapheme clusters, found with the regex module's \\X), and how many tokens
truncation cut from each row; decode's text of each row with and without the special
tokens. states.npy holds hidden_states' batch: every layer's hidden states
[layers + 1, b, n, 384] (output_hidden_states; embeddings' output first) of the
hidden-state texts, cut to their first 48 features, and projection.npy [7, b, n, 16]
their projections on the 16 columns of project.npy [384, 16] (so every feature is
checked); attention.npy the batched attention weights [2, b, heads, n, n] of the
first and the last layer (output_attentions). embed_raw.npy is sentence-transformers' mean pooling without its
Normalize module for the embed texts, batch size 4.
"""
import json
import os
import sys

import numpy as np
import regex
import torch
from sentence_transformers import SentenceTransformer
from transformers import AutoModel, AutoTokenizer

here = os.path.dirname(os.path.abspath(__file__))
default = os.path.join(os.environ.get("TX_MODELS", os.path.expanduser("~/.cache/tx")), "all-MiniLM-L6-v2")
model_dir = sys.argv[1] if len(sys.argv) > 1 else default

tokenizer = AutoTokenizer.from_pretrained(model_dir)


def characters(text):
    """The code point where each character (grapheme cluster) starts, and the end."""
    starts = [m.start() for m in regex.finditer(r"\X", text)]
    return starts + [len(text)]


def in_characters(text, start, end):
    """A code-point range of text as a range of its characters (outward)."""
    if start == end == 0:
        return [0, 0]
    bounds = characters(text)
    first = max(k for k, b in enumerate(bounds[:-1]) if b <= start)
    last = max(k for k, b in enumerate(bounds[:-1]) if b <= end - 1)
    return [first, last + 1]


def encode(texts, pairs=None, max_length=256):
    """The tokenizer's batch, padded to its longest row, as tx's tokenize gives it."""
    args = (texts, pairs) if pairs is not None else (texts,)
    out = tokenizer(*args, padding=True, truncation=True, max_length=max_length, return_offsets_mapping=True)
    full = tokenizer(*args, truncation=False)
    offsets = []
    for row, mapping in enumerate(out["offset_mapping"]):
        types = out["token_type_ids"][row]
        converted = []
        for k, (s, e) in enumerate(mapping):
            source = texts[row] if types[k] == 0 or pairs is None else pairs[row]
            converted.append(in_characters(source, s, e))
        offsets.append(converted)
    truncated = [len(f) - sum(m) for f, m in zip(full["input_ids"], out["attention_mask"])]
    return {
        "texts": texts, "pairs": pairs, "max_length": max_length,
        "ids": out["input_ids"], "mask": out["attention_mask"], "type_ids": out["token_type_ids"],
        "code_point_offsets": [[list(o) for o in row] for row in out["offset_mapping"]],
        "offsets": offsets, "truncated": truncated,
        "decoded": [tokenizer.decode(ids) for ids in out["input_ids"]],
        "decoded_skipping": [tokenizer.decode(ids, skip_special_tokens=True) for ids in out["input_ids"]],
    }


texts = [
    "The chef who ran the kitchen was tired.",
    "Unaffable hyperparameterisation, antidisestablishmentarianism!",
    "Café au lait, naïve façade, résumé, Ångström, Straße.",
    "ÉCOLE NORMALE SUPÉRIEURE",
    "Combining: e\u0301 a\u0308b n\u0303o",
    "Emoji: 😀🎉👍🏽 and ❤️ hearts, flags 🇫🇷 x",
    "日本語のテキストも分割されます。我爱自然语言处理",
    "한국어 문장도 있습니다",
    "Tabs\tand\nnewlines\r\nand   many    spaces",
    "Zero\u200bwidth\u200dspace and soft\u00adhyphen",
    "Control\u0000chars\u0007are\u001fremoved",
    "İstanbul ﬁne ﬀ Ⅻ ½",
    "[CLS] and [SEP] in the text [MASK] x[SEP]y",
    "I do not know, don't you? It's 3.14 -- e=mc^2 <b>",
    "email@example.com https://www.example.org/path?q=1",
    "",
    "   ",
    "a",
    "supercalifragilisticexpialidocious" * 4,
]
long_text = " ".join(f"word{i} and more text, with punctuation!" for i in range(80))

pairs_a = [
    "How old is the chef?",
    "A man is playing a guitar.",
    "Café crème",
    "short",
    "x " * 30,
    "",
    "only the first, and it is long enough to be cut",
]
pairs_b = [
    "The chef who ran the kitchen was tired and fifty years old.",
    "Someone plays an instrument.",
    "naïve façade 日本",
    "a much longer second text that goes on and on for a while",
    "y " * 30,
    "only the second",
    "",
]

cases = {
    "batch": encode(texts),
    "long": encode(["a short one", long_text, "two words"]),
    "cut": encode(texts[:6] + ["x"], max_length=12),
    "pairs": encode(pairs_a, pairs_b),
    "pairs_cut": encode(pairs_a, pairs_b, max_length=16),
    "pairs_cut_odd": encode(pairs_a, pairs_b, max_length=11),
}

# The model itself on a padded batch (one pair among them, so token type 1 is used).
state_texts = ["The chef was tired.", "A cat sat on the mat, happily.", "Hi"]
bert = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()
batch = tokenizer(state_texts, padding=True, return_tensors="pt")
pair_batch = tokenizer(["How old is the chef?", "Hi"], ["The chef is fifty.", "Hello there"], padding=True, return_tensors="pt")
with torch.no_grad():
    out = bert(**batch, output_hidden_states=True, output_attentions=True)
    pair_out = bert(**pair_batch, output_hidden_states=True)
states = torch.stack(out.hidden_states).numpy().astype(np.float32)  # [7, b, n, 384]
pair_states = torch.stack(pair_out.hidden_states).numpy().astype(np.float32)
attention = torch.stack([out.attentions[0], out.attentions[-1]]).numpy().astype(np.float32)  # [2, b, 12, n, n]: layers 0 and 5
rng = np.random.default_rng(0)
project = (rng.standard_normal((384, 16)) / np.sqrt(384)).astype(np.float32)
np.save(os.path.join(here, "project.npy"), project)
np.save(os.path.join(here, "states.npy"), states[..., :48])
np.save(os.path.join(here, "projection.npy"), (states.astype(np.float64) @ project).astype(np.float32))
np.save(os.path.join(here, "pair_projection.npy"), (pair_states.astype(np.float64) @ project).astype(np.float32))
np.save(os.path.join(here, "attention.npy"), attention)

# embed: mixed lengths, batch size 4, without the Normalize module (normalize=false) and with it.
embed_texts = [long_text[:300], "a", "The chef who ran the kitchen was tired.", "Hi there", long_text[:120],
               "Stocks fell sharply on Monday.", "x", "A kitten sat on the mat.", long_text[:40], "Heads specialise."]
model = SentenceTransformer(model_dir, device="cpu")
raw = SentenceTransformer(modules=[model[0], model[1]], device="cpu")
np.save(os.path.join(here, "embed_raw.npy"), raw.encode(embed_texts, batch_size=4, convert_to_numpy=True).astype(np.float32))
np.save(os.path.join(here, "embed.npy"), model.encode(embed_texts, batch_size=4, convert_to_numpy=True).astype(np.float32))

with open(os.path.join(here, "reference.json"), "w") as f:
    json.dump({"cases": cases, "state_texts": state_texts,
               "state_ids": batch["input_ids"].tolist(), "state_mask": batch["attention_mask"].tolist(),
               "pair_state_texts": [["How old is the chef?", "The chef is fifty."], ["Hi", "Hello there"]],
               "pair_state_type_ids": pair_batch["token_type_ids"].tolist(),
               "embed_texts": embed_texts}, f, ensure_ascii=False, separators=(",", ":"))
print({k: (len(v["ids"]), len(v["ids"][0])) for k, v in cases.items()}, states.shape, attention.shape)
