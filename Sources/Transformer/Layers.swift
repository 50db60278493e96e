import Tensor

/// LayerNorm parameters `{gamma, beta}`.
public struct LayerNorm {
    public var gamma: Tensor
    public var beta: Tensor
    public init(gamma: Tensor, beta: Tensor) { self.gamma = gamma; self.beta = beta }

    public func callAsFunction(_ x: Tensor, eps: Float) throws -> Tensor {
        try x.layerNormalized(gamma: gamma, beta: beta, eps: eps)
    }
}

/// The position-wise feed-forward network `{W1 [d, d_ff], b1, W2 [d_ff, d], b2}`:
/// FFN(x) = act(x W1 + b1) W2 + b2, applied to every position independently.
public struct FeedForward {
    public var W1, b1, W2, b2: Tensor
    public init(W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor) {
        self.W1 = W1; self.b1 = b1; self.W2 = W2; self.b2 = b2
    }

    public func callAsFunction(_ x: Tensor, activation: Activation = .relu) throws -> Tensor {
        let hidden = try affine(x, W1, b1, activation: activation, name: "ffn")   // [..., n, d_ff]
        return try affine(hidden, W2, b2, name: "ffn")                            // [..., n, d]
    }
}

/// Multi-head attention `{Wq, bq, Wk, bk, Wv, bv, Wo, bo}` (W: `[d, d]`, b: `[d]`).
/// Heads split the projected d into h consecutive slices of d/h and scale scores by
/// 1/sqrt(d/h), as PyTorch's `nn.MultiheadAttention`.
public struct MultiHeadAttention {
    public var Wq, bq, Wk, bk, Wv, bv, Wo, bo: Tensor
    public init(Wq: Tensor, bq: Tensor, Wk: Tensor, bk: Tensor, Wv: Tensor, bv: Tensor, Wo: Tensor, bo: Tensor) {
        self.Wq = Wq; self.bq = bq; self.Wk = Wk; self.bk = bk
        self.Wv = Wv; self.bv = bv; self.Wo = Wo; self.bo = bo
    }

    /// `[..., n, d]` → `[..., h, n, d/h]` as a view: no copy per head.
    static func splitHeads(_ x: Tensor, heads: Int) throws -> Tensor {
        let n = x.shape[x.rank - 2], d = x.shape[x.rank - 1]
        let split = try x.reshaped(Array(x.shape.dropLast(2)) + [n, heads, d / heads])   // [..., n, h, d/h]
        let r = split.rank
        return try split.permuted(Array(0..<(r - 3)) + [r - 2, r - 3, r - 1])            // [..., h, n, d/h]
    }

    /// A mask of rank <= 3 applies to every head: it gets a head axis before its last two.
    static func headMask(_ mask: Tensor?) throws -> Tensor? {
        guard let mask else { return nil }
        if mask.rank >= 4 { return mask }
        if mask.rank <= 2 { return mask }
        return try mask.unsqueezed(axis: mask.rank - 2)
    }

    func check(_ xq: Tensor, _ xkv: Tensor, heads: Int, name: String) throws -> Int {
        guard xq.rank >= 2, xkv.rank >= 2, let d = xq.shape.last, xkv.shape.last == d else {
            throw TensorError.shape(in: "\(name)", "queries \(describe(shape: xq.shape)) and keys/values \(describe(shape: xkv.shape)) must be [..., n, d] with the same d")
        }
        guard heads > 0, d % heads == 0 else {
            throw TensorError.value("\(name): d = \(d) is not divisible by heads = \(heads)").blaming("heads", heads)
        }
        for (label, W) in [("Wq", Wq), ("Wk", Wk), ("Wv", Wv), ("Wo", Wo)] where W.shape != [d, d] {
            throw TensorError.shape(in: "\(name)", "\(label) must be [\(d), \(d)], got \(describe(shape: W.shape))")
        }
        for (label, b) in [("bq", bq), ("bk", bk), ("bv", bv), ("bo", bo)] where b.shape != [d] {
            throw TensorError.shape(in: "\(name)", "\(label) must be [\(d)], got \(describe(shape: b.shape))")
        }
        return d
    }

    /// Attention output `[..., n_q, d]`.
    public func callAsFunction(_ xq: Tensor, _ xkv: Tensor, heads: Int, mask: Tensor? = nil,
                               causal: Bool = false) throws -> Tensor {
        let d = try check(xq, xkv, heads: heads, name: "mha")
        let Q = try Self.splitHeads(try affine(xq, Wq, bq), heads: heads)       // [..., h, n_q, d/h]
        let K = try Self.splitHeads(try affine(xkv, Wk, bk), heads: heads)      // [..., h, n_k, d/h]
        let V = try Self.splitHeads(try affine(xkv, Wv, bv), heads: heads)      // [..., h, n_k, d/h]
        let nq = xq.shape[xq.rank - 2]
        let headMask = try Self.headMask(mask)
        // The batch axes of queries, keys/values and mask broadcast together: an
        // unbatched [n, d] query against [b, n_k, d] memory or a [b, 1, n_k] mask gives b.
        var batch = Array(Q.shape.dropLast(3))
        for other in [Array(K.shape.dropLast(3)), headMask.map { Array($0.shape.dropLast(3)) } ?? []] {
            guard let joined = Tensor.broadcastShape(batch, other) else {
                throw TensorError.shape(in: "mha", "batch axes \(describe(shape: batch)) and \(describe(shape: other)) do not broadcast")
            }
            batch = joined
        }
        if try Attention.isTracked(Q, K, V, headMask) {
            // Under a tape: the heads' result, then the heads joined back as [..., n_q, d]
            // by recorded reshapes (the in-place writes below have no derivative).
            let heads = try Attention.attention(queries: Q, keys: K, values: V, mask: headMask, causal: causal)
            let r = heads.rank
            let joined = try heads.permuted(Array(0..<(r - 3)) + [r - 2, r - 3, r - 1]).reshaped(Array(heads.shape.dropLast(3)) + [nq, d])
            return try affine(joined, Wo, bo, name: "mha")
        }
        // Heads write straight into their slices of the concatenated output.
        let concatenated = try Tensor(uninitializedShape: batch + [nq, d])        // [..., n_q, d]
        let headView = try Self.splitHeads(concatenated, heads: heads)           // [..., h, n_q, d/h]
        try Attention.attention(queries: Q, keys: K, values: V, mask: headMask,
                                causal: causal, scale: nil, into: headView)
        return try affine(concatenated, Wo, bo, name: "mha")
    }

    /// Per-head weights `[..., h, n_q, n_k]`.
    public func weights(_ xq: Tensor, _ xkv: Tensor, heads: Int, mask: Tensor? = nil,
                        causal: Bool = false) throws -> Tensor {
        _ = try check(xq, xkv, heads: heads, name: "mha_weights")
        let Q = try Self.splitHeads(try affine(xq, Wq, bq), heads: heads)
        let K = try Self.splitHeads(try affine(xkv, Wk, bk), heads: heads)
        return try Attention.weights(queries: Q, keys: K, mask: try Self.headMask(mask), causal: causal)
    }
}
