@preconcurrency import Glibc
import Lang

/// The colour policy, in one place: whether a stream gets colour, and the colour of each
/// kind of text. Colour is on when the stream is a terminal, `NO_COLOR` is unset (or
/// empty, as no-color.org says) and `TERM` is not `dumb`; everything else gets plain text.
public struct Style: Sendable {
    public let isEnabled: Bool

    public init(enabled: Bool) { isEnabled = enabled }

    /// Plain text: files, pipes, tests.
    public static let plain = Style(enabled: false)
    /// For standard output and standard error, decided once.
    public static let standardOutput = Style(for: 1)
    public static let standardError = Style(for: 2)

    /// The policy for the stream on `descriptor`.
    public init(for descriptor: Int32) {
        self.init(enabled: isatty(descriptor) != 0 && Style.environmentAllowsColor(
            noColor: getenv("NO_COLOR").map { String(cString: $0) },
            term: getenv("TERM").map { String(cString: $0) }))
    }

    /// The environment's part of the policy.
    public static func environmentAllowsColor(noColor: String?, term: String?) -> Bool {
        (noColor ?? "").isEmpty && term != "dumb"
    }

    /// What a piece of text is; each has one look.
    public enum Role: Sendable, CaseIterable {
        case prompt, continuationPrompt
        case errorLabel, errorKind, caret, location
        case tensorHeader
        /// `--step`: the comment lines, the statement shown, its result.
        case narration, code, result
        case checkMark, cross
        /// Input as it is typed.
        case number, string, keyword, builtin, comment, unmatchedBracket
    }

    /// The SGR parameters of each role (16-colour codes, which every terminal theme maps).
    static func parameters(_ role: Role) -> String {
        switch role {
        case .prompt: return "1;32"
        case .continuationPrompt: return "32"
        case .errorLabel: return "1;31"
        case .errorKind: return "1"
        case .caret: return "1;31"
        case .location: return "34"
        case .tensorHeader: return "2;36"
        case .narration: return "2;3"
        case .code: return "1"
        case .result: return "0"
        case .checkMark: return "32"
        case .cross: return "31"
        case .number: return "36"
        case .string: return "33"
        case .keyword: return "35"
        case .builtin: return "34"
        case .comment: return "2"
        case .unmatchedBracket: return "1;41"
        }
    }

    /// The escape that starts `role`'s look ("" when colour is off).
    public func start(_ role: Role) -> String {
        isEnabled ? "\u{1B}[\(Style.parameters(role))m" : ""
    }

    /// The escape that returns to plain text ("" when colour is off).
    public var reset: String { isEnabled ? "\u{1B}[0m" : "" }

    /// `text` in `role`'s look.
    public func paint(_ text: String, _ role: Role) -> String {
        guard isEnabled, !text.isEmpty else { return text }
        return start(role) + text + reset
    }

    /// A readline prompt: the escapes are wrapped in \001 and \002 so that readline does
    /// not count them as columns.
    public func prompt(_ text: String, continuation: Bool) -> String {
        guard isEnabled else { return text }
        let role: Role = continuation ? .continuationPrompt : .prompt
        return "\u{1}" + start(role) + "\u{2}" + text + "\u{1}" + reset + "\u{2}"
    }

    /// An error as `TxError.rendered` lays it out, with its label, kind and carets coloured.
    public func error(_ error: TxError) -> String {
        error.rendered { part, text in
            switch part {
            case .label: return paint(text, .errorLabel)
            case .kind: return paint(text, .errorKind)
            case .caret: return paint(text, .caret)
            case .location: return paint(text, .location)
            }
        }
    }

    /// A value's printed form with a tensor's header line (`tensor [2, 3]`) coloured.
    func tensor(_ text: String) -> String {
        guard isEnabled, text.hasPrefix("tensor "), let newline = text.firstIndex(of: "\n") else { return text }
        return paint(String(text[..<newline]), .tensorHeader) + text[newline...]
    }
}
