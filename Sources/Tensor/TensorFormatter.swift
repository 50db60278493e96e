import Glibc

/// What `print_options` sets: how many digits tensors show and when long values are
/// summarised (NumPy's `set_printoptions`, PyTorch's `set_printoptions`).
public struct PrintOptions: Sendable, Equatable {
    /// Decimals in fixed point, or digits after the point of a scientific mantissa.
    public var precision = 4
    /// Tensors of more elements, and lists and records of more entries, are summarised.
    public var threshold = 1000
    /// The entries shown at each end of a summarised axis, list or record.
    public var edge = 3
    /// Scientific notation always (true), never (false), or when the values call for it.
    public var scientific: Bool? = nil

    public init() {}

    /// The most decimals (or mantissa digits) a value may need so that it does not print
    /// as a whole number it is not: float32 holds about 7 to 8 significant digits.
    static let honestDigits = 8
}

/// The print options of the session printing now: each interpreter binds its own (see
/// `TensorFormatter.$settings`), so that two sessions in one process never share them.
public final class PrintSettings: @unchecked Sendable {
    public var options = PrintOptions()
    public init() {}
}

/// How tx prints numbers and tensors.
///
/// A tensor prints as a header line with its shape, then NumPy-style nested brackets
/// with one number format for all the elements shown: integers when every value is
/// integral; fixed point with the fewest decimals (at most `precision`, 4) that show
/// every value to `precision` decimals; scientific when values are very large, very
/// small or spread over more than 3 orders of magnitude. A value that is not a whole
/// number never prints as zero (`0.0000` for 2e-9) or as a whole number further than
/// float32's rounding from it (`1.0` for 0.99999): the format takes more digits, up to
/// 8, and else turns scientific (`Style.misleads`). Tensors over `threshold` (1000)
/// elements show the first and last `edge` (3) entries of each long axis with `…`.
public enum TensorFormatter {
    /// The options in force: the running interpreter's (the default when none is bound).
    @TaskLocal public static var settings = PrintSettings()
    static var options: PrintOptions { settings.options }
    /// The width rows wrap at, when the caller does not say (a pipe or a file).
    public static let defaultWidth = 80

    /// A number as tx prints it: `3`, `2.5`, `0.1`, `1e-05`, `inf`, `nan`.
    public static func formatNumber(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        if x == x.rounded(), abs(x) < 1e16 {
            if x == 0 { return x.sign == .minus ? "-0" : "0" }
            return String(Int64(x))
        }
        return String(x)
    }

    /// A float32 value without the noise of widening it to double: `0.32943934`.
    public static func formatNumber(_ x: Float) -> String {
        if x.isFinite, x == x.rounded(), abs(x) < 1e16 { return formatNumber(Double(x)) }
        if !x.isFinite { return formatNumber(Double(x)) }
        return String(x)
    }

    /// `tensor [2, 3]`, or `tensor(2.5)` for a 0-d tensor.
    public static func summary(_ t: Tensor) -> String {
        if t.rank == 0 {
            let v = t.scalarValue ?? 0
            return "tensor(\(Style([v], options).text(v)))"
        }
        return "tensor \(describe(shape: t.shape))"
    }

    /// The printed form, wrapping rows at `width` columns (the terminal's width).
    public static func format(_ t: Tensor, width lineWidth: Int = defaultWidth) -> String {
        if t.rank == 0 { return summary(t) }
        let header = "tensor \(describe(shape: t.shape))\n"
        if t.count == 0 { return header + "[]" }
        let options = options, edge = options.edge
        let summarise = t.count > options.threshold
        // The indices shown along each axis (-1 for the `…`). Only the elements shown are
        // read, so a summarised tensor of billions of elements prints at once.
        let shown: [[Int]] = t.shape.map { size in
            summarise && size > 2 * edge ? Array(0..<edge) + [-1] + Array((size - edge)..<size) : Array(0..<size)
        }
        var picked: [Float] = []
        walk(t, shown) { offset in
            for i in shown[t.rank - 1] where i >= 0 { picked.append(t.storage.pointer[offset + i * t.strides[t.rank - 1]]) }
        }
        let style = Style(picked, options, fixedPoint: !summarise && isDistribution(picked, rows: t.shape[t.rank - 1]))
        let width = picked.map { style.text($0).count }.max() ?? 1
        var out = ""
        walk(t, shown, open: { out += "[" }, close: { out += "]" }, ellipsis: { out += "…" }, separator: { axis in
            out += "," + String(repeating: "\n", count: t.rank - axis - 1) + String(repeating: " ", count: axis + 1)
        }) { offset in
            let cells = shown[t.rank - 1].map { i -> String in
                guard i >= 0 else { return "…" }
                let s = style.text(t.storage.pointer[offset + i * t.strides[t.rank - 1]])
                return String(repeating: " ", count: max(0, width - s.count)) + s
            }
            out += wrap(cells, indent: t.rank, lineWidth: lineWidth)
        }
        return header + out
    }

