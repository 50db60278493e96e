/// A lexical token: its kind, its text's byte range, and its value where it has one.
public struct Token: Sendable {
    public enum Kind: Equatable, Sendable {
        case number
        case string
        case identifier
        case keyword
        /// Operators and punctuation; `text` says which.
        case symbol
        case newline
        case endOfInput
    }

    public let kind: Kind
    public let text: String
    public let start: Int
    public let end: Int
    /// The value of a number literal.
    public let number: Double
    /// The decoded contents of a string literal.
    public let string: String

    init(_ kind: Kind, _ text: String, start: Int, end: Int, number: Double = 0, string: String = "") {
        self.kind = kind
        self.text = text
        self.start = start
        self.end = end
        self.number = number
        self.string = string
    }

    func isSymbol(_ s: String) -> Bool { kind == .symbol && text == s }
    func isKeyword(_ s: String) -> Bool { kind == .keyword && text == s }

    /// How an error message names the token.
    var described: String {
        switch kind {
        case .endOfInput: return "end of input"
        case .newline: return "end of line"
        case .string: return "a string"
        case .number: return "'\(text)'"
        default: return "'\(text)'"
        }
    }

    /// Where a keyword may stand.
    public enum KeywordPlace: Sendable {
        /// Starts an expression, so anywhere a value may stand: `true`, `fn`, `if`.
        case expression
        /// Starts a statement only: `for`, `break`.
        case statement
        /// Continues a construct begun by another keyword: `else`, `in`.
        case continuation
    }

    /// The keywords, in one table read by the lexer, REPL completion and the REPL's
    /// highlighting of typed input.
    public static let keywordTable: [(name: String, place: KeywordPlace)] = [
        ("fn", .expression), ("if", .expression), ("else", .continuation), ("for", .statement),
        ("in", .continuation), ("while", .statement), ("break", .statement), ("continue", .statement),
        ("return", .statement), ("true", .expression), ("false", .expression), ("none", .expression),
    ]

    public static let keywords: Set<String> = Set(keywordTable.map(\.name))
}
