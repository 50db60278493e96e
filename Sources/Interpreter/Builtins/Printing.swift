import Lang
import Tensor

extension Library {
    static func printing() -> [Builtin] {
        [
            builtin("print_options", [.optional("precision", .none, "none"), .optional("threshold", .none, "none"),
                                      .optional("edge", .none, "none"), .optional("sci", .none, "none"),
                                      .optional("reset", .bool(false), "false")], "showing",
                    "How values print: digits, when long tensors, lists and records are summarised, scientific notation. Returns the options now in force.",
                    example: "print_options(precision=2); [1 / 3, 2 / 3]; print_options(reset=true)",
                    details: """
                        Each argument given changes one option for the rest of the session (:reset restores them
                        all, as reset=true does); the others stay. As NumPy's and PyTorch's set_printoptions:
                        precision (4): decimals in fixed point, or digits of a scientific mantissa, from 1 to 9.
                        threshold (1000): tensors of more elements, and lists and records of more entries, show
                        only `edge` entries at each end with … (inf: never summarise).
                        edge (3): the entries shown at each end of a summarised axis, list or record.
                        sci ("auto"): true prints every tensor that is not all whole numbers in scientific
                        notation, false never (tiny values may then print as 0, as NumPy's suppress=True),
                        "auto" when the values are very large, very small or spread over 3 orders of magnitude.
                        Whatever the options, a value that is not a whole number does not print as zero or
                        as a whole number further than float32's rounding from it: [1, 0.99999] shows
                        [1.00000, 0.99999] and softmax([0, 20]) [2.0612e-09, 1.0000e+00], taking up to 8
                        digits, then scientific notation (unless sci=false); 0.9999999, a cosine of 1 in
                        float32, shows as 1. Numbers (not tensors) always print in their shortest exact form.
                        """) { args in
                try printOptions(&args)
            },
        ]
    }

    private static func printOptions(_ args: inout Arguments) throws -> Value {
        let settings = args.interpreter.printSettings
        var options = try args.bool("reset") ? PrintOptions() : settings.options
        if let precision = try args.optionalInt("precision") {
            guard (1...9).contains(precision) else {
                throw TxError(.value, "value error: print_options: precision is a whole number from 1 to 9, got \(precision)", at: args.span("precision"))
            }
            options.precision = precision
        }
        if !(try args.value("threshold")).isNone {
            let threshold = try args.number("threshold")
            guard threshold >= 0, threshold == threshold.rounded() else {
                throw TxError(.value, "value error: print_options: threshold is a whole number >= 0 or inf, got \(TensorFormatter.formatNumber(threshold))", at: args.span("threshold"))
            }
            options.threshold = threshold >= Double(Int.max) ? Int.max : Int(threshold)
        }
        if let edge = try args.optionalInt("edge") {
            guard edge >= 1, edge <= 1_000_000 else {
                throw TxError(.value, "value error: print_options: edge is a whole number from 1 to 1000000, got \(edge)", at: args.span("edge"))
            }
            options.edge = edge
        }
        switch try args.value("sci") {
        case .none: break
        case .bool(let b): options.scientific = b
        case .string(let s) where s.text == "auto": options.scientific = nil
        case let other: throw args.typeError("sci", expected: "true, false or \"auto\"", got: other)
        }
        settings.options = options
        return .record(RecordValue([
            ("precision", .number(Double(options.precision))),
            ("threshold", .number(options.threshold == Int.max ? .infinity : Double(options.threshold))),
            ("edge", .number(Double(options.edge))),
            ("sci", options.scientific.map { .bool($0) } ?? .string(StringValue("auto"))),
        ]))
    }
}
