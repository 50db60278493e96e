import Lang
import Tensor
import Transformer

extension Library {
    static func attention() -> [Builtin] {
        // One block-options parameter for the five blocks, so that its default "relu" is one
        // string the session holds (the memory figures count it).
        let blockStyle = Param<BlockStyle>.blockStyle
        let seedHelp = """
            seed: a number gives the same parameters every time; none (the default) draws from
            the session's generator (see seed), so two calls give different parameters.
            """
        return [
            builtin("attention", .tensor("Q"), .tensor("K"), .tensor("V"), .masking,
                    summary: "softmax(Q @ K' / sqrt(d_k) + mask) @ V, without materialising all the scores.",
                    example: "attention(randn(4, 8), randn(6, 8), randn(6, 8), causal=true)",
                    details: """
                        Q: [..., n_q, d_k], K: [..., n_k, d_k], V: [..., n_k, d_v] -> [..., n_q, d_v]; leading axes broadcast.
                        mask: additive (0 allowed, -inf blocked), broadcast to the scores [..., n_q, n_k].
                        causal=true also blocks keys j > i (query i sees keys j <= i, also when n_q != n_k).
                        Memory: the queries are processed in blocks of rows shared between the BLAS threads,
                        and more than 1024 keys 512 at a time with an online softmax, so the extra memory is
                        a few MiB of scores per thread whatever n is, plus the [..., n_q, d_v] result
                        (n = 50,000, one head: about 12 MiB instead of the 10 GB of the full score matrix).
                        Keys that the mask blocks (-inf) in every row of a block of queries, such as a padding
                        mask's, and with causal=true the keys after a block's last query, are skipped: their
                        scores are never computed, so padding and the causal cut cost no time.
                        A NaN among a row's scores makes that output row NaN, as in PyTorch. A NaN or inf in K
                        or V can also reach rows of the same block that mask it out (0 x NaN in the product
                        with V), as in PyTorch's math path; clean such inputs first (where(x == x, x, 0)).
                        Gradient (grad): FlashAttention-2's backward, which recomputes the weights block by block
                        from each row's logsumexp (kept by the forward) and skips what the forward skips: no
                        n_q x n_k matrix either (n = 50,000, one head, causal: about 50 MiB). A row that sees no key
                        gets zero gradients. The mask gets no gradient unless grad tracks it (a learned bias):
                        then the formula's n_q x n_k path runs instead.
                        """) { _, q, k, v, masking in
                .tensor(try Attention.attention(queries: q, keys: k, values: v, mask: masking.mask, causal: masking.causal))
            },
            builtin("attention_weights", .tensor("Q"), .tensor("K"), .masking,
                    summary: "The attention weights alpha = softmax(Q @ K' / sqrt(d_k) + mask), [..., n_q, n_k].",
                    example: "attention_weights(randn(4, 8), randn(4, 8), causal=true)",
                    details: "Rows sum to 1; blocked entries are exactly 0; a row with every key blocked is all 0.\nMemory: the full [..., n_q, n_k] result.") { _, q, k, masking in
                .tensor(try Attention.weights(queries: q, keys: k, mask: masking.mask, causal: masking.causal))
            },
            builtin("causal_mask", .size("n"), summary: "[n, n]: 0 on and below the diagonal, -inf above (query i sees keys j <= i).",
                    example: "causal_mask(3)") { _, n in .tensor(try Masks.causal(n)) },
            builtin("padding_mask", .argument("lengths"), .optionalArgument("n"),
                    summary: "[b, 1, n] from b lengths: -inf at key positions >= length; broadcasts against [b, n_q, n] scores.",
                    example: "padding_mask([2, 3], 4); padding_mask([[1, 1, 0], [1, 1, 1]])",
                    details: """
                        Given a [b, n] 0/1 attention mask (Hugging Face's attention_mask: 1 for a real token,
                        0 for padding) instead of lengths, and no n, it gives the same [b, 1, n] additive mask:
                        0 where the mask is nonzero, -inf where it is 0. ((1 - am) * -inf would be nan where
                        am is 1, since 0 * inf is nan.)
                        """) { _, lengths, n in
                if n.isNone {
                    let am = try lengths.tensor()
                    guard am.rank == 2 else {
                        throw TxError(.value, "padding_mask needs n after a list of lengths, or a [b, n] 0/1 attention mask (got \(lengths.value.typeDescription))", at: lengths.span)
                    }
                    let additive = try Tensor.select(am, try Tensor(scalar: 0), try Tensor(scalar: -Float.infinity))
                    return .tensor(try additive.reshaped([am.shape[0], 1, am.shape[1]]))
                }
                let n = try n.size()
                let counts: [Int]
                switch lengths.value {
                case .list(let list): counts = try list.items.map { try Convert.integer($0, what: "a length", at: lengths.span) }
                default:
                    let t = try lengths.tensor()
                    counts = try t.values.map { try Convert.integer(.number(Double($0)), what: "a length", at: lengths.span) }
                }
                return .tensor(try Masks.padding(lengths: counts, n: n))
            },
            builtin("sinusoidal", .size("n"), .size("d"),
                    summary: "[n, d] positions: column 2i is sin(pos / 10000^(2i/d)), column 2i+1 is cos(pos / 10000^(2i/d)).",
                    example: "sinusoidal(4, 8)") { _, n, d in
                .tensor(try Masks.sinusoidal(n, d))
            },
            builtin("mha", .tensor("xq"), .tensor("xkv"), .layer("p", MultiHeadAttention.self), .heads, .masking,
                    summary: "Multi-head attention with p = {Wq, bq, Wk, bk, Wv, bv, Wo, bo}: [..., n_q, d] from queries xq and keys/values xkv.",
                    example: "mha(randn(4, 8), randn(6, 8), init_mha(8, seed=0), heads=2)",
                    details: """
                        W*: [d, d] (x @ W), b*: [d]. The heads split the projected d into h slices of d/h and
                        scale scores by 1/sqrt(d/h), as PyTorch's nn.MultiheadAttention. A mask of rank <= 3
                        applies to every head; a rank-4 mask [b, h, n_q, n_k] to each head.
                        Memory: Q, K, V projections (3 x [..., n, d]) plus the block buffer of attention.
                        """) { _, xq, xkv, p, heads, masking in
                .tensor(try p(xq, xkv, heads: heads, mask: masking.mask, causal: masking.causal))
            },
            builtin("mha_weights", .tensor("xq"), .tensor("xkv"), .layer("p", MultiHeadAttention.self), .heads, .masking,
                    summary: "The per-head attention weights of mha, [..., h, n_q, n_k].",
                    example: "mha_weights(randn(4, 8), randn(4, 8), init_mha(8, seed=0), heads=2)",
                    details: """
                        Same arguments as mha: xq [..., n_q, d] gives the queries, xkv [..., n_k, d] the keys,
                        p = {Wq, bq, Wk, bk, Wv, bv, Wo, bo}, heads divides d, mask is additive (rank <= 3 for
                        every head, rank 4 [b, h, n_q, n_k] per head), causal=true hides later keys.
                        Each row of each head sums to 1 (a row whose keys are all masked is zeros).
                        PyTorch's nn.MultiheadAttention(average_attn_weights=False) gives the same.
                        Memory: the result, [..., h, n_q, n_k] floats, plus the Q, K projections.
                        """) { _, xq, xkv, p, heads, masking in
                .tensor(try p.weights(xq, xkv, heads: heads, mask: masking.mask, causal: masking.causal))
            },
            builtin("ffn", .tensor("x"), .layer("p", FeedForward.self), .activation,
                    summary: "The position-wise feed-forward network act(x @ W1 + b1) @ W2 + b2 with p = {W1, b1, W2, b2}.",
                    example: "ffn(randn(4, 8), init_ffn(8, 32, seed=0), activation=\"gelu\")",
                    details: "W1: [d, d_ff], b1: [d_ff], W2: [d_ff, d], b2: [d]. activation: \"relu\" or \"gelu\" (exact erf form).\nMemory: one [..., n, d_ff] hidden tensor.") { _, x, p, activation in
                .tensor(try p(x, activation: activation))
            },
            builtin("encoder_block", .tensor("x"), .layer("p", EncoderBlock.self), .heads, .optionalTensor("mask"), blockStyle,
                    .bool("causal", default: false),
                    summary: "An encoder block {attn, ln1, ffn, ln2}: x = ln1(x + mha(x, x)), then x = ln2(x + ffn(x)).",
                    example: "encoder_block(randn(5, 8), init_encoder_block(8, 2, 32, seed=0), heads=2)",
                    details: """
                        norm_first=true gives the pre-LN variant x = x + mha(ln1(x)), x = x + ffn(ln2(x)), as PyTorch's norm_first.
                        mask adds to the attention scores; causal=true lets position i see positions <= i only (PyTorch's
                        is_causal), skipping the hidden keys: the same result as mask=causal_mask(n), with less work.
                        Memory: a few [..., n, d] tensors, one [..., n, d_ff], and attention's block buffer.
                        """) { _, x, p, heads, mask, style, causal in
                .tensor(try p(x, options: style.options(heads: heads), mask: mask, causal: causal))
            },
            builtin("decoder_block", .tensor("y"), .tensor("memory"), .layer("p", DecoderBlock.self), .heads, .decoderMasking,
                    blockStyle,
                    summary: "A decoder block {self_attn, ln1, cross_attn, ln2, ffn, ln3}: masked self-attention, cross-attention to memory, FFN, each with Add & Norm.",
                    example: "decoder_block(randn(3, 8), randn(5, 8), init_decoder_block(8, 2, 32, seed=0), heads=2)",
                    details: """
                        y: [..., n_y, d], memory: [..., n_m, d]. causal=true (the default) lets position i of y see
                        positions <= i; mask adds to the self-attention scores, memory_mask to the cross-attention
                        scores. norm_first=true gives pre-LN. activation, eps as encoder_block.
                        Memory: a few [..., n_y, d] tensors, one [..., n_y, d_ff], and attention's block buffers.
                        """) { _, y, memory, p, heads, masks, style in
                .tensor(try p(y, memory: memory, options: style.options(heads: heads), causal: masks.causal,
                              mask: masks.mask, memoryMask: masks.memoryMask))
            },
            builtin("encoder", .tensor("x"), .encoderStack("p"), .heads, .optionalTensor("mask"), blockStyle,
                    .bool("causal", default: false),
                    summary: "An encoder stack {layers, norm}: each block in turn, then norm when present.",
                    example: "encoder(randn(5, 8), init_transformer(8, 2, 32, 2, 2, seed=0).encoder, heads=2)",
                    details: "Options as encoder_block. Memory: what one block needs; the stack keeps only the running [..., n, d].") { _, x, p, heads, mask, style, causal in
                .tensor(try p(x, options: style.options(heads: heads), mask: mask, causal: causal))
            },
            builtin("decoder", .tensor("y"), .tensor("memory"), .decoderStack("p"), .heads, .decoderMasking, blockStyle,
                    summary: "A decoder stack {layers, norm}: each block in turn, then norm when present.",
                    example: "decoder(randn(3, 8), randn(5, 8), init_transformer(8, 2, 32, 2, 2, seed=0).decoder, heads=2)",
                    details: "Options as decoder_block. Memory: what one block needs; the stack keeps only the running [..., n, d].") { _, y, memory, p, heads, masks, style in
                .tensor(try p(y, memory: memory, options: style.options(heads: heads), causal: masks.causal,
                              mask: masks.mask, memoryMask: masks.memoryMask))
            },
            builtin("transformer", .tensor("src"), .tensor("tgt"), .encoderDecoder("p"), .heads, .optionalTensor("src_mask"),
                    .optionalTensor("tgt_mask"), .optionalTensor("memory_mask"), .bool("causal", default: true), blockStyle,
                    summary: "The encoder-decoder Transformer {encoder, decoder}: memory = encoder(src), then decoder(tgt, memory).",
                    example: "transformer(randn(5, 8), randn(3, 8), init_transformer(8, 2, 32, 2, 2, seed=0), heads=2)",
                    details: "As PyTorch's nn.Transformer with its final norms, except that the decoder's self-attention is causal unless causal=false.\nMemory: the encoder's output (memory) plus what one block needs at a time; blocks run one after another.") { _, src, tgt, p, heads, srcMask, tgtMask, memoryMask, causal, style in
                let o = style.options(heads: heads)
                let memory = try p.encoder(src, options: o, mask: srcMask)
                return .tensor(try p.decoder(tgt, memory: memory, options: o, causal: causal, mask: tgtMask, memoryMask: memoryMask))
            },
            builtin("init_mha", .size("d"), .seed,
                    summary: "Parameters for mha with nn.MultiheadAttention's initialisation (xavier-uniform in-projection, zero biases).",
                    example: "p = init_mha(8, seed=0)",
                    details: """
                        d: the model width. Returns \(MultiHeadAttention.structure).
                        Wq, Wk, Wv are xavier-uniform over PyTorch's stacked [3d, d] in-projection
                        (U(±sqrt(6 / (4d)))); Wo is nn.Linear's U(±1/sqrt(d)); every bias is 0.
                        The number of heads is not stored: give heads= to mha and the blocks.
                        \(seedHelp)
                        """) { args, d, seed in
                try seed.generate(args.interpreter) { try LayerRecords.record(Initializers.multiHead(d: d, &$0)) }
            },
            builtin("init_ffn", .size("d"), .size("d_ff"), .seed,
                    summary: "Parameters for ffn with nn.Linear's initialisation (U(±1/sqrt(fan_in)) weights and biases).",
                    example: "p = init_ffn(8, 32, seed=0)",
                    details: """
                        d: the model width, d_ff: the hidden width (the lecture's base model: 512 and 2048).
                        Returns \(FeedForward.structure); W1 and b1 are
                        U(±1/sqrt(d)), W2 and b2 U(±1/sqrt(d_ff)).
                        \(seedHelp)
                        """) { args, d, dFF, seed in
                try seed.generate(args.interpreter) { try LayerRecords.record(Initializers.feedForward(d: d, dFF: dFF, &$0)) }
            },
            builtin("init_layernorm", .size("d"), summary: "{gamma: ones(d), beta: zeros(d)}.",
                    example: "init_layernorm(4)", details: "Returns \(LayerNorm.structure), the parameters of layernorm.") { _, d in
                LayerRecords.record(try Initializers.layerNorm(d: d))
            },
            builtin("init_encoder_block", .blockSizes, .seed,
                    summary: "Parameters \(EncoderBlock.structure) for encoder_block, initialised as nn.TransformerEncoderLayer.",
                    example: "p = init_encoder_block(8, 2, 32, seed=0)",
                    details: """
                        d: the model width, heads: the number of heads (checked to divide d, not stored:
                        give heads= to encoder_block too), d_ff: the FFN's hidden width.
                        attn as init_mha(d), ffn as init_ffn(d, d_ff), ln1 and ln2 as init_layernorm(d).
                        \(seedHelp)
                        """) { args, sizes, seed in
                try seed.generate(args.interpreter) { try LayerRecords.record(Initializers.encoderBlock(d: sizes.d, dFF: sizes.dFF, &$0)) }
            },
            builtin("init_decoder_block", .blockSizes, .seed,
                    summary: "Parameters \(DecoderBlock.structure) for decoder_block, initialised as nn.TransformerDecoderLayer.",
                    example: "p = init_decoder_block(8, 2, 32, seed=0)",
                    details: """
                        d: the model width, heads: the number of heads (checked to divide d, not stored:
                        give heads= to decoder_block too), d_ff: the FFN's hidden width.
                        self_attn and cross_attn as init_mha(d), ffn as init_ffn(d, d_ff), ln1..ln3 as
                        init_layernorm(d).
                        \(seedHelp)
                        """) { args, sizes, seed in
                try seed.generate(args.interpreter) { try LayerRecords.record(Initializers.decoderBlock(d: sizes.d, dFF: sizes.dFF, &$0)) }
            },
            builtin("init_transformer", .blockSizes, .size("n_enc"), .size("n_dec"), .seed,
                    summary: "Parameters {encoder, decoder} for transformer, initialised as nn.Transformer (xavier-uniform for every matrix), with final norms.",
                    example: "p = init_transformer(8, 2, 32, 2, 2, seed=0)",
                    details: """
                        d, heads, d_ff as init_encoder_block; n_enc and n_dec: the number of encoder and
                        decoder blocks. Returns {encoder: {layers: [n_enc encoder blocks], norm},
                        decoder: {layers: [n_dec decoder blocks], norm}}, norm as init_layernorm(d).
                        As nn.Transformer, every weight matrix is xavier-uniform over its own shape;
                        biases follow nn.Linear (attention biases 0). heads= is needed again by transformer.
                        \(seedHelp)
                        """) { args, sizes, nEnc, nDec, seed in
                let (d, dFF) = (sizes.d, sizes.dFF)
                // The lists of blocks are made at their full length first.
                try Memory.checkRoom(for: (nEnc + nDec) * MemoryLayout<Value>.stride, "\(nEnc + nDec) blocks")
                return try seed.generate(args.interpreter) { random in
                    let encoderLayers = try (0..<nEnc).map { _ in
                        try Interrupt.check()
                        return try LayerRecords.record(Initializers.encoderBlock(d: d, dFF: dFF, allXavier: true, &random))
                    }
                    let decoderLayers = try (0..<nDec).map { _ in
                        try Interrupt.check()
                        return try LayerRecords.record(Initializers.decoderBlock(d: d, dFF: dFF, allXavier: true, &random))
                    }
                    return .record(RecordValue([
                        ("encoder", .record(RecordValue([("layers", .list(ListValue(encoderLayers))), ("norm", LayerRecords.record(try Initializers.layerNorm(d: d)))]))),
                        ("decoder", .record(RecordValue([("layers", .list(ListValue(decoderLayers))), ("norm", LayerRecords.record(try Initializers.layerNorm(d: d)))]))),
                    ]))
                }
            },
        ]
    }
}

