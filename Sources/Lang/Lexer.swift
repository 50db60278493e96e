/// Turns source bytes into tokens (docs/LANGUAGE.md §2). Comments are dropped from the token
/// stream but remembered, by line, for `--step` narration.
public struct Lexer {
    private let source: Source
    private let bytes: [UInt8]
    private var position = 0

    public private(set) var tokens: [Token] = []
    /// Lines that hold only a comment: line number → text after `#` (one space trimmed).
    public private(set) var commentLines: [Int: String] = [:]

    /// Counts every byte looked at.
    private let steps: ReadingSteps

    public init(_ source: Source, steps: ReadingSteps = ReadingSteps()) {
        self.source = source
        self.bytes = source.bytes
        self.steps = steps
    }

    /// Lexes the whole source; `steps` counts the bytes looked at.
    public static func tokenize(_ source: Source, steps: ReadingSteps = ReadingSteps()) throws -> Lexer {
        var lexer = Lexer(source, steps: steps)
        try lexer.run()
        return lexer
    }

    private func byte(_ offset: Int) -> UInt8 {
        offset < bytes.count ? at(offset) : 0
    }

    /// The byte at `offset`, counted.
    private func at(_ offset: Int) -> UInt8 {
        steps.count += 1
        return bytes[offset]
    }

    private func span(_ start: Int, _ end: Int) -> SourceSpan {
        SourceSpan(source: source, start: start, end: end)
    }

