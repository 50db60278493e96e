"""Scaling of tx's readers on pathological input: for each kind of input, the release tx
reads it at size n and at 10 n (interleaved, best of 3 each, tx's start-up subtracted)
and the ratio of the times is printed. A linear reader gives about 10; a quadratic one
about 100. Run by `scripts/bench --parsers`.
"""
import os
import subprocess
import sys
import tempfile
import time

TX = sys.argv[1] if len(sys.argv) > 1 else ".build/release/tx"
folder = tempfile.mkdtemp(prefix="tx-parsers-")


def write(name, text):
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write(text)
    return path


# Each kind: a name, and for a size n the arguments to tx and the standard input.
def script(name, make):
    def run(n):
        return [write(f"{name}-{n}.tx", make(n))], None
    return run


def piped(name, make):
    def run(n):
        return [], make(n)
    return run


def json_file(name, make):
    def run(n):
        path = write(f"{name}-{n}.json", make(n))
        return ["-e", f'r = read_json("{path}"); 0'], None
    return run


KINDS = [
    ("many statements of 1000 operators", script("ops", lambda n: ("x = " + " + ".join(["1"] * 1000) + "\n") * (n // 1000)), 100_000),
    ("one list literal of n numbers", script("list", lambda n: "x = [" + ", ".join(["1"] * n) + "]; 0\n"), 100_000),
    ("a list literal over n lines", script("lines", lambda n: "x = [\n" + "1,\n" * n + "]; 0\n"), 100_000),
    ("200-deep brackets, n/200 times", script("deep", lambda n: ("x = " + "[" * 200 + "1" + "]" * 200 + "\n") * (n // 200)), 20_000),
    ("a string literal of 10 n characters", script("string", lambda n: 's = "' + "a" * (10 * n) + '"; 0\n'), 100_000),
    ("n comment lines", script("comments", lambda n: "# a comment\n" * n + "0\n"), 100_000),
    ("a piped list literal over n lines", piped("piped", lambda n: "x = [\n" + "1,\n" * n + "]\n0\n"), 10_000),
    ("JSON: n repeated keys", json_file("keys", lambda n: "{" + ", ".join(['"a": 1'] * n) + "}"), 100_000),
    ("JSON: n 60-deep arrays", json_file("nested", lambda n: "[" + ", ".join(["[" * 59 + "1" + "]" * 59] * (n // 60)) + "]"), 100_000),
    ("JSON: a string of 10 n characters", json_file("jstring", lambda n: '"' + "a\\n" * (5 * n) + '"'), 100_000),
    ("basic_tokenize: n special tokens", script("special", lambda n: 't = "' + "x [SEP] " * n + '"; w = basic_tokenize(t, keep=["[SEP]", "[CLS]"]); 0\n'), 20_000),
]


def timed(arguments, stdin):
    start = time.perf_counter()
    subprocess.run([TX] + arguments, input=stdin, text=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


startup = min(timed(["-e", "0"], None) for _ in range(5))
print(f"# tx start-up {startup * 1000:.0f} ms (subtracted); best of 3, n and 10 n interleaved")
print(f"{'input':42} {'n':>8} {'t(n) ms':>9} {'t(10n) ms':>10} {'ratio':>6}")
for name, make, n in KINDS:
    small, large = make(n), make(10 * n)
    a, b = [], []
    for _ in range(3):
        a.append(timed(*small))
        b.append(timed(*large))
    ta, tb = max(min(a) - startup, 1e-3), max(min(b) - startup, 1e-3)
    print(f"{name:42} {n:>8} {ta * 1000:>9.0f} {tb * 1000:>10.0f} {tb / ta:>6.1f}")
