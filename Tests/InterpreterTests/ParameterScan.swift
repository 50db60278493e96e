import Foundation
import Testing

/// Reads the builtins' Swift sources and finds every parameter name a builtin's body reads
/// (`args.tensor("axis")`, `sizeArgument(args, "n")`, and through helpers such as
/// `heads(args)`), to check them against the parameters the builtin declares. A name
/// that is not declared would be an internal error at run time; this finds it before it
/// ships. It understands Swift only as far as the builtin files use it: string literals
/// (with interpolations), comments and brackets.
struct ParameterScan {
    /// The builtin files, by name.
    let files: [(name: String, text: String)]
    /// `static var x: BuiltinParameter { .required("x") }`: shorthand -> parameter name.
    let shorthands: [String: String]
    /// The `Arguments` methods whose first argument is a parameter name.
    let methods: Set<String>
    /// The builtin table: name -> its parameters' names.
    let table: [String: Set<String>]

    /// One builtin found in the source, with what it declares and what it reads.
    struct Entry {
        let place: String
        /// Nil when the name is computed (`builtin(name, ...)` in a loop).
        let name: String?
        let declared: Set<String>
        let read: Set<String>
        /// The typed form (`builtin("f", .tensor("x"), summary: ...)`), whose body gets its
        /// values from the declaration: the compiler checks it, the scan does not.
        var typed = false
    }

    /// A function that takes `Arguments` (`heads(args)`), and the names it reads itself.
    private struct Helper {
        var read: Set<String> = []
        /// Helpers it calls.
        var calls: Set<String> = []
        /// `f(_ args: Arguments, _ name: String)`: reads the name its caller passes.
        var takesName = false
    }

    /// What is wrong, one line each; empty when every body reads only its parameters.
    func problems() -> [String] {
        let (entries, scanProblems) = scan()
        var problems = scanProblems
        for entry in entries where !entry.typed {
            if let name = entry.name {
                guard let parameters = table[name] else {
                    problems.append("\(entry.place): '\(name)' is not in the builtin table")
                    continue
                }
                if parameters != entry.declared {
                    problems.append("\(entry.place): the scan reads \(name)'s parameters as \(entry.declared.sorted()), the table has \(parameters.sorted()); teach ParameterScan how they are declared")
                    continue
                }
            }
            for unknown in entry.read.subtracting(entry.declared).sorted() {
                problems.append("\(entry.place): \(entry.name ?? "a builtin") reads the parameter '\(unknown)', which it does not declare (it has \(entry.declared.sorted().joined(separator: ", ")))")
            }
        }
        return problems
    }