    /// Whether `values`, in rows of `length`, are distributions (each value in [0, 1],
    /// each row summing to 1), which print in fixed point however small some weights are.
    private static func isDistribution(_ values: [Float], rows length: Int) -> Bool {
        length > 1 && values.allSatisfy { $0 >= 0 && $0 <= 1 }
            && stride(from: 0, to: values.count, by: length).allSatisfy { start in
                abs(values[start..<(start + length)].reduce(0.0) { $0 + Double($1) } - 1) < 1e-3
            }
    }

    /// The elements on one line, in the number format printing uses and without its
    /// padding (`[0.12, -1.3, 0.5]`, `[[1, 2], [3, 4]]`, `2.5` for a 0-d tensor), when that
    /// fits in `room` characters. A vector too long for it shows its first elements, `…`
    /// and its last (`[0.12, -1.3, …, 0.5]`); anything else that does not fit is empty.
    /// Only the elements that could fit are read.
    public static func oneLine(_ t: Tensor, fitting room: Int) -> String {
        let fits = { (text: String) in text.count <= room ? text : "" }
        if t.rank == 0 {
            let v = t.scalarValue ?? 0
            return fits(Style([v], options).text(v))
        }
        if t.count == 0 { return fits("[]") }
        // Each element takes at least three characters (`0, `).
        let most = max(0, room / 3)
        if t.count <= most {
            let shown = t.shape.map { Array(0..<$0) }
            var values: [Float] = []
            walk(t, shown) { offset in
                for i in 0..<t.shape[t.rank - 1] { values.append(t.storage.pointer[offset + i * t.strides[t.rank - 1]]) }
            }
            let style = Style(values, options, fixedPoint: isDistribution(values, rows: t.shape[t.rank - 1]))
            var out = "", next = 0
            walk(t, shown, open: { out += "[" }, close: { out += "]" }, separator: { _ in out += ", " }) { _ in
                let row = values[next..<(next + t.shape[t.rank - 1])]
                out += row.map(style.text).joined(separator: ", ")
                next += row.count
            }
            if out.count <= room { return out }
        }
        guard t.rank == 1, t.count >= 3 else { return "" }
        let element = { (i: Int) in t.storage.pointer[t.offset + i * t.strides[0]] }
        for first in stride(from: min(most, t.count - 2), through: 1, by: -1) {
            let values = (0..<first).map(element) + [element(t.count - 1)]
            let style = Style(values, options)
            let cells = values.map(style.text)
            let text = "[" + cells.dropLast().joined(separator: ", ") + ", …, " + (cells.last ?? "") + "]"
            if text.count <= room { return text }
        }
        return ""
    }

    /// Visits the shown part of t in printing order, with a loop rather than recursion
    /// (a tensor may have millions of axes): `open` and `close` around each axis's
    /// entries, `separator(axis)` between them, `ellipsis` for a `…` entry, and `row` with
    /// the offset of each last-axis row shown.
    private static func walk(_ t: Tensor, _ shown: [[Int]], open: () -> Void = {}, close: () -> Void = {},
                             ellipsis: () -> Void = {}, separator: (Int) -> Void = { _ in },
                             row: (Int) -> Void) {
        let last = t.rank - 1
        var position = [Int](repeating: 0, count: t.rank)   // the next entry of each open axis
        var base = [Int](repeating: t.offset, count: t.rank) // the offset of each open axis's block
        var axis = 0
        open()
        while axis >= 0 {
            if axis == last {
                row(base[axis])
                close()
                axis -= 1
            } else if position[axis] < shown[axis].count {
                if position[axis] > 0 { separator(axis) }
                let i = shown[axis][position[axis]]
                position[axis] += 1
                if i < 0 {
                    ellipsis()
                    continue
                }
                axis += 1
                base[axis] = base[axis - 1] + i * t.strides[axis - 1]
                position[axis] = 0
                open()
            } else {
                close()
                axis -= 1
            }
        }
    }

