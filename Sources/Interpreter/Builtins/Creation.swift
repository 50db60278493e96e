import Lang
import Tensor

extension Library {
    static func creation() -> [Builtin] {
        [
            builtin("zeros", [.variadic("d")], "creation", "A tensor of zeros with the given sizes.",
                    example: "zeros(2, 3)") { args in .tensor(try Tensor.zeros(try args.sizes())) },
            builtin("ones", [.variadic("d")], "creation", "A tensor of ones with the given sizes.",
                    example: "ones(2, 3)") { args in .tensor(try Tensor.full(1, try args.sizes())) },
            builtin("full", [.required("v"), .variadic("d")], "creation", "A tensor filled with v.",
                    example: "full(0.5, 2, 2)") { args in .tensor(try Tensor.full(Float(try args.number("v")), try args.sizes())) },
            builtin("eye", [.required("n")], "creation", "The n x n identity matrix.",
                    example: "eye(3)") { args in .tensor(try Tensor.eye(try sizeArgument(args, "n"))) },
            builtin("arange", [.required("a"), .optional("b", .none, "none"), .optional("step", .number(1), "1")], "creation",
                    "Evenly spaced values in [a, b) (arange(n) is 0, 1, ..., n-1), as a tensor.",
                    example: "arange(5)") { args in
                let (start, stop) = try bounds(args)
                return .tensor(try Tensor.arange(start: start, stop: stop, step: try args.number("step")))
            },
            builtin("linspace", [.required("a"), .required("b"), .required("n")], "creation",
                    "n evenly spaced values from a to b, both included.",
                    example: "linspace(0, 1, 5)") { args in
                .tensor(try Tensor.linspace(try args.number("a"), try args.number("b"), count: try sizeArgument(args, "n")))
            },
            builtin("randn", [.variadic("d")], "creation",
                    "Standard normal samples from the session's generator (see seed).",
                    example: "randn(2, 3)",
                    details: Self.randomDetails) { args in
                .tensor(try Tensor.randn(try args.sizes(), using: &args.interpreter.random))
            },
            builtin("rand", [.variadic("d")], "creation", "Uniform samples in [0, 1) from the session's generator.",
                    example: "rand(2, 3)", details: Self.randomDetails) { args in
                .tensor(try Tensor.rand(try args.sizes(), using: &args.interpreter.random))
            },
            builtin("seed", [.required("n")], "creation",
                    "Reseeds the generator: the same seed gives the same tensors on every machine.",
                    example: "seed(0)", details: Self.randomDetails) { args in
                let n = try args.int("n")
                args.interpreter.random = RandomGenerator(seed: UInt64(bitPattern: Int64(n)))
                return .none
            },
            builtin("range", [.required("a"), .optional("b", .none, "none"), .optional("step", .number(1), "1")], "creation",
                    "The numbers a, a+step, ... before b (range(n) is 0..n-1), for loops.",
                    example: "for i in range(3) { print(i) }") { args in
                let (start, stop) = try bounds(args)
                let step = try args.number("step")
                guard step != 0 else { throw TxError(.value, "value error: range step cannot be 0", at: args.span("step")) }
                let call = "range(" + [start, stop, step].map(TensorFormatter.formatNumber).joined(separator: ", ") + ")"
                guard start.isFinite, stop.isFinite, step.isFinite else {
                    throw TxError(.value, "value error: range needs finite numbers, got \(call)", at: args.span)
                }
                // Past 2^53, doubles no longer hold every integer.
                guard RangeValue.length(start: start, stop: stop, step: step) <= 0x1p53 else {
                    throw TxError(.value, "value error: \(call) has more than 2^53 numbers", at: args.span)
                }
                return .range(RangeValue(start: start, stop: stop, step: step))
            },
            builtin("tensor", [.x], "creation", "x as a tensor: numbers become 0-d tensors, numeric lists tensors, lists of equal numeric lists stacked ones.",
                    example: "tensor([1, 2, 3])") { args in .tensor(try args.tensor("x")) },
            builtin("zeros_like", [.x], "creation", "Zeros with the shape of x.", example: "zeros_like(eye(2))") { args in
                .tensor(try Tensor.zeros(try args.tensor("x").shape))
            },
            builtin("ones_like", [.x], "creation", "Ones with the shape of x.", example: "ones_like(eye(2))") { args in
                .tensor(try Tensor.full(1, try args.tensor("x").shape))
            },
        ]
    }

    static let randomDetails = """
        The generator is xoshiro256** seeded through SplitMix64 (seed(n) uses n as the
        64-bit seed; a new session starts as seed(0)). rand takes the top 53 bits of each
        output as a double in [0, 1); randn uses Box-Muller on two such numbers
        (sqrt(-2 ln(1-u1)) * cos(2 pi u2), then the matching sin value on the next draw).
        Values are computed in double precision and rounded to float32, so a seed gives
        the same tensors on every machine.
        """
}

/// `f(n)` means 0..<n, `f(a, b)` means a..<b.
private func bounds(_ args: Arguments) throws -> (Double, Double) {
    let a = try args.number("a")
    return try args.value("b").isNone ? (0, a) : (a, try args.number("b"))
}

func sizeArgument(_ args: Arguments, _ name: String) throws -> Int {
    let n = try args.int(name)
    guard n >= 0 else { throw TxError(.value, "value error: \(args.builtin.name): '\(name)' cannot be negative, got \(n)", at: args.span(name)) }
    return n
}