    private mutating func run() throws {
        // A NUL byte would cut the rendered error short wherever C strings carry it.
        if let nul = bytes.firstIndex(of: 0) {
            throw TxError(.syntax, "a NUL character (byte 0) in the source", at: span(nul, nul + 1))
        }
        // A first line starting with #! is ignored.
        if byte(0) == UInt8(ascii: "#"), byte(1) == UInt8(ascii: "!") {
            while position < bytes.count, at(position) != UInt8(ascii: "\n") { position += 1 }
        }
        var lineHasCode = false
        while position < bytes.count {
            try steps.tick(tokens: tokens.count)
            let c = at(position)
            let start = position
            switch c {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), 0x0C:
                position += 1
            case UInt8(ascii: "\n"):
                tokens.append(Token(.newline, "\n", start: start, end: start + 1))
                position += 1
                try ReadingInterrupt.check(source, at: start)
                lineHasCode = false
            case UInt8(ascii: "#"):
                while position < bytes.count, at(position) != UInt8(ascii: "\n") { position += 1 }
                if !lineHasCode {
                    var text = String(decoding: bytes[(start + 1)..<position], as: UTF8.self)
                    if text.hasPrefix(" ") { text.removeFirst() }
                    while text.hasSuffix(" ") || text.hasSuffix("\r") { text.removeLast() }
                    commentLines[source.line(at: start)] = text
                }
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                try lexNumber()
                lineHasCode = true
            case UInt8(ascii: "."):
                if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte(position + 1)) {
                    try lexNumber()
                } else if byte(position + 1) == UInt8(ascii: "."), byte(position + 2) == UInt8(ascii: ".") {
                    position += 3
                    tokens.append(Token(.symbol, "...", start: start, end: position))
                } else {
                    position += 1
                    tokens.append(Token(.symbol, ".", start: start, end: position))
                }
                lineHasCode = true
            case UInt8(ascii: "\""):
                try lexString()
                lineHasCode = true
            case _ where Lexer.isIdentifierStart(c) || (c >= 0x80 && unicodeLetter(at: position, start: true) > 0):
                while position < bytes.count {
                    if Lexer.isIdentifierPart(at(position)) {
                        position += 1
                    } else if at(position) >= 0x80, case let length = unicodeLetter(at: position, start: false), length > 0 {
                        position += length
                    } else {
                        break
                    }
                }
                let text = String(decoding: bytes[start..<position], as: UTF8.self)
                tokens.append(Token(Token.keywords.contains(text) ? .keyword : .identifier, text, start: start, end: position))
                lineHasCode = true
            default:
                try lexSymbol()
                lineHasCode = true
            }
        }
        tokens.append(Token(.endOfInput, "", start: bytes.count, end: bytes.count))
    }

    /// Whether `name` reads as one identifier (not a keyword): then a record key can
    /// be written bare, `{α: 1}` rather than `{"α": 1}`.
    public static func isIdentifier(_ name: String) -> Bool {
        guard let lexer = try? Lexer.tokenize(Source(name: "", text: name)), lexer.tokens.count == 2,
              let token = lexer.tokens.first else { return false }
        return token.kind == .identifier && token.text == name
    }

    static func isIdentifierStart(_ c: UInt8) -> Bool {
        (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c == 95
    }

    static func isIdentifierPart(_ c: UInt8) -> Bool {
        isIdentifierStart(c) || (c >= 48 && c <= 57)
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    /// The length in bytes of the non-ASCII character at `offset` when it may start
    /// (`start`) or continue an identifier, else 0. Letters of any script start one
    /// (`α`, `θ`, `λ`); digits, subscripts and combining marks may follow (`x₁`, `ŷ`).
    private func unicodeLetter(at offset: Int, start: Bool) -> Int {
        let lead = byte(offset)
        let length = lead >= 0xF0 && lead <= 0xF4 ? 4 : lead >= 0xE0 ? (lead <= 0xEF ? 3 : 0) : lead >= 0xC2 ? 2 : 0
        guard length > 0, offset + length <= bytes.count else { return 0 }
        var value = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
        for i in 1..<length {
            let next = at(offset + i)
            guard next & 0xC0 == 0x80 else { return 0 }
            value = value << 6 | UInt32(next & 0x3F)
        }
        guard let scalar = Unicode.Scalar(value) else { return 0 }
        let properties = scalar.properties
        if properties.isAlphabetic { return length }
        if start { return 0 }
        switch properties.generalCategory {
        case .decimalNumber, .otherNumber, .nonspacingMark, .spacingMark: return length
        default: return 0
        }
    }

    private mutating func lexNumber() throws {
        let start = position
        while Lexer.isDigit(byte(position)) { position += 1 }
        if byte(position) == UInt8(ascii: ".") && !Lexer.isIdentifierStart(byte(position + 1)) {
            position += 1
            while Lexer.isDigit(byte(position)) { position += 1 }
        }
        if byte(position) == UInt8(ascii: "e") || byte(position) == UInt8(ascii: "E") {
            var look = position + 1
            if byte(look) == UInt8(ascii: "+") || byte(look) == UInt8(ascii: "-") { look += 1 }
            if Lexer.isDigit(byte(look)) {
                position = look
                while Lexer.isDigit(byte(position)) { position += 1 }
            } else {
                throw TxError(.syntax, "a number's exponent needs digits", at: span(start, look))
            }
        }
        if Lexer.isIdentifierStart(byte(position)) {
            var end = position
            while Lexer.isIdentifierPart(byte(end)) { end += 1 }
            throw TxError(.syntax, "'\(String(decoding: bytes[start..<end], as: UTF8.self))' is not a number or a name", at: span(start, end))
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        guard let value = Double(text) else {
            throw TxError(.syntax, "cannot read the number '\(text)'", at: span(start, position))
        }
        tokens.append(Token(.number, text, start: start, end: position, number: value))
    }

    private mutating func lexString() throws {
        let start = position
        position += 1
        var contents: [UInt8] = []
        while true {
            guard position < bytes.count, at(position) != UInt8(ascii: "\n") else {
                throw TxError(.syntax, "unterminated string", at: span(start, start + 1))
            }
            let c = at(position)
            if c == UInt8(ascii: "\"") { position += 1; break }
            if c == UInt8(ascii: "\\") {
                let escape = byte(position + 1)
                switch escape {
                case UInt8(ascii: "n"): contents.append(10)
                case UInt8(ascii: "t"): contents.append(9)
                case UInt8(ascii: "r"): contents.append(13)
                case UInt8(ascii: "\""): contents.append(34)
                case UInt8(ascii: "\\"): contents.append(92)
                case UInt8(ascii: "u"):
                    contents += try unicodeEscape()
                    continue
                default:
                    let shown = escape == 0 || escape == 10 ? "" : String(decoding: [escape], as: UTF8.self)
                    throw TxError(.syntax, "unknown escape '\\\(shown)' in a string (use \\n \\t \\r \\\" \\\\ \\u{e9})", at: span(position, position + 2))
                }
                position += 2
                continue
            }
            contents.append(c)
            position += 1
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        tokens.append(Token(.string, text, start: start, end: position, string: String(decoding: contents, as: UTF8.self)))
    }

    /// `\u{X}` at `position` (1 to 6 hex digits, a Unicode scalar: not a surrogate, at
    /// most 10FFFF) as UTF-8; `position` moves past it.
    private mutating func unicodeEscape() throws -> [UInt8] {
        let start = position
        guard byte(start + 2) == UInt8(ascii: "{") else {
            throw TxError(.syntax, "\\u needs its code point in braces, as \\u{e9} or \\u{1F600}", at: span(start, start + 2))
        }
        var end = start + 3
        var value: UInt32 = 0
        while end < bytes.count, let digit = Lexer.hexDigit(at(end)), end - start - 3 < 6 {
            value = value * 16 + digit
            end += 1
        }
        guard end > start + 3, byte(end) == UInt8(ascii: "}") else {
            var close = end
            while close < bytes.count, at(close) != UInt8(ascii: "}"), at(close) != UInt8(ascii: "\""), at(close) != 10 { close += 1 }
            if close < bytes.count, at(close) == UInt8(ascii: "}") { close += 1 }
            throw TxError(.syntax, "\\u{...} needs 1 to 6 hex digits and a closing }, as \\u{e9} or \\u{1F600}", at: span(start, Swift.max(close, start + 3)))
        }
        position = end + 1
        guard let scalar = Unicode.Scalar(value) else {
            throw TxError(.syntax, "\\u{\(String(value, radix: 16, uppercase: true))} is not a Unicode scalar (surrogates D800-DFFF and values above 10FFFF are not)", at: span(start, position))
        }
        return Array(String(Character(scalar)).utf8)
    }

    private static func hexDigit(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(c - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    private static let symbols2: Set<String> = ["==", "!=", "<=", ">=", "&&", "||", "+=", "-=", "*=", "/=", "//"]
    private static let symbols1: Set<UInt8> = Set("+-*/@%^<>=!()[]{},;:.'".utf8)

    private mutating func lexSymbol() throws {
        let start = position
        if position + 1 < bytes.count {
            let two = String(decoding: bytes[position..<(position + 2)], as: UTF8.self)
            if Lexer.symbols2.contains(two) {
                position += 2
                tokens.append(Token(.symbol, two, start: start, end: position))
                return
            }
        }
        let c = at(position)
        if Lexer.symbols1.contains(c) {
            position += 1
            tokens.append(Token(.symbol, String(decoding: [c], as: UTF8.self), start: start, end: position))
            return
        }
        // One whole (possibly multi-byte) character for the message.
        var end = position + 1
        while end < bytes.count, at(end) & 0xC0 == 0x80 { end += 1 }
        let shown = String(decoding: bytes[position..<end], as: UTF8.self)
        if c == UInt8(ascii: "&") || c == UInt8(ascii: "|") {
            throw TxError(.syntax, "unexpected character '\(shown)' (logical and/or are && and ||)", at: span(start, end))
        }
        if c == UInt8(ascii: "?") {
            throw TxError(.syntax, "unexpected character '?'" + questionMarkHint(at: start), at: span(start, end))
        }
        throw TxError(.syntax, "unexpected character '\(shown)'", at: span(start, end))
    }

    /// IPython's `softmax?` asks for help; C's `c ? a : b` chooses.
    private func questionMarkHint(at offset: Int) -> String {
        var nameStart = offset
        while nameStart > 0, Lexer.isIdentifierPart(bytes[nameStart - 1]) { nameStart -= 1 }
        let lineEnd = source.lineEnd(at: offset)
        let rest = bytes[(offset + 1)..<lineEnd].drop { $0 == UInt8(ascii: "?") }
        if nameStart < offset, rest.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }) {
            return "; tx writes :help " + String(decoding: bytes[nameStart..<offset], as: UTF8.self)
        }
        return "; tx writes if c { a } else { b } to choose"
    }
}

/// Ctrl-C while reading a long source (an `include` of 40 MB takes most of a minute to
/// read in a debug build): the lexer asks at each line and the parser at each statement.
/// Lang knows nothing of the interrupt flag; the interpreter sets `stop` to a function
/// that says whether Ctrl-C is pending. The flag stays set: a caller that drops the
/// error (`Parser.isIncomplete`) must not drop the Ctrl-C with it, which the running
/// code then sees.
public enum ReadingInterrupt {
    nonisolated(unsafe) public static var stop: () -> Bool = { false }

    static func check(_ source: Source, at offset: Int) throws {
        if stop() { throw TxError(.interrupted, "", at: SourceSpan(source: source, start: offset, end: offset)) }
    }
}

/// The steps a reader took over its input: each byte the lexer and each token the parser
/// looked at. Tests check that it grows in proportion to the input (reading is linear);
/// it costs one addition a look.
public final class ReadingSteps {
    public internal(set) var count = 0
    /// The tokens made so far (updated when `poll` is called).
    public internal(set) var tokens = 0
    /// Called every 65,536 lexer steps and expressions read, to stop a long read: the
    /// interpreter passes its Ctrl-C check and a check that the tokens and the syntax
    /// tree fit in the memory limit (Lang knows nothing of either).
    private let poll: ((ReadingSteps) throws -> Void)?
    private var ticks = 0

    public init(poll: ((ReadingSteps) throws -> Void)? = nil) {
        self.poll = poll
    }

    @inline(__always)
    func tick(tokens made: Int? = nil) throws {
        ticks &+= 1
        guard ticks & 0xFFFF == 0, let poll else { return }
        if let made { tokens = made }
        try poll(self)
    }
}
