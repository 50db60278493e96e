"""Writes the token ids tx's tokenizer must give: those of all-MiniLM-L6-v2's own
tokenizer.json as Hugging Face's Rust `tokenizers` library reads it (what
sentence-transformers uses).

Run on a developer's machine with `pip install tokenizers`, after scripts/get-model (or
with the model folder as the first argument):

    python3 Tests/InterpreterTests/Fixtures/tokenizer/make_fixtures.py [MODEL_DIR]

hard.json      texts chosen to be hard (every class where Unicode tables of different
               ages disagree, marks to reorder, special tokens, long words, truncation)
               and their ids with [CLS] and [SEP], cut to the model's 256 tokens.
natural.json   natural-language texts in many languages and their ids, the same way.
sweep.txt      every code point of planes 0 to 3 (surrogates aside) between two letters,
               "a" + chr(c) + "b": the ids of each (without [CLS] and [SEP]), checked to
               be those of the texts of 1,024 of them separated by spaces that the test
               tokenizes.
"""
import json
import os
import random
import sys
import unicodedata

from tokenizers import Tokenizer

here = os.path.dirname(os.path.abspath(__file__))
default = os.path.join(os.environ.get("TX_MODELS", os.path.expanduser("~/.cache/tx")), "all-MiniLM-L6-v2")
model_dir = sys.argv[1] if len(sys.argv) > 1 else default
tokenizer = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
tokenizer.no_padding()
tokenizer.enable_truncation(256)
bert = tokenizer.normalizer


def ids(text):
    return tokenizer.encode(text).ids


def category(cp):
    return unicodedata.category(chr(cp))


def kept(cp):
    """What the Rust normaliser makes of chr(cp) between two letters."""
    return bert.normalize_str("a" + chr(cp) + "b")


