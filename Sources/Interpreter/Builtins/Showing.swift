@preconcurrency import Glibc
import Lang
import Tensor

extension Library {
    static func showing() -> [Builtin] {
        let labelled: [BuiltinParameter] = [
            .optional("rows", .none, "none"), .optional("cols", .none, "none"), .optional("title", .none, "none"),
            .optional("range", .none, "none"), .optional("values", .bool(false), "false"),
        ]
        let details = """
            m is [n_q, n_k], [h, n_q, n_k] (one panel per head, side by side, wrapping to the terminal's width), [layers, h, n_q, n_k] or a list of [h, n_q, n_k] tensors (a grid: a row of heads per layer). \
            rows and cols label the rows and columns (lists of strings or numbers; by default the indices), once per row and column of panels; title goes on top. \
            Every panel shares one colour scale: range=[low, high] fixes it (e.g. [0, 1] for weights), else it runs from the smallest finite value to the largest; values=true prints the values in the cells. \
            Colours (or shades ' ░▒▓█') run dark to bright; masked cells show '·' (light grey in savefig): -inf, and exact zeros when every row is a distribution (the causal triangle of attention weights); nan cells show '?'. \
            The legend line gives the scale and counts masked, nan and inf cells.
            """
        return [
            builtin("heatmap", [.required("m")] + labelled, "showing",
                    "Draws a matrix, or one panel per attention head, in the terminal: colour where the terminal has it, shades otherwise.",
                    example: "heatmap(softmax(randn(2, 4, 4) + causal_mask(4), axis=-1), range=[0, 1], values=true)",
                    details: details) { args in
                let map = try HeatmapData(args)
                if let figures = args.interpreter.figureObserver {
                    try figures(map)
                } else {
                    args.interpreter.output(try map.terminal(color: args.interpreter.style.isEnabled, width: Terminal.columns()))
                }
                return .none
            },
            builtin("savefig", [.required("path"), .required("m")] + labelled, "showing",
                    "Writes heatmap's picture as an SVG file: the same panels, labels, scale, masked cells and values (a --html transcript shows it too).",
                    example: "savefig(\"/tmp/tx-attention.svg\", softmax(randn(2, 4, 4), axis=-1), range=[0, 1])",
                    details: details) { args in
                let path = try args.path("path")
                let map = try HeatmapData(args)
                let svg = try map.svg()
                do {
                    try writeFile(path: path, text: svg)
                } catch let error as TensorError {
                    throw TxError(error, at: args.span("path"))
                }
                try args.interpreter.savedFigureObserver?(map, path)
                return .none
            },
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
            builtin("plot", [.x, .optional("ys", .none, "none"), .optional("labels", .none, "none"),
                             .optional("title", .none, "none"), .optional("path", .none, "none")], "showing",
                    "Draws y against its index (plot(y)) or several series against x (plot(x, ys)) as a line plot in the terminal; path= also writes it as SVG.",
                    example: "plot([4, 2.5, 1.8, 1.5, 1.4, 1.35], title=\"loss\")",
                    details: """
                        plot(y): y is a list or 1-D tensor, drawn against 0, 1, 2, .... plot(x, ys): x is 1-D [n];
                        ys is one series [n], several [k, n], or a list of series of length n. labels names the
                        series (a legend); title goes on top. Each series has its own mark (* + o x #) and, on a
                        colour terminal, its own colour; nan and inf points are left out. path="loss.svg" writes
                        the same plot as an SVG file (whole or not at all, like save); in a --html transcript the
                        plot appears as SVG too.
                        """) { args in
                let plot = try LinePlot(args)
                // Drawing stops early on Ctrl-C; a picture cut short is neither written nor shown.
                try Interrupt.check()
                if let path = try args.value("path").isNone ? nil : args.path("path") {
                    do {
                        try writeFile(path: path, text: try plot.svg(standalone: true))
                    } catch let error as TensorError {
                        throw TxError(error, at: args.span("path"))
                    }
                }
                if let figures = args.interpreter.figureObserver {
                    try figures(plot)
                } else {
                    args.interpreter.output(try plot.terminal(color: args.interpreter.style.isEnabled, width: Terminal.columns()))
                }
                return .none
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
