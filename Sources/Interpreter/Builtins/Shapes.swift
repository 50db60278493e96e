import Lang
import Tensor

extension Library {
    static func shapes() -> [Builtin] {
        [
            builtin("shape", .tensor("x"), summary: "The sizes of x's axes, as a list of numbers.",
                    example: "shape(zeros(4, 8))") { _, x in
                .list(ListValue(x.shape.map { .number(Double($0)) }))
            },
            builtin("size", .tensor("x"), .optionalInt("axis"), summary: "The size of one axis of x; without axis, the number of elements.",
                    example: "size(zeros(4, 8), -1)") { _, t, axis in
                guard let axis else { return .number(Double(t.count)) }
                return .number(Double(t.shape[try Tensor.normalize(axis: axis, rank: t.rank)]))
            },
            builtin("rank", .tensor("x"), summary: "The number of axes of x.", example: "rank(zeros(4, 8))") { _, x in
                .number(Double(x.rank))
            },
            builtin("reshape", .tensor("x"), .integers("d", what: "a size"),
                    summary: "x with a new shape of the same number of elements; one size may be -1.",
                    example: "reshape(arange(6), 2, -1)") { _, t, sizes in
                .tensor(Convert.keepingMask(try t.reshaped(sizes), of: [t]))
            },
            builtin("transpose", .tensor("x"), .int("a", default: -2), .int("b", default: -1),
                    summary: "x with axes a and b swapped (a view; x' swaps the last two).",
                    example: "transpose(zeros(2, 3, 4), 0, 2)") { _, x, a, b in
                .tensor(try x.transposed(a, b))
            },
            builtin("permute", .tensor("x"), .integers("axes", what: "an axis"), summary: "x with its axes reordered.",
                    example: "permute(zeros(2, 3, 4), 2, 0, 1)") { _, x, axes in
                .tensor(try x.permuted(axes))
            },
            builtin("squeeze", .tensor("x"), .optionalInt("axis"), summary: "x without the given size-1 axis (all of them without axis).",
                    example: "squeeze(zeros(1, 3, 1), 0)") { _, x, axis in
                .tensor(try x.squeezed(axis: axis))
            },
            builtin("unsqueeze", .tensor("x"), .int("axis"), summary: "x with a new size-1 axis at axis.",
                    example: "unsqueeze(zeros(3), 0)") { _, x, axis in
                .tensor(try x.unsqueezed(axis: axis))
            },
            builtin("concat", .tensors("list"), .int("axis", default: 0),
                    summary: "Joins tensors along an existing axis.", example: "concat([eye(2), eye(2)], axis=1)",
                    details: "The tensors must have the same rank and the same sizes on every other axis;\nsizes along axis add up. Heads: concat(split(x, h), axis=-1) gives x back.") { _, parts, axis in
                .tensor(Convert.keepingMask(try Tensor.concat(parts, axis: axis), of: parts))
            },
            builtin("stack", .tensors("list"), .int("axis", default: 0),
                    summary: "Joins tensors of one shape along a new axis.", example: "stack([ones(3), zeros(3)], axis=1)") { _, parts, axis in
                .tensor(Convert.keepingMask(try Tensor.stack(parts, axis: axis), of: parts))
            },
            // axis is read after n: an error blaming the parts (split(x, 2, axis=2) on a size
            // 5) goes to the first integer read with their value (Arguments.place).
            builtin("split", .argument("x"), .optionalArgument("n"), .argument("axis", default: .number(-1), shown: "-1"), .optionalArgument("sep"),
                    summary: "A tensor x: a list of n equal parts of x along axis. A string x: its pieces between separators (n or sep), or its words when there is none.",
                    example: "split(arange(6), 3)",
                    details: """
                    split(x, n, axis=-1) on a tensor: n parts of equal size (x's size along axis must divide by n).
                    split(s, sep=none) on a string, as Python's s.split(sep): the pieces between each sep,
                    empty ones included (split("a,,b", ",") is ["a", "", "b"]); without sep, the words of s
                    (split at runs of white space, as words(s)). The separator may also be given second:
                    split("a,b", ",").
                    """) { args, xArgument, nArgument, axis, sepArgument in
                if case .string(let s) = xArgument.value {
                    if case .number(-1) = axis.value {} else { throw TxError(.type, "split of a string takes no axis", at: axis.span) }
                    if case .none = sepArgument.value, case .none = nArgument.value { return try Strings.words(s.text) }
                    if case .none = sepArgument.value {} else if case .none = nArgument.value {} else {
                        throw TxError(.type, "split of a string takes one separator, given both second and as sep", at: sepArgument.span)
                    }
                    let separator = if case .none = sepArgument.value { nArgument } else { sepArgument }
                    return try Strings.split(s.text, by: try separator.string(), at: separator.span)
                }
                let x = try xArgument.tensor()
                if case .none = nArgument.value { throw TxError(.type, "split of a tensor needs n, the number of parts", at: args.span) }
                if case .none = sepArgument.value {} else { throw TxError(.type, "split of a tensor takes n, not sep (sep is a string's)", at: sepArgument.span) }
                let n = try nArgument.int()
                guard n > 0 else { throw TxError(.value, "split needs n > 0, got \(n)", at: nArgument.span) }
                return .list(ListValue(try x.split(n, axis: try axis.int()).map { .tensor($0) }))
            },
            builtin("tril", .tensor("x"), .int("k", default: 0),
                    summary: "The lower triangle of the last two axes (j <= i + k); the rest 0.", example: "tril(ones(3, 3))") { _, x, k in
                .tensor(try x.tril(k: k))
            },
            builtin("triu", .tensor("x"), .int("k", default: 0),
                    summary: "The upper triangle of the last two axes (j >= i + k); the rest 0.", example: "triu(ones(3, 3), k=1)") { _, x, k in
                .tensor(try x.triu(k: k))
            },
            builtin("flatten", .tensor("x"), summary: "x as a 1-D tensor.", example: "flatten(eye(2))") { _, x in
                .tensor(Convert.keepingMask(try x.reshaped([-1]), of: [x]))
            },
            builtin("copy", .tensor("x"), summary: "A copy of x that shares no storage with it.", example: "y = copy(eye(2))") { _, x in
                .tensor(Convert.keepingMask(try x.copy(), of: [x]))
            },
            builtin("flip", .tensor("x"), .axisAll,
                    summary: "x with its entries in reverse order along axis (an axis, a list of axes, or none: all), as NumPy's flip.",
                    example: "flip([[1, 2], [3, 4]], axis=0)",
                    details: "A view (x[::-1] along those axes), as flip(x) is x[::-1] on a vector; the gradient is g flipped back.") { _, x, axes in
                .tensor(Convert.keepingMask(try x.flipped(axes: axes), of: [x]))
            },
        ]
    }
}

extension Param where T == [Tensor] {
    /// A list of tensors; a stacked tensor literal counts as the list of its rows.
    static func tensors(_ name: String) -> Param {
        .required(name) { args, name in
            let v = try args.value(name)
            switch v {
            case .list(let list):
                return try list.items.enumerated().map { i, item in
                    guard let t = try Convert.tensor(item, at: args.span(name)) else {
                        throw TxError(.type, "\(args.builtin.name) expects a list of tensors; item \(i) is \(article(item.typeDescription))", at: args.span(name))
                    }
                    return t
                }
            case .tensor(let t) where t.rank > 0:
                return try (0..<t.shape[0]).map { try t.subscripted([.single($0)]) }
            default:
                throw args.typeError(name, expected: "a list of tensors", got: v)
            }
        }
    }
}
