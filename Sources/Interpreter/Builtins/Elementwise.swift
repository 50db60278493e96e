import Lang
import Tensor

extension Library {
    static func elementwise() -> [Builtin] {
        let unary: [(String, UnaryOp, String, String)] = [
            ("exp", .exp, "e to the power x, elementwise.", "exp(1)"),
            ("log", .log, "The natural logarithm, elementwise.", "log([1, 10, 100])"),
            ("sqrt", .sqrt, "The square root, elementwise.", "sqrt(8)"),
            ("abs", .abs, "The absolute value, elementwise.", "abs([-1, 2])"),
            ("tanh", .tanh, "The hyperbolic tangent, elementwise.", "tanh([0, 1])"),
            ("sin", .sin, "The sine, elementwise.", "sin(pi / 2)"),
            ("cos", .cos, "The cosine, elementwise.", "cos(0)"),
            ("sigmoid", .sigmoid, "1 / (1 + exp(-x)), elementwise.", "sigmoid([0, 2])"),
            ("relu", .relu, "max(0, x), elementwise.", "relu([-1, 2])"),
            ("gelu", .gelu, "The exact GELU x * Phi(x) = x/2 * (1 + erf(x / sqrt(2))), elementwise.", "gelu([-1, 0, 1])"),
            ("floor", .floor, "The largest integer <= x, elementwise.", "floor([-1.5, 2.7])"),
            ("ceil", .ceil, "The smallest integer >= x, elementwise.", "ceil([-1.5, 2.2])"),
            ("round", .round, "The nearest integer, halves to even (as NumPy and Python), elementwise.", "round([0.5, 1.5, -2.5, 2.7])"),
        ]
        var table = unary.map { name, op, summary, example in
            builtin(name, .numeric("x"), summary: summary + " Numbers give numbers, tensors tensors.", example: example) { _, x in
                switch x {
                case .number(let n): .number(Tensor.apply(op, to: n))
                case .tensor(let t): .tensor(try t.map(op))
                }
            }
        }
        let pairs: [(String, BinaryOp, String)] = [
            ("maximum", .maximum, "The larger of a and b, elementwise with broadcasting; NaN on either side gives NaN, as in NumPy."),
            ("minimum", .minimum, "The smaller of a and b, elementwise with broadcasting; NaN on either side gives NaN, as in NumPy."),
        ]
        for (name, op, summary) in pairs {
            table.append(builtin(name, .numeric("a"), .numeric("b"), summary: summary, example: "\(name)([1, 5], 3)") { _, a, b in
                if case .number(let a) = a, case .number(let b) = b {
                    return .number(op == .maximum ? propagatingMaximum(a, b) : propagatingMinimum(a, b))
                }
                let a = try a.tensor(), b = try b.tensor()
                return .tensor(Convert.keepingMask(try Tensor.binary(op, a, b), of: [a, b]))
            })
        }
        table.append(builtin("where", .tensor("cond"), .tensor("a"), .tensor("b"),
                             summary: "a where cond is nonzero, else b; all three broadcast together.",
                             example: "where([1, 0, 1], [1, 2, 3], 0)") { _, cond, a, b in
            .tensor(Convert.keepingMask(try Tensor.select(cond, a, b), of: [a, b]))
        })
        table.append(builtin("clip", .numeric("x"), .optionalNumber("lo"), .optionalNumber("hi"),
                             summary: "x limited to [lo, hi], as NumPy's clip and PyTorch's clamp; either bound may be none.",
                             example: "clip([-2, 0.5, 3], 0, 1)",
                             details: "min(max(x, lo), hi): with lo > hi every entry is hi, and NaN stays NaN, as both libraries. The gradient is PyTorch clamp's: 1 where lo <= x <= hi (the bounds included), else 0.") { args, x, lo, hi in
            guard lo != nil || hi != nil else {
                throw TxError(.value, "clip needs lo or hi (or both); with neither it would return x", at: args.span)
            }
            switch x {
            case .number(let n):
                var v = n
                if let lo { v = propagatingMaximum(v, lo) }
                if let hi { v = propagatingMinimum(v, hi) }
                return .number(v)
            case .tensor(let t):
                return .tensor(try t.clipped(lo: lo.map(Float.init), hi: hi.map(Float.init)))
            }
        })
        return table
    }
}
