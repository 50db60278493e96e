import Glibc
import Lang
import Tensor

extension Library {
    static func text() -> [Builtin] {
        [
            builtin("words", [.required("s")], "text", "The words of s (split at white space), as a list of strings.",
                    example: "words(\"I went to Stanford CS224N and learned\")") { args in
                let s = try args.string("s")
                // Count first: 512 MiB of "a a a ..." would make a list of 8 GiB. At most one
                // word per run of ASCII non-space bytes, and one per other character.
                var count = 0, inWord = false, seen = 0
                for byte in s.utf8 {
                    // Ctrl-C: a check every chunk of bytes (and of characters below).
                    seen &+= 1
                    if seen & (Interrupt.chunk - 1) == 0 { try Interrupt.check() }
                    if byte < 0x80 {
                        let space = byte == 32 || (9...13).contains(byte)
                        if !space && !inWord { count += 1 }
                        inWord = !space
                    } else if byte >= 0xC0 {
                        count += 1
                    }
                }
                try Memory.checkRoom(for: count * (MemoryLayout<Substring>.stride + MemoryLayout<Value>.stride + StringValue.objectBytes) + s.utf8.count,
                                     "the list of words")
                // White space is a property of Unicode scalars: " \u{301}" is one Character.
                var list: [Value] = []
                var word = String.UnicodeScalarView()
                for scalar in s.unicodeScalars {
                    seen &+= 1
                    if seen & (Interrupt.chunk - 1) == 0 { try Interrupt.check() }
                    if scalar.properties.isWhitespace {
                        if !word.isEmpty { list.append(.string(String(word))) }
                        word = String.UnicodeScalarView()
                    } else {
                        word.append(scalar)
                    }
                }
                if !word.isEmpty { list.append(.string(String(word))) }
                return .list(ListValue(list))
            },
            builtin("str", [.required("v")], "text", "v as text, as print shows it.", example: "str(3) + \" heads\"") { args in
                .string(Display.text(try args.value("v")))
            },
            builtin("len", [.required("v")], "text",
                    "The length of a list, string, record or range, or the size of a tensor's first axis.",
                    example: "len([1, \"a\", none])") { args in
                let v = try args.value("v")
                switch v {
                case .list(let l): return .number(Double(l.items.count))
                case .string(let s): return .number(Double(CharacterPositions.count(of: s.text)))
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
                try args.interpreter.write(args.rest.map(Display.text).joined(separator: " ") + "\n", at: args.span)
                return .none
            },
            builtin("format", [.required("fmt"), .variadic("v")], "text",
                    "fmt with each {} replaced by the next value; {:spec} formats it as Python does: {:.3f}, {:8.2e}, {:>10}, {:+,d}, {:.1%}.",
                    example: "format(\"{} heads of size {:.1f}\", 8, 64)",
                    details: """
                    A spec is [[fill]align][sign][z][#][0][width][,|_][.precision][type], as in Python:
                    align < (strings' default), > (numbers'), ^ centre, = pad between sign and digits;
                    sign + - or space; z shows -0 as 0; # keeps the point and prefixes 0x 0o 0b;
                    0 pads with zeros after the sign; , or _ group the digits.
                    Number types: f F e E g G % (default precision 6), and d x X o b for integral numbers.
                    No type gives str(v), or with a precision that many significant digits: {:.3} of pi is 3.14.
                    s is for strings; a string's precision cuts it. Other values (bools, lists, records,
                    tensors) format as str(v); a one-element tensor takes a number's spec.
                    {{ and }} are literal braces; width and precision are at most 1000; each value needs
                    its {} and each {} its value.
                    """) { args in
                .string(try formatted(try args.string("fmt"), args.rest, at: args.span,
                                       templateSpan: args.span("fmt"), valueSpans: args.restSpans))
            },
            builtin("join", [.required("parts"), .optional("separator", .string(""), "\"\"")], "text",
                    "The items of a list joined into one string, separator between them (as Julia's join; Python's separator.join(parts)).",
                    example: "join(words(\"the cat sat\"), \" \")",
                    details: "Strings are joined as they are, other values as str shows them.") { args in
                let v = try args.value("parts")
                guard case .list(let list) = v else { throw args.typeError("parts", expected: "a list", got: v) }
                let separator = try args.string("separator")
                var bytes = separator.utf8.count * Swift.max(list.items.count - 1, 0)
                let pieces = list.items.map { item -> String in
                    let text = Display.text(item)
                    bytes += text.utf8.count
                    return text
                }
                try Memory.checkRoom(for: 2 * bytes, "building a string")
                return .string(pieces.joined(separator: separator))
            },
            builtin("lines", [.required("s")], "text",
                    "The lines of s, as a list of strings (without their \\n or \\r\\n; a final newline ends the last line).",
                    example: "lines(\"[PAD]\\n[UNK]\\nthe\\n\")") { args in
                // Split at the byte \n, not at the Character "\n": "\r\n" is one Swift Character.
                let s = try args.string("s")
                let utf8 = s.utf8
                // Each line is a string value in the list: all must fit before any is made.
                var count = 1
                for byte in utf8 where byte == 10 { count += 1 }
                try Memory.checkRoom(for: count * (MemoryLayout<Value>.stride + StringValue.objectBytes) + utf8.count, "the list of lines")
                var parts: [Value] = []
                parts.reserveCapacity(count)
                var start = utf8.startIndex
                while start < utf8.endIndex {
                    let newline = utf8[start...].firstIndex(of: 10)
                    var end = newline ?? utf8.endIndex
                    if end > start, utf8[utf8.index(before: end)] == 13 { end = utf8.index(before: end) }
                    parts.append(.string(String(decoding: utf8[start..<end], as: UTF8.self)))
                    if parts.count & 0xFFF == 0 { try Interrupt.check() }
                    guard let newline else { break }
                    start = utf8.index(after: newline)
                }
                return .list(ListValue(parts))
            },
            builtin("chr", [.required("n")], "text",
                    "The string of the one Unicode scalar (code point) n, as Python's chr: chr(233) is \"é\".",
                    example: "chr(233) + chr(20013)",
                    details: "n is 0 to 1114111 (hex 10FFFF), not a surrogate (hex D800 to DFFF). ord is its inverse; \"\\u{e9}\" writes the same in a literal.") { args in
                let n = try args.int("n")
                guard let scalar = (0...0x10FFFF).contains(n) ? Unicode.Scalar(UInt32(n)) : nil else {
                    throw TxError(.value, "value error: chr: \(n) is not a Unicode scalar (0 to 1114111, hex 10FFFF, without the surrogates D800 to DFFF)", at: args.span("n"))
                }
                return .string(String(Character(scalar)))
            },
            builtin("ord", [.required("s")], "text",
                    "The code point of a string of one Unicode scalar, as Python's ord: ord(\"é\") is 233.",
                    example: "ord(\"é\") == 233 && ord(\"\\u{1F600}\") == 128512",
                    details: "\"e\\u{301}\" (e and a combining accent) is one character on screen but two scalars: ord(\"e\") and ord(\"\\u{301}\") give them.") { args in
                let s = try args.string("s")
                let scalars = s.unicodeScalars
                guard let first = scalars.first, scalars.index(after: scalars.startIndex) == scalars.endIndex else {
                    throw TxError(.value, "value error: ord needs a string of one Unicode scalar, got \(Display.show(.string(s))) (\(scalars.count) scalars)", at: args.span("s"))
                }
                return .number(Double(first.value))
            },
            builtin("number", [.required("s")], "text",
                    "The number a string spells (\"42\", \"-1.5e3\", \"inf\"), e.g. of a script's args; numbers stay numbers.",
                    example: "number(\"256\") + 1") { args in
                let v = try args.value("s")
                if let x = Convert.number(v) { return .number(x) }
                guard case .string(let s) = v else { throw args.typeError("s", expected: "a string", got: v) }
                guard let x = Double(s.text.trimmingSpaces) else {
                    throw TxError(.value, "value error: number: \(Display.show(v)) is not a number", at: args.span("s"))
                }
                return .number(x)
            },
            builtin("push", [.required("list"), .variadic("v")], "text",
                    "Appends the values to the end of list (in place, as Python's append) and returns the list.",
                    example: "rows = []; push(rows, eye(2)); push(rows, 1, \"a\"); len(rows)",
                    details: "[x] of a tensor or a number is a tensor literal, so rows + [x] would add; push(rows, x) adds an item.") { args in
                let v = try args.value("list")
                guard case .list(let list) = v else { throw args.typeError("list", expected: "a list", got: v) }
                try Memory.checkRoom(for: (list.items.count + args.rest.count) * MemoryLayout<Value>.stride, "building a list")
                list.items.append(contentsOf: args.rest)
                return v
            },
            builtin("type", [.required("v")], "text", "The kind of v: \"number\", \"tensor\", \"string\", ...",
                    example: "type(eye(2))") { args in
                .string(try args.value("v").typeName)
            },
        ]
    }

    /// `format`'s template: each `{}` or `{:spec}` takes the next value; `{{` and `}}`
    /// are literal braces. The spec is Python's format-spec mini-language (see `FormatSpec`).
    static func formatted(_ template: String, _ values: [Value], at span: SourceSpan,
                          templateSpan: SourceSpan? = nil, valueSpans: [SourceSpan] = []) throws -> String {
        let fmtSpan = templateSpan ?? span
        var out = ""
        var next = 0
        let chars = Array(template)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "}" {
                guard i + 1 < chars.count, chars[i + 1] == "}" else {
                    throw TxError(.value, "value error: format: a single '}' (character \(i + 1)); write }} for a literal '}'", at: fmtSpan)
                }
                out.append("}")
                i += 2
                continue
            }
            guard c == "{" else { out.append(c); i += 1; continue }
            if i + 1 < chars.count, chars[i + 1] == "{" { out.append("{"); i += 2; continue }
            let number = next + 1
            var field = ""
            var closed = false
            i += 1
            while i < chars.count {
                let d = chars[i]
                i += 1
                if d == "}" { closed = true; break }
                if d == "{" {
                    throw TxError(.value, "value error: format: placeholder \(number) has a '{' inside; nested placeholders are not supported", at: fmtSpan)
                }
                field.append(d)
            }
            guard closed else {
                throw TxError(.value, "value error: format: placeholder \(number) is not closed; write {{ for a literal '{'", at: fmtSpan)
            }
            let label = "placeholder \(number) {\(field)}"
            guard field.isEmpty || field.hasPrefix(":") else {
                throw TxError(.value, "value error: format: \(label): only {} and {:spec} are supported (no positions, names or conversions)", at: fmtSpan)
            }
            let spec = try FormatSpec(parsing: field.dropFirst(), label: label, at: fmtSpan)
            guard next < values.count else {
                throw TxError(.arity, "arity error: format has more {} than values (\(values.count))", at: span)
            }
            let valueSpan = next < valueSpans.count ? valueSpans[next] : span
            let piece = try spec.apply(to: values[next], label: label, at: valueSpan)
            do {
                try Memory.checkRoom(for: 2 * (out.utf8.count + piece.utf8.count), "building a string")
            } catch let error as TxError {
                throw TxError(error.kind, error.message, at: span)
            }
            out += piece
            next += 1
        }
        guard next == values.count else {
            throw TxError(.arity, "arity error: format got \(values.count) values for \(next) {}", at: span)
        }
        return out
    }
}

