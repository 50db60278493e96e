import Tensor
import Testing
import Transformer

/// The Transformer's rules (fused layer norm and affine, attention under a tape, and the
/// blocks built from them), held to central differences along a random direction.

private func expectAgrees(_ inputs: [Tensor], _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
                          _ f: ([Tensor]) throws -> Tensor) throws {
    let error = try GradientCheck.relativeError(inputs, f)
    #expect(error < 1e-2, "\(what): relative error \(error)", sourceLocation: sourceLocation)
}

@Test func layerNormRuleAgreesWithFiniteDifferences() throws {
    let x = try randn([2, 3, 8], seed: 1), gamma = try randn([8], seed: 2), beta = try randn([8], seed: 3)
    try expectAgrees([x, gamma, beta], "layernorm") { try $0[0].layerNormalized(gamma: $0[1], beta: $0[2]) }
    try expectAgrees([x], "layernorm of x alone") { try $0[0].layerNormalized(gamma: gamma, beta: beta, eps: 1e-3) }
}

@Test func affineRuleAgreesWithFiniteDifferences() throws {
    let x = try randn([2, 3, 8], seed: 4), W = try randn([8, 5], seed: 5), b = try randn([5], seed: 6)
    for activation in [nil, Activation.gelu] {
        try expectAgrees([x, W, b], "affine \(String(describing: activation))") { try affine($0[0], $0[1], $0[2], activation: activation) }
    }
    // relu's kink makes finite differences unreliable: its gradients are held to those
    // of the same formula written with the primitives.
    func gradients(_ f: (Tensor, Tensor, Tensor) throws -> Tensor) throws -> [Float] {
        let tape = Tape()
        let leaves = try [x, W, b].map { try $0.copy() }
        for leaf in leaves { tape.watch(leaf) }
        let y = try tape.activate { try f(leaves[0], leaves[1], leaves[2]).map(.tanh).reduce(.sum) }
        let g = try tape.backward(from: y)
        return try leaves.flatMap { try Tape.gradient($0, in: g).values }
    }
    let fused = try gradients { try affine($0, $1, $2, activation: .relu) }
    let composed = try gradients { try Tensor.binary(.add, Tensor.matmul($0, $1), $2).map(.relu) }
    #expect(zip(fused, composed).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
    try expectAgrees([x, W], "affine without a bias") { try affine($0[0], $0[1], nil) }
    let Wt = try randn([5, 8], seed: 7)
    try expectAgrees([x, Wt], "affine with a transposed W") { try affine($0[0], $0[1].swappingLastAxes(), nil) }
}

@Test func affineUnderATapeGivesTheSameValues() throws {
    let x = try randn([4, 8], seed: 8), W = try randn([8, 6], seed: 9), b = try randn([6], seed: 10)
    let plain = try affine(x, W, b, activation: .gelu)
    let tape = Tape()
    let leaf = try x.copy()
    tape.watch(leaf)
    let recorded = try tape.activate { try affine(leaf, W, b, activation: .gelu) }
    #expect(try maxDifference(plain, recorded) == 0)
    #expect(tape.count == 1)
}

@Test func attentionUnderATapeAgreesWithFiniteDifferences() throws {
    let q = try randn([2, 4, 8], seed: 11), k = try randn([2, 6, 8], seed: 12), v = try randn([2, 6, 5], seed: 13)
    try expectAgrees([q, k, v], "attention") { try Attention.attention(queries: $0[0], keys: $0[1], values: $0[2]) }
    try expectAgrees([q, k, v], "causal attention") { try Attention.attention(queries: $0[0], keys: $0[1], values: $0[2], causal: true) }
    let padding = try Masks.padding(lengths: [6, 3], n: 6)
    try expectAgrees([q, k, v], "padded attention") { try Attention.attention(queries: $0[0], keys: $0[1], values: $0[2], mask: padding) }
    let additive = try randn([4, 6], seed: 14)
    try expectAgrees([q, k, v, additive], "attention with a learned additive mask") {
        try Attention.attention(queries: $0[0], keys: $0[1], values: $0[2], mask: $0[3], scale: 0.3)
    }
    try expectAgrees([q, k], "attention weights") { try Attention.weights(queries: $0[0], keys: $0[1], causal: true) }
    // The recorded formula gives the kernel's values.
    let tape = Tape()
    let leaf = try q.copy()
    tape.watch(leaf)
    let recorded = try tape.activate { try Attention.attention(queries: leaf, keys: k, values: v, mask: padding, causal: true) }
    let kernel = try Attention.attention(queries: q, keys: k, values: v, mask: padding, causal: true)
    #expect(try maxDifference(recorded, kernel) < 1e-5)
}

