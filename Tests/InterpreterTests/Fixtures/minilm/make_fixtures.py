"""Writes the reference data the all-MiniLM-L6-v2 tests compare tx with.

Run on a developer's machine with sentence-transformers, transformers and torch, after
scripts/get-model (or with the model folder as the first argument):

    python3 Tests/InterpreterTests/Fixtures/minilm/make_fixtures.py [MODEL_DIR]

reference.json holds the sentences, the model tokenizer's ids for each (with [CLS] and
[SEP], truncated to the model's 256 tokens) and the sentences whose attention is saved;
embeddings.npy the sentence-transformers embeddings [n, 384]; attention_K.npy the
per-head attention weights of the first layer, [12, n, n], for attention sentence K.
"""
import json
import os
import sys

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from transformers import AutoModel

here = os.path.dirname(os.path.abspath(__file__))
default = os.path.join(os.environ.get("TX_MODELS", os.path.expanduser("~/.cache/tx")), "all-MiniLM-L6-v2")
model_dir = sys.argv[1] if len(sys.argv) > 1 else default

long_text = " ".join(f"word{i} and more text, with punctuation!" for i in range(80))
sentences = [
    "The chef who ran the kitchen was tired.",
    "I went to Stanford CS224N and learned.",
    "Self-attention lets every word look at every other word.",
    "Hello, world!!! What's up?",
    "Don't stop (believing) -- \"quoted\" text; semi:colons & ampersands.",
    "Café au lait, naïve façade, résumé, Ångström, Straße.",
    "ÉCOLE NORMALE SUPÉRIEURE",
    "Numbers: 3.14159, 1,000,000 and 42nd street; 2026-11-29 at 16:45.",
    "e = mc^2 and x_i + y_j <= 10%",
    "unaffable antidisestablishmentarianism hyperparameterisation",
    "Ünïcödé çhàráctèrs wïth àccénts",
    "日本語のテキストも分割されます。",
    "我爱自然语言处理",
    "한국어 문장도 있습니다",
    "Mixed English and 中文 text",
    "Emoji: 😀🎉👍 and ❤️ hearts",
    "Unknown symbols: ☃ ⚙ ∮ ≈ ∑ ⊕",
    "Tabs\tand\nnewlines\r\nand   many    spaces",
    "Control\u0000chars\u0007are\u001fremoved",
    "Zero\u200bwidth\u200dspace and soft\u00adhyphen",
    "Combining: e\u0301 a\u0308 n\u0303",
    "Ελληνικά και русский текст",
    "עברית ועربية",
    "[CLS] and [SEP] in the text [MASK]",
    "email@example.com https://www.example.org/path?q=1",
    "A" * 120,
    "supercalifragilisticexpialidocious" * 4,
    "",
    "   ",
    "a",
    "Transformers are the encoder, stacked.",
    "Heads specialise in practice.",
    long_text,
]

model = SentenceTransformer(model_dir, device="cpu")
tokenizer = model.tokenizer
max_length = model.max_seq_length
ids = [tokenizer(s, truncation=True, max_length=max_length)["input_ids"] for s in sentences]
embeddings = model.encode(sentences, batch_size=32, convert_to_numpy=True)

attention_sentences = ["The chef who ran the kitchen was tired.", "Café: 3.14 日本 😀!"]
bert = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()
for k, sentence in enumerate(attention_sentences):
    batch = tokenizer(sentence, return_tensors="pt")
    with torch.no_grad():
        out = bert(**batch, output_attentions=True)
    np.save(os.path.join(here, f"attention_{k}.npy"), out.attentions[0][0].numpy().astype(np.float32))

np.save(os.path.join(here, "embeddings.npy"), embeddings.astype(np.float32))
with open(os.path.join(here, "reference.json"), "w") as f:
    json.dump({"max_length": max_length, "sentences": sentences, "ids": ids,
               "attention_sentences": attention_sentences}, f, ensure_ascii=False, indent=1)
print(f"{len(sentences)} sentences, embeddings {embeddings.shape}, max_length {max_length}")