/// One placeholder's spec, Python's mini-language:
/// `[[fill]align][sign][z][#][0][width][,|_][.precision][type]`.
struct FormatSpec {
    static let maxWidth = 1000
    static let numberTypes: Set<Character> = ["f", "F", "e", "E", "g", "G", "%", "d", "x", "X", "o", "b"]
    static let integerTypes: Set<Character> = ["d", "x", "X", "o", "b"]

    var fill: Character? = nil
    var align: Character? = nil
    var sign: Character? = nil
    var noNegativeZero = false
    var alternate = false
    var zero = false
    var width = 0
    var grouping: Character? = nil
    var precision: Int? = nil
    var type: Character? = nil

    init(parsing spec: Substring, label: String, at span: SourceSpan) throws {
        func fail(_ problem: String) -> TxError {
            TxError(.value, "value error: format: \(label): \(problem)", at: span)
        }
        let s = Array(spec)
        var i = 0
        if s.count >= 2, "<>=^".contains(s[1]) {
            fill = s[0]; align = s[1]; i = 2
        } else if s.count >= 1, "<>=^".contains(s[0]) {
            align = s[0]; i = 1
        }
        if i < s.count, "+- ".contains(s[i]) { sign = s[i]; i += 1 }
        if i < s.count, s[i] == "z" { noNegativeZero = true; i += 1 }
        if i < s.count, s[i] == "#" { alternate = true; i += 1 }
        if fill == nil, i < s.count, s[i] == "0" { zero = true; i += 1 }
        func digits(_ what: String) throws -> Int? {
            var text = ""
            while i < s.count, let d = s[i].asciiValue, d >= 48, d <= 57 { text.append(s[i]); i += 1 }
            guard !text.isEmpty else { return nil }
            guard text.count <= 6, let n = Int(text), n <= Self.maxWidth else {
                throw fail("\(what) \(text) is too large (at most \(Self.maxWidth))")
            }
            return n
        }
        width = try digits("width") ?? 0
        if i < s.count, s[i] == "," || s[i] == "_" {
            grouping = s[i]; i += 1
            if i < s.count, s[i] == "," || s[i] == "_" { throw fail("only one grouping character, ',' or '_'") }
        }
        if i < s.count, s[i] == "." {
            i += 1
            guard let p = try digits("precision") else {
                throw fail("'.' must be followed by the precision, a number of digits")
            }
            precision = p
        }
        let rest = s[i...]
        if rest.count > 1 {
            throw fail("cannot read \"\(String(rest))\"; a spec is [[fill]align][sign][z][#][0][width][,|_][.precision][type]")
        }
        if let t = rest.first {
            guard t == "s" || Self.numberTypes.contains(t) else {
                throw fail("unknown type '\(t)'; the types are f F e E g G % d x X o b s")
            }
            type = t
        }
        if let t = type, Self.integerTypes.contains(t) {
            if precision != nil { throw fail("type '\(t)' takes no precision") }
            if t != "d", grouping == "," { throw fail("type '\(t)' groups digits with '_', not ','") }
        }
    }