// MARK: Parameters

extension Param where T: ParameterLayer {
    /// A parameter record read as the layer of type T, field by field (mha's p, ffn's, a
    /// block's); a missing or mistyped field is an error naming its path, at the argument.
    fileprivate static func layer(_ name: String, _ type: T.Type) -> Param {
        .required(name) { args, name in try LayerRecords.layer(T.self, try args.record(name), RecordSite(args, name), name) }
    }
}

extension Param where T == Encoder {
    /// An encoder stack {layers, norm}.
    fileprivate static func encoderStack(_ name: String) -> Param {
        .required(name) { args, name in try LayerRecords.encoderStack(try args.record(name), RecordSite(args, name), name) }
    }
}

extension Param where T == Decoder {
    /// A decoder stack {layers, norm}.
    fileprivate static func decoderStack(_ name: String) -> Param {
        .required(name) { args, name in try LayerRecords.decoderStack(try args.record(name), RecordSite(args, name), name) }
    }
}

/// The two stacks of an encoder-decoder Transformer.
private struct EncoderDecoder {
    let encoder: Encoder
    let decoder: Decoder
}

extension Param where T == EncoderDecoder {
    /// {encoder, decoder}, each a stack.
    fileprivate static func encoderDecoder(_ name: String) -> Param {
        .required(name) { args, name in
            let p = try args.record(name), site = RecordSite(args, name)
            let encoder = try LayerRecords.encoderStack(try LayerRecords.field(p, "encoder", in: site, name), site, name + ".encoder")
            let decoder = try LayerRecords.decoderStack(try LayerRecords.field(p, "decoder", in: site, name), site, name + ".decoder")
            return EncoderDecoder(encoder: encoder, decoder: decoder)
        }
    }
}

