import Lang
import Tensor

/// How values look: `show` is the REPL's echo (strings quoted), `text` is what
/// `print` and `str` give (strings as they are).
public enum Display {
    static func text(_ value: Value) -> String {
        if case .string(let s) = value { return s.text }
        return show(value)
    }

    /// The printed form; `style` colours a tensor's header line.
    public static func show(_ value: Value, style: Style = .plain) -> String {
        switch value {
        case .tensor(let t): return style.tensor(TensorFormatter.format(t, width: Terminal.columns()))
        case .record(let r) where r.role != nil: return r.role?.summary(r, false) ?? ""
        case .list, .record:
            var out = Output(limit: maxLength)
            nested(value, indent: 0, out: &out)
            return out.text
        default: return short(value)
        }
    }

    /// Containers nested deeper than this (or holding themselves) print as `…`.
    static let maxDepth = 32
    /// The longest printed form of a list or record, in bytes: past it, `…` ends the
    /// text (a list that holds itself twice per level would otherwise double each level).
    static let maxLength = 10_000_000

    /// One-line form used inside lists and records: tensors as `tensor [2, 3]`.
    static func short(_ value: Value, depth: Int = 0, limit: Int = maxLength) -> String {
        var out = Output(limit: limit)
        write(value, depth: depth, to: &out)
        return out.text
    }

    /// Text that stops growing at `limit` bytes, ending in `…` when cut.
    struct Output {
        private(set) var text = ""
        private var length = 0
        let limit: Int
        private(set) var isFull = false

        init(limit: Int) { self.limit = limit }

        mutating func append(_ piece: String) {
            guard !isFull else { return }
            let n = piece.utf8.count
            if length + n > limit {
                text += "…"
                isFull = true
                return
            }
            text += piece
            length += n
        }
    }

    private static func write(_ value: Value, depth: Int, to out: inout Output) {
        if depth > maxDepth { return out.append("…") }
        switch value {
        case .number(let x): out.append(TensorFormatter.formatNumber(x))
        case .tensor(let t): out.append(TensorFormatter.summary(t))
        case .string(let s): out.append(quoted(s.text))
        case .bool(let b): out.append(b ? "true" : "false")
        case .none: out.append("none")
        case .list(let l):
            out.append("[")
            for (n, i) in shown(l.items.count).enumerated() where !out.isFull {
                if n > 0 { out.append(", ") }
                if let i { write(l.items[i], depth: depth + 1, to: &out) } else { out.append("…") }
            }
            out.append("]")
        case .record(let r) where r.role != nil:
            out.append(r.role?.summary(r, true) ?? "")
        case .record(let r):
            out.append("{")
            let entries = r.entries
            for (n, i) in shown(entries.count).enumerated() where !out.isFull {
                if n > 0 { out.append(", ") }
                guard let i else {
                    out.append("…")
                    continue
                }
                out.append(key(entries[i].key) + ": ")
                write(entries[i].value, depth: depth + 1, to: &out)
            }
            out.append("}")
        case .function(let f): out.append("<fn \(f.signature)>")
        case .builtin(let b): out.append("<builtin \(b.signature)>")
        case .range(let r):
            let parts = [r.start, r.stop] + (r.step == 1 ? [] : [r.step])
            out.append("range(" + parts.map(TensorFormatter.formatNumber).joined(separator: ", ") + ")")
        }
    }

