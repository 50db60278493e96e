import Tensor

/// Fresh parameters with PyTorch's default initialisation schemes. Weights are stored
/// in tx's row-vector convention `[d_in, d_out]` (PyTorch's `weight.T`); since every
/// scheme draws independent uniform values, the transpose has the same distribution.
public enum Initializers {
    static func uniform(_ shape: [Int], bound: Double, _ random: inout RandomGenerator) throws -> Tensor {
        try Tensor.uniform(shape, low: -bound, high: bound, using: &random)
    }

    /// xavier_uniform_: U(-a, a), a = sqrt(6 / (fan_in + fan_out)).
    static func xavier(_ shape: [Int], fanIn: Int, fanOut: Int, _ random: inout RandomGenerator) throws -> Tensor {
        try uniform(shape, bound: (6.0 / Double(fanIn + fanOut)).squareRoot(), &random)
    }

    /// `nn.MultiheadAttention(d, h)`: the packed in-projection [3d, d] is xavier_uniform,
    /// so each of Wq, Wk, Wv uses a = sqrt(6 / 4d); the out-projection keeps Linear's
    /// kaiming_uniform(a = sqrt 5), i.e. U(±1/sqrt(d)); all biases are 0. With
    /// `allXavier` (nn.Transformer's reset) Wo is xavier_uniform too.
    public static func multiHead(d: Int, allXavier: Bool = false, _ random: inout RandomGenerator) throws -> MultiHeadAttention {
        let Wq = try xavier([d, d], fanIn: d, fanOut: 3 * d, &random)
        let Wk = try xavier([d, d], fanIn: d, fanOut: 3 * d, &random)
        let Wv = try xavier([d, d], fanIn: d, fanOut: 3 * d, &random)
        let Wo = allXavier ? try xavier([d, d], fanIn: d, fanOut: d, &random)
                           : try uniform([d, d], bound: 1 / Double(d).squareRoot(), &random)
        let zero = { try Tensor.zeros([d]) }
        return MultiHeadAttention(Wq: Wq, bq: try zero(), Wk: Wk, bk: try zero(), Wv: Wv, bv: try zero(),
                                  Wo: Wo, bo: try zero())
    }

    /// Two `nn.Linear`s: weights and biases U(±1/sqrt(fan_in)) (weights xavier_uniform
    /// with `allXavier`).
    public static func feedForward(d: Int, dFF: Int, allXavier: Bool = false, _ random: inout RandomGenerator) throws -> FeedForward {
        let W1 = allXavier ? try xavier([d, dFF], fanIn: d, fanOut: dFF, &random)
                           : try uniform([d, dFF], bound: 1 / Double(d).squareRoot(), &random)
        let b1 = try uniform([dFF], bound: 1 / Double(d).squareRoot(), &random)
        let W2 = allXavier ? try xavier([dFF, d], fanIn: dFF, fanOut: d, &random)
                           : try uniform([dFF, d], bound: 1 / Double(dFF).squareRoot(), &random)
        let b2 = try uniform([d], bound: 1 / Double(dFF).squareRoot(), &random)
        return FeedForward(W1: W1, b1: b1, W2: W2, b2: b2)
    }

    /// `nn.LayerNorm(d)`: gamma 1, beta 0.
    public static func layerNorm(d: Int) throws -> LayerNorm {
        LayerNorm(gamma: try Tensor.full(1, [d]), beta: try Tensor.zeros([d]))
    }

    public static func encoderBlock(d: Int, dFF: Int, allXavier: Bool = false, _ random: inout RandomGenerator) throws -> EncoderBlock {
        EncoderBlock(attn: try multiHead(d: d, allXavier: allXavier, &random), ln1: try layerNorm(d: d),
                     ffn: try feedForward(d: d, dFF: dFF, allXavier: allXavier, &random), ln2: try layerNorm(d: d))
    }

    public static func decoderBlock(d: Int, dFF: Int, allXavier: Bool = false, _ random: inout RandomGenerator) throws -> DecoderBlock {
        DecoderBlock(selfAttn: try multiHead(d: d, allXavier: allXavier, &random), ln1: try layerNorm(d: d),
                     crossAttn: try multiHead(d: d, allXavier: allXavier, &random), ln2: try layerNorm(d: d),
                     ffn: try feedForward(d: d, dFF: dFF, allXavier: allXavier, &random), ln3: try layerNorm(d: d))
    }
}
