import Interpreter

/// The REPL's `:commands`, in one table: each command's name, aliases, argument, help
/// and handler. The REPL dispatches through it; `:help` (the overview and `:help :name`),
/// completion, did-you-mean and a test against docs/REPL.md read it. A new command is
/// one entry here and its handler, a method of `REPL`.
public struct Command: Sendable {
    public let name: String
    public let aliases: [String]
    /// What follows the name (`FILE`, `EXPR`, `[NAME]`), empty when nothing may.
    public let argument: String
    public let summary: String
    /// What `:help :name` adds to the summary.
    public let details: String
    /// What it does, given the REPL and how it was called; false leaves the REPL.
    let perform: @Sendable (REPL, Call) -> Bool

    /// How a command was called: the name as typed (an alias, `:save!`), what follows
    /// it (trimmed), and the whole input.
    struct Call {
        let name: String
        let argument: String
        let input: String
    }

    init(name: String, aliases: [String] = [], argument: String = "", summary: String, details: String = "",
         perform: @escaping @Sendable (REPL, Call) -> Bool) {
        self.name = name
        self.aliases = aliases
        self.argument = argument
        self.summary = summary
        self.details = details
        self.perform = perform
    }

    public static let all: [Command] = [
        Command(name: ":help", aliases: [":h", ":?"], argument: "[NAME]", summary: "help on a builtin, your function, for, @, :time, syntax...",
                details: """
                    NAME may be a builtin, a constant, one of your functions (its signature, where
                    it was defined and the comments above it), a keyword (for, fn, if), an
                    operator (@, ', ^, //), a command (:time), syntax, vars, blas or memory.
                    ?NAME, NAME? and help(NAME) are :help NAME.
                    """,
                perform: { $0.help($1) }),
        Command(name: ":vars", argument: "", summary: "your variables: kind, shape, bytes, value (:help vars)",
                details: "whos and who are :vars too.",
                perform: { $0.showVariables($1) }),
        Command(name: ":time", argument: "EXPR", summary: "time it as %timeit: best, median, GFLOP/s, memory",
                details: """
                    Compiles EXPR once and runs it again and again for about half a second
                    (once when one run takes longer), printing nothing, then shows one line:
                    the best and the median time, the number of runs, the GFLOP/s of its
                    matrix products and attention, and the most tensor memory it held at once.
                    IPython's %timeit x and Julia's @time x are :time x here.
                    """,
                perform: { $0.time($1) }),
        Command(name: ":load", argument: "FILE", summary: "run a script here",
                perform: { $0.runFile($1) }),
        Command(name: ":step", argument: "FILE", summary: "step through a script",
                details: "As tx --step FILE does. At the step prompt:\n"
                    + String(StepCommand.list(stepCount: nil).dropLast()),
                perform: { $0.runFile($1) }),
        Command(name: ":history", argument: "[RANGE]", summary: "this session's inputs, numbered (:history 3-7)",
                details: """
                    Lists what you typed this session, each input with its number, a block of
                    several lines as one input. RANGE picks some: 4, 3-7, 3- (from 3 on),
                    several separated by spaces or commas (1-3 8). The numbers are the ones
                    :save and :edit take.
                    """,
                perform: { $0.history($1) }),
        Command(name: ":save", aliases: [":save!"], argument: "FILE [RANGE]", summary: "write inputs as a script: :save explore.tx 3-7",
                details: """
                    Writes this session's inputs to FILE, one after another, as a script that
                    tx FILE runs: with RANGE the inputs it numbers (as :history shows them),
                    without it every input that ran without an error. :commands are left out
                    (a script cannot hold them). An existing FILE is not replaced: :save!
                    FILE replaces it (IPython's %save -f).
                    """,
                perform: { $0.save($1) }),
        Command(name: ":edit", argument: "[N]", summary: "edit the last input (or input N) in $EDITOR, then run it",
                details: """
                    Opens the input in $VISUAL or $EDITOR (vi without them) and, when the
                    editor exits with status 0, runs what the file then holds as a new input.
                    Ctrl-X Ctrl-E does the same for the input being typed (at a ...> prompt
                    all its lines so far; the last input when the line is empty).
                    """,
                perform: { $0.edit($1) }),
        Command(name: ":sh", argument: "COMMAND", summary: "run a shell command: :sh ls data",
                details: """
                    Runs COMMAND with /bin/sh in tx's folder; its output goes to the terminal,
                    and a status other than 0 is shown. IPython's !ls is :sh ls here: in tx
                    !x is the negation of x.
                    """,
                perform: { $0.shell($1) }),
        Command(name: ":reset", argument: "", summary: "forget everything",
                perform: { $0.reset($1) }),
        Command(name: ":quit", aliases: [":q", ":exit"], argument: "", summary: "leave (or Ctrl-D)",
                perform: { _, _ in false }),
    ]

    /// The command `word` names (its name or an alias).
    public static func named(_ word: String) -> Command? {
        all.first { $0.name == word || $0.aliases.contains(word) }
    }

    /// Whether its argument is a file name (completed as paths).
    public var takesFile: Bool { argument.hasPrefix("FILE") }

    /// The habits of IPython, Julia and MATLAB users, as the `:command` that does what
    /// they mean: `?softmax`, `softmax?` and `help(softmax)` are `:help softmax`, `whos`
    /// and `who` are `:vars`, `exit` and `quit()` are `:quit`. Nil for anything else, and
    /// for a name the user has defined (`exit = 3; exit` shows 3).
    static func habit(_ line: String, isDefined: (String) -> Bool) -> String? {
        let text = line.trimmingSpaces
        if text.hasPrefix("?") { return ":help " + String(text.dropFirst()).trimmingSpaces }
        // `softmax?` and `softmax??` (never tx: ? is no operator).
        let asked = text.reversed().drop { $0 == "?" }.reversed()
        if asked.count < text.count, !asked.isEmpty, asked.allSatisfy({ $0.isLetter || $0.isNumber || "_.:".contains($0) }) {
            return ":help " + String(asked)
        }
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
        case "whos" where rest.isEmpty, "who" where rest.isEmpty: return ":vars"
        case "exit", "quit": return rest.isEmpty || (called && Int(rest) != nil) ? ":quit" : nil
        default: return nil
        }
    }
}
