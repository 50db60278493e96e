import Lang
import Tensor
import Transformer

extension Library {
    static func neural() -> [Builtin] {
        [
            builtin("softmax", [.x, .optional("axis", .number(-1), "-1")], "neural",
                    "exp(x) / sum(exp(x)) along axis, computed stably; a row of all -inf gives zeros.",
                    example: "softmax([1, 2, 3])") { args in
                .tensor(try args.tensor("x").softmax(axis: try args.int("axis")))
            },
            builtin("layernorm", [.x, .required("gamma"), .required("beta"), .optional("eps", .number(1e-5), "1e-5")], "neural",
                    "Normalises each row (last axis) to mean 0, variance 1, then gamma * x + beta (as PyTorch).",
                    example: "layernorm(randn(4, 8), ones(8), zeros(8))",
                    details: "x: [..., d]; gamma, beta: [d]. Uses the biased variance and eps inside the square root, as nn.LayerNorm.") { args in
                .tensor(try args.tensor("x").layerNormalized(gamma: try args.tensor("gamma"), beta: try args.tensor("beta"),
                                                         eps: Float(try args.number("eps"))))
            },
            builtin("linear", [.x, .required("W"), .optional("b", .none, "none")], "neural",
                    "x @ W + b with W of shape [d_in, d_out] (the row-vector convention).",
                    example: "linear(ones(2, 3), ones(3, 4), zeros(4))",
                    details: "A layer's shapes (x [..., d_in], W [d_in, d_out], b [d_out]) go through the code of ffn and mha, so the three agree bit for bit; other shapes (a batch of W, a b that broadcasts) are x @ W + b.") { args in
                let x = try args.tensor("x"), W = try args.tensor("W"), b = try args.optionalTensor("b")
                if x.rank >= 1, W.rank == 2, b == nil || b?.shape == [W.shape[1]] { return .tensor(try affine(x, W, b)) }
                let product = try Tensor.matmul(x, W)
                return .tensor(try b.map { try Tensor.binary(.add, product, $0) } ?? product)
            },
        ]
    }
}
