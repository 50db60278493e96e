@preconcurrency import Glibc
import Lang
import Tensor

/// The interactive loop: `tx> ` prompts, `...> ` for continued lines, REPL commands,
/// values echoed, errors shown, and the session surviving all of them.
public final class REPL {
    public let interpreter: Interpreter
    let readLine: (String) -> LineInput
    private let errors: (String) -> Void
    /// What errors call the input: `<repl>` on a terminal, `<stdin>` for a pipe or file.
    private let sourceName: String
    private let errorStyle: Style
    /// Whether any input failed: a piped session then exits with status 1.
    public private(set) var hadErrors = false
    /// Lines read so far, and the number of the first line of the entry read last: the
    /// places of errors in piped input.
    private var linesRead = 0, entryLine = 1

    public enum LineInput {
        case line(String)
        /// Ctrl-C at the prompt: drop what was typed so far.
        case cancelled
        case endOfInput
    }

    public static let prompt = "tx> "
    public static let continuationPrompt = "...> "

    /// A REPL reading through `readLine(prompt)`; errors go to `errors`, coloured by
    /// `errorStyle`, and call the input `sourceName`.
    public init(interpreter: Interpreter, readLine: @escaping (String) -> LineInput,
                errors: @escaping (String) -> Void = writeStandardError, errorStyle: Style = .plain,
                sourceName: String = "<repl>") {
        self.interpreter = interpreter
        self.readLine = readLine
        self.errors = errors
        self.errorStyle = errorStyle
        self.sourceName = sourceName
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
        var pending = PendingStatement()
        while true {
            switch readLine(pending.isEmpty ? prompt : REPL.continuationPrompt) {
            case .endOfInput:
                return pending.text.trimmingSpaces.isEmpty ? .endOfInput : .line(pending.text)
            case .cancelled:
                return .cancelled
            case .line(let line):
                linesRead += 1
                if pending.isEmpty { entryLine = linesRead }
                pending.append(line)
                if !pending.text.trimmingSpaces.hasPrefix(":"), pending.isIncomplete() { continue }
                return .line(pending.text)
            }
        }
    }

    /// Runs a statement or a `:command` (the entry `readEntry` returned last); false
    /// means quit.
    func handle(_ text: String) -> Bool {
        if let command = Command.habit(text, isDefined: { interpreter.value(named: $0) != nil }) {
            return perform(command)
        }
        if text.trimmingSpaces.hasPrefix(":") {
            if !perform(text) { return false }
        } else if !text.trimmingSpaces.isEmpty {
            evaluate(text, name: sourceName, firstLine: lineNumber(entryLine))
        }
        // An interrupt that came during this input (say, in a long product that does not
        // poll for it) belongs to it, not to the next one.
        Interrupt.clear()
        // Standard output's reader is gone: nothing more can be shown, so the session ends.
        return !StandardOutput.failed
    }

    /// The number errors give an input's line: its own in a pipe or file, 1 on a terminal.
    private func lineNumber(_ line: Int) -> Int {
        sourceName == "<repl>" ? 1 : line
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
    private func evaluate(_ text: String, name: String, firstLine: Int = 1) -> Bool {
        do {
            try interpreter.run(text, name: name, firstLine: firstLine, echo: true)
            return true
        } catch {
            report(error)
            return false
        }
    }

    private func report(_ error: Error) {
        // What stopped it is standard output's failure, reported once when tx exits.
        if StandardOutput.failed {
            hadErrors = true
            return
        }
        // The terminal has echoed ^C on the current line.
        if let error = error as? TxError, error.kind == .interrupted { errors("\n") }
        Runner.reportError(error, to: fail, style: errorStyle)
    }

    /// Runs a `:command`, as read; false means quit.
    private func perform(_ input: String) -> Bool {
        let command = input.trimmingSpaces
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
            out(interpreter.variablesTable(width: Terminal.columns()))
        case ":time":
            if argument.isEmpty {
                fail(.arity, ":time needs an expression, e.g. :time a @ b")
                return true
            }
            // Errors point into the line as typed: the command's word becomes blanks.
            let text = input.replacing(/^\s*:\S+/) { String(repeating: " ", count: $0.output.count) }
            do {
                out(try interpreter.time(text, name: sourceName, firstLine: lineNumber(entryLine)).summary + "\n")
            } catch {
                report(error)
            }
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
