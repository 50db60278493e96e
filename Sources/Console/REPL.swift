@preconcurrency import Glibc
import Interpreter
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
        /// The whole unfinished input, replaced (Ctrl-X Ctrl-E at a `...>` prompt opens
        /// its earlier lines too).
        case block(String)
        /// Ctrl-C at the prompt: drop what was typed so far.
        case cancelled
        case endOfInput
    }

    /// One input of this session: what `:history` lists, `:save` writes and `:edit` opens.
    public struct Input {
        /// Counting from 1, as `:history` shows it.
        public let number: Int
        public let text: String
        /// Whether it is tx code, not a `:command` or what stands for one (`whos`,
        /// `?softmax`).
        public internal(set) var isCode = false
        /// The source it ran as, while something holds it (the functions it defined
        /// point into it; a long piped session keeps no other).
        public internal(set) weak var source: Source?
        /// Whether it stopped with an error.
        public internal(set) var failed = false
        /// Whether an empty line came right before it (comments above a function
        /// are its help only when nothing separates them from it).
        public let followsABlankLine: Bool
    }

    private var lastInputWasBlank = false

    /// This session's inputs, in order.
    public private(set) var inputs: [Input] = []

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
            case .cancelled, .block: continue  // (readEntry makes a block a line)
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
            case .block(let text):
                // The whole unfinished input, edited: it starts again from these lines.
                pending = PendingStatement()
                guard !text.trimmingSpaces.isEmpty else { return .cancelled }
                linesRead += 1
                entryLine = linesRead
                for line in text.split(separator: "\n", omittingEmptySubsequences: false) { pending.append(String(line)) }
            }
            if !pending.text.trimmingSpaces.hasPrefix(":"), pending.isIncomplete() { continue }
            return .line(pending.text)
        }
    }

    /// Runs a statement or a `:command` (the entry `readEntry` returned last); false
    /// means quit.
    func handle(_ text: String) -> Bool {
        interpreter.printing { handleEntry(text) }
    }

    private func handleEntry(_ text: String) -> Bool {
        var text = text
        while let last = text.last, last.isWhitespace { text.removeLast() }
        guard !text.trimmingSpaces.isEmpty else {
            lastInputWasBlank = true
            Interrupt.clear()
            return true
        }
        inputs.append(Input(number: inputs.count + 1, text: text, followsABlankLine: lastInputWasBlank))
        lastInputWasBlank = false
        if let command = Command.habit(text, isDefined: { interpreter.value(named: $0) != nil }) {
            return perform(command)
        }
        if text.trimmingSpaces.hasPrefix(":") {
            if !perform(text) { return false }
        } else {
            let source = Source(name: inputName, text: text, firstLine: lineNumber(entryLine))
            inputs[inputs.count - 1].source = source
            inputs[inputs.count - 1].isCode = true
            if !evaluate(source) { inputs[inputs.count - 1].failed = true }
        }
        // An interrupt that came during this input (say, in a long product that does not
        // poll for it) belongs to it, not to the next one.
        Interrupt.clear()
        // Standard output's reader is gone: nothing more can be shown, so the session ends.
        return !StandardOutput.failed
    }

    /// What errors call the entry read last: `<repl 3>` for the third input on a terminal
    /// (so that a function's body is found among the inputs), `<stdin>` in a pipe.
    private var inputName: String {
        sourceName == "<repl>" ? "<repl \(inputs.count)>" : sourceName
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
        fail(errorStyle.error(TxError(kind, label: "", message)) + "\n")
    }

    /// Runs `source`, printing its values or its error; false after an error.
    private func evaluate(_ source: Source) -> Bool {
        do {
            try interpreter.run(source, echo: true)
            return true
        } catch var error as TxError {
            // IPython's shell escape: in tx, !ls is the negation of ls.
            let text = source.text.trimmingSpaces
            if text.hasPrefix("!"), text.dropFirst().first?.isLetter == true,
               error.kind == .name || error.kind == .syntax, !error.message.contains("; tx writes") {
                error.detail += "; a shell command is :sh \(text.dropFirst())"
            }
            report(error)
            return false
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

    /// Runs a `:command`, as read; false means quit. The command's handler in
    /// `Command.all` does the work.
    private func perform(_ input: String) -> Bool {
        let parts = input.trimmingSpaces.split(separator: " ", maxSplits: 1).map(String.init)
        let name = parts.first ?? ""
        let argument = parts.count > 1 ? parts[1].trimmingSpaces : ""
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
        return command.perform(self, Command.Call(name: name, argument: argument, input: input))
    }

    // MARK: The commands' handlers (Command.all names them)

    func help(_ call: Command.Call) -> Bool {
        let argument = call.argument
        if argument.isEmpty {
            interpreter.output(Help.overview(interpreter))
        } else if let text = Help.topic(argument, interpreter, inputs: inputs) {
            interpreter.output(text)
        } else {
            var message = "no help for '\(argument)'"
            if let near = nearestName(to: argument, among: Help.topics(interpreter)) {
                message += " (did you mean '\(near)'?)"
            }
            fail(.name, message)
        }
        return true
    }

    func showVariables(_ call: Command.Call) -> Bool {
        interpreter.output(interpreter.variablesTable(width: Terminal.columns()))
        return true
    }

    func time(_ call: Command.Call) -> Bool {
        if call.argument.isEmpty {
            fail(.arity, ":time needs an expression, e.g. :time a @ b")
            return true
        }
        // Errors point into the line as typed: the command's word becomes blanks.
        let text = call.input.replacing(/^\s*:\S+/) { String(repeating: " ", count: $0.output.count) }
        do {
            interpreter.output(try interpreter.time(text, name: inputName, firstLine: lineNumber(entryLine)).summary + "\n")
        } catch {
            report(error)
        }
        return true
    }

    /// `:load FILE` and `:step FILE`.
    func runFile(_ call: Command.Call) -> Bool {
        let name = call.name, argument = call.argument
        // `:load "file.tx"` as well as `:load file.tx`.
        let path = argument.count >= 2 && argument.hasPrefix("\"") && argument.hasSuffix("\"")
            ? String(argument.dropFirst().dropLast()) : argument
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
        return true
    }

    func history(_ call: Command.Call) -> Bool {
        // This input, `:history` itself, is not listed.
        guard let chosen = chosenInputs(call.argument, among: inputs.dropLast()) else { return true }
        interpreter.output(REPL.listing(chosen))
        return true
    }

    func save(_ call: Command.Call) -> Bool {
        save(call.argument, replacing: call.name.hasSuffix("!"))
        return true
    }

    func edit(_ call: Command.Call) -> Bool {
        edit(call.argument)
        return true
    }

    func shell(_ call: Command.Call) -> Bool {
        if call.argument.isEmpty {
            fail(.arity, ":sh needs a command, e.g. :sh ls")
        } else if let status = Shell.run(call.argument) {
            if status != 0 { errors("exit status \(status)\n") }
        } else {
            fail(.io, ":sh: cannot start /bin/sh")
        }
        return true
    }

    func reset(_ call: Command.Call) -> Bool {
        interpreter.reset()
        interpreter.output("session reset\n")
        return true
    }

    // MARK: History, saving and editing

    /// The inputs `range` numbers (`4`, `3-7`, `3-`, several separated by spaces or
    /// commas), in order, or all of `inputs` for an empty range; nil (with the error
    /// shown) for a range that does not read or numbers no input.
    private func chosenInputs(_ range: String, among inputs: ArraySlice<Input>) -> [Input]? {
        guard !range.isEmpty else { return Array(inputs) }
        let last = inputs.last?.number ?? 0
        var numbers = Set<Int>()
        for part in range.split(whereSeparator: { $0 == " " || $0 == "," }) {
            let bounds = part.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard let first = Int(bounds[0]), first >= 1,
                  let end = bounds.count == 1 ? first : bounds[1].isEmpty ? max(first, last) : Int(bounds[1]), end >= first
            else {
                fail(.value, "cannot read the range '\(part)': write input numbers as 4, 3-7 or 3- (:history numbers them)")
                return nil
            }
            guard first <= last else {
                fail(.value, "no input \(first): this session has \(last == 0 ? "no inputs yet" : "inputs 1 to \(last)")")
                return nil
            }
            numbers.formUnion(first...min(end, last))
        }
        return inputs.filter { numbers.contains($0.number) }
    }

    /// `:history`'s listing: each input's number, then its lines, aligned.
    static func listing(_ inputs: [Input]) -> String {
        let width = String(inputs.last?.number ?? 0).count
        var out = ""
        for input in inputs {
            let number = String(input.number)
            for (i, line) in input.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let gutter = i == 0 ? String(repeating: " ", count: width - number.count) + number : String(repeating: " ", count: width)
                out += gutter + "  " + line + "\n"
            }
        }
        return out
    }

    /// `:save FILE [RANGE]`: the inputs as a script (without `:commands`; without a
    /// range, without the inputs that failed). An existing file is replaced only with
    /// `:save!`.
    private func save(_ argument: String, replacing: Bool) {
        var path = argument, range = ""
        if argument.hasPrefix("\""), let close = argument.dropFirst().firstIndex(of: "\"") {
            path = String(argument[argument.index(after: argument.startIndex)..<close])
            range = String(argument[argument.index(after: close)...]).trimmingSpaces
        } else if let space = argument.firstIndex(where: { $0 == " " || $0 == "\t" }) {
            path = String(argument[..<space])
            range = String(argument[space...]).trimmingSpaces
        }
        guard !path.isEmpty else {
            fail(.arity, ":save needs a file, e.g. :save explore.tx 3-7")
            return
        }
        guard let chosen = chosenInputs(range, among: inputs.dropLast()) else { return }
        let kept = chosen.filter { $0.isCode && (!range.isEmpty || !$0.failed) }
        guard !kept.isEmpty else {
            fail(.value, "nothing to save: \(range.isEmpty ? "no input ran without an error yet" : "inputs \(range) hold only :commands")")
            return
        }
        var status = stat()
        if !replacing, stat(path, &status) == 0 {
            fail(.io, "\(path) exists; :save! \(argument) replaces it")
            return
        }
        let text = kept.map(\.text).joined(separator: "\n") + "\n"
        do {
            try writeFile(path: path, bytes: Array(text.utf8))
        } catch {
            Runner.reportError(error, to: fail, style: errorStyle)
            return
        }
        let lines = text.filter { $0 == "\n" }.count
        interpreter.output("wrote \(kept.count) input\(kept.count == 1 ? "" : "s") (\(lines) line\(lines == 1 ? "" : "s")) to \(path)\n")
    }

    /// `:edit [N]`: input N (the last one by default, this `:edit` aside) in the editor;
    /// what it leaves runs as a new input.
    private func edit(_ argument: String) {
        let earlier = inputs.dropLast()
        let chosen: Input?
        if argument.isEmpty {
            chosen = earlier.last { !$0.text.trimmingSpaces.hasPrefix(":edit") }
        } else if let number = Int(argument) {
            chosen = earlier.first { $0.number == number }
            if chosen == nil {
                fail(.value, "no input \(number): :history lists this session's inputs")
                return
            }
        } else {
            fail(.value, ":edit takes an input's number, e.g. :edit 3 (:history lists them)")
            return
        }
        switch Shell.edit(chosen?.text ?? "") {
        case .failed(let reason):
            fail(.io, reason)
        case .text(let text):
            var text = text
            while let last = text.last, last.isWhitespace { text.removeLast() }
            guard !text.trimmingSpaces.isEmpty else { return }
            // Shown as if typed (on a terminal), then run as the next input.
            if sourceName == "<repl>" {
                    interpreter.output(text.split(separator: "\n", omittingEmptySubsequences: false)
                    .enumerated().map { ($0.offset == 0 ? REPL.prompt : REPL.continuationPrompt) + $0.element }
                    .joined(separator: "\n") + "\n")
            }
            Terminal.remember(text)
            _ = handle(text)
        }
    }

}