extension Param where T == Int {
    /// heads=: a positive number of heads.
    fileprivate static var heads: Param {
        .required("heads") { args, name in
            let h = try args.int(name)
            guard h > 0 else { throw TxError(.value, "\(args.builtin.name): heads must be positive, got \(h)", at: args.span(name)) }
            return h
        }
    }
}

extension Param where T == Activation {
    /// activation=: "relu" (the default) or "gelu".
    fileprivate static var activation: Param {
        .optional("activation", default: .string("relu"), shown: "\"relu\"") { args, name in
            let text = try args.string(name)
            guard let a = Activation(rawValue: text) else {
                throw TxError(.value, "\(args.builtin.name): activation must be \"relu\" or \"gelu\", got \"\(text)\"", at: args.span(name))
            }
            return a
        }
    }
}

/// mask= and causal= of attention and mha: an additive mask, and whether later keys are hidden.
private struct Masking {
    let mask: Tensor?
    let causal: Bool
}

extension Param where T == Masking {
    fileprivate static var masking: Param {
        Param(.optionalTensor("mask"), .bool("causal", default: false)) { _, mask, causal in
            Masking(mask: mask, causal: causal)
        }
    }
}

/// causal=, mask= and memory_mask= of decoder_block and decoder: causal by default.
private struct DecoderMasking {
    let causal: Bool
    let mask: Tensor?
    let memoryMask: Tensor?
}

