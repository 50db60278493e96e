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
            builtin(name, [.x], "elementwise", summary + " Numbers give numbers, tensors tensors.", example: example) { args in
                let v = try args.value("x")
                if case .number(let n) = v { return .number(Tensor.apply(op, to: n)) }
                return .tensor(try args.tensor("x").map(op))
            }
        }
        let pairs: [(String, BinaryOp, String)] = [
            ("maximum", .maximum, "The larger of a and b, elementwise with broadcasting; NaN on either side gives NaN, as in NumPy."),
            ("minimum", .minimum, "The smaller of a and b, elementwise with broadcasting; NaN on either side gives NaN, as in NumPy."),
        ]
        for (name, op, summary) in pairs {
            table.append(builtin(name, [.required("a"), .required("b")], "elementwise", summary,
                                 example: "\(name)([1, 5], 3)") { args in
                if case .number(let a) = try args.value("a"), case .number(let b) = try args.value("b") {
                    return .number(op == .maximum ? propagatingMaximum(a, b) : propagatingMinimum(a, b))
                }
                let a = try args.tensor("a"), b = try args.tensor("b")
                return .tensor(Convert.keepingMask(try Tensor.binary(op, a, b), of: [a, b]))
            })
        }
        table.append(builtin("where", [.required("cond"), .required("a"), .required("b")], "elementwise",
                             "a where cond is nonzero, else b; all three broadcast together.",
                             example: "where([1, 0, 1], [1, 2, 3], 0)") { args in
            let a = try args.tensor("a"), b = try args.tensor("b")
            return .tensor(Convert.keepingMask(try Tensor.select(try args.tensor("cond"), a, b), of: [a, b]))
        })
        return table
    }

    static func reductions() -> [Builtin] {
        let simple: [(String, Reduction, String, String)] = [
            ("sum", .sum, "The sum of x's elements, over axis or all axes.", "sum([[1, 2], [3, 4]], axis=0)"),
            ("mean", .mean, "The mean of x's elements, over axis or all axes.", "mean([1, 2, 3, 4])"),
            ("max", .max, "The largest element, over axis or all axes (of two values: maximum(a, b)).", "max([[1, 5], [3, 2]], axis=1)"),
            ("min", .min, "The smallest element, over axis or all axes (of two values: minimum(a, b)).", "min([3, 1, 2])"),
            ("argmax", .argmax, "The index of the largest element (the first on ties); over all axes, a flat index.", "argmax([3, 7, 2])"),
            ("argmin", .argmin, "The index of the smallest element (the first on ties); over all axes, a flat index.", "argmin([3, 7, 2])"),
            ("logsumexp", .logsumexp, "log(sum(exp(x))), computed stably.", "logsumexp([0, 0])"),
        ]
        let pairwise = ["max": "the larger of two values use maximum(a, b)", "min": "the smaller of two values use minimum(a, b)"]
        let note = "Without axis the result is a 0-d tensor; item() turns it into a number. keepdims=true keeps reduced axes with size 1."
        var table = simple.map { name, reduction, summary, example in
            let averages: Bool? = switch reduction {
            case .sum: false
            case .mean: true
            default: nil
            }
            if let averages {
                return builtin(name, [.x, .axisAll, .keepdims, .optional("where", .none, "none")], "reduction", summary,
                               example: example + "; \(name)([[1, 2], [3, 4]], axis=1, where=[[1, 0], [1, 1]])",
                               details: note + " where= (as NumPy's) counts only the elements where it is nonzero; it broadcasts against x, so a [b, n] 0/1 attention mask over [b, n, d] states is where=am[:, :, none] (a masked mean).") { args in
                    let x = try args.tensor("x"), axes = try args.axes("axis"), keepdims = try args.bool("keepdims")
                    guard let condition = try args.optionalTensor("where") else {
                        return .tensor(try x.reduce(reduction, axes: axes, keepdims: keepdims))
                    }
                    return .tensor(try maskedReduction(x, where: condition, mean: averages, axes: axes, keepdims: keepdims))
                }
            }
            return builtin(name, [.x, .axisAll, .keepdims], "reduction", summary, example: example, details: note) { args in
                let x = try args.tensor("x")
                do {
                    return .tensor(try x.reduce(reduction, axes: try args.axes("axis"), keepdims: try args.bool("keepdims")))
                } catch let error as TensorError {
                    // max(1, 2) reads 2 as an axis, as NumPy does; say what was likely meant.
                    guard x.rank == 0, error.kind == .index, let axis = error.culprit?.value, let meant = pairwise[name] else { throw error }
                    throw TensorError(error.kind, error.message + " (for \(meant))").blaming("axis", axis)
                }
            }
        }
        let spread: [(String, (Int) -> Reduction, String, String)] = [
            ("var", { .variance(ddof: $0) }, "The variance (population form; ddof=1 for the sample form).", "var([1, 2, 3, 4])"),
            ("std", { .standardDeviation(ddof: $0) }, "The standard deviation (population form; ddof=1 for the sample form).", "std([1, 2, 3, 4])"),
        ]
        for (name, reduction, summary, example) in spread {
            table.append(builtin(name, [.x, .axisAll, .keepdims, .optional("ddof", .number(0), "0")], "reduction",
                                 summary, example: example, details: note) { args in
                .tensor(try args.tensor("x").reduce(reduction(try args.int("ddof")), axes: try args.axes("axis"), keepdims: try args.bool("keepdims")))
            })
        }
        table.append(builtin("norm", [.x, .axisAll, .keepdims], "reduction",
                             "The Euclidean norm sqrt(sum(x^2)): of all of x's elements (Frobenius), or along axis.",
                             example: "norm([[3, 4], [6, 8]], axis=-1)",
                             details: "x / norm(x, axis=-1, keepdims=true) scales each row to length 1.") { args in
            let x = try args.tensor("x")
            guard let axes = try args.axes("axis") else {
                let total = try x.norm()
                return .tensor(try args.bool("keepdims") ? total.reshaped([Int](repeating: 1, count: x.rank)) : total)
            }
            return .tensor(try x.norm(axes: axes, keepdims: try args.bool("keepdims")))
        })
        let truthNote = """
            As NumPy's all and any: nan counts as nonzero; over no elements all is true and any false.
            Without axis the result is a bool (for if, assert, && and ||); with axis, a mask of the
            remaining axes. x may also be a list: each item is a bool, a number or a one-element tensor.
            """
        table.append(builtin("all", [.x, .axisAll, .keepdims], "reduction",
                             "Whether every element of x is nonzero: true or false over all of x, a mask along axis.",
                             example: "all([1, 2, 3] > 0); all([[1, 0], [1, 1]], axis=1)", details: truthNote) { args in
            try truthReduction(args, every: true)
        })
        table.append(builtin("any", [.x, .axisAll, .keepdims], "reduction",
                             "Whether some element of x is nonzero: true or false over all of x, a mask along axis.",
                             example: "any([0, 0, 3]); any([[1, 0], [0, 0]], axis=1)", details: truthNote) { args in
            try truthReduction(args, every: false)
        })
        table.append(builtin("item", [.x], "reduction", "The number held by a one-element tensor (or a number).",
                             example: "item(sum([1, 2]))") { args in
            let v = try args.value("x")
            guard let n = Convert.number(v) else {
                if case .tensor(let t) = v {
                    throw TxError(.value, "value error: item needs a one-element tensor, got a tensor \(describe(shape: t.shape))", at: args.span("x"))
                }
                throw args.typeError("x", expected: "a one-element tensor", got: v)
            }
            return .number(n)
        })
        return table
    }
}