def spread(cps, n):
    """n code points spread evenly over cps (all of them when there are fewer)."""
    cps = sorted(cps)
    if len(cps) <= n:
        return cps
    return [cps[i * len(cps) // n] for i in range(n)]


planes = [cp for cp in range(0x40000) if not 0xD800 <= cp <= 0xDFFF]
texts = []

# Each class where Python's unicodedata (Unicode 14, like the tables tx had before) and
# the Rust tables disagree, and each class the tokenizer treats specially.
classes = {
    "unassigned": [cp for cp in planes if category(cp) == "Cn"],
    "marks the Rust tables do not know": [cp for cp in planes if category(cp) == "Mn" and kept(cp) != "ab"],
    "format characters the Rust tables do not know": [cp for cp in planes if category(cp) == "Cf" and kept(cp) != "ab"],
    "punctuation the Rust tables do not know": [cp for cp in planes if category(cp).startswith("P")
                                                and len(tokenizer.pre_tokenizer.pre_tokenize_str(kept(cp))) != 3],
    "CJK Extension E before U+2B920": list(range(0x2B820, 0x2B920)),
    "unassigned inside CJK ranges": [cp for cp in list(range(0xF900, 0xFB00)) + list(range(0x2A6D0, 0x2A700))
                                     + list(range(0x2B730, 0x2B830)) + list(range(0x2CEA0, 0x2CEB0)) if category(cp) == "Cn"],
    "nonspacing marks": [cp for cp in planes if category(cp) == "Mn"],
    "spacing and enclosing marks": [cp for cp in planes if category(cp) in ("Mc", "Me")],
    "format characters": [cp for cp in planes if category(cp) == "Cf"],
    "controls": [cp for cp in planes if category(cp) == "Cc"],
    "private use": [cp for cp in planes if category(cp) == "Co"],
    "white space": [cp for cp in planes if chr(cp).isspace() or category(cp) in ("Zs", "Zl", "Zp")],
    "punctuation": [cp for cp in planes if category(cp).startswith("P")],
    "symbols": [cp for cp in planes if category(cp).startswith("S")],
    "CJK": [cp for cp in planes if kept(cp) == "a " + chr(cp) + " b"],
    "decomposing": [cp for cp in planes if unicodedata.normalize("NFD", chr(cp)) != chr(cp)],
    "changing case": [cp for cp in planes if chr(cp).lower() != chr(cp)],
}
for name, cps in classes.items():
    for cp in spread(cps, 24):
        texts.append("a" + chr(cp) + "b")
    texts.append(" ".join(chr(cp) for cp in spread(cps, 60)))

texts += [
    "a\u0378b", "a\u1df6b", "a\u0890b", "a\u2e52b", "a\U0002B820b", "a\U0002B920b", "a\ufadab",
    # marks out of canonical order, and several on one letter
    "a\u0301\u0316b", "a\u0316\u0301b", "e\u0301\u0327\u0302x", "o\u031b\u0301\u0323", "\u1e69\u0307",
    "x\u0334\u0301\u0316\u0305y", "q\u0f71\u0f72\u0f74", "\u0915\u093c\u094d\u0937", "A\U0001D165\U0001D16D\u0301z",
    # Hangul, compatibility and case
    "한국어 문장도 있습니다", "\u1100\u1161\u11a8 \u3131\u314f", "ﬁﬂ ﬀ ㎏ ① ｶﾀｶﾅ ＡＢＣ",
    "İstanbul ıi ǅ ǈ ǋ ẞ ß ΣΑΣ σς", "ᲐᲑᲒ ა Ꭰ ꭰ", "Ωmega Ω K Å",
    # spaces, controls and the cleaned characters
    "a\u000bb\u000cc\u001cd\u0085e\u00a0f\u1680g\u180eh\u2028i\u2029j\u3000k\ufeffl\ufffdm\u0000n",
    "tab\tnew\nline\r\nend", "\u200b\u200c\u200d\u2060\u2061\u2062", "soft\u00adhyphen", "\ue000\U000f0000\U00100000",
    # emoji and their joiners, selectors, skin tones, flags and tags
    "👩‍👩‍👧‍👦 👍🏽 ❤️ 🇫🇷 🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "☃︎ ☃️ #️⃣ 1️⃣",
    # special tokens in the text, and what only looks like them
    "[CLS] a [SEP] b [MASK][PAD][UNK]", "x[SEP]y[sep] [CLS[SEP]]", "[unk] [ UNK ] [MASK]ed",
    # long words about WordPiece's limit of 100 characters
    "a" * 100, "a" * 101, "é" * 100, "é" * 101, "e\u0301" * 100, "e\u0301" * 101, "ab" * 50 + " " + "ab" * 51,
    "日" * 300, "x" * 99 + " " + "y" * 8192,
    "unaffable " * 300, "word, " * 200,
    "antidisestablishmentarianism supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis",
]

# Seeded mixtures of the hard characters with letters, spaces and punctuation.
rng = random.Random(20)
pool = [cp for name, cps in classes.items() for cp in spread(cps, 40)] + [ord(c) for c in "aeiouAEIOU .,!?-'"]
for _ in range(200):
    texts.append("".join(chr(rng.choice(pool)) for _ in range(rng.randint(3, 24))))

hard = {"texts": texts, "ids": [ids(t) for t in texts]}

natural = [
    "The chef who ran the kitchen was tired.", "I went to Stanford CS224N and learned.",
    "Self-attention lets every word look at every other word.", "Hello, world!!! What's up?",
    "Café au lait, naïve façade, résumé, Ångström, Straße.", "ÉCOLE NORMALE SUPÉRIEURE",
    "Numbers: 3.14159, 1,000,000 and 42nd street; 2026-11-29 at 16:45.", "e = mc^2 and x_i + y_j <= 10%",
    "Le renard brun rapide saute par-dessus le chien paresseux.", "Où est la bibliothèque ? Je l'ai cherchée partout.",
    "Der schnelle braune Fuchs springt über den faulen Hund.", "Größere Übungen erfordern Geduld und Ausdauer.",
    "El rápido zorro marrón salta sobre el perro perezoso.", "¿Dónde está la estación? ¡Qué día tan bonito!",
    "A raposa marrom rápida pula sobre o cão preguiçoso.", "Não sei se ele virá amanhã à reunião.",
    "La volpe marrone veloce salta sopra il cane pigro.", "Perché non vieni con noi stasera?",
    "De snelle bruine vos springt over de luie hond.", "Den snabba bruna räven hoppar över den lata hunden.",
    "Szybki brązowy lis przeskakuje nad leniwym psem.", "Příliš žluťoučký kůň úpěl ďábelské ódy.",
    "Árvíztűrő tükörfúrógép és öt szép szűz.", "Hızlı kahverengi tilki tembel köpeğin üstünden atlar.",
    "Быстрая коричневая лиса прыгает через ленивую собаку.", "Съешь же ещё этих мягких французских булок.",
    "Η γρήγορη καφέ αλεπού πηδά πάνω από τον τεμπέλη σκύλο.", "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.",
    "השועל החום המהיר קופץ מעל הכלב העצלן.", "الثعلب البني السريع يقفز فوق الكلب الكسول.",
    "लोमड़ी आलसी कुत्ते के ऊपर कूदती है।", "দ্রুত বাদামী শিয়াল অলস কুকুরের উপর লাফ দেয়।",
    "สุนัขจิ้งจอกสีน้ำตาลกระโดดข้ามสุนัขขี้เกียจ", "Con cáo nâu nhanh nhẹn nhảy qua con chó lười.",
    "日本語のテキストも分割されます。", "東京は日本の首都です。", "我爱自然语言处理", "今天天气很好，我们去公园散步吧。",
    "한국어 문장도 있습니다", "서울은 대한민국의 수도입니다.", "Mixed English and 中文 text",
    "Emoji: 😀🎉👍 and ❤️ hearts", "email@example.com https://www.example.org/path?q=1",
    "Don't stop (believing) -- \"quoted\" text; semi:colons & ampersands.",
    "Tabs\tand\nnewlines\r\nand   many    spaces", "Combining: e\u0301 a\u0308 n\u0303",
]
shakespeare = os.path.join(os.path.dirname(model_dir), "shakespeare.txt")
if os.path.exists(shakespeare):
    with open(shakespeare, encoding="utf-8") as f:
        speeches = [s.strip() for s in f.read().split("\n\n") if len(s.strip()) > 40]
    natural += [speeches[i * len(speeches) // (384 - len(natural))] for i in range(384 - len(natural))]
natural = {"texts": natural, "ids": [ids(t) for t in natural]}

# The sweep: each code point's ids alone (ids of "a" + chr(c) + "b"), checked to be the
# ids of the texts of 1,024 such items the test tokenizes, and written run-length coded:
# "ids*k" for k code points in a row with the same ids, ids joined by commas.
tokenizer.no_truncation()
items = [tokenizer.encode("a" + chr(cp) + "b", add_special_tokens=False).ids for cp in planes]
for start in range(0, len(planes), 1024):
    text = " ".join("a" + chr(cp) + "b" for cp in planes[start:start + 1024])
    assert tokenizer.encode(text, add_special_tokens=False).ids == [i for item in items[start:start + 1024] for i in item]
runs = []
for item in items:
    if runs and runs[-1][0] == item:
        runs[-1][1] += 1
    else:
        runs.append([item, 1])
with open(os.path.join(here, "sweep.txt"), "w") as f:
    f.write("# ids of \"a\" + chr(c) + \"b\" for c from 0 to 3FFFF without D800-DFFF (make_fixtures.py)\n")
    for item, k in runs:
        f.write(",".join(map(str, item)) + ("*%d" % k if k > 1 else "") + "\n")

for name, data in [("hard", hard), ("natural", natural)]:
    with open(os.path.join(here, name + ".json"), "w") as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
print("%d hard texts, %d natural texts, %d code points swept (%d runs)"
      % (len(hard["texts"]), len(natural["texts"]), len(planes), len(runs)), file=sys.stderr)
