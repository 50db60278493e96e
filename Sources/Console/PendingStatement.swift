import Interpreter
import Lang

/// The lines of REPL or piped input read so far for the next statement, and whether
/// they make a whole one. Only a parse can tell for sure, but parsing the whole
/// statement again at every line is quadratic (a 12,000-line literal piped in took
/// 48 s): a line that leaves a bracket or block open is taken as unfinished without a
/// parse, unless the statement has doubled in size since it was last parsed, so an
/// early syntax error is still found soon and the work stays linear.
struct PendingStatement {
    /// The lines so far, joined by newlines.
    private(set) var text = ""
    private var lineCount = 0
    /// Open brackets and braces at the end of the lines so far; nil when a line did
    /// not lex (the parse then says why).
    private var depth: Int? = 0
    private var parsedBytes = 0

    var isEmpty: Bool { lineCount == 0 }

    mutating func append(_ line: String) {
        text += lineCount == 0 ? line : "\n" + line
        lineCount += 1
        depth = depth.flatMap { depth in Self.bracketBalance(line).map { depth + $0 } }
    }

    /// Whether the statement needs more lines (see the type's comment).
    mutating func isIncomplete() -> Bool {
        if let depth, depth > 0, text.utf8.count < 2 * parsedBytes { return true }
        parsedBytes = text.utf8.count
        let text = self.text
        // Parsing builds (and frees) a tree as deep as the input: large stack.
        return (try? LargeStack.run { Parser.isIncomplete(text) }) == true
    }

    /// Opening minus closing brackets and braces on a line; nil if it does not lex.
    private static func bracketBalance(_ line: String) -> Int? {
        guard let lexer = try? Lexer.tokenize(Source(name: "", text: line)) else { return nil }
        var balance = 0
        for token in lexer.tokens where token.kind == .symbol {
            switch token.text {
            case "(", "[", "{": balance += 1
            case ")", "]", "}": balance -= 1
            default: break
            }
        }
        return balance
    }
}
