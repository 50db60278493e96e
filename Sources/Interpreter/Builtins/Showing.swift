import Lang
import Tensor

extension Library {
    static func showing() -> [Builtin] {
        let details = """
            m is [n_q, n_k], [h, n_q, n_k] (one panel per head, side by side, wrapping to the terminal's width), [layers, h, n_q, n_k] or a list of [h, n_q, n_k] tensors (a grid: a row of heads per layer). \
            rows and cols label the rows and columns (lists of strings or numbers; by default the indices), once per row and column of panels; title goes on top. \
            Every panel shares one colour scale: range=[low, high] fixes it (e.g. [0, 1] for weights), else it runs from the smallest finite value to the largest; values=true prints the values in the cells. \
            Colours (or shades ' ░▒▓█') run dark to bright; masked cells show '·' (light grey in savefig): -inf, and exact zeros when every row is a distribution (the causal triangle of attention weights); nan cells show '?'. \
            The legend line gives the scale and counts masked, nan and inf cells. \
            A map wider than the room beside the row labels even at one character a cell, or with more rows than that room has columns, is pooled: each cell the mean of a block of rows x columns, which a line under the scale gives; the scale is then the means' range and the labels each block's first row and column (savefig pools past 128 cells a side). \
            With values=true nothing is pooled: as tensors print, the columns that do not fit and the rows past max(20, width / 2) are left out around '…'.
            """
        return [
            builtin("heatmap", .heatmap,
                    summary: "Draws a matrix, or one panel per attention head, in the terminal: colour where the terminal has it, shades otherwise.",
                    example: "heatmap(softmax(randn(2, 4, 4) + causal_mask(4), axis=-1), range=[0, 1], values=true)",
                    details: details) { args, map in
                if let figures = args.interpreter.figureObserver {
                    try figures(map)
                } else {
                    args.interpreter.output(try map.terminal(color: args.interpreter.style.isEnabled, width: Terminal.columns()))
                }
                return .none
            },
            builtin("savefig", .pathArgument("path"), .heatmap,
                    summary: "Writes heatmap's picture as an SVG file: the same panels, labels, scale, masked cells and values (a --html transcript shows it too).",
                    example: "savefig(\"/tmp/tx-attention.svg\", softmax(randn(2, 4, 4), axis=-1), range=[0, 1])",
                    details: details) { args, path, map in
                let svg = try map.svg()
                do {
                    try writeFile(path: path.path, text: svg)
                } catch let error as TensorError {
                    throw TxError(error, at: path.span)
                }
                try args.interpreter.savedFigureObserver?(map, path.path)
                return .none
            },
            builtin("print_options", .printOptions,
                    summary: "How values print: digits, when long tensors, lists and records are summarised, scientific notation. Returns the options now in force.",
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
                        """) { args, change in
                let settings = args.interpreter.printSettings
                var options = change.reset ? PrintOptions() : settings.options
                if let precision = change.precision { options.precision = precision }
                if let threshold = change.threshold { options.threshold = threshold }
                if let edge = change.edge { options.edge = edge }
                if let scientific = change.scientific { options.scientific = scientific }
                settings.options = options
                return .record(RecordValue([
                    ("precision", .number(Double(options.precision))),
                    ("threshold", .number(options.threshold == Int.max ? .infinity : Double(options.threshold))),
                    ("edge", .number(Double(options.edge))),
                    ("sci", options.scientific.map { .bool($0) } ?? .string(StringValue("auto"))),
                ]))
            },
            builtin("plot", .linePlot, .optionalArgument("path"),
                    summary: "Draws y against its index (plot(y)) or several series against x (plot(x, ys)) as a line plot in the terminal; path= also writes it as SVG.",
                    example: "plot([4, 2.5, 1.8, 1.5, 1.4, 1.35], title=\"loss\")",
                    details: """
                        plot(y): y is a list or 1-D tensor, drawn against 0, 1, 2, .... plot(x, ys): x is 1-D [n];
                        ys is one series [n], several [k, n], or a list of series of length n. labels names the
                        series (a legend); title goes on top. Each series has its own mark (* + o x #) and, on a
                        colour terminal, its own colour; nan and inf points are left out. path="loss.svg" writes
                        the same plot as an SVG file (whole or not at all, like save); in a --html transcript the
                        plot appears as SVG too.
                        """) { args, plot, pathArgument in
                // Drawing stops early on Ctrl-C; a picture cut short is neither written nor shown.
                try Interrupt.check()
                if let path = pathArgument.isNone ? nil : try pathArgument.path() {
                    do {
                        try writeFile(path: path, text: try plot.svg(standalone: true))
                    } catch let error as TensorError {
                        throw TxError(error, at: pathArgument.span)
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
}

/// The options `print_options` changes: nil for those not given.
struct PrintOptionChange {
    var reset = false
    var precision: Int?
    var threshold: Int?
    var edge: Int?
    /// true or false, or .some(nil) for "auto".
    var scientific: Bool??
}

extension Param where T == PrintOptionChange {
    /// print_options' parameters, read together (reset first) and checked.
    static var printOptions: Param {
        Param(declarations: [.optional("precision", .none, "none"), .optional("threshold", .none, "none"),
                             .optional("edge", .none, "none"), .optional("sci", .none, "none"),
                             .optional("reset", .bool(false), "false")]) { args in
            var change = PrintOptionChange()
            change.reset = try args.bool("reset")
            if let precision = try args.optionalInt("precision") {
                guard (1...9).contains(precision) else {
                    throw TxError(.value, "print_options: precision is a whole number from 1 to 9, got \(precision)", at: args.span("precision"))
                }
                change.precision = precision
            }
            if !(try args.value("threshold")).isNone {
                let threshold = try args.number("threshold")
                guard threshold >= 0, threshold == threshold.rounded() else {
                    throw TxError(.value, "print_options: threshold is a whole number >= 0 or inf, got \(TensorFormatter.formatNumber(threshold))", at: args.span("threshold"))
                }
                change.threshold = threshold >= Double(Int.max) ? Int.max : Int(threshold)
            }
            if let edge = try args.optionalInt("edge") {
                guard edge >= 1, edge <= 1_000_000 else {
                    throw TxError(.value, "print_options: edge is a whole number from 1 to 1000000, got \(edge)", at: args.span("edge"))
                }
                change.edge = edge
            }
            switch try args.value("sci") {
            case .none: break
            case .bool(let b): change.scientific = .some(b)
            case .string(let s) where s.text == "auto": change.scientific = .some(nil)
            case let other: throw args.typeError("sci", expected: "true, false or \"auto\"", got: other)
            }
            return change
        }
    }
}

extension Param where T == HeatmapData {
    /// m and heatmap's options (rows, cols, title, range, values), read together: the
    /// labels must match m's rows and columns.
    static var heatmap: Param {
        Param(declarations: [.required("m"), .optional("rows", .none, "none"), .optional("cols", .none, "none"),
                             .optional("title", .none, "none"), .optional("range", .none, "none"),
                             .optional("values", .bool(false), "false")]) { args in
            // Each layer: its heads' values one after another, and its shape [h, n_q, n_k].
            var layers: [(values: [Float], shape: [Int])] = []
            let m = try args.value("m")
            if case .list(let list) = m {
                guard !list.items.isEmpty else {
                    throw TxError(.value, "\(args.builtin.name): m is an empty list", at: args.span("m"))
                }
                for item in list.items {
                    guard let t = try Convert.tensor(item, at: args.span("m")), t.rank == 2 || t.rank == 3 else {
                        throw args.typeError("m", expected: "a tensor or a list of [n_q, n_k] or [h, n_q, n_k] tensors", got: item)
                    }
                    layers.append((t.values, t.rank == 2 ? [1] + t.shape : t.shape))
                }
            } else {
                let t = try args.tensor("m")
                guard (1...4).contains(t.rank) else {
                    throw TxError(.shape, label: "shape mismatch in \(args.builtin.name)", "m must be [n_q, n_k], [h, n_q, n_k] or [layers, h, n_q, n_k], got \(describe(shape: t.shape))", at: args.span("m"))
                }
                let shape = Array(repeating: 1, count: 4 - t.rank) + t.shape
                guard shape[0] > 0 else {
                    throw TxError(.value, "\(args.builtin.name): m has no maps (its shape is \(describe(shape: t.shape)))", at: args.span("m"))
                }
                let flat = t.values
                let size = shape[1] * shape[2] * shape[3]
                layers = (0..<shape[0]).map { (Array(flat[($0 * size)..<($0 * size + size)]), Array(shape[1...])) }
            }
            let shape = Array(layers[0].shape.suffix(2))
            guard layers.allSatisfy({ Array($0.shape.suffix(2)) == shape }) else {
                throw TxError(.shape, label: "shape mismatch in \(args.builtin.name)", "every map must be \(describe(shape: shape)), got \(layers.map { describe(shape: Array($0.shape.suffix(2))) }.joined(separator: ", "))", at: args.span("m"))
            }
            let rows = try labels(args, "rows", count: shape[0])
            let cols = try labels(args, "cols", count: shape[1])
            let t = try args.value("title")
            let title = t.isNone ? nil : Display.text(t)
            let showValues = try args.bool("values")
            var range: (low: Float, high: Float)? = nil
            let given = try args.value("range")
            if !given.isNone {
                guard let ends = try Convert.tensor(given, at: args.span("range")), ends.count == 2,
                      ends.values[0].isFinite, ends.values[1].isFinite, ends.values[0] < ends.values[1] else {
                    throw args.typeError("range", expected: "two finite numbers [low, high] with low < high", got: given)
                }
                range = (ends.values[0], ends.values[1])
            }
            return try HeatmapData(layers: layers, rows: rows, cols: cols, title: title, showValues: showValues, range: range)
        }
    }

    /// rows= or cols=: none (the indices), a list of `count` labels, or a 1-D tensor of them.
    private static func labels(_ args: Arguments, _ name: String, count: Int) throws -> [String] {
        let v = try args.value(name)
        switch v {
        case .none: return (0..<count).map(String.init)
        case .list(let list):
            guard list.items.count == count else {
                throw TxError(.value, "\(args.builtin.name): \(name) has \(list.items.count) labels for \(count) \(name)", at: args.span(name))
            }
            return list.items.map(Display.text)
        case .tensor(let t) where t.rank == 1 && t.count == count:
            return t.values.map { TensorFormatter.formatNumber(Double($0)) }
        default:
            throw args.typeError(name, expected: "a list of \(count) labels", got: v)
        }
    }
}

extension Param where T == LinePlot {
    /// plot's series (x, ys), labels and title, read together: ys is read against x, the
    /// labels against the series.
    static var linePlot: Param {
        Param(declarations: [.required("x"), .optional("ys", .none, "none"), .optional("labels", .none, "none"),
                             .optional("title", .none, "none")]) { args in
            let first = try args.value("x"), second = try args.value("ys")
            func vector(_ v: Value, _ name: String) throws -> [Double]? {
                guard let t = try Convert.tensor(v, at: args.span(name)), t.rank == 1 else { return nil }
                return try LinePlot.doubles(t.contiguous().values)
            }
            let x: [Double], series: [[Double]]
            if second.isNone {
                guard let y = try vector(first, "x") else {
                    throw TxError(.type, "plot(y) expects a list of numbers or a 1-D tensor, got \(article(first.typeDescription))", at: args.span("x"))
                }
                var indices = [Double](repeating: 0, count: y.count)
                var poll = Interrupt.Poll()
                try poll.run(y.count) { start, count in
                    for i in start..<(start + count) { indices[i] = Double(i) }
                }
                (x, series) = (indices, [y])
            } else {
                guard let xs = try vector(first, "x") else {
                    throw TxError(.type, "plot(x, ys) expects x as a list of numbers or a 1-D tensor, got \(article(first.typeDescription))", at: args.span("x"))
                }
                var ys: [[Double]] = []
                if case .list(let list) = second, list.items.contains(where: { if case .list = $0 { return true }; if case .tensor = $0 { return true }; return false }) {
                    for item in list.items {
                        guard let y = try vector(item, "ys") else {
                            throw TxError(.type, "plot: each series in ys must be a list of numbers or a 1-D tensor", at: args.span("ys"))
                        }
                        ys.append(y)
                    }
                } else if let t = try Convert.tensor(second, at: args.span("ys")), t.rank == 1 || t.rank == 2 {
                    let values = try LinePlot.doubles(t.contiguous().values)
                    let n = t.shape.last ?? 0
                    ys = t.rank == 1 ? [values] : stride(from: 0, to: values.count, by: Swift.max(n, 1)).map { Array(values[$0..<($0 + n)]) }
                } else {
                    throw TxError(.type, "plot: ys must be a series [n], several [k, n], or a list of series", at: args.span("ys"))
                }
                for y in ys where y.count != xs.count {
                    throw TxError(.shape, label: "shape mismatch in plot", "x has \(xs.count) points and a series of ys \(y.count)", at: args.span("ys"))
                }
                (x, series) = (xs, ys)
            }
            guard !series.isEmpty, series.count <= 16 else {
                throw TxError(.value, "plot: between 1 and 16 series, got \(series.count)", at: args.span("ys"))
            }
            let labels: [String]
            let given = try args.value("labels")
            switch given {
            case .none: labels = []
            case .list(let list) where list.items.count == series.count:
                labels = list.items.map { if case .string(let s) = $0 { return s.text }; return Display.text($0) }
            case .string(let s) where series.count == 1: labels = [s.text]
            default:
                throw TxError(.value, "plot: labels must be a list of \(series.count) names, one per series", at: args.span("labels"))
            }
            let t = try args.value("title")
            let title: String?
            if case .string(let s) = t { title = s.text } else if t.isNone { title = nil } else { title = Display.text(t) }
            return LinePlot(x: x, series: series, labels: labels, title: title)
        }
    }
}

/// A file path (a string without NUL bytes), read in its parameter's turn, and where it
/// was written: for the error of a file that cannot be written.
struct PathArgument {
    let path: String
    let span: SourceSpan
}

extension Param where T == PathArgument {
    static func pathArgument(_ name: String) -> Param {
        Param<RawArgument>.argument(name).map { PathArgument(path: try $0.path(), span: $0.span) }
    }
}
