import Tensor

/// Options shared by the blocks and stacks.
public struct BlockOptions: Sendable {
    public var heads: Int
    public var activation: Activation
    /// Pre-LN (`x + sublayer(norm(x))`) instead of the lecture's post-LN Add & Norm.
    public var normFirst: Bool
    public var eps: Float

    public init(heads: Int, activation: Activation = .relu, normFirst: Bool = false, eps: Float = 1e-5) {
        self.heads = heads
        self.activation = activation
        self.normFirst = normFirst
        self.eps = eps
    }
}

/// Encoder block `{attn, ln1, ffn, ln2}`: self-attention and a feed-forward network,
/// each followed by Add & Norm (post-LN, the lecture's and PyTorch's default).
public struct EncoderBlock {
    public var attn: MultiHeadAttention
    public var ln1: LayerNorm
    public var ffn: FeedForward
    public var ln2: LayerNorm

    public init(attn: MultiHeadAttention, ln1: LayerNorm, ffn: FeedForward, ln2: LayerNorm) {
        self.attn = attn; self.ln1 = ln1; self.ffn = ffn; self.ln2 = ln2
    }

    /// `causal` lets position i see positions <= i only (a decoder-only model's block, as
    /// PyTorch's `is_causal`), skipping the hidden keys instead of adding a mask.
    public func callAsFunction(_ x: Tensor, options o: BlockOptions, mask: Tensor? = nil,
                               causal: Bool = false) throws -> Tensor {
        if o.normFirst {
            let h = try ln1(x, eps: o.eps)
            let x1 = try x + attn(h, h, heads: o.heads, mask: mask, causal: causal)
            return try x1 + ffn(ln2(x1, eps: o.eps), activation: o.activation)
        }
        let x1 = try ln1(x + attn(x, x, heads: o.heads, mask: mask, causal: causal), eps: o.eps)      // Add & Norm
        return try ln2(x1 + ffn(x1, activation: o.activation), eps: o.eps)           // Add & Norm
    }
}

/// Decoder block `{self_attn, ln1, cross_attn, ln2, ffn, ln3}`: masked self-attention,
/// cross-attention (queries from y, keys and values from the encoder's memory), and a
/// feed-forward network, each followed by Add & Norm.
public struct DecoderBlock {
    public var selfAttn: MultiHeadAttention
    public var ln1: LayerNorm
    public var crossAttn: MultiHeadAttention
    public var ln2: LayerNorm
    public var ffn: FeedForward
    public var ln3: LayerNorm

    public init(selfAttn: MultiHeadAttention, ln1: LayerNorm, crossAttn: MultiHeadAttention, ln2: LayerNorm,
                ffn: FeedForward, ln3: LayerNorm) {
        self.selfAttn = selfAttn; self.ln1 = ln1; self.crossAttn = crossAttn
        self.ln2 = ln2; self.ffn = ffn; self.ln3 = ln3
    }

    public func callAsFunction(_ y: Tensor, memory: Tensor, options o: BlockOptions, causal: Bool = true,
                               mask: Tensor? = nil, memoryMask: Tensor? = nil) throws -> Tensor {
        if o.normFirst {
            let h1 = try ln1(y, eps: o.eps)
            let y1 = try y + selfAttn(h1, h1, heads: o.heads, mask: mask, causal: causal)
            let y2 = try y1 + crossAttn(ln2(y1, eps: o.eps), memory, heads: o.heads, mask: memoryMask)
            return try y2 + ffn(ln3(y2, eps: o.eps), activation: o.activation)
        }
        let y1 = try ln1(y + selfAttn(y, y, heads: o.heads, mask: mask, causal: causal), eps: o.eps)   // masked self-attention
        let y2 = try ln2(y1 + crossAttn(y1, memory, heads: o.heads, mask: memoryMask), eps: o.eps)    // cross-attention
        return try ln3(y2 + ffn(y2, activation: o.activation), eps: o.eps)
    }
}

/// An encoder stack `{layers, norm}`; `norm` may be absent.
public struct Encoder {
    public var layers: [EncoderBlock]
    public var norm: LayerNorm?
    public init(layers: [EncoderBlock], norm: LayerNorm?) { self.layers = layers; self.norm = norm }

    public func callAsFunction(_ x: Tensor, options: BlockOptions, mask: Tensor? = nil,
                               causal: Bool = false) throws -> Tensor {
        var x = x
        for layer in layers {
            try Interrupt.check()
            x = try layer(x, options: options, mask: mask, causal: causal)
        }
        return try norm.map { try $0(x, eps: options.eps) } ?? x
    }
}

/// A decoder stack `{layers, norm}`; `norm` may be absent.
public struct Decoder {
    public var layers: [DecoderBlock]
    public var norm: LayerNorm?
    public init(layers: [DecoderBlock], norm: LayerNorm?) { self.layers = layers; self.norm = norm }

    public func callAsFunction(_ y: Tensor, memory: Tensor, options: BlockOptions, causal: Bool = true,
                               mask: Tensor? = nil, memoryMask: Tensor? = nil) throws -> Tensor {
        var y = y
        for layer in layers {
            try Interrupt.check()
            y = try layer(y, memory: memory, options: options, causal: causal, mask: mask, memoryMask: memoryMask)
        }
        return try norm.map { try $0(y, eps: options.eps) } ?? y
    }
}
