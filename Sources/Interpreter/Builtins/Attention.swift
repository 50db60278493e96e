import Lang
import Tensor
import Transformer

extension Library {
    static func transformer() -> [Builtin] {
        let maskOptions: [BuiltinParameter] = [.optional("mask", .none, "none"), .optional("causal", .bool(false), "false")]
        let blockOptions: [BuiltinParameter] = [
            .optional("activation", .string("relu"), "\"relu\""), .optional("norm_first", .bool(false), "false"),
            .optional("eps", .number(1e-5), "1e-5"),
        ]
        let seed = BuiltinParameter.optional("seed", .none, "none")
        let seedHelp = """
            seed: a number gives the same parameters every time; none (the default) draws from
            the session's generator (see seed), so two calls give different parameters.
            """
        return [
            builtin("attention", [.required("Q"), .required("K"), .required("V")] + maskOptions, "attention",
                    "softmax(Q @ K' / sqrt(d_k) + mask) @ V, without materialising all the scores.",
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
                        """) { args in
                .tensor(try Attention.attention(queries: try args.tensor("Q"), keys: try args.tensor("K"), values: try args.tensor("V"),
                                            mask: try args.optionalTensor("mask"), causal: try args.bool("causal")))
            },
            builtin("attention_weights", [.required("Q"), .required("K")] + maskOptions, "attention",
                    "The attention weights alpha = softmax(Q @ K' / sqrt(d_k) + mask), [..., n_q, n_k].",
                    example: "attention_weights(randn(4, 8), randn(4, 8), causal=true)",
                    details: "Rows sum to 1; blocked entries are exactly 0; a row with every key blocked is all 0.\nMemory: the full [..., n_q, n_k] result.") { args in
                .tensor(try Attention.weights(queries: try args.tensor("Q"), keys: try args.tensor("K"),
                                          mask: try args.optionalTensor("mask"), causal: try args.bool("causal")))
            },
            builtin("causal_mask", [.required("n")], "attention", "[n, n]: 0 on and below the diagonal, -inf above (query i sees keys j <= i).",
                    example: "causal_mask(3)") { args in .tensor(try Masks.causal(try sizeArgument(args, "n"))) },
            builtin("padding_mask", [.required("lengths"), .optional("n", .none, "none")], "attention",
                    "[b, 1, n] from b lengths: -inf at key positions >= length; broadcasts against [b, n_q, n] scores.",
                    example: "padding_mask([2, 3], 4); padding_mask([[1, 1, 0], [1, 1, 1]])",
                    details: """
                        Given a [b, n] 0/1 attention mask (Hugging Face's attention_mask: 1 for a real token,
                        0 for padding) instead of lengths, and no n, it gives the same [b, 1, n] additive mask:
                        0 where the mask is nonzero, -inf where it is 0. ((1 - am) * -inf would be nan where
                        am is 1, since 0 * inf is nan.)
                        """) { args in
                if case .none = try args.value("n") {
                    let am = try args.tensor("lengths")
                    guard am.rank == 2 else {
                        throw TxError(.value, "value error: padding_mask needs n after a list of lengths, or a [b, n] 0/1 attention mask (got \(try args.value("lengths").typeDescription))", at: args.span("lengths"))
                    }
                    let additive = try Tensor.select(am, try Tensor(scalar: 0), try Tensor(scalar: -Float.infinity))
                    return .tensor(try additive.reshaped([am.shape[0], 1, am.shape[1]]))
                }
                let n = try sizeArgument(args, "n")
                let lengths: [Int]
                switch try args.value("lengths") {
                case .list(let list): lengths = try list.items.map { try Convert.integer($0, what: "a length", at: args.span("lengths")) }
                default:
                    let t = try args.tensor("lengths")
                    lengths = try t.values.map { try Convert.integer(.number(Double($0)), what: "a length", at: args.span("lengths")) }
                }
                return .tensor(try Masks.padding(lengths: lengths, n: n))
            },
            builtin("sinusoidal", [.required("n"), .required("d")], "attention",
                    "[n, d] positions: column 2i is sin(pos / 10000^(2i/d)), column 2i+1 is cos(pos / 10000^(2i/d)).",
                    example: "sinusoidal(4, 8)") { args in
                .tensor(try Masks.sinusoidal(try sizeArgument(args, "n"), try sizeArgument(args, "d")))
            },
            builtin("mha", [.required("xq"), .required("xkv"), .required("p"), .required("heads")] + maskOptions, "attention",
                    "Multi-head attention with p = {Wq, bq, Wk, bk, Wv, bv, Wo, bo}: [..., n_q, d] from queries xq and keys/values xkv.",
                    example: "mha(randn(4, 8), randn(6, 8), init_mha(8, seed=0), heads=2)",
                    details: """
                        W*: [d, d] (x @ W), b*: [d]. The heads split the projected d into h slices of d/h and
                        scale scores by 1/sqrt(d/h), as PyTorch's nn.MultiheadAttention. A mask of rank <= 3
                        applies to every head; a rank-4 mask [b, h, n_q, n_k] to each head.
                        Memory: Q, K, V projections (3 x [..., n, d]) plus the block buffer of attention.
                        """) { args in
                let p = try multiHead(args, "p")
                return .tensor(try p(try args.tensor("xq"), try args.tensor("xkv"), heads: try heads(args),
                                 mask: try args.optionalTensor("mask"), causal: try args.bool("causal")))
            },
            builtin("mha_weights", [.required("xq"), .required("xkv"), .required("p"), .required("heads")] + maskOptions, "attention",
                    "The per-head attention weights of mha, [..., h, n_q, n_k].",
                    example: "mha_weights(randn(4, 8), randn(4, 8), init_mha(8, seed=0), heads=2)",
                    details: """
                        Same arguments as mha: xq [..., n_q, d] gives the queries, xkv [..., n_k, d] the keys,
                        p = {Wq, bq, Wk, bk, Wv, bv, Wo, bo}, heads divides d, mask is additive (rank <= 3 for
                        every head, rank 4 [b, h, n_q, n_k] per head), causal=true hides later keys.
                        Each row of each head sums to 1 (a row whose keys are all masked is zeros).
                        PyTorch's nn.MultiheadAttention(average_attn_weights=False) gives the same.
                        Memory: the result, [..., h, n_q, n_k] floats, plus the Q, K projections.
                        """) { args in
                let p = try multiHead(args, "p")
                return .tensor(try p.weights(try args.tensor("xq"), try args.tensor("xkv"), heads: try heads(args),
                                         mask: try args.optionalTensor("mask"), causal: try args.bool("causal")))
            },
            builtin("ffn", [.x, .required("p"), .optional("activation", .string("relu"), "\"relu\"")], "attention",
                    "The position-wise feed-forward network act(x @ W1 + b1) @ W2 + b2 with p = {W1, b1, W2, b2}.",
                    example: "ffn(randn(4, 8), init_ffn(8, 32, seed=0), activation=\"gelu\")",
                    details: "W1: [d, d_ff], b1: [d_ff], W2: [d_ff, d], b2: [d]. activation: \"relu\" or \"gelu\" (exact erf form).\nMemory: one [..., n, d_ff] hidden tensor.") { args in
                .tensor(try feedForward(args, "p")(try args.tensor("x"), activation: try activation(args)))
            },
            builtin("encoder_block", [.x, .required("p"), .required("heads"), .optional("mask", .none, "none")] + blockOptions
                                     + [.optional("causal", .bool(false), "false")], "attention",
                    "An encoder block {attn, ln1, ffn, ln2}: x = ln1(x + mha(x, x)), then x = ln2(x + ffn(x)).",
                    example: "encoder_block(randn(5, 8), init_encoder_block(8, 2, 32, seed=0), heads=2)",
                    details: """
                        norm_first=true gives the pre-LN variant x = x + mha(ln1(x)), x = x + ffn(ln2(x)), as PyTorch's norm_first.
                        mask adds to the attention scores; causal=true lets position i see positions <= i only (PyTorch's
                        is_causal), skipping the hidden keys: the same result as mask=causal_mask(n), with less work.
                        Memory: a few [..., n, d] tensors, one [..., n, d_ff], and attention's block buffer.
                        """) { args in
                .tensor(try layer(EncoderBlock.self, args.record("p"), args, "p")(try args.tensor("x"), options: try options(args),
                                                                             mask: try args.optionalTensor("mask"), causal: try args.bool("causal")))
            },
            builtin("decoder_block", [.required("y"), .required("memory"), .required("p"), .required("heads"),
                                      .optional("causal", .bool(true), "true"), .optional("mask", .none, "none"),
                                      .optional("memory_mask", .none, "none")] + blockOptions, "attention",
                    "A decoder block {self_attn, ln1, cross_attn, ln2, ffn, ln3}: masked self-attention, cross-attention to memory, FFN, each with Add & Norm.",
                    example: "decoder_block(randn(3, 8), randn(5, 8), init_decoder_block(8, 2, 32, seed=0), heads=2)",
                    details: """
                        y: [..., n_y, d], memory: [..., n_m, d]. causal=true (the default) lets position i of y see
                        positions <= i; mask adds to the self-attention scores, memory_mask to the cross-attention
                        scores. norm_first=true gives pre-LN. activation, eps as encoder_block.
                        Memory: a few [..., n_y, d] tensors, one [..., n_y, d_ff], and attention's block buffers.
                        """) { args in
                .tensor(try layer(DecoderBlock.self, args.record("p"), args, "p")(try args.tensor("y"), memory: try args.tensor("memory"),
                                                                  options: try options(args), causal: try args.bool("causal"),
                                                                  mask: try args.optionalTensor("mask"), memoryMask: try args.optionalTensor("memory_mask")))
            },
            builtin("encoder", [.x, .required("p"), .required("heads"), .optional("mask", .none, "none")] + blockOptions
                               + [.optional("causal", .bool(false), "false")], "attention",
                    "An encoder stack {layers, norm}: each block in turn, then norm when present.",
                    example: "encoder(randn(5, 8), init_transformer(8, 2, 32, 2, 2, seed=0).encoder, heads=2)",
                    details: "Options as encoder_block. Memory: what one block needs; the stack keeps only the running [..., n, d].") { args in
                .tensor(try encoderStack(args.record("p"), args, "p")(try args.tensor("x"), options: try options(args),
                                                                  mask: try args.optionalTensor("mask"), causal: try args.bool("causal")))
            },
            builtin("decoder", [.required("y"), .required("memory"), .required("p"), .required("heads"),
                                .optional("causal", .bool(true), "true"), .optional("mask", .none, "none"),
                                .optional("memory_mask", .none, "none")] + blockOptions, "attention",
                    "A decoder stack {layers, norm}: each block in turn, then norm when present.",
                    example: "decoder(randn(3, 8), randn(5, 8), init_transformer(8, 2, 32, 2, 2, seed=0).decoder, heads=2)",
                    details: "Options as decoder_block. Memory: what one block needs; the stack keeps only the running [..., n, d].") { args in
                .tensor(try decoderStack(args.record("p"), args, "p")(try args.tensor("y"), memory: try args.tensor("memory"),
                                                                  options: try options(args), causal: try args.bool("causal"),
                                                                  mask: try args.optionalTensor("mask"), memoryMask: try args.optionalTensor("memory_mask")))
            },
            builtin("transformer", [.required("src"), .required("tgt"), .required("p"), .required("heads"),
                                    .optional("src_mask", .none, "none"), .optional("tgt_mask", .none, "none"),
                                    .optional("memory_mask", .none, "none"), .optional("causal", .bool(true), "true")] + blockOptions,
                    "attention",
                    "The encoder-decoder Transformer {encoder, decoder}: memory = encoder(src), then decoder(tgt, memory).",
                    example: "transformer(randn(5, 8), randn(3, 8), init_transformer(8, 2, 32, 2, 2, seed=0), heads=2)",
                    details: "As PyTorch's nn.Transformer with its final norms, except that the decoder's self-attention is causal unless causal=false.\nMemory: the encoder's output (memory) plus what one block needs at a time; blocks run one after another.") { args in
                let p = try args.record("p")
                let encoder = try encoderStack(try field(p, "encoder", in: args, "p"), args, "p.encoder")
                let decoder = try decoderStack(try field(p, "decoder", in: args, "p"), args, "p.decoder")
                let o = try options(args)
                let memory = try encoder(try args.tensor("src"), options: o, mask: try args.optionalTensor("src_mask"))
                return .tensor(try decoder(try args.tensor("tgt"), memory: memory, options: o, causal: try args.bool("causal"),
                                       mask: try args.optionalTensor("tgt_mask"), memoryMask: try args.optionalTensor("memory_mask")))
            },
            builtin("init_mha", [.required("d"), seed], "attention",
                    "Parameters for mha with nn.MultiheadAttention's initialisation (xavier-uniform in-projection, zero biases).",
                    example: "p = init_mha(8, seed=0)",
                    details: """
                        d: the model width. Returns \(MultiHeadAttention.structure).
                        Wq, Wk, Wv are xavier-uniform over PyTorch's stacked [3d, d] in-projection
                        (U(±sqrt(6 / (4d)))); Wo is nn.Linear's U(±1/sqrt(d)); every bias is 0.
                        The number of heads is not stored: give heads= to mha and the blocks.
                        \(seedHelp)
                        """) { args in
                let d = try sizeArgument(args, "d")
                return try withGenerator(args) { try record(Initializers.multiHead(d: d, &$0)) }
            },
            builtin("init_ffn", [.required("d"), .required("d_ff"), seed], "attention",
                    "Parameters for ffn with nn.Linear's initialisation (U(±1/sqrt(fan_in)) weights and biases).",
                    example: "p = init_ffn(8, 32, seed=0)",
                    details: """
                        d: the model width, d_ff: the hidden width (the lecture's base model: 512 and 2048).
                        Returns \(FeedForward.structure); W1 and b1 are
                        U(±1/sqrt(d)), W2 and b2 U(±1/sqrt(d_ff)).
                        \(seedHelp)
                        """) { args in
                let d = try sizeArgument(args, "d"), dFF = try sizeArgument(args, "d_ff")
                return try withGenerator(args) { try record(Initializers.feedForward(d: d, dFF: dFF, &$0)) }
            },
            builtin("init_layernorm", [.required("d")], "attention", "{gamma: ones(d), beta: zeros(d)}.",
                    example: "init_layernorm(4)", details: "Returns \(LayerNorm.structure), the parameters of layernorm.") { args in
                record(try Initializers.layerNorm(d: try sizeArgument(args, "d")))
            },
            builtin("init_encoder_block", [.required("d"), .required("heads"), .required("d_ff"), seed], "attention",
                    "Parameters \(EncoderBlock.structure) for encoder_block, initialised as nn.TransformerEncoderLayer.",
                    example: "p = init_encoder_block(8, 2, 32, seed=0)",
                    details: """
                        d: the model width, heads: the number of heads (checked to divide d, not stored:
                        give heads= to encoder_block too), d_ff: the FFN's hidden width.
                        attn as init_mha(d), ffn as init_ffn(d, d_ff), ln1 and ln2 as init_layernorm(d).
                        \(seedHelp)
                        """) { args in
                let (d, dFF) = try sizes(args)
                return try withGenerator(args) { try record(Initializers.encoderBlock(d: d, dFF: dFF, &$0)) }
            },
            builtin("init_decoder_block", [.required("d"), .required("heads"), .required("d_ff"), seed], "attention",
                    "Parameters \(DecoderBlock.structure) for decoder_block, initialised as nn.TransformerDecoderLayer.",
                    example: "p = init_decoder_block(8, 2, 32, seed=0)",
                    details: """
                        d: the model width, heads: the number of heads (checked to divide d, not stored:
                        give heads= to decoder_block too), d_ff: the FFN's hidden width.
                        self_attn and cross_attn as init_mha(d), ffn as init_ffn(d, d_ff), ln1..ln3 as
                        init_layernorm(d).
                        \(seedHelp)
                        """) { args in
                let (d, dFF) = try sizes(args)
                return try withGenerator(args) { try record(Initializers.decoderBlock(d: d, dFF: dFF, &$0)) }
            },
            builtin("init_transformer", [.required("d"), .required("heads"), .required("d_ff"), .required("n_enc"), .required("n_dec"), seed],
                    "attention",
                    "Parameters {encoder, decoder} for transformer, initialised as nn.Transformer (xavier-uniform for every matrix), with final norms.",
                    example: "p = init_transformer(8, 2, 32, 2, 2, seed=0)",
                    details: """
                        d, heads, d_ff as init_encoder_block; n_enc and n_dec: the number of encoder and
                        decoder blocks. Returns {encoder: {layers: [n_enc encoder blocks], norm},
                        decoder: {layers: [n_dec decoder blocks], norm}}, norm as init_layernorm(d).
                        As nn.Transformer, every weight matrix is xavier-uniform over its own shape;
                        biases follow nn.Linear (attention biases 0). heads= is needed again by transformer.
                        \(seedHelp)
                        """) { args in
                let (d, dFF) = try sizes(args)
                let nEnc = try sizeArgument(args, "n_enc"), nDec = try sizeArgument(args, "n_dec")
                // The lists of blocks are made at their full length first.
                try Memory.checkRoom(for: (nEnc + nDec) * MemoryLayout<Value>.stride, "\(nEnc + nDec) blocks")
                return try withGenerator(args) { random in
                    let encoderLayers = try (0..<nEnc).map { _ in
                        try Interrupt.check()
                        return try record(Initializers.encoderBlock(d: d, dFF: dFF, allXavier: true, &random))
                    }
                    let decoderLayers = try (0..<nDec).map { _ in
                        try Interrupt.check()
                        return try record(Initializers.decoderBlock(d: d, dFF: dFF, allXavier: true, &random))
                    }
                    return .record(RecordValue([
                        ("encoder", .record(RecordValue([("layers", .list(ListValue(encoderLayers))), ("norm", record(try Initializers.layerNorm(d: d)))]))),
                        ("decoder", .record(RecordValue([("layers", .list(ListValue(decoderLayers))), ("norm", record(try Initializers.layerNorm(d: d)))]))),
                    ]))
                }
            },
        ]
    }

    // MARK: Arguments

    private static func heads(_ args: Arguments) throws -> Int {
        let h = try args.int("heads")
        guard h > 0 else { throw TxError(.value, "value error: \(args.builtin.name): heads must be positive, got \(h)", at: args.span("heads")) }
        return h
    }

    private static func activation(_ args: Arguments) throws -> Activation {
        let name = try args.string("activation")
        guard let a = Activation(rawValue: name) else {
            throw TxError(.value, "value error: \(args.builtin.name): activation must be \"relu\" or \"gelu\", got \"\(name)\"", at: args.span("activation"))
        }
        return a
    }

    private static func options(_ args: Arguments) throws -> BlockOptions {
        BlockOptions(heads: try heads(args), activation: try activation(args), normFirst: try args.bool("norm_first"),
                     eps: Float(try args.number("eps")))
    }

    private static func sizes(_ args: Arguments) throws -> (Int, Int) {
        let d = try sizeArgument(args, "d"), h = try heads(args), dFF = try sizeArgument(args, "d_ff")
        guard d % h == 0 else {
            throw TxError(.value, "value error: \(args.builtin.name): d = \(d) is not divisible by heads = \(h)", at: args.span("heads"))
        }
        return (d, dFF)
    }

    /// Runs `body` with the generator of `seed=`, or the session's when no seed is given.
    private static func withGenerator(_ args: Arguments, _ body: (inout RandomGenerator) throws -> Value) throws -> Value {
        if try args.value("seed").isNone { return try body(&args.interpreter.random) }
        var random = RandomGenerator(seed: UInt64(bitPattern: Int64(try args.int("seed"))))
        return try body(&random)
    }

    // MARK: Records to parameters

    private static func field(_ record: RecordValue, _ name: String, in args: Arguments, _ path: String) throws -> RecordValue {
        guard let value = record[name] else { throw missing(name, record, args, path) }
        guard case .record(let inner) = value else {
            throw TxError(.type, "type error: \(args.builtin.name): \(path).\(name) must be a record, got \(article(value.typeDescription))", at: args.span("p"))
        }
        return inner
    }

    private static func missing(_ name: String, _ record: RecordValue, _ args: Arguments, _ path: String) -> TxError {
        let present = record.keys.isEmpty ? "no fields" : "fields " + record.keys.joined(separator: ", ")
        return TxError(.name, "name error: \(args.builtin.name): the parameter record \(path) has no field '\(name)' (it has \(present))", at: args.span("p"))
    }

    private static func tensor(_ record: RecordValue, _ name: String, _ args: Arguments, _ path: String) throws -> Tensor {
        guard let value = record[name] else { throw missing(name, record, args, path) }
        guard let t = try Convert.tensor(value, at: args.span("p")) else {
            throw TxError(.type, "type error: \(args.builtin.name): \(path).\(name) must be a tensor, got \(article(value.typeDescription))", at: args.span("p"))
        }
        return t
    }

    private static func multiHead(_ args: Arguments, _ name: String) throws -> MultiHeadAttention {
        try layer(MultiHeadAttention.self, try args.record(name), args, name)
    }

    private static func feedForward(_ args: Arguments, _ name: String) throws -> FeedForward {
        try layer(FeedForward.self, try args.record(name), args, name)
    }

    /// The layer of type `L` that record `r` (at `path` in the argument p) describes,
    /// field by field as `L.fields` declares them.
    private static func layer<L: ParameterLayer>(_ type: L.Type, _ r: RecordValue, _ args: Arguments, _ path: String) throws -> L {
        try L(parts: try parts(of: L.self, r, args, path))
    }

    private static func parts(of type: any ParameterLayer.Type, _ r: RecordValue, _ args: Arguments,
                              _ path: String) throws -> [ParameterPart] {
        try type.fields.map { declared in
            switch declared {
            case .tensor(let name, _):
                return .tensor(try tensor(r, name, args, path))
            case .layer(let name, let inner):
                let sub = try field(r, name, in: args, path)
                return .layer(try inner.init(parts: try parts(of: inner, sub, args, path + "." + name)))
            }
        }
    }

    private static func layers(_ r: RecordValue, _ args: Arguments, _ path: String) throws -> [RecordValue] {
        guard let value = r["layers"] else { throw missing("layers", r, args, path) }
        guard case .list(let list) = value else {
            throw TxError(.type, "type error: \(args.builtin.name): \(path).layers must be a list of records, got \(article(value.typeDescription))", at: args.span("p"))
        }
        return try list.items.enumerated().map { i, item in
            guard case .record(let layer) = item else {
                throw TxError(.type, "type error: \(args.builtin.name): \(path).layers[\(i)] must be a record, got \(article(item.typeDescription))", at: args.span("p"))
            }
            return layer
        }
    }

    /// `norm` may be none or missing.
    private static func optionalNorm(_ r: RecordValue, _ args: Arguments, _ path: String) throws -> LayerNorm? {
        guard let value = r["norm"], !value.isNone else { return nil }
        return try layer(LayerNorm.self, try field(r, "norm", in: args, path), args, path + ".norm")
    }

    private static func encoderStack(_ r: RecordValue, _ args: Arguments, _ path: String) throws -> Encoder {
        Encoder(layers: try layers(r, args, path).enumerated().map { try layer(EncoderBlock.self, $1, args, "\(path).layers[\($0)]") },
                norm: try optionalNorm(r, args, path))
    }

    private static func decoderStack(_ r: RecordValue, _ args: Arguments, _ path: String) throws -> Decoder {
        Decoder(layers: try layers(r, args, path).enumerated().map { try layer(DecoderBlock.self, $1, args, "\(path).layers[\($0)]") },
                norm: try optionalNorm(r, args, path))
    }

    // MARK: Parameters to records

    /// The record of a layer, field by field as its type declares them.
    private static func record(_ layer: any ParameterLayer) -> Value {
        let fields = type(of: layer).fields
        return .record(RecordValue(zip(fields, layer.parts).map { declared, part in
            switch part {
            case .tensor(let t): return (declared.name, .tensor(t))
            case .layer(let inner): return (declared.name, record(inner))
            }
        }))
    }
}