    /// The parts of the spec only a number can take, for the error about a value that is not one.
    private var numericPart: String? {
        if let t = type, t != "s" { return "type '\(t)'" }
        if let sign { return "'\(sign)'" }
        if noNegativeZero { return "'z'" }
        if alternate { return "'#'" }
        if let grouping { return "'\(grouping)'" }
        if align == "=" { return "'=' alignment" }
        return nil
    }

    func apply(to value: Value, label: String, at span: SourceSpan) throws -> String {
        switch value {
        case .number(let x):
            if type == "s" {
                throw TxError(.type, "type error: format: \(label) needs a string for type 's', got a number", at: span)
            }
            return try number(x, float: false, label: label, at: span)
        case .tensor(let t) where t.scalarValue != nil && type != "s"
            && (numericPart != nil || precision != nil || zero):
            return try number(Double(t.scalarValue ?? 0), float: true, label: label, at: span)
        default:
            if let part = numericPart {
                throw TxError(.type, "type error: format: \(label) needs a number for \(part), got \(article(value.typeDescription))", at: span)
            }
            var text = Display.text(value)
            if let precision, text.count > precision { text = String(text.prefix(precision)) }
            return pad("", text, align: align ?? "<", fill: fill ?? (zero ? "0" : " "))
        }
    }

