import Lang
import Tensor
import Transformer

extension Library {
    static func neural() -> [Builtin] {
        [
            builtin("softmax", .tensor("x"), .int("axis", default: -1),
                    summary: "exp(x) / sum(exp(x)) along axis, computed stably; a row of all -inf gives zeros.",
                    example: "softmax([1, 2, 3])") { _, x, axis in
                .tensor(try x.softmax(axis: axis))
            },
            builtin("layernorm", .tensor("x"), .tensor("gamma"), .tensor("beta"), .number("eps", default: 1e-5, shown: "1e-5"),
                    summary: "Normalises each row (last axis) to mean 0, variance 1, then gamma * x + beta (as PyTorch).",
                    example: "layernorm(randn(4, 8), ones(8), zeros(8))",
                    details: "x: [..., d]; gamma, beta: [d]. Uses the biased variance and eps inside the square root, as nn.LayerNorm.") { _, x, gamma, beta, eps in
                .tensor(try x.layerNormalized(gamma: gamma, beta: beta, eps: Float(eps)))
            },
            builtin("linear", .tensor("x"), .tensor("W"), .optionalTensor("b"),
                    summary: "x @ W + b with W of shape [d_in, d_out] (the row-vector convention).",
                    example: "linear(ones(2, 3), ones(3, 4), zeros(4))",
                    details: "A layer's shapes (x [..., d_in], W [d_in, d_out], b [d_out]) go through the code of ffn and mha, so the three agree bit for bit; other shapes (a batch of W, a b that broadcasts) are x @ W + b.") { _, x, W, b in
                if x.rank >= 1, W.rank == 2, b == nil || b?.shape == [W.shape[1]] { return .tensor(try affine(x, W, b)) }
                let product = try Tensor.matmul(x, W)
                guard let b else { return .tensor(product) }
                do {
                    return .tensor(try Tensor.binary(.add, product, b))
                } catch let error as TensorError where error.kind == .shape {
                    throw error.blaming("b")
                }
            },
            builtin("cosine", .tensor("a"), .tensor("b"), .int("axis", default: -1),
                    summary: "The cosine similarity of a and b along axis: sum(a * b) / (norm(a) * norm(b)), with broadcasting.",
                    example: "cosine([1, 0], [[1, 0], [1, 1], [0, 1]])",
                    details: "As PyTorch's cosine_similarity: the product of the norms is clamped to at least 1e-8, so a zero vector gives 0.") { _, a, b, axis in
                let dot = try Tensor.binary(.multiply, a, b).reduce(.sum, axes: [axis])
                let norms = try Tensor.binary(.multiply, try a.norm(axes: [axis]), try b.norm(axes: [axis]))
                return .tensor(try Tensor.binary(.divide, dot, try Tensor.binary(.maximum, norms, try Tensor(scalar: 1e-8))))
            },
            builtin("similarity", .tensor("a"), .optionalTensor("b"),
                    summary: "The matrix of cosine similarities between the rows of a [n, d] and of b [m, d] (default: a): [n, m].",
                    example: "similarity([[1, 0], [1, 1], [0, 1]])",
                    details: "As sentence-transformers' cos_sim: each row is divided by its norm (at least 1e-8), then a @ b'. A 1-D a or b is one row.") { _, a, b in
                let a = try unitRows(a)
                let b = try b.map(unitRows) ?? a
                return .tensor(try Tensor.matmul(a, try b.swappingLastAxes()))
            },
            builtin("einsum", .string("spec"), .rest("operands"),
                    summary: "Einstein summation, as torch.einsum: einsum(\"qd,kd->qk\", Q, K) is Q @ K'; '...' for batch axes, any number of operands, ii for diagonals.",
                    example: "einsum(\"ij,jk->ik\", [[1, 2], [3, 4]], eye(2))",
                    details: """
                        One letter (a-z, A-Z) per axis. A letter in two operands and in the output is
                        a batch axis, in two but not the output is summed over (contracted), in one
                        operand only is kept when the output names it and summed there first
                        otherwise. '...' stands for the axes no letter names, aligned from the right
                        and broadcast as in x + y (einsum("...qd,...kd->...qk", Q, K) on [b, h, n, d]);
                        an axis of size 1 broadcasts against its letter's size elsewhere. A letter
                        repeated in one operand takes the diagonal: einsum("ii->i", A) is A's
                        diagonal, einsum("ii", A) its trace, einsum("bii->b", X) a batch of traces.
                        Without '->' the output is '...' and then the letters that appear once, in
                        alphabetical order (uppercase first); with '->' and no '...' in the output,
                        the '...' axes are summed (as PyTorch). Three or more operands are contracted
                        two at a time, the pair with the smallest result first (the leftmost among
                        equals, as opt_einsum's greedy order; PyTorch without opt_einsum goes left to
                        right: the results differ by float rounding only). Each contraction is one
                        matrix product through BLAS with the permutations as views, so
                        einsum("qd,kd->qk", Q, K) equals Q @ K' bit for bit, and the gradient is the
                        product's (a diagonal's gradient is written onto the diagonal of zeros).
                        """) { args, spec, operands in
                let tensors = try zip(operands, args.restSpans).map { value, span in
                    guard let t = try Convert.tensor(value, at: span) else {
                        throw TxError(.type, "einsum's operands are tensors, got \(article(value.typeDescription))", at: span)
                    }
                    return t
                }
                do {
                    return .tensor(try Tensor.einsum(spec, tensors))
                } catch let error as TensorError where error.culprit?.role == "operand" {
                    // The operand at fault: its size or its rank does not fit the spec.
                    guard let i = error.culprit?.value, args.restSpans.indices.contains(i) else { throw error }
                    throw TxError(error, at: args.restSpans[i])
                } catch let error as TensorError where error.kind == .value {
                    throw error.blaming("spec")
                }
            },
            builtin("dropout", .tensor("x"), .number("p"), .bool("train", default: true),
                    summary: "Inverted dropout, as torch.nn.functional.dropout: each entry zeroed with probability p, the rest scaled by 1/(1-p).",
                    example: "seed(0); dropout(ones(2, 4), 0.5)",
                    details: """
                        Draws come from the session's generator (see seed), one uniform per entry in
                        row-major order: an entry is dropped when its draw is below p. train=false, or
                        p = 0, returns x itself. p = 1 drops every entry (zeros, as PyTorch); p outside
                        [0, 1] is a value error. The gradient is g times the same mask and scale, so
                        evaluation (train=false) needs no rescaling.
                        """) { args, x, p, train in
                guard p >= 0, p <= 1 else { throw TensorError.value("dropout: p must be in [0, 1], got \(TensorFormatter.formatNumber(p))").blaming("p") }
                if !train || p == 0 { return .tensor(x) }
                let mask = try Tensor.dropoutMask(x.shape, p: p, using: &args.interpreter.random)
                return .tensor(try Tensor.binary(.multiply, x, mask))
            },
            builtin("one_hot", .tensor("ids"), .size("n"),
                    summary: "Rows of n zeros with a 1 at each id, as float32 (torch.nn.functional.one_hot): [..., n].",
                    example: "one_hot([0, 2, 1], 3)",
                    details: "Every id must be an integer in 0..<n (a value error otherwise). cross_entropy takes the ids themselves; one_hot is for targets written out, or for counting: sum(one_hot(ids, n), axis=0).") { _, ids, n in
                do {
                    return .tensor(try ids.oneHot(classes: n))
                } catch let error as TensorError {
                    throw error.blaming("ids")
                }
            },
        ]
    }
}

/// The rows of a [n, d] matrix (a 1-D tensor is one row) scaled to length 1; a zero
/// row stays zero.
private func unitRows(_ x: Tensor) throws -> Tensor {
    guard x.rank == 1 || x.rank == 2 else {
        throw TensorError.shape(in: "similarity", "rows of a [n, d] matrix are compared, got \(describe(shape: x.shape))")
    }
    let rows = x.rank == 1 ? try x.reshaped([1, x.shape[0]]) : x
    let norms = try rows.norm(axes: [1], keepdims: true)
    return try Tensor.binary(.divide, rows, try Tensor.binary(.maximum, norms, try Tensor(scalar: 1e-8)))
}
