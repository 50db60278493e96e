/// Other languages' spellings, which are not tx: the hint naming tx's spelling that the
/// syntax error they cause ends with (`x ** 2` ... `; tx writes x ^ 2 for a power`).
/// Hints are looked for only once the text has failed to parse, so they never change
/// what a valid program means.
enum Habits {
    /// The hint for a syntax error at `token`, starting with "; ", or nil.
    static func hint(at token: Token, in source: Source) -> String? {
        let bytes = source.bytes
        let before = token.start > 0 ? bytes[token.start - 1] : 0
        if token.kind == .string, before == UInt8(ascii: "f"),
           token.start < 2 || !Lexer.isIdentifierPart(bytes[token.start - 2]) {
            return "; tx writes " + formatCall(fString: token.text)
        }
        // Python's boolean words: `a and b`, `a or b` fail at the word; `not x` at what follows it.
        if token.kind == .identifier, token.text == "and" { return "; tx writes a && b" }
        if token.kind == .identifier, token.text == "or" { return "; tx writes a || b" }
        if wordBefore(token.start, in: bytes) == "not" { return "; tx writes !x for not x" }
        guard token.kind == .symbol else { return nil }
        // x ** 2
        if token.text == "*", before == UInt8(ascii: "*") { return "; tx writes x ^ 2 for a power" }
        // Julia's and MATLAB's dotted operators: x .^ 2, x .* y, f.(x), x.'
        if before == UInt8(ascii: ".") {
            switch token.text {
            case "(": return "; tx writes f(x): functions work elementwise"
            case "'": return "; tx writes x' (it swaps the last two axes)"
            case "^": return "; tx writes x ^ 2: operators work elementwise"
            case "+", "-", "*", "/", "//", "%", "<", "<=", ">", ">=", "==", "!=", "=":
                return "; tx writes x \(token.text) y: operators work elementwise"
            default: return nil
            }
        }
        // IPython's %magics and Julia's @macros, at the start of a statement.
        guard token.text == "%" || token.text == "@", startsStatement(token.start, in: bytes) else { return nil }
        var end = token.start
        while end < bytes.count, bytes[end] == UInt8(ascii: "%") || bytes[end] == UInt8(ascii: "@") { end += 1 }
        let nameStart = end
        while end < bytes.count, Lexer.isIdentifierPart(bytes[end]) || bytes[end] == UInt8(ascii: ".") { end += 1 }
        let name = String(decoding: bytes[nameStart..<end], as: UTF8.self)
        let rest = String(decoding: bytes[end..<source.lineEnd(at: token.start)], as: UTF8.self).trimmingSpaces
        if token.text == "%" {
            // %timeit's options (-n 100 -r 3 -q -o) have no :time equivalent.
            var words = rest.split(separator: " ")
            while let option = words.first, ["-n", "-r", "-p", "-q", "-o"].contains(option) {
                words.removeFirst()
                if option != "-q", option != "-o", let count = words.first, Int(count) != nil { words.removeFirst() }
            }
            return magic(name, words.joined(separator: " "))
        }
        return macro(name, rest)
    }

    /// IPython's `%name rest` as a tx REPL command.
    private static func magic(_ name: String, _ rest: String) -> String {
        let argument = rest.isEmpty ? "" : " " + rest
        switch name {
        case "timeit", "time", "prun": return "; tx writes :time" + (rest.isEmpty ? " EXPR" : argument)
        case "history", "hist": return "; tx writes :history" + argument
        case "who", "whos", "who_ls": return "; tx writes :vars"
        case "save": return "; tx writes :save" + (rest.isEmpty ? " FILE" : argument)
        case "run", "load": return "; tx writes :load" + (rest.isEmpty ? " FILE" : argument)
        case "reset": return "; tx writes :reset"
        case "edit", "ed": return "; tx writes :edit"
        case "sx", "system", "ls", "pwd": return "; tx writes :sh " + (name == "ls" || name == "pwd" ? name + argument : rest.isEmpty ? "COMMAND" : rest)
        case "quickref", "magic", "lsmagic": return "; :help lists tx's commands"
        default: return "; tx's commands start with ':' (:help lists them)"
        }
    }

