import Glibc
import Lang
import Tensor

extension Library {
    static func text() -> [Builtin] {
        [
            builtin("words", [.required("s")], "text", "The words of s (split at white space), as a list of strings.",
                    example: "words(\"I went to Stanford CS224N and learned\")") { args in
                let s = try args.string("s")
                return .list(ListValue(s.split(whereSeparator: { $0.isWhitespace }).map { .string(String($0)) }))
            },
            builtin("str", [.required("v")], "text", "v as text, as print shows it.", example: "str(3) + \" heads\"") { args in
                .string(Display.text(args.value("v")))
            },
            builtin("len", [.required("v")], "text",
                    "The length of a list, string, record or range, or the size of a tensor's first axis.",
                    example: "len([1, \"a\", none])") { args in
                let v = args.value("v")
                switch v {
                case .list(let l): return .number(Double(l.items.count))
                case .string(let s): return .number(Double(s.count))
                case .record(let r): return .number(Double(r.count))
                case .range(let r): return .number(Double(r.count))
                case .tensor(let t) where t.rank > 0: return .number(Double(t.shape[0]))
                default: throw args.typeError("v", expected: "a list, string, record, range or tensor of rank >= 1", got: v)
                }
            },
            builtin("keys", [.required("r")], "text", "The field names of a record, in order.",
                    example: "keys({a: 1, b: 2})") { args in
                .list(ListValue(try args.record("r").keys.map { .string($0) }))
            },
            builtin("print", [.variadic("v")], "text", "Prints the values separated by spaces, then a newline.",
                    example: "print(\"d =\", 8)") { args in
                args.interpreter.output(args.rest.map(Display.text).joined(separator: " ") + "\n")
                return .none
            },
            builtin("format", [.required("fmt"), .variadic("v")], "text",
                    "fmt with each {} replaced by the next value; {:.3f}, {:.2e}, {:.4g} and {:8} (width) format numbers.",
                    example: "format(\"{} heads of size {:.1f}\", 8, 64)") { args in
                .string(try formatted(try args.string("fmt"), args.rest, at: args.span))
            },
            builtin("type", [.required("v")], "text", "The kind of v: \"number\", \"tensor\", \"string\", ...",
                    example: "type(eye(2))") { args in
                .string(args.value("v").typeName)
            },
        ]
    }

    /// `format`'s placeholders: `{}` or `{:[width][.precision][f|e|g]}`; `{{` and `}}`
    /// are literal braces.
    static func formatted(_ template: String, _ values: [Value], at span: SourceSpan) throws -> String {
        var out = ""
        var next = 0
        var chars = template.makeIterator()
        while let c = chars.next() {
            if c == "}" {
                if let d = chars.next(), d != "}" { out.append("}"); out.append(d) } else { out.append("}") }
                continue
            }
            guard c == "{" else { out.append(c); continue }
            var spec = ""
            var closed = false
            while let d = chars.next() {
                if d == "{" && spec.isEmpty { out.append("{"); closed = true; spec = "{"; break }
                if d == "}" { closed = true; break }
                spec.append(d)
            }
            if spec == "{" { continue }
            guard closed else { throw TxError(.value, "value error: format: a '{' is not closed", at: span) }
            guard next < values.count else {
                throw TxError(.arity, "arity error: format has more {} than values (\(values.count))", at: span)
            }
            out += try formatOne(values[next], spec: spec, at: span)
            next += 1
        }
        guard next == values.count else {
            throw TxError(.arity, "arity error: format got \(values.count) values for \(next) {}", at: span)
        }
        return out
    }

    private static func formatOne(_ value: Value, spec: String, at span: SourceSpan) throws -> String {
        guard !spec.isEmpty else { return Display.text(value) }
        guard spec.hasPrefix(":") else {
            throw TxError(.value, "value error: format: unknown placeholder {\(spec)}; use {} or {:.3f}", at: span)
        }
        var body = Substring(spec.dropFirst())
        var style: Character? = nil
        if let last = body.last, "feg".contains(last) { style = last; body = body.dropLast() }
        let pieces = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard pieces.count <= 2, let width = pieces.first.map({ $0.isEmpty ? 0 : Int($0) }) ?? 0,
              let precision = pieces.count == 2 ? Int(pieces[1]) : Optional(-1) else {
            throw TxError(.value, "value error: format: cannot read the placeholder {\(spec)}", at: span)
        }
        var text: String
        if let style, let x = Convert.number(value) {
            let p = precision < 0 ? 6 : Swift.min(precision, 30)
            text = cFormat(x, style: style, precision: p)
        } else if style != nil {
            throw TxError(.type, "type error: format: {\(spec)} needs a number, got \(article(value.typeDescription))", at: span)
        } else {
            text = Display.text(value)
        }
        let padded = Swift.min(width, 1000)
        if text.count < padded { text = String(repeating: " ", count: padded - text.count) + text }
        return text
    }

    private static func cFormat(_ x: Double, style: Character, precision: Int) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let format = "%.\(precision)\(style)"
        _ = withVaList([x]) { vsnprintf(&buffer, buffer.count, format, $0) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
