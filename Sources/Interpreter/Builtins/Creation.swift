import Lang
import Tensor

extension Library {
    static func creation() -> [Builtin] {
        [
            builtin("zeros", .sizes("d"), summary: "A tensor of zeros with the given sizes.",
                    example: "zeros(2, 3)") { _, sizes in .tensor(try Tensor.zeros(sizes)) },
            builtin("ones", .sizes("d"), summary: "A tensor of ones with the given sizes.",
                    example: "ones(2, 3)") { _, sizes in .tensor(try Tensor.full(1, sizes)) },
            builtin("full", .number("v"), .sizes("d"), summary: "A tensor filled with v.",
                    example: "full(0.5, 2, 2)") { _, v, sizes in .tensor(try Tensor.full(Float(v), sizes)) },
            builtin("eye", .size("n"), summary: "The n x n identity matrix.",
                    example: "eye(3)") { _, n in .tensor(try Tensor.eye(n)) },
            builtin("arange", .bounds, .number("step", default: 1),
                    summary: "Evenly spaced values in [a, b) (arange(n) is 0, 1, ..., n-1), as a tensor.",
                    example: "arange(5)") { _, bounds, step in
                .tensor(try Tensor.arange(start: bounds.start, stop: bounds.stop, step: step))
            },
            builtin("linspace", .number("a"), .number("b"), .size("n"),
                    summary: "n evenly spaced values from a to b, both included.",
                    example: "linspace(0, 1, 5)") { _, a, b, n in
                .tensor(try Tensor.linspace(a, b, count: n))
            },
            builtin("randn", .sizes("d"),
                    summary: "Standard normal samples from the session's generator (see seed).",
                    example: "randn(2, 3)",
                    details: Self.randomDetails) { args, sizes in
                .tensor(try Tensor.randn(sizes, using: &args.interpreter.random))
            },
            builtin("rand", .sizes("d"), summary: "Uniform samples in [0, 1) from the session's generator.",
                    example: "rand(2, 3)", details: Self.randomDetails) { args, sizes in
                .tensor(try Tensor.rand(sizes, using: &args.interpreter.random))
            },
            builtin("randint", .int("lo"), .int("hi"), .sizes("shape"),
                    summary: "Integers drawn uniformly from lo..<hi (hi excluded), as torch.randint, from the session's generator.",
                    example: "seed(0); randint(0, 10, 2, 3)",
                    details: "The shape is given as sizes or a list (randint(0, 10, [2, 3])). Each draw is lo + floor(u (hi - lo)) for a uniform u from the generator; the bounds lie within ±2^24, where float32 holds every integer.\n\n" + Self.randomDetails) { args, lo, hi, sizes in
                do {
                    return .tensor(try Tensor.randint(sizes, low: lo, high: hi, using: &args.interpreter.random))
                } catch let error as TensorError {
                    throw error.blaming("hi")
                }
            },
            builtin("seed", .int("n"),
                    summary: "Reseeds the generator: the same seed gives the same tensors on every machine.",
                    example: "seed(0)", details: Self.randomDetails) { args, n in
                args.interpreter.random = RandomGenerator(seed: UInt64(bitPattern: Int64(n)))
                return .none
            },
            builtin("range", .bounds, .argument("step", default: .number(1), shown: "1"),
                    summary: "The numbers a, a+step, ... before b (range(n) is 0..n-1), for loops.",
                    example: "for i in range(3) { print(i) }") { args, bounds, stepArgument in
                let (start, stop) = (bounds.start, bounds.stop)
                let step = try stepArgument.number()
                guard step != 0 else { throw TxError(.value, "range step cannot be 0", at: stepArgument.span) }
                let call = "range(" + [start, stop, step].map(TensorFormatter.formatNumber).joined(separator: ", ") + ")"
                guard start.isFinite, stop.isFinite, step.isFinite else {
                    throw TxError(.value, "range needs finite numbers, got \(call)", at: args.span)
                }
                // Past 2^53, doubles no longer hold every integer.
                guard RangeValue.length(start: start, stop: stop, step: step) <= 0x1p53 else {
                    throw TxError(.value, "\(call) has more than 2^53 numbers", at: args.span)
                }
                return .range(RangeValue(start: start, stop: stop, step: step))
            },
            builtin("tensor", .tensor("x"), summary: "x as a tensor: numbers become 0-d tensors, numeric lists tensors, lists of equal numeric lists stacked ones.",
                    example: "tensor([1, 2, 3])") { _, x in .tensor(x) },
            builtin("zeros_like", .tensor("x"), summary: "Zeros with the shape of x.", example: "zeros_like(eye(2))") { _, x in
                .tensor(try Tensor.zeros(x.shape))
            },
            builtin("ones_like", .tensor("x"), summary: "Ones with the shape of x.", example: "ones_like(eye(2))") { _, x in
                .tensor(try Tensor.full(1, x.shape))
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

/// The interval of `arange` and `range`: `f(n)` means 0..<n, `f(a, b)` means a..<b.
struct Bounds {
    let start: Double
    let stop: Double
}

extension Param where T == Bounds {
    /// The parameters a and b (default none) read as an interval.
    static var bounds: Param {
        Param(.number("a"), .optionalNumber("b")) { _, a, b in
            b.map { Bounds(start: a, stop: $0) } ?? Bounds(start: 0, stop: a)
        }
    }
}

/// The argument `name` as a size: an integer >= 0 (`Param.size`, `RawArgument.size`).
func sizeArgument(_ args: Arguments, _ name: String) throws -> Int {
    let n = try args.int(name)
    guard n >= 0 else { throw TxError(.value, "\(args.builtin.name): '\(name)' cannot be negative, got \(n)", at: args.span(name)) }
    return n
}
