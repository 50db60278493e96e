@preconcurrency import CReadline
@preconcurrency import Glibc
import Interpreter
import Lang

/// Tab completion in the REPL, knowing where the cursor is: at the start of a statement
/// (names, every keyword, and `:commands` at the start of the line), inside brackets
/// (names and the keywords that start a value; inside a call, `axis=` and the other
/// parameter names of the builtin or function called), after `name.` and
/// `p.layers[0].` (record fields, at any depth), after `:help` (help topics), and file
/// paths inside a string and after `:load` and `:step`; LaTeX names after a backslash
/// (`\\alpha`), inside strings too. When one builtin matches, its signature is shown
/// under the line.
public enum Completion {
    /// What may stand where the word being completed starts.
    public enum Place: Equatable {
        /// The start of a statement.
        case statement
        /// Inside brackets or after an operator: a value. `call` names the builtin or
        /// function whose argument list the word starts (after `(` or `,`).
        case expression(call: String?)
        /// After `:help`.
        case helpTopic
        /// A file name: inside a string, or after `:load` and `:step`.
        case file
    }

    /// Where the word after `before` (the line up to the word) stands.
    public static func place(before: String) -> Place {
        let line = before.drop { $0 == " " || $0 == "\t" }
        if line.hasPrefix(":") {
            guard let space = line.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return .statement }
            let command = Command.named(String(line[..<space]))
            if command?.takesFile == true { return .file }
            if command?.name == ":help" { return .helpTopic }
            return place(before: String(line[space...]))
        }
        // The brackets still open before the word: for `(`, the name called; for `[`
        // and `{`, the character before them.
        var open: [(bracket: Character, before: String)] = []
        var inString = false, escaped = false
        var previous: Character = " "
        var name = ""
        func isNamePart(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }
        for c in line {
            if inString {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
                continue
            }
            if c == "#" { break }
            if isNamePart(c) {
                name = isNamePart(previous) ? name + String(c) : String(c)
            } else if c != " " && c != "\t" {
                switch c {
                case "\"": inString = true
                case "(": open.append((c, name))
                case "[", "{": open.append((c, String(previous)))
                case ")", "]", "}": if !open.isEmpty { open.removeLast() }
                default: break
                }
                name = ""
            }
            if c != " " && c != "\t" { previous = c }
        }
        if inString { return .file }
        let tail = line.last { $0 != " " && $0 != "\t" }
        guard let innermost = open.last else {
            // After `=`, an operator or a keyword such as `in` or `if`: a value.
            if let tail, "=+-*/@%^<>!&|,".contains(tail) { return .expression(call: nil) }
            if let word = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).last, word != "else",
               Token.keywords.contains(String(word)) {
                return .expression(call: nil)
            }
            return .statement
        }
        // A `{` after `)`, a name or a keyword opens a block (statements); after `=`,
        // `(`, `[`, `,` or `:` a record (values).
        if innermost.bracket == "{", !"=([,:".contains(innermost.before) {
            if tail == "{" || tail == ";" || tail == "}" { return .statement }
            return .expression(call: nil)
        }
        if innermost.bracket == "(", !innermost.before.isEmpty, tail == "(" || tail == "," {
            return .expression(call: innermost.before)
        }
        return .expression(call: nil)
    }

    /// Candidates for `word`, given the line before it.
    public static func candidates(for word: String, before: String = "", in interpreter: Interpreter) -> [String] {
        if let backslash = word.lastIndex(of: "\\") {
            return symbols(for: word[word.index(after: backslash)...]).map { word[..<backslash] + $0 }
        }
        let place = place(before: before)
        if let dot = word.lastIndex(of: ".") {
            return fields(of: String(word[..<dot]), before: before, in: interpreter)
                .filter { $0.hasPrefix(word[word.index(after: dot)...]) }
                .map { String(word[...dot]) + $0 }
                .sorted()
        }
        if word.hasPrefix(":"), place != .helpTopic {
            // `:commands` only as the first word of the line (and after `:help`).
            guard before.allSatisfy({ $0 == " " || $0 == "\t" }) else { return [] }
            return Command.all.map(\.name).filter { $0.hasPrefix(word) }
        }
        var names: [String]
        switch place {
        case .file:
            return []
        case .helpTopic:
            names = Help.topics(interpreter)
        case .statement:
            names = interpreter.definedNames + Token.keywordTable.map(\.name)
        case .expression(let call):
            names = interpreter.definedNames + Token.keywordTable.filter { $0.place != .statement }.map(\.name)
            if let call { names += parameters(of: call, in: interpreter).map { $0 + "=" } }
        }
        return Set(names).filter { $0.hasPrefix(word) }.sorted()
    }

    /// Julia's LaTeX names: `\\alpha` Tab gives `α`, `x\\_1` gives `x₁`, `θ\\hat` gives `θ̂`.
    /// The Greek letters, subscripts and superscripts, accents (combining marks) and a
    /// few symbols for comments and strings; Julia's spelling throughout (`\\epsilon` is
    /// `ϵ`, `\\varepsilon` `ε`).
    static let latex: [(name: String, symbol: String)] = {
        let greek = "alpha α beta β gamma γ delta δ epsilon ϵ varepsilon ε zeta ζ eta η theta θ vartheta ϑ iota ι kappa κ lambda λ mu μ nu ν xi ξ omicron ο pi π varpi ϖ rho ρ varrho ϱ sigma σ varsigma ς tau τ upsilon υ phi ϕ varphi φ chi χ psi ψ omega ω"
            + " Alpha Α Beta Β Gamma Γ Delta Δ Epsilon Ε Zeta Ζ Eta Η Theta Θ Iota Ι Kappa Κ Lambda Λ Mu Μ Nu Ν Xi Ξ Omicron Ο Pi Π Rho Ρ Sigma Σ Tau Τ Upsilon Υ Phi Φ Chi Χ Psi Ψ Omega Ω"
        let symbols = "sqrt √ pm ± to → rightarrow → leftarrow ← cdot · times × div ÷ infty ∞ approx ≈ le ≤ leq ≤ ge ≥ geq ≥ ne ≠ in ∈ sum ∑ prod ∏ partial ∂ nabla ∇ ell ℓ circ ∘ odot ⊙ otimes ⊗"
        let words = (greek + " " + symbols).split(separator: " ").map(String.init)
        var table = stride(from: 0, to: words.count - 1, by: 2).map { (words[$0], words[$0 + 1]) }
        let accents: [(String, String)] = [("hat", "\u{302}"), ("tilde", "\u{303}"), ("bar", "\u{304}"), ("dot", "\u{307}"),
                                           ("ddot", "\u{308}"), ("vec", "\u{20D7}")]
        table += accents
        for (digit, (sub, sup)) in zip("0123456789", zip("₀₁₂₃₄₅₆₇₈₉", "⁰¹²³⁴⁵⁶⁷⁸⁹")) {
            table.append(("_\(digit)", String(sub)))
            table.append(("^\(digit)", String(sup)))
        }
        for (letter, sub) in zip("aehijklmnoprstuvx", "ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ") { table.append(("_\(letter)", String(sub))) }
        return table
    }()

    /// The completions of a LaTeX name after a backslash: its symbol when the name is
    /// one (`in` is `∈`, though `infty` starts with it) or only one name starts with it,
    /// else the names that start with it, backslash included.
    static func symbols(for name: Substring) -> [String] {
        if let exact = latex.first(where: { $0.name == name }) { return [exact.symbol] }
        let matches = latex.filter { $0.name.hasPrefix(name) }
        if matches.count == 1 { return [matches[0].symbol] }
        return matches.map { "\\" + $0.name }.sorted()
    }

    /// The LaTeX name (after its backslash) that ends `before`, the text before the
    /// cursor, when some name starts with it: `alp` for `s = "angle \\alp`. Nil when
    /// the backslash is itself escaped (`"a\\\\alpha`) or no name starts so.
    static func latexName(endingAt before: String) -> Substring? {
        let name = before.reversed().prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "^") }
        let backslashes = before.dropLast(name.count).reversed().prefix { $0 == "\\" }.count
        guard !name.isEmpty, backslashes % 2 == 1 else { return nil }
        let found = Substring(String(name.reversed()))
        return symbols(for: found).isEmpty ? nil : found
    }

    /// Whether `before`, the text before the cursor, ends inside a string literal.
    static func endsInString(_ before: String) -> Bool {
        var inString = false, escaped = false
        for c in before {
            if inString {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
            } else if c == "\"" {
                inString = true
            } else if c == "#" {
                return false
            }
        }
        return inString
    }

    /// The parameter names of the builtin or function called `name`.
    static func parameters(of name: String, in interpreter: Interpreter) -> [String] {
        switch interpreter.value(named: name) {
        case .builtin(let builtin): return builtin.parameters.filter { !$0.isVariadic }.map(\.name)
        case .function(let function): return function.parameters
        default: return []
        }
    }

    /// The field names of the record that `path` names: `p`, `p.attn`, or (with `before`
    /// ending in `p.layers[0]` and `path` empty) an indexed element.
    static func fields(of path: String, before: String, in interpreter: Interpreter) -> [String] {
        let base = path.isEmpty ? trailingPath(of: before) : path
        guard !base.isEmpty, case .record(let record)? = value(at: base, in: interpreter) else { return [] }
        return Array(record.keys)
    }

    /// The `name.field[0]...` path that ends `text` (empty if it does not end in one).
    static func trailingPath(of text: String) -> String {
        var depth = 0
        var start = text.endIndex
        for i in text.indices.reversed() {
            let c = text[i]
            if c == "]" { depth += 1 } else if c == "[" { depth -= 1 }
            else if depth == 0, !(c.isLetter || c.isNumber || c == "_" || c == ".") { break }
            if depth < 0 { break }
            start = i
        }
        return String(text[start...])
    }

    /// The value a path of names, fields and integer indices leads to; nil for anything
    /// else (completion never runs code).
    static func value(at path: String, in interpreter: Interpreter) -> Value? {
        var rest = Substring(path)
        let first = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        guard !first.isEmpty, var value = interpreter.value(named: String(first)) else { return nil }
        rest = rest.dropFirst(first.count)
        while let c = rest.first {
            if c == "." {
                let field = rest.dropFirst().prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                guard case .record(let record) = value, let next = record[String(field)] else { return nil }
                value = next
                rest = rest.dropFirst(1 + field.count)
            } else if c == "[" {
                guard let close = rest.firstIndex(of: "]"), let index = Int(rest[rest.index(after: rest.startIndex)..<close].filter { $0 != " " }),
                      case .list(let list) = value else { return nil }
                let items = list.items
                let i = index < 0 ? items.count + index : index
                guard items.indices.contains(i) else { return nil }
                value = items[i]
                rest = rest[rest.index(after: close)...]
            } else {
                return nil
            }
        }
        return value
    }

    /// The signature to show when `matches` is one builtin.
    public static func signature(for matches: [String], in interpreter: Interpreter) -> String? {
        guard matches.count == 1, let name = matches.first, case .builtin(let builtin)? = interpreter.value(named: name),
              builtin.name == name else { return nil }
        return builtin.signature
    }

    nonisolated(unsafe) private static var interpreter: Interpreter?
    nonisolated(unsafe) private static var matches: [String] = []
    nonisolated(unsafe) private static var next = 0
    /// Word breaks: operators and brackets; '.' and ':' stay inside words, so that
    /// fields and commands complete, and '\\' too (`\\alpha`). After :load and :step only spaces break, so that
    /// a path's '/' does not.
    nonisolated(unsafe) private static let expressionBreaks = strdup(" \t\n\"'`@$><=;|&{(,+-*/^%![]")
    nonisolated(unsafe) private static let pathBreaks = strdup(" \t\n\"")
    nonisolated(unsafe) private static let quoteCharacters = UnsafePointer(strdup("\""))
    /// Whether the completion under way is of a LaTeX name inside a string (`"\\alpha`).
    nonisolated(unsafe) private static var latexInString = false

    /// Installs completion for `interpreter` in GNU readline.
    public static func install(for interpreter: Interpreter) {
        Completion.interpreter = interpreter
        rl_completer_word_break_characters = UnsafePointer(expressionBreaks)
        rl_completion_word_break_hook = {
            // Inside a string a LaTeX name (`s = "\\alpha` Tab) completes as outside one: readline
            // then takes the word from the break before its backslash, not from the
            // string's opening quote, and neither treats it as a file name nor closes the
            // string. Other text in a string is a file name.
            let typed = rl_line_buffer.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: Int(rl_point)), as: UTF8.self) } ?? ""
            Completion.latexInString = Completion.endsInString(typed) && Completion.latexName(endingAt: typed) != nil
            rl_completer_quote_characters = Completion.latexInString ? nil : Completion.quoteCharacters
            let line = (rl_line_buffer.map { String(cString: $0) } ?? "").drop { $0 == " " || $0 == "\t" }
            guard let space = line.firstIndex(where: { $0 == " " || $0 == "\t" }),
                  Command.named(String(line[..<space]))?.takesFile == true else { return Completion.expressionBreaks }
            return Completion.pathBreaks
        }
        // Readline then knows when the word is inside a string, and closes the string
        // after a unique file match.
        rl_completer_quote_characters = quoteCharacters
        rl_attempted_completion_function = { text, start, _ in
            guard let text else { return nil }
            let line = rl_line_buffer.map { String(cString: $0) } ?? ""
            let before = String(decoding: line.utf8.prefix(Int(start)), as: UTF8.self)
            // A file name: readline's own completion (directories get a '/').
            if !Completion.latexInString, rl_completion_quote_character != 0 || Completion.place(before: before) == .file {
                rl_completion_append_character = rl_completion_quote_character != 0 ? 0 : 32
                return nil
            }
            rl_attempted_completion_over = 1
            rl_completion_append_character = 0
            guard let interpreter = Completion.interpreter else { return nil }
            let matches = Completion.candidates(for: String(cString: text), before: before, in: interpreter)
            if let signature = Completion.signature(for: matches, in: interpreter) {
                Terminal.moveToLastRowOfInput()
                fputs("\n" + signature + "\n", rl_outstream)
                rl_on_new_line()
            }
            Completion.matches = matches
            Completion.next = 0
            return rl_completion_matches(text) { _, _ in
                guard Completion.next < Completion.matches.count else { return nil }
                defer { Completion.next += 1 }
                return strdup(Completion.matches[Completion.next])
            }
        }
    }
}
