/// The REPL's `:commands`, in one table read by the REPL, completion, `:help` and
/// did-you-mean.
public struct Command: Sendable {
    public let name: String
    public let aliases: [String]
    /// What follows the name (`FILE`, `EXPR`, `[NAME]`), empty when nothing may.
    public let argument: String
    public let summary: String

    public static let all: [Command] = [
        Command(name: ":help", aliases: [":h", ":?"], argument: "[NAME]", summary: "help: a builtin, syntax, vars, blas, memory"),
        Command(name: ":vars", aliases: [], argument: "", summary: "your variables: kind, shape, bytes, value (:help vars)"),
        Command(name: ":time", aliases: [], argument: "EXPR", summary: "time it as %timeit: best, median, GFLOP/s, memory"),
        Command(name: ":load", aliases: [], argument: "FILE", summary: "run a script here"),
        Command(name: ":step", aliases: [], argument: "FILE", summary: "step through a script"),
        Command(name: ":reset", aliases: [], argument: "", summary: "forget everything"),
        Command(name: ":quit", aliases: [":q", ":exit"], argument: "", summary: "leave (or Ctrl-D)"),
    ]

    /// The command `word` names (its name or an alias).
    public static func named(_ word: String) -> Command? {
        all.first { $0.name == word || $0.aliases.contains(word) }
    }

    /// Whether its argument is a file name (completed as paths).
    public var takesFile: Bool { argument == "FILE" }

    /// The habits of IPython, Julia and MATLAB users, as the `:command` that does what
    /// they mean: `?softmax` and `help(softmax)` are `:help softmax`, `whos` is `:vars`,
    /// `exit` and `quit()` are `:quit`. Nil for anything else, and for a name the user
    /// has defined (`exit = 3; exit` shows 3).
    static func habit(_ line: String, isDefined: (String) -> Bool) -> String? {
        let text = line.trimmingSpaces
        if text.hasPrefix("?") { return ":help " + String(text.dropFirst()).trimmingSpaces }
        let word = String(text.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
        guard !word.isEmpty, !isDefined(word) else { return nil }
        var rest = String(text.dropFirst(word.count)).trimmingSpaces
        let called = rest.hasPrefix("(") && rest.hasSuffix(")")
        if called {
            rest = String(rest.dropFirst().dropLast()).trimmingSpaces
            if rest.count >= 2, rest.hasPrefix("\""), rest.hasSuffix("\"") { rest = String(rest.dropFirst().dropLast()) }
        }
        switch word {
        case "help" where called || rest.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }):
            return rest.isEmpty ? ":help" : ":help " + rest
        case "whos" where rest.isEmpty: return ":vars"
        case "exit", "quit": return rest.isEmpty || (called && Int(rest) != nil) ? ":quit" : nil
        default: return nil
        }
    }
}