    /// Every builtin found, and what the scan could not read.
    func scan() -> (entries: [Entry], problems: [String]) {
        var problems: [String] = []
        let sources = files.map { SwiftSource(name: $0.name, text: $0.text) }
        var helpers: [String: Helper] = [:]
        for source in sources {
            for (name, signature, body) in source.functionsTakingArguments() {
                if let label = source.argumentsLabel(in: signature), label != "args" {
                    problems.append("\(source.place(of: signature.lowerBound)): \(name) calls its Arguments '\(label)'; the scan reads only 'args'")
                }
                var helper = helpers[name] ?? Helper()
                helper.takesName = helper.takesName || source.matches(#"Arguments\s*,\s*_\s+\w+\s*:\s*String"#, in: signature).count > 0
                helper.read.formUnion(directReads(source, body))
                helpers[name] = helper
            }
        }
        for source in sources {
            for (name, _, body) in source.functionsTakingArguments() {
                let calls = calledHelpers(source, body, helpers), reads = namedReads(source, body, helpers)
                helpers[name]?.calls.formUnion(calls)
                helpers[name]?.read.formUnion(reads)
            }
        }
        var changed = true
        while changed {
            changed = false
            for (name, helper) in helpers {
                let reads = helper.calls.reduce(helper.read) { $0.union(helpers[$1]?.read ?? []) }
                if reads != helper.read { helpers[name]?.read = reads; changed = true }
            }
        }
        var entries: [Entry] = []
        for source in sources {
            for call in source.matches(#"builtin\("#, in: source.all)
                    where source.beginsName(call.start) && !source.string(0..<call.start).hasSuffix("func ") {
                let open = call.start + "builtin".utf8.count
                let place = source.place(of: call.start)
                guard let close = source.closing(open) else {
                    problems.append("\(place): a builtin( call that does not close")
                    continue
                }
                let arguments = source.split(open + 1..<close)
                if arguments.contains(where: { source.string($0).trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("summary:") }) {
                    let nameText = source.string(arguments[0]).trimmingCharacters(in: .whitespacesAndNewlines)
                    let name = nameText.hasPrefix("\"") ? String(nameText.dropFirst().dropLast()) : nil
                    entries.append(Entry(place: place, name: name, declared: [], read: [], typed: true))
                    continue
                }
                guard arguments.count >= 2, let body = source.body(after: close, lastArgument: arguments.last) else {
                    problems.append("\(place): a builtin without a body the scan can find")
                    continue
                }
                if let label = source.closureLabel(body), label != "args", label != "_" {
                    problems.append("\(place): the body calls its Arguments '\(label)'; the scan reads only 'args'")
                }
                let nameText = source.string(arguments[0]).trimmingCharacters(in: .whitespacesAndNewlines)
                let name = nameText.hasPrefix("\"") ? String(nameText.dropFirst().dropLast()) : nil
                let read = directReads(source, body).union(namedReads(source, body, helpers))
                    .union(calledHelpers(source, body, helpers).flatMap { helpers[$0]?.read ?? [] })
                entries.append(Entry(place: place, name: name, declared: declared(source, arguments[1], depth: 0), read: read))
            }
        }
        return (entries, problems)
    }

    /// `args.tensor("x")`, `args.span("p")`.
    private func directReads(_ source: SwiftSource, _ range: Range<Int>) -> Set<String> {
        Set(source.matches(#"args\s*\.\s*(\w+)\(\s*"([^"\\]*)""#, in: range)
            .filter { source.beginsName($0.start) && methods.contains($0.groups[0] ?? "") }.compactMap { $0.groups[1] })
    }

    /// `sizeArgument(args, "n")`: a helper that reads the name it is given.
    private func namedReads(_ source: SwiftSource, _ range: Range<Int>, _ helpers: [String: Helper]) -> Set<String> {
        Set(source.matches(#"(\w+)\(\s*args\s*,\s*"([^"\\]*)""#, in: range)
            .filter { source.beginsName($0.start, allowedQualifiers: ["Self.", "Library."]) && helpers[$0.groups[0] ?? ""]?.takesName == true }.compactMap { $0.groups[1] })
    }

    /// The helpers called in `range` (`heads(args)`, `Self.labels(...)`, `Heatmap(args)`).
    private func calledHelpers(_ source: SwiftSource, _ range: Range<Int>, _ helpers: [String: Helper]) -> Set<String> {
        Set(source.matches(#"(\w+)\("#, in: range)
            .filter { source.beginsName($0.start, allowedQualifiers: ["Self.", "Library."]) }.compactMap { $0.groups[0] }.filter { helpers[$0] != nil })
    }

    /// The parameter names of a parameter list: `[.x, .required("a")] + maskOptions`.
    private func declared(_ source: SwiftSource, _ range: Range<Int>, depth: Int) -> Set<String> {
        var names = Set(source.matches(#"\.(?:required|optional|variadic)\(\s*"([^"\\]*)""#, in: range).compactMap { $0.groups[0] })
        for match in source.matches(#"\.(\w+)\b(?!\s*\()"#, in: range) where source.beginsName(match.start) {
            if let name = match.groups[0].flatMap({ shorthands[$0] }) { names.insert(name) }
        }
        guard depth < 8 else { return names }
        for match in source.matches(#"([A-Za-z_]\w*)\b(?!\s*[(:.])"#, in: range) where source.beginsName(match.start) {
            guard let identifier = match.groups[0], let definition = source.definition(of: identifier) else { continue }
            names.formUnion(declared(source, definition, depth: depth + 1))
        }
        return names
    }
}

/// A Swift file with its string literals' text and its comments told apart from code.
struct SwiftSource {
    let name: String
    let bytes: [UInt8]
    /// False inside a string literal's text and inside comments; an interpolation's code
    /// (`"\(args.value("m"))"`) is code.
    let isCode: [Bool]

    init(name: String, text: String) {
        self.name = name
        bytes = Array(text.utf8)
        isCode = Self.codeMask(bytes)
    }

    var all: Range<Int> { 0..<bytes.count }

    func place(of offset: Int) -> String {
        "\(name):\(bytes[..<offset].count { $0 == UInt8(ascii: "\n") } + 1)"
    }

    func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    struct Match {
        let start: Int
        let groups: [String?]
    }

    /// The matches of `pattern` in `range` that start in code.
    func matches(_ pattern: String, in range: Range<Int>) -> [Match] {
        let regex: Regex<AnyRegexOutput>
        do {
            regex = try Regex(pattern)
        } catch {
            Issue.record("ParameterScan: the pattern \(pattern) does not compile: \(error)")
            return []
        }
        let text = string(range)
        return text.matches(of: regex).compactMap { match in
            let start = range.lowerBound + text.utf8.distance(from: text.startIndex, to: match.range.lowerBound)
            guard isCode[start] else { return nil }
            return Match(start: start, groups: match.output.dropFirst().map { $0.substring.map(String.init) })
        }
    }

    /// Whether the match at `start` begins a name: not preceded by a letter, digit, `_` or `.`
    /// (`args.tensor(`, not `xargs.tensor(` or `self.args.tensor(`), unless it is one of
    /// `allowedQualifiers` (`Self.`).
    func beginsName(_ start: Int, allowedQualifiers: [String] = []) -> Bool {
        guard start > 0 else { return true }
        let before = bytes[start - 1]
        if before == UInt8(ascii: "."), allowedQualifiers.contains(where: { string(max(0, start - $0.utf8.count)..<start) == $0 }) {
            return true
        }
        return !(before == UInt8(ascii: "_") || before == UInt8(ascii: ".") || before >= 0x80
                 || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(before)
                 || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(before | 0x20))
    }

    /// The bracket that closes the one at `open`.
    func closing(_ open: Int) -> Int? {
        var depth = 0
        for i in open..<bytes.count where isCode[i] {
            switch bytes[i] {
            case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 { return i }
            default: break
            }
        }
        return nil
    }

    /// `range` cut at its top-level commas.
    func split(_ range: Range<Int>) -> [Range<Int>] {
        var parts: [Range<Int>] = []
        var depth = 0, start = range.lowerBound
        for i in range where isCode[i] {
            switch bytes[i] {
            case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            case UInt8(ascii: ",") where depth == 0:
                parts.append(start..<i)
                start = i + 1
            default: break
            }
        }
        parts.append(start..<range.upperBound)
        return parts
    }

    /// A call's closure: the trailing one after `close`, or its last argument.
    func body(after close: Int, lastArgument: Range<Int>?) -> Range<Int>? {
        var i = close + 1
        while i < bytes.count, bytes[i] == UInt8(ascii: " ") { i += 1 }
        if i < bytes.count, bytes[i] == UInt8(ascii: "{"), let end = closing(i) { return i..<end + 1 }
        guard let last = lastArgument, let open = last.first(where: { bytes[$0] != UInt8(ascii: " ") && bytes[$0] != UInt8(ascii: "\n") }),
              bytes[open] == UInt8(ascii: "{"), let end = closing(open) else { return nil }
        return open..<end + 1
    }

    /// `args` in `{ args in`.
    func closureLabel(_ body: Range<Int>) -> String? {
        matches(#"^\{\s*(\w+)\s+in\b"#, in: body).first?.groups[0] ?? nil
    }

    /// The name under which a signature takes its `Arguments`.
    func argumentsLabel(in signature: Range<Int>) -> String? {
        matches(#"(\w+)\s*:\s*(?:inout\s+)?Arguments\b"#, in: signature).first?.groups[0] ?? nil
    }

    /// Each `func f(... Arguments ...)` and `init(_ args: Arguments)` (named after its
    /// type): its name, its signature and its body.
    func functionsTakingArguments() -> [(String, Range<Int>, Range<Int>)] {
        matches(#"(?:func\s+(\w+)|(init))\s*\("#, in: all).compactMap { match in
            guard beginsName(match.start), let open = (match.start..<bytes.count).first(where: { bytes[$0] == UInt8(ascii: "(") }),
                  let close = closing(open), argumentsLabel(in: open..<close + 1) != nil,
                  let brace = (close..<bytes.count).first(where: { isCode[$0] && bytes[$0] == UInt8(ascii: "{") }),
                  let end = closing(brace) else { return nil }
            var name = match.groups[0] ?? ""
            if match.groups[1] != nil {
                name = (matches(#"(?:struct|class|enum|extension)\s+(\w+)"#, in: 0..<match.start).last?.groups[0] ?? nil) ?? ""
            }
            return (name, open..<close + 1, brace..<end + 1)
        }
    }

    /// The initial value of `let NAME = ...` (a bracketed list, or the rest of the line).
    func definition(of identifier: String) -> Range<Int>? {
        guard let match = matches(#"(?:let|var)\s+"# + identifier + #"\b\s*(?::[^=\n]*)?=\s*"#, in: all).first else { return nil }
        var i = match.start
        while i < bytes.count, bytes[i] != UInt8(ascii: "=") { i += 1 }
        i += 1
        while i < bytes.count, bytes[i] == UInt8(ascii: " ") { i += 1 }
        guard i < bytes.count else { return nil }
        if bytes[i] == UInt8(ascii: "["), let end = closing(i) { return i..<end + 1 }
        let end = (i..<bytes.count).first { bytes[$0] == UInt8(ascii: "\n") } ?? bytes.count
        return i..<end
    }

    private static func codeMask(_ b: [UInt8]) -> [Bool] {
        var code = [Bool](repeating: true, count: b.count)
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), newline = UInt8(ascii: "\n")
        func at(_ i: Int, _ s: String) -> Bool {
            let s = Array(s.utf8)
            return i + s.count <= b.count && Array(b[i..<i + s.count]) == s
        }
        /// nil in code; otherwise whether the string is a multi-line one.
        var multiline: Bool?
        /// The open interpolations: the string each returns to, and its parentheses.
        var interpolations: [(multiline: Bool, depth: Int)] = []
        var i = 0
        while i < b.count {
            if let inMultiline = multiline {
                if b[i] == backslash {
                    code[i] = false
                    if i + 1 < b.count {
                        code[i + 1] = false
                        if b[i + 1] == UInt8(ascii: "(") {
                            interpolations.append((inMultiline, 0))
                            multiline = nil
                        }
                    }
                    i += 2
                } else if inMultiline ? at(i, "\"\"\"") : b[i] == quote {
                    multiline = nil
                    i += inMultiline ? 3 : 1
                } else {
                    code[i] = false
                    i += 1
                }
            } else if at(i, "//") {
                while i < b.count, b[i] != newline { code[i] = false; i += 1 }
            } else if at(i, "/*") {
                while i < b.count, !at(i, "*/") { code[i] = false; i += 1 }
                for j in i..<min(i + 2, b.count) { code[j] = false }
                i += 2
            } else if at(i, "\"\"\"") {
                multiline = true
                i += 3
            } else if b[i] == quote {
                multiline = false
                i += 1
            } else {
                if let last = interpolations.indices.last {
                    if b[i] == UInt8(ascii: "(") {
                        interpolations[last].depth += 1
                    } else if b[i] == UInt8(ascii: ")") {
                        if interpolations[last].depth == 0 {
                            code[i] = false
                            multiline = interpolations.removeLast().multiline
                        } else {
                            interpolations[last].depth -= 1
                        }
                    }
                }
                i += 1
            }
        }
        return code
    }
}