    private func number(_ x: Double, float: Bool, label: String, at span: SourceSpan) throws -> String {
        var negative: Bool
        var body: String
        var prefix = ""
        if let t = type, Self.integerTypes.contains(t) {
            guard x.isFinite, x == x.rounded() else {
                throw TxError(.value, "value error: format: \(label) needs an integer for type '\(t)', got \(TensorFormatter.formatNumber(x))", at: span)
            }
            negative = x < 0
            body = Self.integerDigits(abs(x), type: t)
            if alternate, t != "d" { prefix = "0" + String(t) }
        } else {
            negative = x.sign == .minus && !x.isNaN
            let m = abs(x)
            let upper = type == "F" || type == "E" || type == "G"
            if !m.isFinite {
                body = m.isNaN ? "nan" : "inf"
                if upper { body = body.uppercased() }
                if type == "%" { body += "%" }
            } else if let t = type {
                switch t {
                case "%": body = Self.c(m * 100, "f", precision: precision ?? 6, alternate: alternate) + "%"
                case "g", "G": body = Self.general(m, precision: precision ?? 6, alternate: alternate, upper: t == "G")
                default: body = Self.c(m, t, precision: precision ?? 6, alternate: alternate)
                }
            } else if let precision {
                body = Self.general(m, precision: precision, alternate: alternate, noType: true)
            } else {
                body = float ? TensorFormatter.formatNumber(Float(m)) : TensorFormatter.formatNumber(m)
            }
            if noNegativeZero, negative, m.isFinite, Self.isZero(body) { negative = false }
        }
        let signText = negative ? "-" : sign == "+" ? "+" : sign == " " ? " " : ""
        // The leading run of digits is the integer part, which grouping splits; an
        // integer type's body is all digits (hex ones included).
        let integral = type.map { Self.integerTypes.contains($0) } ?? false
        let digitCount = integral ? body.count : body.prefix { $0.isASCII && $0.isNumber }.count
        var digits = String(body.prefix(digitCount))
        let rest = String(body.dropFirst(digitCount))
        let align = align ?? (zero ? "=" : ">")
        let fill = fill ?? (zero ? "0" : " ")
        if let grouping {
            let size = type.map { "xXob".contains($0) } == true ? 4 : 3
            if align == "=", fill == "0", !digits.isEmpty {
                // Zero padding is grouped too, as Python does: 0,001,234.
                let needed = width - signText.count - prefix.count - rest.count
                while Self.grouped(digits, grouping, size).count < needed { digits = "0" + digits }
            }
            digits = Self.grouped(digits, grouping, size)
        }
        return pad(signText + prefix, digits + rest, align: align, fill: fill)
    }

