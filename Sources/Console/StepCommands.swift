import Interpreter

/// The commands at the step prompt (`tx --step`, `:step`), in one table: keys,
/// argument, help line, the hint shown when a variable hides it, and handler. The
/// prompt dispatches through it; `?`, `:help :step` and a test against docs/REPL.md read
/// it. A new step command is one entry here and its handler, a method of `Stepper`.
struct StepCommand: Sendable {
    /// What it is typed as, the short key first: `b`, `back`. With a colon (`:b`) it is
    /// the command even when a variable has its name.
    let keys: [String]
    /// What follows a key: `N` for a step's number; empty when nothing may.
    let argument: String
    /// Its line in `?`'s list (nil: not listed).
    let summary: String?
    /// What it does, for the hint shown when a variable of its name was shown instead.
    let meaning: String
    /// Whether `:key` names it too (`:help` and `:?` are the REPL's).
    var takesColon = true
    /// What it does, given the stepper and the number typed after it (0 without one);
    /// false leaves the script.
    let perform: @Sendable (Stepper, Int) throws -> Bool

    static let all: [StepCommand] = [
        StepCommand(keys: ["?", "help"], argument: "", summary: nil, meaning: "lists the commands", takesColon: false,
                    perform: { $0.listCommands($1) }),
        StepCommand(keys: ["b", "back"], argument: "", summary: "back one step (the script runs again up to the step before)",
                    meaning: "goes back one step", perform: { try $0.back($1) }),
        StepCommand(keys: ["r", "rerun"], argument: "", summary: "run the last step again, with the variables as they are now",
                    meaning: "runs the last step again", perform: { try $0.rerun($1) }),
        StepCommand(keys: ["j", "jump"], argument: "N", summary: "go to step N",
                    meaning: "jumps to a step", perform: { try $0.jump($1) }),
        StepCommand(keys: ["n", "next"], argument: "", summary: "skip to the next section (the next narration)",
                    meaning: "skips to the next section", perform: { try $0.nextSection($1) }),
        StepCommand(keys: ["p", "prev"], argument: "", summary: "back to the start of this section, or of the one before",
                    meaning: "goes back a section", perform: { try $0.previousSection($1) }),
        StepCommand(keys: ["c", "continue"], argument: "", summary: "run to the end (stopping at breakpoint() and errors)",
                    meaning: "runs to the end", perform: { $0.continueToEnd($1) }),
        StepCommand(keys: ["q", "quit"], argument: "", summary: "leave (Ctrl-D too); Ctrl-C stops a step or drops the line",
                    meaning: "leaves the script", perform: { _, _ in false }),
    ]

    /// The command `input` names, with the number after it, or nil for tx code. With a
    /// colon (`:b`, `:j 3`) a command always; without one, only when no variable of
    /// `variables` has that name, so that typing a variable's name shows the variable.
    static func named(_ input: String, variables: Set<String>) -> (StepCommand, Int)? {
        let explicit = input.hasPrefix(":")
        let words = (explicit ? String(input.dropFirst()) : input).split(separator: " ").map(String.init)
        guard let word = words.first, explicit || !variables.contains(word),
              let command = all.first(where: { $0.keys.contains(word) && (!explicit || $0.takesColon) }) else { return nil }
        if command.argument.isEmpty { return words.count == 1 ? (command, 0) : nil }
        guard words.count == 2, let number = Int(words[1]) else { return nil }
        return (command, number)
    }

    /// How it is typed: `j N, jump N`.
    var usage: String {
        keys.map { argument.isEmpty ? $0 : $0 + " " + argument }.joined(separator: ", ")
    }

    /// What `?` shows at the prompt of a script of `stepCount` steps (`:help :step`
    /// shows it without the count).
    static func list(stepCount: Int?) -> String {
        func line(_ usage: String, _ summary: String) -> String {
            "  " + usage + String(repeating: " ", count: max(1, 13 - usage.count)) + summary + "\n"
        }
        var out = line("Enter", "run this step")
        for command in all {
            guard let summary = command.summary else { continue }
            let range = command.argument == "N" ? stepCount.map { " (1 to \($0))" } ?? "" : ""
            out += line(command.usage, summary + range)
        }
        return out + """
              anything else is tx, run in the script's variables: alpha, shape(Q),
              heatmap(alpha), :vars, :help mha. A variable's name shows the variable,
              also when it is named like a command: then :n (:b, :j 3...) is the command.

            """
    }
}

/// The keys at `breakpoint()`'s prompt, in one table: what each does, when stepping
/// (`tx --step`, `:step`) and in `tx FILE`, and its line in `?`'s list. They are typed
/// as the step prompt's commands of the same key are (`c`, `continue`, `:c`), but mean
/// what they do here: `c` goes on from the breakpoint (when stepping, to the end without
/// stopping), it does not run a step. The prompt dispatches through this table, and `?`
/// and a test against docs/REPL.md and docs/LANGUAGE.md read it.
struct BreakpointCommand: Sendable {
    enum Action: Sendable, Equatable {
        /// Go on with the script; `toEnd`: when stepping, without stopping at the steps.
        case goOn(toEnd: Bool)
        /// Leave the script.
        case leave
        /// Show `?`'s list.
        case list
    }

    /// The key of the step command it is typed as (`StepCommand.all`'s first key), or
    /// nil for Enter (an empty line).
    let stepKey: String?
    /// Its line in `?`'s list, when stepping and in `tx FILE` (nil: not listed). Keys with
    /// the same line share it: `Enter, c   go on`.
    let stepping: String?, running: String?
    let action: Action

    static let all: [BreakpointCommand] = [
        BreakpointCommand(stepKey: nil, stepping: "go on to the next step and stop there", running: "go on",
                          action: .goOn(toEnd: false)),
        BreakpointCommand(stepKey: "c", stepping: "run to the end", running: "go on", action: .goOn(toEnd: true)),
        BreakpointCommand(stepKey: "q", stepping: "leave the script", running: "leave the script", action: .leave),
        BreakpointCommand(stepKey: "?", stepping: nil, running: nil, action: .list),
    ]

    /// How it is typed in `?`'s list: `Enter`, `c`.
    var usage: String { stepKey ?? "Enter" }

    /// The command `input` (trimmed) names: Enter for an empty line, else the step
    /// command's key it types, when this table has it; nil for tx code.
    static func named(_ input: String) -> BreakpointCommand? {
        let key = input.isEmpty ? nil : StepCommand.named(input, variables: [])?.0.keys.first
        guard key != nil || input.isEmpty else { return nil }
        return all.first { $0.stepKey == key }
    }

    /// What `?` shows at the prompt (`stepping`: in `tx --step` or `:step`).
    static func list(stepping: Bool) -> String {
        var lines: [(usage: String, summary: String)] = []
        for command in all {
            guard let summary = stepping ? command.stepping : command.running else { continue }
            if let same = lines.firstIndex(where: { $0.summary == summary }) {
                lines[same].usage += ", " + command.usage
            } else {
                lines.append((command.usage, summary))
            }
        }
        return lines.map { "  " + $0.usage + String(repeating: " ", count: max(1, 11 - $0.usage.count)) + $0.summary + "\n" }.joined()
            + "  anything else is tx in the script's variables\n"
    }
}