    /// Lists and records on one line when that fits the terminal's width, else one entry a line.
    private static func nested(_ value: Value, indent: Int, out: inout Output) {
        // Only as much of the one-line form as could fit is built.
        var flat = Output(limit: max(0, Terminal.columns() - indent))
        write(value, depth: indent / 2, to: &flat)
        if !flat.isFull || indent / 2 > maxDepth {
            if flat.isFull { write(value, depth: indent / 2, to: &out) } else { out.append(flat.text) }
            return
        }
        let pad = String(repeating: " ", count: indent + 2)
        switch value {
        case .list(let l):
            let indices = shown(l.items.count)
            if indices.allSatisfy({ i in i.map { l.items[$0].isAtom } ?? true }) {
                // Numbers, strings and bools fill the lines, as NumPy's rows do.
                let cells = indices.map { i in i.map { short(l.items[$0], depth: indent / 2 + 1) } ?? "…" }
                out.append("[\n" + pad)
                var column = 0
                for (n, cell) in cells.enumerated() where !out.isFull {
                    let piece = cell + (n == cells.count - 1 ? "" : ",")
                    if column > 0, pad.count + column + 1 + piece.count > Terminal.columns() {
                        out.append("\n" + pad)
                        column = 0
                    } else if column > 0 {
                        out.append(" ")
                        column += 1
                    }
                    out.append(piece)
                    column += piece.count
                }
                out.append("\n" + String(repeating: " ", count: indent) + "]")
                return
            }
            out.append("[\n")
            for (n, i) in indices.enumerated() where !out.isFull {
                if n > 0 { out.append(",\n") }
                out.append(pad)
                if let i { nested(l.items[i], indent: indent + 2, out: &out) } else { out.append("…") }
            }
            out.append("\n" + String(repeating: " ", count: indent) + "]")
        case .record(let r) where r.role == nil:
            out.append("{\n")
            let entries = r.entries
            for (n, i) in shown(entries.count).enumerated() where !out.isFull {
                if n > 0 { out.append(",\n") }
                guard let i else {
                    out.append(pad + "…")
                    continue
                }
                out.append(pad + "\(key(entries[i].key)): ")
                nested(entries[i].value, indent: indent + 2, out: &out)
            }
            out.append("\n" + String(repeating: " ", count: indent) + "}")
        default:
            write(value, depth: indent / 2, to: &out)
        }
    }

    /// The positions of a list's or record's entries that print, nil for the `…` of a
    /// summary: all of them up to the `threshold` of `print_options`, else `edge` at each end.
    private static func shown(_ count: Int) -> Shown {
        let options = TensorFormatter.settings.options
        let summarised = count > options.threshold && count > 2 * options.edge
        return Shown(total: count, edge: summarised ? options.edge : nil)
    }

    /// The positions `shown` gives, computed as they are read: a list of ten million
    /// items prints without an array of its positions.
    struct Shown: RandomAccessCollection {
        /// The list's or record's entries.
        let total: Int
        /// Entries kept at each end, or nil when all are shown.
        let edge: Int?

        var startIndex: Int { 0 }
        var endIndex: Int { edge.map { 2 * $0 + 1 } ?? total }

        subscript(position: Int) -> Int? {
            guard let edge else { return position }
            if position < edge { return position }
            return position == edge ? nil : total - (2 * edge + 1 - position)
        }
    }

    /// A record key as written in a literal: bare when it is an identifier.
    private static func key(_ name: String) -> String {
        Lexer.isIdentifier(name) ? name : quoted(name)
    }

    /// `s` as a tx string literal, quotes and backslashes escaped, and control characters
    /// (and the line and paragraph separators) written as escapes, so that "\r\n" or a
    /// NUL read from a file shows as what it is.
    public static func quoted(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        out.append("\"")
        for c in s.unicodeScalars {
            switch c {
            case "\"": out.append(contentsOf: "\\\"".unicodeScalars)
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            case "\u{0}"..."\u{1F}", "\u{7F}"..."\u{9F}", "\u{2028}", "\u{2029}":
                out.append(contentsOf: "\\u{\(String(c.value, radix: 16, uppercase: true))}".unicodeScalars)
            default: out.append(c)
            }
        }
        out.append("\"")
        return String(out)
    }
}

extension Value {
    /// Numbers, strings, bools and none: what a list shows several to a line.
    var isAtom: Bool {
        switch self {
        case .number, .string, .bool, .none: true
        default: false
        }
    }
}
