import Tensor

/// How values look: `show` is the REPL's echo (strings quoted), `text` is what
/// `print` and `str` give (strings as they are).
enum Display {
    static func text(_ value: Value) -> String {
        if case .string(let s) = value { return s }
        return show(value)
    }

    static func show(_ value: Value) -> String {
        switch value {
        case .tensor(let t): return TensorFormatter.format(t)
        case .list, .record: return nested(value, indent: 0)
        default: return short(value)
        }
    }

    /// Containers nested deeper than this (or holding themselves) print as `…`.
    static let maxDepth = 32

    /// One-line form used inside lists and records: tensors as `tensor [2, 3]`.
    static func short(_ value: Value, depth: Int = 0) -> String {
        if depth > maxDepth { return "…" }
        switch value {
        case .number(let x): return TensorFormatter.formatNumber(x)
        case .tensor(let t): return TensorFormatter.summary(t)
        case .string(let s): return quoted(s)
        case .bool(let b): return b ? "true" : "false"
        case .none: return "none"
        case .list(let l): return "[" + l.items.map { short($0, depth: depth + 1) }.joined(separator: ", ") + "]"
        case .record(let r):
            return "{" + r.entries.map { "\(key($0.key)): \(short($0.value, depth: depth + 1))" }.joined(separator: ", ") + "}"
        case .function(let f): return "<fn \(f.signature)>"
        case .builtin(let b): return "<builtin \(b.signature)>"
        case .range(let r):
            let parts = [r.start, r.stop] + (r.step == 1 ? [] : [r.step])
            return "range(" + parts.map(TensorFormatter.formatNumber).joined(separator: ", ") + ")"
        }
    }

    /// Lists and records on one line when that fits in 80 columns, else one entry a line.
    private static func nested(_ value: Value, indent: Int) -> String {
        let flat = short(value, depth: indent / 2)
        if flat.count + indent <= 80 || indent / 2 > maxDepth { return flat }
        let pad = String(repeating: " ", count: indent + 2)
        switch value {
        case .list(let l):
            let lines = l.items.map { pad + nested($0, indent: indent + 2) }
            return "[\n" + lines.joined(separator: ",\n") + "\n" + String(repeating: " ", count: indent) + "]"
        case .record(let r):
            let lines = r.entries.map { pad + "\(key($0.key)): " + nested($0.value, indent: indent + 2) }
            return "{\n" + lines.joined(separator: ",\n") + "\n" + String(repeating: " ", count: indent) + "}"
        default:
            return flat
        }
    }

    /// A record key as written in a literal: bare when it is an identifier.
    private static func key(_ name: String) -> String {
        let isIdentifier = !name.isEmpty && name.utf8.enumerated().allSatisfy { i, c in
            c == UInt8(ascii: "_") || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (i > 0 && c >= 48 && c <= 57)
        }
        return isIdentifier ? name : quoted(name)
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for c in s {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.append(c)
            }
        }
        return out + "\""
    }
}
