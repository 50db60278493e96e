import Lang
import Tensor

extension Library {
    static func showing() -> [Builtin] {
        let labelled: [BuiltinParameter] = [
            .optional("rows", .none, "none"), .optional("cols", .none, "none"), .optional("title", .none, "none"),
        ]
        return [
            builtin("heatmap", [.required("m")] + labelled, "showing",
                    "Draws a 2-D tensor in the terminal: colour where the terminal has it, shades otherwise.",
                    example: "heatmap(softmax(randn(4, 4)), rows=[\"a\", \"b\", \"c\", \"d\"])",
                    details: "rows and cols label the rows and columns (lists of strings or numbers); title goes on top. Colours (or shades ' ░▒▓█') run from the smallest finite value (dark) to the largest (bright); inf and -inf take the ends, nan cells show '?' (grey in savefig). The line below gives the finite min and max and counts nan and infinite cells.") { args in
                let map = try HeatmapData(args)
                if let figures = args.interpreter.figureObserver {
                    figures(map)
                } else {
                    args.interpreter.output(map.terminal(color: args.interpreter.style.isEnabled))
                }
                return .none
            },
            builtin("savefig", [.required("path"), .required("m")] + labelled, "showing",
                    "Writes a 2-D tensor as an SVG heatmap, with the labels and title of heatmap.",
                    example: "savefig(\"/tmp/tx-attention.svg\", softmax(randn(4, 4)))") { args in
                let path = try args.path("path")
                let map = try HeatmapData(args)
                do {
                    try writeFile(path: path, bytes: Array(map.svg().utf8))
                } catch let error as TensorError {
                    throw TxError(error, at: args.span("path"))
                }
                return .none
            },
        ]
    }
}

/// A matrix with labels, ready to draw.
struct HeatmapData {
    let values: [[Float]]
    let rows: [String]
    let cols: [String]
    let title: String?
    /// The smallest and largest finite values (0 when there are none).
    let low: Float
    let high: Float
    let finiteCount: Int
    let nanCount: Int
    let infinityCount: Int
    let negativeInfinityCount: Int

    init(_ args: Arguments) throws {
        var m = try args.tensor("m")
        if m.rank == 1 { m = try m.reshaped([1, -1]) }
        guard m.rank == 2 else {
            throw TxError(.shape, "shape mismatch in \(args.builtin.name): m must be a 2-D tensor, got \(describe(shape: m.shape))", at: args.span("m"))
        }
        let flat = m.values
        let (r, c) = (m.shape[0], m.shape[1])
        values = (0..<r).map { i in Array(flat[(i * c)..<(i * c + c)]) }
        rows = try Self.labels(args, "rows", count: r)
        cols = try Self.labels(args, "cols", count: c)
        let t = args.value("title")
        title = t.isNone ? nil : Display.text(t)
        let finite = flat.filter { $0.isFinite }
        low = finite.min() ?? 0
        high = finite.max() ?? 0
        finiteCount = finite.count
        nanCount = flat.count { $0.isNaN }
        infinityCount = flat.count { $0 == .infinity }
        negativeInfinityCount = flat.count { $0 == -.infinity }
    }

    private static func labels(_ args: Arguments, _ name: String, count: Int) throws -> [String] {
        let v = args.value(name)
        switch v {
        case .none: return []
        case .list(let list):
            guard list.items.count == count else {
                throw TxError(.value, "value error: \(args.builtin.name): \(name) has \(list.items.count) labels for \(count) \(name)", at: args.span(name))
            }
            return list.items.map(Display.text)
        case .tensor(let t) where t.rank == 1 && t.count == count:
            return t.values.map { TensorFormatter.formatNumber(Double($0)) }
        default:
            throw args.typeError(name, expected: "a list of \(count) labels", got: v)
        }
    }

    /// 0...1 position of a value between the smallest and largest finite values; inf
    /// takes the top and -inf the bottom. NaN cells are drawn apart (`?`, grey in SVG).
    func level(_ v: Float) -> Float {
        if v == .infinity { return 1 }
        if !v.isFinite { return 0 }
        guard high > low else { return 0.5 }
        // In double: high - low can overflow a float.
        let t = (Double(v) - Double(low)) / (Double(high) - Double(low))
        return Float(Swift.min(Swift.max(t, 0), 1))
    }

