import Lang
import Tensor

extension Library {
    static func shapes() -> [Builtin] {
        [
            builtin("shape", [.x], "shape", "The sizes of x's axes, as a list of numbers.",
                    example: "shape(zeros(4, 8))") { args in
                .list(ListValue(try args.tensor("x").shape.map { .number(Double($0)) }))
            },
            builtin("size", [.x, .axisAll], "shape", "The size of one axis of x; without axis, the number of elements.",
                    example: "size(zeros(4, 8), -1)") { args in
                let t = try args.tensor("x")
                guard let axis = try args.optionalInt("axis") else { return .number(Double(t.count)) }
                return .number(Double(t.shape[try Tensor.normalize(axis: axis, rank: t.rank)]))
            },
            builtin("rank", [.x], "shape", "The number of axes of x.", example: "rank(zeros(4, 8))") { args in
                .number(Double(try args.tensor("x").rank))
            },
            builtin("reshape", [.x, .variadic("d")], "shape",
                    "x with a new shape of the same number of elements; one size may be -1.",
                    example: "reshape(arange(6), 2, -1)") { args in
                let t = try args.tensor("x")
                let sizes = try args.restIntegers(what: "a size")
                return .tensor(Convert.keepingMask(try t.reshaped(sizes), of: [t]))
            },
            builtin("transpose", [.x, .optional("a", .number(-2), "-2"), .optional("b", .number(-1), "-1")], "shape",
                    "x with axes a and b swapped (a view; x' swaps the last two).",
                    example: "transpose(zeros(2, 3, 4), 0, 2)") { args in
                .tensor(try args.tensor("x").transposed(try args.int("a"), try args.int("b")))
            },
            builtin("permute", [.x, .variadic("axes")], "shape", "x with its axes reordered.",
                    example: "permute(zeros(2, 3, 4), 2, 0, 1)") { args in
                let axes = try args.restIntegers(what: "an axis")
                return .tensor(try args.tensor("x").permuted(axes))
            },
            builtin("squeeze", [.x, .axisAll], "shape", "x without the given size-1 axis (all of them without axis).",
                    example: "squeeze(zeros(1, 3, 1), 0)") { args in
                .tensor(try args.tensor("x").squeezed(axis: try args.optionalInt("axis")))
            },
            builtin("unsqueeze", [.x, .required("axis")], "shape", "x with a new size-1 axis at axis.",
                    example: "unsqueeze(zeros(3), 0)") { args in
                .tensor(try args.tensor("x").unsqueezed(axis: try args.int("axis")))
            },
            builtin("concat", [.required("list"), .optional("axis", .number(0), "0")], "shape",
                    "Joins tensors along an existing axis.", example: "concat([eye(2), eye(2)], axis=1)",
                    details: "The tensors must have the same rank and the same sizes on every other axis;\nsizes along axis add up. Heads: concat(split(x, h), axis=-1) gives x back.") { args in
                let parts = try tensorList(args, "list")
                return .tensor(Convert.keepingMask(try Tensor.concat(parts, axis: try args.int("axis")), of: parts))
            },
            builtin("stack", [.required("list"), .optional("axis", .number(0), "0")], "shape",
                    "Joins tensors of one shape along a new axis.", example: "stack([ones(3), zeros(3)], axis=1)") { args in
                let parts = try tensorList(args, "list")
                return .tensor(Convert.keepingMask(try Tensor.stack(parts, axis: try args.int("axis")), of: parts))
            },
            builtin("split", [.x, .required("n"), .optional("axis", .number(-1), "-1")], "shape",
                    "A list of n equal parts of x along axis.", example: "split(arange(6), 3)") { args in
                let n = try args.int("n")
                guard n > 0 else { throw TxError(.value, "value error: split needs n > 0, got \(n)", at: args.span("n")) }
                return .list(ListValue(try args.tensor("x").split(n, axis: try args.int("axis")).map { .tensor($0) }))
            },
            builtin("tril", [.x, .optional("k", .number(0), "0")], "shape",
                    "The lower triangle of the last two axes (j <= i + k); the rest 0.", example: "tril(ones(3, 3))") { args in
                .tensor(try args.tensor("x").tril(k: try args.int("k")))
            },
            builtin("triu", [.x, .optional("k", .number(0), "0")], "shape",
                    "The upper triangle of the last two axes (j >= i + k); the rest 0.", example: "triu(ones(3, 3), k=1)") { args in
                .tensor(try args.tensor("x").triu(k: try args.int("k")))
            },
            builtin("flatten", [.x], "shape", "x as a 1-D tensor.", example: "flatten(eye(2))") { args in
                let x = try args.tensor("x")
                return .tensor(Convert.keepingMask(try x.reshaped([-1]), of: [x]))
            },
            builtin("copy", [.x], "shape", "A copy of x that shares no storage with it.", example: "y = copy(eye(2))") { args in
                let x = try args.tensor("x")
                return .tensor(Convert.keepingMask(try x.copy(), of: [x]))
            },
        ]
    }
}

/// A list argument of tensors; a stacked tensor literal counts as the list of its rows.
func tensorList(_ args: Arguments, _ name: String) throws -> [Tensor] {
    let v = try args.value(name)
    switch v {
    case .list(let list):
        return try list.items.enumerated().map { i, item in
            guard let t = try Convert.tensor(item, at: args.span(name)) else {
                throw TxError(.type, "type error: \(args.builtin.name) expects a list of tensors; item \(i) is \(article(item.typeDescription))", at: args.span(name))
            }
            return t
        }
    case .tensor(let t) where t.rank > 0:
        return try (0..<t.shape[0]).map { try t.subscripted([.single($0)]) }
    default:
        throw args.typeError(name, expected: "a list of tensors", got: v)
    }
}