    /// Julia's `@name rest` in tx.
    private static func macro(_ name: String, _ rest: String) -> String {
        let argument = rest.isEmpty ? " EXPR" : " " + rest
        switch name {
        case "time", "btime", "benchmark", "elapsed", "timev", "timed": return "; tx writes :time" + argument
        case "show": return "; tx writes " + (rest.isEmpty ? "x" : rest) + " (a statement's value is shown)"
        case ".", "": return "; tx writes " + (rest.isEmpty ? "x ^ 2" : rest) + ": operators work elementwise"
        case "assert": return "; tx writes assert(" + (rest.isEmpty ? "c" : rest) + ")"
        default: return "; tx has no macros (:help lists the commands)"
        }
    }

    /// Whether only spaces, or a `;`, stand before `offset` on its line.
    /// The identifier that ends just before `offset` (spaces between allowed), or nil.
    private static func wordBefore(_ offset: Int, in bytes: [UInt8]) -> String? {
        var end = offset
        while end > 0, bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == UInt8(ascii: "\t") { end -= 1 }
        var start = end
        while start > 0, Lexer.isIdentifierPart(bytes[start - 1]) { start -= 1 }
        guard start < end, end < offset else { return nil }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    private static func startsStatement(_ offset: Int, in bytes: [UInt8]) -> Bool {
        var i = offset - 1
        while i >= 0, bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "\t") { i -= 1 }
        return i < 0 || bytes[i] == UInt8(ascii: "\n") || bytes[i] == UInt8(ascii: ";")
    }

    /// Python's `f"loss {loss:.3f} at {step}"` as tx's `format("loss {:.3f} at {}", loss, step)`:
    /// each field's expression becomes an argument and its spec stays. `literal` is the
    /// string as written, quotes included.
    static func formatCall(fString literal: String) -> String {
        let inner = Array(literal.dropFirst().dropLast())
        var text = "", arguments: [String] = []
        var i = 0
        while i < inner.count {
            let c = inner[i]
            if (c == "{" || c == "}"), i + 1 < inner.count, inner[i + 1] == c {
                text += String(c) + String(c)
                i += 2
                continue
            }
            guard c == "{" else {
                text.append(c)
                if c == "\\", i + 1 < inner.count { text.append(inner[i + 1]); i += 1 }
                i += 1
                continue
            }
            // A field: its expression up to a ':' or '!' outside brackets, then its spec.
            var depth = 0, j = i + 1, expression = "", spec: String? = nil
            while j < inner.count {
                let d = inner[j]
                if depth == 0, d == "}" { break }
                if "([{".contains(d) { depth += 1 } else if ")]}".contains(d) { depth -= 1 }
                if depth == 0, spec == nil, d == ":" || d == "!" {
                    spec = ""
                    if d == "!" {
                        // !r and !s conversions: tx's str is the one there is.
                        j += 2
                        if j < inner.count, inner[j] == ":" { j += 1 } else { continue }
                        continue
                    }
                } else if spec != nil {
                    spec?.append(d)
                } else {
                    expression.append(d)
                }
                j += 1
            }
            guard j < inner.count else { return "format(\"{}\", x)" }
            var trimmed = expression.trimmingSpaces
            // Python's {x=} shows the expression too.
            if trimmed.hasSuffix("="), !trimmed.hasSuffix("==") {
                trimmed = String(trimmed.dropLast()).trimmingSpaces
                text += trimmed + "="
            }
            guard !trimmed.isEmpty else { return "format(\"{}\", x)" }
            text += spec.map { $0.isEmpty ? "{}" : "{:" + $0 + "}" } ?? "{}"
            arguments.append(trimmed)
            i = j + 1
        }
        if arguments.isEmpty { return "\"" + text + "\"" }
        return "format(\"" + text + "\", " + arguments.joined(separator: ", ") + ")"
    }
}

extension String {
    /// Without white space (newlines too) at either end.
    public var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
