import Lang
import Tensor

extension Library {
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
                return builtin(name, .tensor("x"), .axisAll, .keepdims, .optionalTensor("where"), summary: summary,
                               example: example + "; \(name)([[1, 2], [3, 4]], axis=1, where=[[1, 0], [1, 1]])",
                               details: note + " where= (as NumPy's) counts only the elements where it is nonzero; it broadcasts against x, so a [b, n] 0/1 attention mask over [b, n, d] states is where=am[:, :, none] (a masked mean).") { _, x, axes, keepdims, condition in
                    guard let condition else {
                        return .tensor(try x.reduce(reduction, axes: axes, keepdims: keepdims))
                    }
                    return .tensor(try maskedReduction(x, where: condition, mean: averages, axes: axes, keepdims: keepdims))
                }
            }
            // axis comes as given, so that max(a, b)'s hint also follows an axis that is no integer.
            return builtin(name, .tensor("x"), .optionalArgument("axis"), .keepdims, summary: summary, example: example, details: note) { _, x, axis, keepdims in
                do {
                    return .tensor(try x.reduce(reduction, axes: try axis.axes(), keepdims: keepdims))
                } catch let error as TensorError {
                    // max(1, 2) reads 2 as an axis, as NumPy does; say what was likely meant.
                    guard x.rank == 0, error.kind == .index, let axis = error.culprit?.value, let meant = pairwise[name] else { throw error }
                    throw TensorError(error.kind, label: error.label, error.detail + " (for \(meant))").blaming("axis", axis)
                } catch var error as TxError {
                    // min(best, t) with a t that is no whole number, as Python's min is written.
                    guard x.rank == 0, error.kind == .index, let meant = pairwise[name] else { throw error }
                    error.detail += " (for \(meant))"
                    throw error
                }
            }
        }
        let spread: [(String, (Int) -> Reduction, String, String)] = [
            ("var", { .variance(ddof: $0) }, "The variance (population form; ddof=1 for the sample form).", "var([1, 2, 3, 4])"),
            ("std", { .standardDeviation(ddof: $0) }, "The standard deviation (population form; ddof=1 for the sample form).", "std([1, 2, 3, 4])"),
        ]
        for (name, reduction, summary, example) in spread {
            table.append(builtin(name, .tensor("x"), .axisAll, .keepdims, .int("ddof", default: 0),
                                 summary: summary, example: example, details: note) { _, x, axes, keepdims, ddof in
                .tensor(try x.reduce(reduction(ddof), axes: axes, keepdims: keepdims))
            })
        }
        table.append(builtin("norm", .tensor("x"), .axisAll, .keepdims,
                             summary: "The Euclidean norm sqrt(sum(x^2)): of all of x's elements (Frobenius), or along axis.",
                             example: "norm([[3, 4], [6, 8]], axis=-1)",
                             details: "x / norm(x, axis=-1, keepdims=true) scales each row to length 1.") { _, x, axes, keepdims in
            guard let axes else {
                let total = try x.norm()
                return .tensor(try keepdims ? total.reshaped([Int](repeating: 1, count: x.rank)) : total)
            }
            return .tensor(try x.norm(axes: axes, keepdims: keepdims))
        })
        let truthNote = """
            As NumPy's all and any: nan counts as nonzero; over no elements all is true and any false.
            Without axis the result is a bool (for if, assert, && and ||); with axis, a mask of the
            remaining axes. x may also be a list: each item is a bool, a number or a one-element tensor.
            """
        table.append(builtin("all", .argument("x"), .optionalArgument("axis"), .keepdims,
                             summary: "Whether every element of x is nonzero: true or false over all of x, a mask along axis.",
                             example: "all([1, 2, 3] > 0); all([[1, 0], [1, 1]], axis=1)", details: truthNote) { args, x, axis, keepdims in
            try truthReduction(args.builtin.name, x, axis: axis, keepdims: keepdims, every: true)
        })
        table.append(builtin("any", .argument("x"), .optionalArgument("axis"), .keepdims,
                             summary: "Whether some element of x is nonzero: true or false over all of x, a mask along axis.",
                             example: "any([0, 0, 3]); any([[1, 0], [0, 0]], axis=1)", details: truthNote) { args, x, axis, keepdims in
            try truthReduction(args.builtin.name, x, axis: axis, keepdims: keepdims, every: false)
        })
        table.append(builtin("item", .argument("x"), summary: "The number held by a one-element tensor (or a number).",
                             example: "item(sum([1, 2]))") { _, v in
            guard let n = Convert.number(v.value) else {
                if case .tensor(let t) = v.value {
                    throw TxError(.value, "item needs a one-element tensor, got a tensor \(describe(shape: t.shape))", at: v.span)
                }
                throw v.typeError(expected: "a one-element tensor")
            }
            return .number(n)
        })
        table.append(builtin("cumsum", .tensor("x"), .int("axis", default: -1),
                             summary: "The running sums along axis, as NumPy's and PyTorch's cumsum (x's shape).",
                             example: "cumsum([1, 2, 3, 4])",
                             details: "Summed in float32 from the first entry on, as both libraries. The gradient is the reverse running sum of g.") { _, x, axis in
            .tensor(try x.cumsum(axis: axis))
        })
        let order = "Stable: equal entries keep their order (torch.sort(stable=True), NumPy's kind=\"stable\"), descending too; NaN sorts after every number (first when descending)."
        table.append(builtin("sort", .tensor("x"), .int("axis", default: -1), .bool("descending", default: false),
                             summary: "x's entries sorted along axis, smallest first (descending=true: largest first), as NumPy's sort.",
                             example: "sort([[3, 1, 2], [0, 5, 4]], descending=true)",
                             details: order + " The values are x[argsort(x)] along axis; the gradient goes back to the positions they came from.") { _, x, axis, descending in
            let positions = try x.argsorted(axis: axis, descending: descending)
            return .tensor(try x.permuted(along: axis, by: positions))
        })
        table.append(builtin("argsort", .tensor("x"), .int("axis", default: -1), .bool("descending", default: false),
                             summary: "The positions that sort x along axis (as float32 integers), as NumPy's argsort and torch.argsort.",
                             example: "argsort([3, 1, 2, 1])",
                             details: order) { _, x, axis, descending in
            .tensor(try x.argsorted(axis: axis, descending: descending))
        })
        return table
    }
}

/// all and any: over a list's items, over all of a tensor (a bool), or along axes (a mask).
private func truthReduction(_ name: String, _ x: RawArgument, axis: RawArgument, keepdims: Bool, every: Bool) throws -> Value {
    if case .list(let l) = x.value {
        guard axis.isNone else {
            throw TxError(.type, "\(name) of a list takes no axis", at: axis.span)
        }
        for item in l.items where try Convert.truth(item, context: "\(name) of a list item", at: x.span) != every {
            return .bool(!every)
        }
        return .bool(every)
    }
    let x = try x.tensor(), axes = try axis.axes()
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
