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

    static let keywords: Set<String> = [
        "fn", "if", "else", "for", "in", "while", "break", "continue", "return", "true", "false", "none",
    ]
}