    /// The line under the map: the finite range, then how many cells are nan or infinite.
    var legend: String {
        let n = { (v: Float) in TensorFormatter.formatNumber(v) }
        var parts = [finiteCount > 0 ? "min \(n(low))  max \(n(high))"
                     : nanCount + infinityCount + negativeInfinityCount == 0 ? "no values" : "no finite values"]
        if nanCount > 0 { parts.append("\(nanCount) nan (?)") }
        if infinityCount > 0 { parts.append("\(infinityCount) inf") }
        if negativeInfinityCount > 0 { parts.append("\(negativeInfinityCount) -inf") }
        return parts.joined(separator: ", ")
    }

    /// Viridis, by linear interpolation between five of its colours.
    static func color(_ t: Float) -> (Int, Int, Int) {
        let anchors: [(Float, Float, Float)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
        let x = (t.isNaN ? 0 : Swift.min(Swift.max(t, 0), 1)) * Float(anchors.count - 1)
        let i = Swift.min(Int(x), anchors.count - 2)
        let f = x - Float(i)
        let (a, b) = (anchors[i], anchors[i + 1])
        return (Int(a.0 + (b.0 - a.0) * f), Int(a.1 + (b.1 - a.1) * f), Int(a.2 + (b.2 - a.2) * f))
    }

    func terminal(color: Bool) -> String {
        let shades: [Character] = [" ", "░", "▒", "▓", "█"]
        let width = Swift.max(2, Swift.min(8, cols.map(\.count).max() ?? 2))
        let labelWidth = Swift.min(12, rows.map(\.count).max() ?? 0)
        func fit(_ s: String, _ w: Int) -> String {
            let cut = String(s.prefix(w))
            return cut + String(repeating: " ", count: w - cut.count)
        }
        var out = ""
        if let title { out += title + "\n" }
        let margin = labelWidth > 0 ? String(repeating: " ", count: labelWidth + 1) : ""
        if !cols.isEmpty {
            out += trimmed(margin + cols.map { fit($0, width) }.joined(separator: " ")) + "\n"
        }
        for (i, row) in values.enumerated() {
            if labelWidth > 0 { out += fit(rows[i], labelWidth) + " " }
            let cells = row.map { v -> String in
                if v.isNaN { return fit("?", width) }
                let t = level(v)
                if color {
                    let (r, g, b) = Self.color(t)
                    return "\u{1B}[48;2;\(r);\(g);\(b)m" + String(repeating: " ", count: width) + "\u{1B}[0m"
                }
                let shade = shades[Swift.min(shades.count - 1, Int(t * Float(shades.count - 1) + 0.5))]
                return String(repeating: shade, count: width)
            }
            out += (color ? cells.joined(separator: " ") : trimmed(cells.joined(separator: " "))) + "\n"
        }
        out += margin + legend + "\n"
        return out
    }

    private func trimmed(_ line: String) -> String {
        var s = Substring(line)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }

    func svg() -> String {
        let cell = Swift.max(8, Swift.min(40, 800 / Swift.max(1, Swift.max(values.count, values.first?.count ?? 1))))
        let labelWidth = rows.isEmpty ? 0 : 8 * Swift.min(16, rows.map(\.count).max() ?? 0) + 8
        let top = (title == nil ? 0 : 28) + (cols.isEmpty ? 0 : 8 * Swift.min(16, cols.map(\.count).max() ?? 0) + 8)
        let w = labelWidth + cell * (values.first?.count ?? 0) + 10
        let h = top + cell * values.count + 10
        func escape(_ s: String) -> String {
            s.replacingAll("&", "&amp;").replacingAll("<", "&lt;").replacingAll(">", "&gt;").replacingAll("\"", "&quot;")
        }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" font-family=\"monospace\" font-size=\"12\">\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        if let title { out += "<text x=\"\(w / 2)\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">\(escape(title))</text>\n" }
        for (j, label) in cols.enumerated() {
            let x = labelWidth + j * cell + cell / 2
            out += "<text transform=\"translate(\(x),\(top - 4)) rotate(-60)\">\(escape(label))</text>\n"
        }
        for (i, row) in values.enumerated() {
            let y = top + i * cell
            if !rows.isEmpty {
                out += "<text x=\"\(labelWidth - 4)\" y=\"\(y + cell / 2 + 4)\" text-anchor=\"end\">\(escape(rows[i]))</text>\n"
            }
            for (j, v) in row.enumerated() {
                let (r, g, b) = v.isNaN ? (190, 190, 190) : Self.color(level(v))
                out += "<rect x=\"\(labelWidth + j * cell)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"rgb(\(r),\(g),\(b))\"><title>\(TensorFormatter.formatNumber(v))</title></rect>\n"
            }
        }
        return out + "</svg>\n"
    }
}

extension String {
    func replacingAll(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
