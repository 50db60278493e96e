import Tensor
import Testing
import Transformer

// The fast paths of attention (keys a mask blocks for a whole block skipped, blocks
// above the diagonal skipped, the mask folded into the exponentiation) and the threaded
// kernels, each against the plain formula computed with separate operations.

/// softmax(Q K' / sqrt(d) + mask) V with the causal cut, one operation at a time.
func plainAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor?, mask: Tensor?, causal: Bool) throws -> Tensor {
    let nq = q.shape[q.rank - 2], nk = k.shape[k.rank - 2], d = q.shape[q.rank - 1]
    var scores = try Tensor.binary(.multiply, try Tensor.matmul(q, k.swappingLastAxes()), scalar: 1 / Float(d).squareRoot())
    if let mask { scores = try Tensor.binary(.add, scores, mask) }
    if causal {
        let cut = (0..<nq).flatMap { i in (0..<nk).map { j -> Float in j <= i ? 0 : -.infinity } }
        scores = try Tensor.binary(.add, scores, try Tensor(shape: [nq, nk], values: cut))
    }
    let weights = try scores.softmax(axis: -1)
    return try v.map { try Tensor.matmul(weights, $0) } ?? weights
}

func paddingMask(_ lengths: [Int], _ n: Int) throws -> Tensor {
    try Masks.padding(lengths: lengths, n: n).reshaped([lengths.count, 1, 1, n])
}

@Test(arguments: [false, true])
func paddedBatchesSkipBlockedKeysAndEqualTheFormula(causal: Bool) throws {
    // [batch, heads, n, d] with lengths from none to all: one block of keys (300) and
    // keys taken 512 at a time with an online softmax (1100).
    for (n, lengths) in [(300, [0, 1, 17, 150, 299, 300]), (1100, [5, 600, 900, 1100])] {
        let b = lengths.count
        let q = try randn([b, 2, n, 16], seed: 1), k = try randn([b, 2, n, 16], seed: 2)
        let v = try randn([b, 2, n, 16], seed: 3), mask = try paddingMask(lengths, n)
        let fast = try Attention.attention(queries: q, keys: k, values: v, mask: mask, causal: causal)
        #expect(try maxDifference(fast, try plainAttention(q, k, v, mask: mask, causal: causal)) < 1e-5)
        if n == 300 {
            let weights = try Attention.weights(queries: q, keys: k, mask: mask, causal: causal)
            #expect(try maxDifference(weights, try plainAttention(q, k, nil, mask: mask, causal: causal)) < 1e-6)
        }
    }
}

@Test func masksVaryingByRowOpenTheKeysOfTheirBlocksOnly() throws {
    // A causal mask given as a tensor, and a mask whose first rows block the first keys
    // (the window then starts after 0), over several blocks of rows and of keys.
    for n in [600, 1100] {
        let q = try randn([n, 8], seed: 4), k = try randn([n, 8], seed: 5), v = try randn([n, 8], seed: 6)
        let causalMask = try Masks.causal(n)
        let fast = try Attention.attention(queries: q, keys: k, values: v, mask: causalMask)
        let plain = try plainAttention(q, k, v, mask: nil, causal: true)
        #expect(try maxDifference(fast, plain) < 1e-5)
        let prefix = (0..<n).flatMap { i in (0..<n).map { j -> Float in i < n / 2 && j < n / 3 ? -.infinity : 0 } }
        let prefixMask = try Tensor(shape: [n, n], values: prefix)
        for causal in [false, true] {
            let masked = try Attention.attention(queries: q, keys: k, values: v, mask: prefixMask, causal: causal)
            #expect(try maxDifference(masked, try plainAttention(q, k, v, mask: prefixMask, causal: causal)) < 1e-5)
        }
    }
}

@Test func causalAttentionWithMoreKeysThanQueriesEqualsTheFormula() throws {
    // Query i sees keys j <= i; the blocks are taken longest first.
    let q = try randn([3, 700, 16], seed: 7), k = try randn([3, 900, 16], seed: 8), v = try randn([3, 900, 16], seed: 9)
    let fast = try Attention.attention(queries: q, keys: k, values: v, causal: true)
    #expect(try maxDifference(fast, try plainAttention(q, k, v, mask: nil, causal: true)) < 1e-5)
}

@Test func threadedKernelsEqualTheirRowByRowResults() throws {
    // Large enough to be split between threads; each row or piece alone is not.
    let rows = 600, n = 512
    let x = try randn([rows, n], seed: 10)
    let gamma = try randn([n], seed: 11), beta = try randn([n], seed: 12)
    let softmax = try x.softmax(axis: -1), normalised = try x.layerNormalized(gamma: gamma, beta: beta)
    for row in [0, 1, 299, 599] {
        let one = try x.subscripted([.single(row)])
        #expect(try softmax.subscripted([.single(row)]).values == one.softmax(axis: -1).values)
        #expect(try normalised.subscripted([.single(row)]).values == one.layerNormalized(gamma: gamma, beta: beta).values)
    }
    let big = try randn([1 << 20], seed: 13)
    for op in [UnaryOp.gelu, .exp, .tanh] {
        let whole = try big.map(op).values
        for start in [0, 300_000, (1 << 20) - 1000] {
            let piece = try big.subscripted([.slice(start: start, stop: start + 1000, step: nil)]).map(op).values
            #expect(Array(whole[start..<start + 1000]) == piece)
        }
    }
}

@Test func layerNormIsTheFormula() throws {
    let x = try randn([300, 384], seed: 14)
    let gamma = try randn([384], seed: 15), beta = try randn([384], seed: 16)
    let mean = try x.reduce(.mean, axes: [-1], keepdims: true)
    let centred = try Tensor.binary(.subtract, x, mean)
    let variance = try Tensor.binary(.multiply, centred, centred).reduce(.mean, axes: [-1], keepdims: true)
    let scale = try Tensor.binary(.add, variance, scalar: 1e-5).map(.sqrt)
    let plain = try Tensor.binary(.add, try Tensor.binary(.multiply, try Tensor.binary(.divide, centred, scale), gamma), beta)
    #expect(try maxDifference(x.layerNormalized(gamma: gamma, beta: beta), plain) < 1e-5)
}

@Test func affineAddsTheBiasAndAppliesTheActivationAsSeparateOperations() throws {
    // Large enough for the bias and activation passes to be split between threads; a
    // NaN input makes its row NaN, which relu keeps. (BLAS may add the bias between
    // slices of the inner size: the sums then differ in their last bits.)
    let x = try randn([600, 256], seed: 17), W = try randn([256, 512], seed: 18), b = try randn([512], seed: 19)
    try x.assign([.single(7), .single(3)], scalar: .nan)
    let linear = try Tensor.binary(.add, try Tensor.matmul(x, W), b)
    func expectSame(_ a: Tensor, _ b: Tensor) {
        let (u, v) = (a.values, b.values)
        #expect(u.map(\.isNaN) == v.map(\.isNaN))
        #expect(u.indices.allSatisfy { u[$0].isNaN || abs(u[$0] - v[$0]) <= 1e-4 * max(1, abs(v[$0])) })
    }
    #expect(try affine(x, W, b).values.filter(\.isNaN).count == 512)
    expectSame(try affine(x, W, b), linear)
    expectSame(try affine(x, W, b, activation: .relu), try linear.map(.relu))
    expectSame(try affine(x, W, b, activation: .gelu), try linear.map(.gelu))
    expectSame(try affine(x, W, nil, activation: .relu), try Tensor.matmul(x, W).map(.relu))
}
