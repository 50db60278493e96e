# NumPy side of the kernel benchmark (Benchmarks/kernels.tx is the tx side): best of
# several runs, milliseconds. gelu needs SciPy's erf (NumPy has none); without SciPy
# that row is left out.
import sys, time
import numpy as np
try:
    from scipy.special import erf
except ImportError:
    erf = None

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7

def bench(name, f):
    f()
    best = 1e9
    for _ in range(runs):
        t = time.perf_counter(); f(); d = time.perf_counter() - t
        best = min(best, d)
    print(f"{name:<34} {best * 1000:9.3f}")

r = np.random.default_rng(0)
f32 = lambda *s: r.standard_normal(s, dtype=np.float32)
a6, b6 = f32(1000000), f32(1000000)
a7, b7 = f32(10000000), f32(10000000)
u7 = r.random(10000000, dtype=np.float32)
M, N = f32(1000, 1000), f32(1000, 1000)
L, K, T = f32(4096, 1024), f32(4096, 1024), f32(1024, 4096)
row, col = f32(1, 1024), f32(4096, 1)
g, be = f32(1024), f32(1024)
E = f32(30000, 384)
ids = np.floor(r.random(100000, dtype=np.float32) * 30000)
S2 = np.float32(np.sqrt(0.5))

def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)

def logsumexp(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))).squeeze(axis)

def layernorm(x, g, b, eps=np.float32(1e-5)):
    mu = x.mean(axis=-1, keepdims=True)
    v = x.var(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(v + eps) * g + b

def sigmoid(x):
    return 1 / (1 + np.exp(-x))

def mask_assign():
    c = a7.copy(); c[c < 0] = 0; return c

bench("add 1e6", lambda: a6 + b6)
bench("add 1e7", lambda: a7 + b7)
bench("mul 1e7", lambda: a7 * b7)
bench("div 1e7", lambda: a7 / b7)
bench("add 1000x1000", lambda: M + N)
bench("add 4096x1024", lambda: L + K)
bench("add row [1,n] 4096x1024", lambda: L + row)
bench("add col [m,1] 4096x1024", lambda: L + col)
bench("add T' + T' 1000x1000", lambda: M.T + N.T)
bench("add L + T' 4096x1024", lambda: L + T.T)
bench("scalar mul 1e7", lambda: a7 * np.float32(2))
bench("scalar add 1e7", lambda: a7 + np.float32(1))
bench("scalar pow 2 1e7", lambda: a7 ** 2)
bench("exp 1e7", lambda: np.exp(a7))
bench("tanh 1e7", lambda: np.tanh(a7))
if erf is not None:
    bench("gelu 1e7", lambda: 0.5 * a7 * (1 + erf(a7 * S2)))
bench("sigmoid 1e7", lambda: sigmoid(a7))
bench("relu 1e7", lambda: np.maximum(a7, 0))
bench("sqrt 1e7", lambda: np.sqrt(u7))
bench("log 1e7", lambda: np.log(u7))
bench("neg 1e7", lambda: -a7)
bench("sum all 1e7", lambda: a7.sum())
bench("mean all 1e7", lambda: a7.mean())
bench("max all 1e7", lambda: a7.max())
bench("var all 1e7", lambda: a7.var())
bench("sum axis=-1 4096x1024", lambda: L.sum(axis=-1))
bench("sum axis=0 4096x1024", lambda: L.sum(axis=0))
bench("sum axis=0 1000x1000", lambda: M.sum(axis=0))
bench("mean axis=0 4096x1024", lambda: L.mean(axis=0))
bench("max axis=-1 4096x1024", lambda: L.max(axis=-1))
bench("max axis=0 4096x1024", lambda: L.max(axis=0))
bench("var axis=-1 4096x1024", lambda: L.var(axis=-1))
bench("var axis=0 4096x1024", lambda: L.var(axis=0))
bench("sum axis=-1 keepdims 4096x1024", lambda: L.sum(axis=-1, keepdims=True))
bench("argmax axis=-1 4096x1024", lambda: L.argmax(axis=-1))
bench("argmax axis=0 4096x1024", lambda: L.argmax(axis=0))
bench("logsumexp axis=-1 4096x1024", lambda: logsumexp(L, -1))
bench("logsumexp axis=0 4096x1024", lambda: logsumexp(L, 0))
bench("softmax axis=-1 4096x1024", lambda: softmax(L, -1))
bench("softmax axis=0 4096x1024", lambda: softmax(L, 0))
bench("layernorm 4096x1024", lambda: layernorm(L, g, be))
bench("copy(x') 1000x1000", lambda: M.T.copy())
bench("copy(x') 4096x1024", lambda: L.T.copy())
bench("x' + 0 4096x1024", lambda: L.T + np.float32(0))
bench("copy 4096x1024", lambda: L.copy())
bench("concat axis=0 2x4096x1024", lambda: np.concatenate([L, K], axis=0))
bench("concat axis=-1 2x4096x1024", lambda: np.concatenate([L, K], axis=-1))
bench("stack axis=0 2x4096x1024", lambda: np.stack([L, K], axis=0))
bench("stack axis=-1 2x4096x1024", lambda: np.stack([L, K], axis=-1))
bench("copy(x[::2, ::2]) 4096x1024", lambda: L[::2, ::2].copy())
bench("x[::2] + 0 1e7", lambda: a7[::2] + np.float32(0))
bench("gather E[ids] 1e5 of 30000x384", lambda: E[ids.astype(np.intp)])
bench("x > 0 1e7", lambda: (a7 > 0).astype(np.float32))
bench("x > y 1e7", lambda: (a7 > b7).astype(np.float32))
bench("x[x > 0] 1e7", lambda: a7[a7 > 0])
bench("copy 1e7", lambda: a7.copy())
bench("copy + x[x < 0] = 0 1e7", mask_assign)
bench("where(x>0, x, y) 1e7", lambda: np.where(a7 > 0, a7, b7))
bench("where(x>0, x, 0) 1e7", lambda: np.where(a7 > 0, a7, np.float32(0)))
bench("maximum(x, 0) 1e7", lambda: np.maximum(a7, np.float32(0)))
