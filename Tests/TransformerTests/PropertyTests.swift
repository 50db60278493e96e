import Glibc
import Tensor
import Testing
import Transformer

func randn(_ shape: [Int], seed: UInt64) throws -> Tensor {
    var random = RandomGenerator(seed: seed)
    return try Tensor.randn(shape, using: &random)
}

func maxDifference(_ a: Tensor, _ b: Tensor) throws -> Float {
    try Tensor.binary(.subtract, a, b).map(.abs).reduce(.max).values[0]
}

@Test func attentionRowsSumToOneAndPaddedKeysGetZero() throws {
    let q = try randn([2, 5, 8], seed: 1), k = try randn([2, 7, 8], seed: 2)
    let mask = try Masks.padding(lengths: [7, 3], n: 7)
    let w = try Attention.weights(queries: q, keys: k, mask: mask)
    let sums = try w.reduce(.sum, axes: [-1]).values
    #expect(sums.allSatisfy { abs($0 - 1) < 1e-5 })
    let padded = try w.subscripted([.single(1), .slice(start: nil, stop: nil, step: nil), .slice(start: 3, stop: nil, step: nil)])
    #expect(padded.values.allSatisfy { $0 == 0 })
    let causal = try Attention.weights(queries: q, keys: k, causal: true)
    for i in 0..<5 {
        let future = try causal.subscripted([.single(0), .single(i), .slice(start: i + 1, stop: nil, step: nil)])
        #expect(future.values.allSatisfy { $0 == 0 })
    }
}

@Test func aRowWithEveryKeyBlockedIsZero() throws {
    let q = try randn([2, 4], seed: 1), k = try randn([3, 4], seed: 2), v = try randn([3, 4], seed: 3)
    let mask = try Tensor.full(-.infinity, [2, 3])
    #expect(try Attention.weights(queries: q, keys: k, mask: mask).values.allSatisfy { $0 == 0 })
    #expect(try Attention.attention(queries: q, keys: k, values: v, mask: mask).values.allSatisfy { $0 == 0 })
}

@Test func blockedAttentionEqualsTheFormula() throws {
    // n_k large enough that the keys are processed in blocks with an online softmax.
    let n = 300, nk = 40_000, d = 8
    let q = try randn([n, d], seed: 4), k = try randn([nk, d], seed: 5), v = try randn([nk, d], seed: 6)
    // Keys past 30,000 are padding; the last query row sees no key at all.
    let mask = try Masks.padding(lengths: [30_000], n: nk).reshaped([1, nk])
    let rowMask = try Tensor.zeros([n, 1])
    try rowMask.assign([.single(n - 1)], scalar: -.infinity)
    let fullMask = try Tensor.binary(.add, mask, rowMask)
    for causal in [false, true] {
        for m in [nil, fullMask] {
            let blocked = try Attention.attention(queries: q, keys: k, values: v, mask: m, causal: causal)
            let weights = try Attention.weights(queries: q, keys: k, mask: m, causal: causal)
            let direct = try Tensor.matmul(weights, v)
            #expect(try maxDifference(blocked, direct) < 1e-5)
        }
    }
}

@Test func selfAttentionWithoutPositionsIsPermutationEquivariant() throws {
    var random = RandomGenerator(seed: 7)
    let p = try Initializers.multiHead(d: 16, &random)
    let x = try randn([6, 16], seed: 8)
    let order = [3, 0, 5, 1, 4, 2]
    let permuted = try x.subscripted([.gather(try Tensor(shape: [6], values: order.map(Float.init)))])
    let out = try p(x, x, heads: 4)
    let outPermuted = try p(permuted, permuted, heads: 4)
    let expected = try out.subscripted([.gather(try Tensor(shape: [6], values: order.map(Float.init)))])
    #expect(try maxDifference(outPermuted, expected) < 1e-5)
    let block = try Initializers.encoderBlock(d: 16, dFF: 32, &random)
    let options = BlockOptions(heads: 4)
    let encoded = try block(x, options: options)
    let encodedPermuted = try block(permuted, options: options)
    #expect(try maxDifference(encodedPermuted, try encoded.subscripted([.gather(try Tensor(shape: [6], values: order.map(Float.init)))])) < 1e-4)
}