extension Param where T == DecoderMasking {
    fileprivate static var decoderMasking: Param {
        Param(.bool("causal", default: true), .optionalTensor("mask"), .optionalTensor("memory_mask")) { _, causal, mask, memoryMask in
            DecoderMasking(causal: causal, mask: mask, memoryMask: memoryMask)
        }
    }
}

/// activation=, norm_first= and eps= of the blocks: their BlockOptions but for heads, which
/// their signatures give earlier.
private struct BlockStyle {
    let activation: Activation
    let normFirst: Bool
    let eps: Float

    func options(heads: Int) -> BlockOptions {
        BlockOptions(heads: heads, activation: activation, normFirst: normFirst, eps: eps)
    }
}

extension Param where T == BlockStyle {
    fileprivate static var blockStyle: Param {
        Param(.activation, .bool("norm_first", default: false), .number("eps", default: 1e-5, shown: "1e-5")) { _, activation, normFirst, eps in
            BlockStyle(activation: activation, normFirst: normFirst, eps: Float(eps))
        }
    }
}

/// d, heads and d_ff of the block initialisers; heads is checked to divide d, not kept.
private struct BlockSizes {
    let d: Int
    let dFF: Int
}

extension Param where T == BlockSizes {
    fileprivate static var blockSizes: Param {
        Param(.size("d"), .heads, .size("d_ff")) { args, d, h, dFF in
            guard d % h == 0 else {
                throw TxError(.value, "\(args.builtin.name): d = \(d) is not divisible by heads = \(h)", at: args.span("heads"))
            }
            return BlockSizes(d: d, dFF: dFF)
        }
    }
}

/// seed= of the initialisers: a number gives its own generator, none the session's.
private struct Seed {
    let fixed: UInt64?

    /// Runs `body` with the seed's generator, or the session's.
    func generate(_ interpreter: Interpreter, _ body: (inout RandomGenerator) throws -> Value) throws -> Value {
        guard let fixed else { return try body(&interpreter.random) }
        var random = RandomGenerator(seed: fixed)
        return try body(&random)
    }
}

extension Param where T == Seed {
    fileprivate static var seed: Param {
        .optional("seed", default: .none, shown: "none") { args, name in
            Seed(fixed: try args.value(name).isNone ? nil : UInt64(bitPattern: Int64(try args.int(name))))
        }
    }
}
