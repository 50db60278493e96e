@preconcurrency import Glibc
import Lang
import Tensor

/// The interactive loop: `tx> ` prompts, `...> ` for continued lines, REPL commands,
/// values echoed, errors shown, and the session surviving all of them.
public final class REPL {
    public let interpreter: Interpreter
    let readLine: (String) -> LineInput
    private let errors: (String) -> Void
    private let errorStyle: Style
    /// Whether any input failed: a piped session then exits with status 1.
    public private(set) var hadErrors = false

    public enum LineInput {
        case line(String)
        /// Ctrl-C at the prompt: drop what was typed so far.
        case cancelled
        case endOfInput
    }

    public static let prompt = "tx> "
    public static let continuationPrompt = "...> "

    /// A REPL reading through `readLine(prompt)`; errors go to `errors`, coloured by
    /// `errorStyle`.
    public init(interpreter: Interpreter, readLine: @escaping (String) -> LineInput,
                errors: @escaping (String) -> Void = writeStandardError, errorStyle: Style = .plain) {
        self.interpreter = interpreter
        self.readLine = readLine
        self.errors = errors
        self.errorStyle = errorStyle
        interpreter.keepsAnswer = true
    }

    /// Reads, evaluates and prints until `:quit` or end of input.
    public func run() {
        while true {
            switch readEntry(prompt: REPL.prompt) {
            case .endOfInput: return
            case .cancelled: continue
            case .line(let text): if !handle(text) { return }
            }
        }
    }

    /// Reads one statement or `:command`, with `...> ` lines while it is unfinished. At the
    /// end of input an unfinished statement is returned (its error is worth seeing).
    func readEntry(prompt: String) -> LineInput {
        var pending = ""
        while true {
            switch readLine(pending.isEmpty ? prompt : REPL.continuationPrompt) {
            case .endOfInput:
                return pending.trimmingSpaces.isEmpty ? .endOfInput : .line(pending)
            case .cancelled:
                return .cancelled
            case .line(let line):
                pending += pending.isEmpty ? line : "\n" + line
                // Parsing builds (and frees) a tree as deep as the input: large stack.
                let text = pending
                if !text.trimmingSpaces.hasPrefix(":"), (try? LargeStack.run { Parser.isIncomplete(text) }) == true { continue }
                return .line(text)
            }
        }
    }

    /// Runs a statement or a `:command`; false means quit.
    func handle(_ text: String) -> Bool {
        if let command = Command.habit(text, isDefined: { interpreter.value(named: $0) != nil }) {
            return perform(command)
        }
        if text.trimmingSpaces.hasPrefix(":") {
            if !perform(text.trimmingSpaces) { return false }
        } else if !text.trimmingSpaces.isEmpty {
            evaluate(text, name: "<repl>")
        }
        // An interrupt that came during this input (say, in a long product that does not
        // poll for it) belongs to it, not to the next one.
        Interrupt.clear()
        return true
    }

    private func fail(_ text: String) {
        hadErrors = true
        errors(text)
    }

    /// Reports an error of the REPL itself (a bad `:command`).
    private func fail(_ kind: TxError.Kind, _ message: String) {
        fail(errorStyle.error(TxError(kind, message)) + "\n")
    }

    /// Runs `text`, printing its values or its error; false after an error.
    @discardableResult
    private func evaluate(_ text: String, name: String) -> Bool {
        do {
            try interpreter.run(text, name: name, echo: true)
            return true
        } catch {
            // The terminal has echoed ^C on the current line.
            if let error = error as? TxError, error.kind == .interrupted { errors("\n") }
            Runner.reportError(error, to: fail, style: errorStyle)
            return false
        }
    }

    /// Runs a `:command`; false means quit.
    private func perform(_ command: String) -> Bool {
        let parts = command.split(separator: " ", maxSplits: 1).map(String.init)
        let name = parts.first ?? ""
        let argument = parts.count > 1 ? parts[1].trimmingSpaces : ""
        // `:load "file.tx"` as well as `:load file.tx`.
        let path = argument.count >= 2 && argument.hasPrefix("\"") && argument.hasSuffix("\"")
            ? String(argument.dropFirst().dropLast()) : argument
        let out = interpreter.output
        guard let command = Command.named(name) else {
            var message = "unknown command \(name)"
            if let near = nearestName(to: name, among: Command.all.map(\.name)) { message += " (did you mean \(near)?)" }
            fail(.name, message + "; :help lists the commands")
            return true
        }
        if command.argument.isEmpty && !argument.isEmpty {
            fail(.arity, "\(name) takes no argument")
            return true
        }
        switch command.name {
        case ":quit":
            return false
        case ":help":
            if argument.isEmpty {
                out(Help.overview(interpreter))
            } else if let text = Help.topic(argument, interpreter) {
                out(text)
            } else {
                var message = "no help for '\(argument)'"
                if let near = nearestName(to: argument, among: Help.topics(interpreter)) {
                    message += " (did you mean '\(near)'?)"
                }
                fail(.name, message)
            }
        case ":vars":
            let variables = interpreter.userVariables
            if variables.isEmpty { out("no variables yet\n") }
            let width = variables.map(\.name.count).max() ?? 0
            for (name, value) in variables {
                out(name + String(repeating: " ", count: width - name.count) + "  " + Display.short(value).prefix(100) + "\n")
            }
        case ":time":
            if argument.isEmpty {
                fail(.arity, ":time needs an expression, e.g. :time a @ b")
                return true
            }
            var start = timespec(), end = timespec()
            clock_gettime(CLOCK_MONOTONIC, &start)
            guard evaluate(argument, name: "<repl>") else { return true }
            clock_gettime(CLOCK_MONOTONIC, &end)
            let seconds = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) * 1e-9
            out("time: \(formatDuration(seconds))\n")
        case ":load", ":step":
            if path.isEmpty {
                fail(.arity, "\(name) needs a file, e.g. \(name) examples/03_self_attention.tx")
            } else if name == ":load" {
                do {
                    try interpreter.run(try Runner.readSource(path: path), name: path, echo: true)
                } catch {
                    Runner.reportError(error, to: fail, style: errorStyle)
                }
            } else {
                let stepper = Stepper(interpreter: interpreter, readLine: isatty(0) != 0 ? readLine : nil, errorStyle: errorStyle)
                if stepper.run(path) != 0 { hadErrors = true }
            }
        case ":reset":
            interpreter.reset()
            out("session reset\n")
        default:
            break
        }
        return true
    }
}

/// `12.3 ms`, `1.25 s`, `850 µs`.
func formatDuration(_ seconds: Double) -> String {
    func rounded(_ x: Double) -> String {
        let r = (x * 100).rounded() / 100
        return TensorFormatter.formatNumber(r >= 100 ? r.rounded() : r)
    }
    if seconds >= 1 { return rounded(seconds) + " s" }
    if seconds >= 1e-3 { return rounded(seconds * 1e3) + " ms" }
    return rounded(seconds * 1e6) + " µs"
}