@Test func decoderOutputsDoNotSeeTheFuture() throws {
    var random = RandomGenerator(seed: 9)
    let block = try Initializers.decoderBlock(d: 16, dFF: 32, &random)
    let memory = try randn([2, 7, 16], seed: 10)
    let y = try randn([2, 6, 16], seed: 11)
    let changed = try y.copy()
    try changed.assign([.slice(start: nil, stop: nil, step: nil), .slice(start: 4, stop: nil, step: nil)], try randn([2, 2, 16], seed: 12))
    let options = BlockOptions(heads: 4)
    let a = try block(y, memory: memory, options: options), b = try block(changed, memory: memory, options: options)
    let before = [TensorIndex.slice(start: nil, stop: nil, step: nil), .slice(start: nil, stop: 4, step: nil)]
    #expect(try maxDifference(try a.subscripted(before), try b.subscripted(before)) < 1e-6)
    #expect(try maxDifference(a, b) > 1e-3)
}

@Test func masksAndPositions() throws {
    let inf = Float.infinity
    let expected: [Float] = [0, -inf, -inf, 0, 0, -inf, 0, 0, 0]
    #expect(try Masks.causal(3).values == expected)
    let padding = try Masks.padding(lengths: [2, 0], n: 3)
    #expect(padding.shape == [2, 1, 3])
    let blocked: [Float] = [0, 0, -inf, -inf, -inf, -inf]
    #expect(padding.values == blocked)
    let p = try Masks.sinusoidal(3, 4)
    #expect(p.values[0..<4] == [0, 1, 0, 1])
    let sinOne = Float(Glibc.sin(1.0)), sinHundredth = Float(Glibc.sin(0.01))
    #expect(abs(p.values[4] - sinOne) < 1e-7)
    #expect(abs(p.values[6] - sinHundredth) < 1e-7)
}

@Test func shapeErrorsAreClear() throws {
    var random = RandomGenerator(seed: 1)
    let p = try Initializers.multiHead(d: 8, &random)
    do {
        _ = try p(try Tensor.zeros([3, 8]), try Tensor.zeros([3, 8]), heads: 3)
        Issue.record("no error")
    } catch let error as TensorError {
        #expect(error.message == "value error: mha: d = 8 is not divisible by heads = 3")
    }
    do {
        _ = try Attention.attention(queries: try Tensor.zeros([3, 8]), keys: try Tensor.zeros([4, 6]), values: try Tensor.zeros([4, 6]))
        Issue.record("no error")
    } catch let error as TensorError {
        #expect(error.message == "shape mismatch in attention: Q is [3, 8] and K is [4, 6] (query and key sizes 8 and 6 differ)")
    }
}

@Test func initialisersFollowPyTorchsBounds() throws {
    var random = RandomGenerator(seed: 2)
    let d = 64
    let p = try Initializers.multiHead(d: d, &random)
    let xavier = Float((6.0 / Double(4 * d)).squareRoot())
    #expect(try p.Wq.map(.abs).reduce(.max).values[0] <= xavier)
    #expect(try p.Wq.map(.abs).reduce(.max).values[0] > xavier * 0.95)
    #expect(try p.Wo.map(.abs).reduce(.max).values[0] <= 1 / Float(d).squareRoot())
    #expect(p.bq.values.allSatisfy { $0 == 0 })
    let f = try Initializers.feedForward(d: d, dFF: 256, &random)
    #expect(try f.W2.map(.abs).reduce(.max).values[0] <= 1 / Float(256).squareRoot())
    #expect(try f.b1.map(.abs).reduce(.max).values[0] > 0)
}