    /// Joins a row's cells with ", ", breaking lines past the line width.
    private static func wrap(_ cells: [String], indent: Int, lineWidth: Int) -> String {
        var lines: [String] = []
        var line = ""
        for cell in cells {
            let piece = line.isEmpty ? cell : ", " + cell
            if !line.isEmpty, indent + line.count + piece.count + 2 > lineWidth {
                lines.append(line + ",")
                line = cell
            } else {
                line += piece
            }
        }
        lines.append(line)
        return lines.count == 1 ? line : lines.joined(separator: "\n" + String(repeating: " ", count: indent))
    }

    /// The one number format for a tensor's shown elements.
    struct Style {
        enum Kind { case integer, fixed(Int), scientific(Int) }
        let kind: Kind

        init(_ values: [Float], _ options: PrintOptions = PrintOptions(), fixedPoint: Bool = false) {
            let finite = values.filter { $0.isFinite }.map { Double($0) }
            let magnitudes = finite.map { abs($0) }.filter { $0 > 0 }
            if finite.allSatisfy({ $0 == $0.rounded() }) && (magnitudes.max() ?? 0) < 1e16 {
                kind = .integer
                return
            }
            let precision = options.precision, honest = max(precision, PrintOptions.honestDigits)
            let fractions = finite.filter { $0 != $0.rounded() }
            let largest = magnitudes.max() ?? 0, smallest = magnitudes.min() ?? 0
            let spread = largest >= 1e8 || (smallest > 0 && smallest < 1e-4) || (smallest > 0 && largest / smallest > 1e3)
            if options.scientific != true, options.scientific == false || fixedPoint || !spread {
                // The fewest decimals that show every value to `precision` decimals, then
                // more while some fraction would print as a whole number.
                var decimals = precision
                for d in 0...precision where finite.allSatisfy({ Style.fixed($0, d) == Style.fixed($0, precision) }) {
                    decimals = d
                    break
                }
                decimals = max(decimals, 1)
                while decimals < honest, fractions.contains(where: { Style.misleads($0, Style.fixed($0, decimals)) }) {
                    decimals += 1
                }
                if options.scientific == false || !fractions.contains(where: { Style.misleads($0, Style.fixed($0, decimals)) }) {
                    kind = .fixed(decimals)
                    return
                }
            }
            var digits = precision
            for d in 0...precision where finite.allSatisfy({ Style.mantissa($0, d) == Style.mantissa($0, precision) }) {
                digits = d
                break
            }
            while digits < honest, fractions.contains(where: { Style.misleads($0, Double(Style.mantissa($0, digits)) ?? $0) }) {
                digits += 1
            }
            kind = .scientific(digits)
        }

        /// Whether `x`, which is not a whole number, printed as `shown` reads as one it is
        /// not: zero for a value that is not (`0.0000` for 2e-9), or another whole number
        /// further than float32's rounding (a relative 1e-6) from it (`1.0` for 0.99999,
        /// but `1.0000` for 0.9999999, which float32 arithmetic gives for 1).
        static func misleads(_ x: Double, _ shown: Double) -> Bool {
            guard shown == shown.rounded() else { return false }
            return shown == 0 || abs(x - shown) > 1e-6 * abs(x)
        }

        static func fixed(_ x: Double, _ decimals: Int) -> Double {
            let scale = pow(10, Double(decimals))
            return (x * scale).rounded() / scale
        }

        static func mantissa(_ x: Double, _ digits: Int) -> String {
            c(x, "%.\(digits)e")
        }

        static func c(_ x: Double, _ format: String) -> String {
            var buffer = [CChar](repeating: 0, count: 48)
            _ = withVaList([x]) { vsnprintf(&buffer, buffer.count, format, $0) }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }

        func text(_ v: Float) -> String {
            if v.isNaN { return "nan" }
            if v.isInfinite { return v < 0 ? "-inf" : "inf" }
            let x = Double(v)
            switch kind {
            case .integer: return x == 0 && x.sign == .minus ? "-0" : String(Int64(x))
            case .fixed(let d): return Style.c(x, "%.\(d)f")
            case .scientific(let d): return Style.c(x, "%.\(d)e")
            }
        }
    }
}