/// all and any: over a list's items, over all of a tensor (a bool), or along axes (a mask).
private func truthReduction(_ args: Arguments, every: Bool) throws -> Value {
    if case .list(let l) = try args.value("x") {
        guard try args.value("axis").isNone else {
            throw TxError(.type, "type error: \(args.builtin.name) of a list takes no axis", at: args.span("axis"))
        }
        for item in l.items where try Convert.truth(item, context: "\(args.builtin.name) of a list item", at: args.span("x")) != every {
            return .bool(!every)
        }
        return .bool(every)
    }
    let x = try args.tensor("x"), axes = try args.axes("axis"), keepdims = try args.bool("keepdims")
    // Count the elements that decide: zeros for all, nonzeros for any.
    let deciding = try Tensor.binary(every ? .equal : .notEqual, x, scalar: 0)
    let count = try deciding.reduce(.sum, axes: axes, keepdims: keepdims)
    guard axes != nil else {
        let found = (count.scalarValue ?? 0) > 0
        return .bool(every ? !found : found)
    }
    return .tensor(try Tensor.binary(every ? .equal : .greater, count, scalar: 0).markedAsMask())
}

/// sum or mean of x counting only the elements where `condition` (broadcast to x's shape)
/// is nonzero, as NumPy's `where=`; a mean over no elements is nan.
func maskedReduction(_ x: Tensor, where condition: Tensor, mean: Bool, axes: [Int]?, keepdims: Bool) throws -> Tensor {
    let mask = try condition.broadcast(to: x.shape)
    let zero = try Tensor(scalar: 0)
    let total = try Tensor.select(mask, x, zero).reduce(.sum, axes: axes, keepdims: keepdims)
    guard mean else { return total }
    let count = try Tensor.select(mask, try Tensor(scalar: 1), zero).reduce(.sum, axes: axes, keepdims: keepdims)
    return try Tensor.binary(.divide, total, count)
}