@Test func blocksAgreeWithFiniteDifferences() throws {
    var random = RandomGenerator(seed: 20)
    let encoder = try Initializers.encoderBlock(d: 8, dFF: 16, &random)
    let decoder = try Initializers.decoderBlock(d: 8, dFF: 16, &random)
    let x = try randn([5, 8], seed: 21), memory = try randn([2, 6, 8], seed: 22)
    let options = BlockOptions(heads: 2, activation: .gelu)
    try expectAgrees([x], "encoder block") { try encoder($0[0], options: options) }
    try expectAgrees([x], "pre-LN encoder block") { try encoder($0[0], options: BlockOptions(heads: 2, activation: .gelu, normFirst: true)) }
    try expectAgrees([x, memory], "decoder block") { try decoder($0[0], memory: $0[1], options: options) }
    let a = encoder.attn
    try expectAgrees([a.Wq, a.bk, a.Wv, a.Wo, a.bo], "mha parameters") { p in
        let mha = MultiHeadAttention(Wq: p[0], bq: a.bq, Wk: a.Wk, bk: p[1], Wv: p[2], bv: a.bv, Wo: p[3], bo: p[4])
        return try mha(x, memory, heads: 2, causal: true)
    }
}

/// The gradient of sum(f(x)) from a tape of its own (see GradientCheck.gradient).
private func innerGradient(_ x: Tensor, _ f: (Tensor) throws -> Tensor) throws -> Tensor {
    try GradientCheck.gradient(x, f)
}

@Test func transformerGradientsAreThemselvesDifferentiable() throws {
    let x = try randn([2, 5, 8], seed: 30), gamma = try randn([8], seed: 31), beta = try randn([8], seed: 32)
    let W = try randn([8, 6], seed: 33), b = try randn([6], seed: 34), k = try randn([2, 7, 8], seed: 35)
    var random = RandomGenerator(seed: 36)
    let block = try Initializers.encoderBlock(d: 8, dFF: 16, &random)
    let padding = try Masks.padding(lengths: [7, 4], n: 7)
    let cases: [(String, (Tensor) throws -> Tensor)] = [
        ("layernorm", { try Tensor.binary(.power, $0.layerNormalized(gamma: gamma, beta: beta), scalar: 3) }),
        ("affine gelu", { try affine($0, W, b, activation: .gelu).map(.tanh) }),
        ("attention", { try Tensor.binary(.power, Attention.attention(queries: $0, keys: k, values: k, mask: padding, causal: true), scalar: 2) }),
        ("encoder block", { try Tensor.binary(.multiply, block($0, options: BlockOptions(heads: 2, activation: .gelu)), $0) }),
    ]
    for (name, f) in cases {
        let error = try GradientCheck.relativeError([x]) { try innerGradient($0[0], f) }
        #expect(error < 1e-2, "second derivative of \(name): relative error \(error)")
    }
}

@Test func nestedTapesGiveTheFusedForwardsValues() throws {
    let x = try randn([3, 8], seed: 40), gamma = try randn([8], seed: 41), beta = try randn([8], seed: 42)
    let W = try randn([8, 5], seed: 43), b = try randn([5], seed: 44)
    let outer = Tape(), inner = Tape()
    let leaf = try x.copy()
    outer.watch(leaf)
    let (norm, linear) = try outer.activate {
        try inner.activate { (try leaf.layerNormalized(gamma: gamma, beta: beta), try affine(leaf, W, b, activation: .gelu)) }
    }
    #expect(inner.isNested)
    #expect(try maxDifference(norm, x.layerNormalized(gamma: gamma, beta: beta)) < 1e-5)
    #expect(try maxDifference(linear, affine(x, W, b, activation: .gelu)) < 1e-5)
}