    /// head + body padded to the width; '=' puts the padding between them.
    private func pad(_ head: String, _ body: String, align: Character, fill: Character) -> String {
        let missing = width - head.count - body.count
        guard missing > 0 else { return head + body }
        let f = { (n: Int) in String(repeating: fill, count: n) }
        switch align {
        case "<": return head + body + f(missing)
        case "^": return f(missing / 2) + head + body + f(missing - missing / 2)
        case "=": return head + f(missing) + body
        default: return f(missing) + head + body
        }
    }

    private static func grouped(_ digits: String, _ separator: Character, _ size: Int) -> String {
        var out = ""
        for (k, d) in digits.enumerated() {
            if k > 0, (digits.count - k) % size == 0 { out.append(separator) }
            out.append(d)
        }
        return out
    }

    private static func isZero(_ text: String) -> Bool {
        let mantissa = text.prefix { $0 != "e" && $0 != "E" }
        return mantissa.allSatisfy { !$0.isNumber || $0 == "0" }
    }

    /// 'g' and 'G' (C's %g rounds before choosing fixed or scientific only on some
    /// libcs, so this chooses from the rounded exponent itself), and no type with a
    /// precision: like 'g', but scientific from exponent precision - 1 on and at least one
    /// digit after the point (Python: 3.0 → "3.0" and 100 → "1e+02" for {:.3}).
    private static func general(_ m: Double, precision: Int, alternate: Bool, upper: Bool = false,
                                noType: Bool = false) -> String {
        let p = Swift.max(precision, 1)
        let scientific = c(m, upper ? "E" : "e", precision: p - 1, alternate: alternate)
        let mark = scientific.firstIndex { $0 == "e" || $0 == "E" }
        let exponent = m == 0 ? 0 : mark.flatMap { Int(scientific[scientific.index(after: $0)...]) } ?? 0
        func trimmed(_ number: Substring) -> String {
            var t = String(number)
            guard !alternate, t.contains(".") else { return t }
            while t.last == "0" { t.removeLast() }
            if t.last == "." { t.removeLast() }
            return t
        }
        if exponent >= -4, exponent < (noType ? p - 1 : p) {
            let fixed = trimmed(Substring(c(m, "f", precision: p - 1 - exponent, alternate: alternate)))
            return noType && !fixed.contains(".") ? fixed + ".0" : fixed
        }
        guard let mark else { return scientific }
        return trimmed(scientific[..<mark]) + scientific[mark...]
    }

    /// The digits of a non-negative integral value in the type's base.
    private static func integerDigits(_ m: Double, type: Character) -> String {
        if type == "d" { return c(m, "f", precision: 0, alternate: false) }
        let bits = type == "b" ? 1 : type == "o" ? 3 : 4
        let upper = type == "X"
        if m < 18446744073709551616.0 {
            return String(UInt64(m), radix: 1 << bits, uppercase: upper)
        }
        // m = significand * 2^shift with shift > 0: the significand's bits, then zeros.
        let significand = m.significandBitPattern | (UInt64(1) << 52)
        let shift = Int(m.exponent) - 52
        var binary = Array(String(significand, radix: 2)) + Array(repeating: Character("0"), count: shift)
        while binary.count % bits != 0 { binary.insert("0", at: 0) }
        var out = ""
        var k = 0
        while k < binary.count {
            var v = 0
            for b in binary[k..<(k + bits)] { v = v * 2 + (b == "1" ? 1 : 0) }
            out += String(v, radix: 1 << bits, uppercase: upper)
            k += bits
        }
        return out
    }

    /// A finite non-negative number through C's printf: %.{precision}{type}, with '#'.
    private static func c(_ x: Double, _ type: Character, precision: Int, alternate: Bool) -> String {
        let format = "%" + (alternate ? "#" : "") + ".\(precision)" + String(type)
        let size = withVaList([x]) { vsnprintf(nil, 0, format, $0) }
        guard size >= 0 else { return TensorFormatter.formatNumber(x) }
        var buffer = [CChar](repeating: 0, count: Int(size) + 1)
        _ = withVaList([x]) { vsnprintf(&buffer, buffer.count, format, $0) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
