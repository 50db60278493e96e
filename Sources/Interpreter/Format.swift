import Glibc
import Lang
import Tensor

/// `format`'s engine: a template with Python's format specs, filled with values.
enum Format {
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
                    throw TxError(.value, "format: a single '}' (character \(i + 1)); write }} for a literal '}'", at: fmtSpan)
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
                    throw TxError(.value, "format: placeholder \(number) has a '{' inside; nested placeholders are not supported", at: fmtSpan)
                }
                field.append(d)
            }
            guard closed else {
                throw TxError(.value, "format: placeholder \(number) is not closed; write {{ for a literal '{'", at: fmtSpan)
            }
            let label = "placeholder \(number) {\(field)}"
            guard field.isEmpty || field.hasPrefix(":") else {
                throw TxError(.value, "format: \(label): only {} and {:spec} are supported (no positions, names or conversions)", at: fmtSpan)
            }
            let spec = try FormatSpec(parsing: field.dropFirst(), label: label, at: fmtSpan)
            guard next < values.count else {
                throw TxError(.arity, "format has more {} than values (\(values.count))", at: span)
            }
            let valueSpan = next < valueSpans.count ? valueSpans[next] : span
            let piece = try spec.apply(to: values[next], label: label, at: valueSpan)
            do {
                try Memory.checkRoom(for: 2 * (out.utf8.count + piece.utf8.count), "building a string")
            } catch let error as TxError {
                throw TxError(error.kind, label: error.label, error.detail, at: span)
            }
            out += piece
            next += 1
        }
        guard next == values.count else {
            throw TxError(.arity, "format got \(values.count) values for \(next) {}", at: span)
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
            TxError(.value, "format: \(label): \(problem)", at: span)
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
                throw TxError(.type, "format: \(label) needs a string for type 's', got a number", at: span)
            }
            return try number(x, float: false, label: label, at: span)
        case .tensor(let t) where t.scalarValue != nil && type != "s"
            && (numericPart != nil || precision != nil || zero):
            return try number(Double(t.scalarValue ?? 0), float: true, label: label, at: span)
        default:
            if let part = numericPart {
                throw TxError(.type, "format: \(label) needs a number for \(part), got \(article(value.typeDescription))", at: span)
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
                throw TxError(.value, "format: \(label) needs an integer for type '\(t)', got \(TensorFormatter.formatNumber(x))", at: span)
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
