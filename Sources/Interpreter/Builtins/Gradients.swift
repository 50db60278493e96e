import Lang
import Tensor

extension Library {
    static func gradients() -> [Builtin] {
        [
            builtin("grad", .function("f"), .wrt,
                    summary: "The gradient of f: a function with f's parameters that returns the gradient of f's result with respect to its first parameter (or those named by wrt).",
                    example: "grad(fn(x) = x ^ 3 - 2 * x)(3)",
                    details: Gradients.details) { _, f, wrt in
                try Gradients.transform(f, wrt: wrt, name: "grad", valueToo: false)
            },
            builtin("value_and_grad", .function("f"), .wrt,
                    summary: "Like grad, but the function returns {value, grad}: f's result and its gradient, from one run of f.",
                    example: "value_and_grad(fn(w, x) = sum((x @ w) ^ 2), wrt=[\"w\"])(ones(2, 1), [[1, 2]])",
                    details: """
                        value is what f returned: a number, a one-element tensor, or a record whose loss field is
                        differentiated and whose other fields come back untouched (as JAX's has_aux).
                        grad is as grad(f, wrt) gives it. See :help grad.
                        """) { _, f, wrt in
                try Gradients.transform(f, wrt: wrt, name: "value_and_grad", valueToo: true)
            },
            builtin("stop_gradient", .value("x"),
                    summary: "x itself, through which no gradient flows: inside f, grad treats it as a constant.",
                    example: "grad(fn(x) = x * stop_gradient(x))(3)",
                    details: "Records and lists are walked: every tensor in them is cut off. Outside grad it changes nothing.") { _, x in
                Gradients.detached(x)
            },
            builtin("jacobian", .function("f"),
                    summary: "The Jacobian of f: a function with f's parameters giving d f(x) / d x for its first parameter x, shaped [out..., in...].",
                    example: "jacobian(fn(x) = x ^ 2)([1, 2, 3])",
                    details: """
                        x must be a number or a tensor and f must return one; for a number x and a result of one
                        element and no axes, the derivative is a number.
                        One backward pass per element of f's result, so it is for small functions (at most 2^24
                        entries).
                        """) { _, f in
                try Gradients.jacobian(f)
            },
            builtin("check_grad", .value("f"), .rest("args"), .argument("step", default: .number(3e-3), shown: "3e-3"),
                    summary: "Checks grad(f) at args against finite differences along a random direction; returns the relative error.",
                    example: "check_grad(fn(x) = sum(tanh(x) ^ 2), randn(3, 4)) < 1e-2",
                    details: """
                        Every number and tensor in args (also inside records and lists) moves along one random
                        direction v (fixed, the same every call); the gradient's dot product with v is compared
                        with (f(args + step v) - f(args - step v)) / (2 step). The error is
                        |analytic - numeric| / max(|analytic|, |numeric|), 0 when both are 0. In float32 a step
                        near 3e-3 balances rounding against curvature; errors below 1e-2 are agreement.
                        """) { args, f, inputs, step in
                try Gradients.check(f, inputs, step: step, args)
            },
        ]
    }

    /// Builtins through which no gradient flows, and why; `:help` shows the reason. Any
    /// other builtin whose tensor result is cut off from a tensor argument the gradient
    /// tracks is an error (see `Gradients.checkFlow`).
    static let withoutGradient: [String: String] = [
        "argmax": "an index", "argmin": "an index", "item": "a number read from the tensor",
        "all": "a truth value", "any": "a truth value", "print_options": "settings",
        "zeros_like": "only x's shape is used", "ones_like": "only x's shape is used",
        "shape": "a shape", "size": "a count", "rank": "a count",
        "stop_gradient": "it cuts the gradient on purpose",
        "tokenize": "token ids", "tokens": "token ids", "number": "a number read from the tensor", "sinusoidal": "a constant of n and d",
        "heatmap": "it shows values", "plot": "it shows values", "savefig": "it writes a file", "save": "it writes a file",
        "print": "it shows values", "str": "text", "format": "text", "assert": "a check",
        "assert_close": "a check", "expect_error": "a check", "len": "a count", "type": "a name",
        "padding_mask": "a mask", "causal_mask": "a mask",
        "zeros": "a constant", "ones": "a constant", "full": "a constant", "eye": "a constant",
        "arange": "a constant", "linspace": "a constant", "randn": "random values", "rand": "random values",
        "init_mha": "fresh parameters", "init_ffn": "fresh parameters", "init_layernorm": "fresh parameters",
        "init_encoder_block": "fresh parameters", "init_decoder_block": "fresh parameters",
        "init_transformer": "fresh parameters", "tensor": "the value itself",
        "sgd": "an optimiser's settings", "adam": "an optimiser's settings", "adamw": "an optimiser's settings",
        "step": "it updates parameters in place", "clip_grad_norm": "it scales a gradient in place",
        "warmup_cosine": "a number", "topk": "values and indices read out of x", "multinomial": "random draws",
        "sample": "a random draw", "argsort": "positions", "one_hot": "a constant of the ids", "randint": "random values", "progress": "a range", "vocabulary": "text", "encode": "ids", "decode": "text", "get_batch": "ids",
    ]

    /// Parameters through which no gradient flows (conditions and masks that select).
    static let parametersWithoutGradient: [String: Set<String>] = [
        "where": ["cond"], "sum": ["where"], "mean": ["where"],
    ]
}

// MARK: Parameters

extension Param where T == Gradients.FunctionArgument {
    /// A function value (a user function or a builtin).
    fileprivate static func function(_ name: String) -> Param {
        .required(name) { args, name in
            let f = try args.value(name)
            guard let parameters = Gradients.parameterNames(of: f) else { throw args.typeError(name, expected: "a function", got: f) }
            return Gradients.FunctionArgument(value: f, parameters: parameters, span: args.span(name))
        }
    }
}

extension Param where T == Gradients.WithRespectTo {
    /// wrt=: none, a parameter name, or a list of them.
    fileprivate static var wrt: Param {
        .optional("wrt", default: .none, shown: "none") { args, name in
            let span = args.span(name)
            switch try args.value(name) {
            case .none: return Gradients.WithRespectTo(names: nil, asRecord: false, span: span)
            case .string(let s): return Gradients.WithRespectTo(names: [s.text], asRecord: false, span: span)
            case .list(let list):
                let names = try list.items.map { item in
                    guard case .string(let s) = item else {
                        throw TxError(.type, "\(args.builtin.name) expects parameter names (strings) in 'wrt', got \(article(item.typeDescription))", at: span)
                    }
                    return s.text
                }
                return Gradients.WithRespectTo(names: names, asRecord: true, span: span)
            case let other:
                throw args.typeError(name, expected: "a parameter name or a list of them", got: other)
            }
        }
    }
}
