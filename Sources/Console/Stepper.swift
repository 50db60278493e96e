@preconcurrency import Glibc
import Interpreter
import Lang
import Tensor

/// `tx --step FILE` and `:step FILE`: the script one top-level statement at a time
/// (statements sharing a line together), each with the narration above it, and after
/// each a prompt that is a REPL in the script's variables, with commands to go back,
/// re-run, jump and skip sections. Without a terminal it runs straight through.
public final class Stepper {
    /// One step: statements written on one line, with the narration above them.
    struct Step {
        let statements: [Stmt]
        /// `tx> first line`, then `...> ` for the lines after.
        let code: String
        /// Comment lines (text after `# `); nil for a blank line between paragraphs.
        let narration: [String?]
        /// The first sentence of the narration of the section holding the step.
        let heading: String
    }

    let interpreter: Interpreter
    /// Reads a line at the prompt; nil runs straight through.
    private let readLine: ((String) -> REPL.LineInput)?
    let style: Style
    /// The REPL that evaluates what is typed at the prompt.
    private let repl: REPL?
    private var steps: [Step] = []
    /// The script's name as its source spans give it.
    private var scriptName = ""
    /// Narration after the last statement.
    private var closing: [String?] = []
    /// Where the script started from, for going back.
    private var start: Interpreter.Snapshot?
    /// The next step to run, and the step whose narration and code were shown last.
    private var position = 0, presented = -1
    /// Running to the end without prompting (`c`, or without a terminal).
    private var continuing = false
    private var failed = false
    /// Whether Ctrl-C stopped a step (the exit status is then 130 without a terminal).
    private var interrupted = false
    /// Whether the script was read and parsed (else there is no transcript to write).
    public private(set) var loaded = false
    /// Where the stepper's own lines go: the interpreter's output when the run started.
    private var terminal: (String) -> Void
    /// `--html`: everything shown also goes there.
    public var transcript: Transcript?

    public init(interpreter: Interpreter, readLine: ((String) -> REPL.LineInput)?, errorStyle: Style = .plain) {
        self.interpreter = interpreter
        self.readLine = readLine
        style = interpreter.style
        repl = readLine.map { REPL(interpreter: interpreter, readLine: $0, errorStyle: errorStyle) }
        terminal = interpreter.output
    }

    private func out(_ text: String) { terminal(text) }

    // MARK: Building the steps

    /// Parses the script and splits it into steps; nil (after reporting) when it does not parse.
    private func load(_ path: String) -> Bool {
        let program: Program
        do {
            let text = try Runner.readSource(path: path)
            program = try LargeStack.run { try Parser.parse(Source(name: path, text: text)) }
        } catch {
            Runner.reportError(error)
            return false
        }
        let source = program.source
        scriptName = source.name
        var groups: [[Stmt]] = []
        for statement in program.statements {
            if let last = groups.last?.last, statement.span.line == Self.endLine(last) {
                groups[groups.count - 1].append(statement)
            } else {
                groups.append([statement])
            }
        }
        var previousEnd = 0
        var heading = String(path.split(separator: "/").last ?? "")
        for group in groups {
            guard let first = group.first, let last = group.last else { continue }
            let narration = Self.narration(source, from: previousEnd + 1, to: first.span.line - 1)
            if let sentence = Self.firstSentence(of: narration) { heading = sentence }
            // Whole lines, as written: a comment at the end of a line (a shape note) stays.
            let lines = (first.span.line...Self.endLine(last)).map { source.lineText($0).trimmingTrailingSpaces }
            let code = lines.enumerated().map { ($0.offset == 0 ? "tx> " : "...> ") + $0.element }.joined(separator: "\n")
            steps.append(Step(statements: group, code: code, narration: narration, heading: heading))
            previousEnd = Self.endLine(last)
        }
        closing = Self.narration(source, from: previousEnd + 1, to: source.lineStarts.count)
        return true
    }

    /// `line` broken at spaces into pieces of at most `width` characters (a word longer
    /// than that stays whole), the pieces after the first starting with `continuation`.
    static func wrapped(_ line: String, width: Int, continuation: String) -> [String] {
        guard line.count > width else { return [line] }
        var pieces: [String] = []
        var current = ""
        for word in line.split(separator: " ", omittingEmptySubsequences: false) {
            let candidate = current.isEmpty ? String(word) : current + " " + word
            if candidate.count > width, !current.isEmpty, current != continuation.trimmingTrailingSpaces {
                pieces.append(current)
                current = continuation + word
            } else {
                current = candidate
            }
        }
        pieces.append(current)
        return pieces
    }

    private static func endLine(_ statement: Stmt) -> Int {
        statement.span.source.line(at: max(statement.span.end - 1, statement.span.start))
    }

    /// The comment lines of `first...last` (only comments and blank lines lie between
    /// statements), without blank lines at either end.
    private static func narration(_ source: Source, from first: Int, to last: Int) -> [String?] {
        guard first <= last else { return [] }
        var lines: [String?] = (first...last).map { number in
            let text = source.lineText(number).trimmingSpaces
            guard text.hasPrefix("#") else { return nil }
            let comment = text.dropFirst()
            return String(comment.hasPrefix(" ") ? comment.dropFirst() : comment)
        }
        while let line = lines.first, line == nil { lines.removeFirst() }
        while let line = lines.last, line == nil { lines.removeLast() }
        return lines
    }

    /// The narration's first sentence, cut to 40 characters: the prompt's heading.
    private static func firstSentence(of narration: [String?]) -> String? {
        guard let line = narration.lazy.compactMap({ $0 }).first(where: { !$0.isEmpty }) else { return nil }
        let characters = Array(line)
        let end = characters.indices.first { characters[$0] == "." && ($0 + 1 == characters.count || characters[$0 + 1] == " ") }
        let sentence = characters[..<(end ?? characters.count)]
        return sentence.count > 40 ? String(sentence.prefix(39)) + "…" : String(sentence)
    }

    // MARK: Running

    /// Steps through the script at `path`; returns the exit status (without a terminal to
    /// stop at: 1 when a step failed, 130 when Ctrl-C stopped one).
    public func run(_ path: String) -> Int32 {
        interpreter.printing { stepThrough(path) }
    }

    private func stepThrough(_ path: String) -> Int32 {
        guard load(path) else { return 1 }
        loaded = true
        start = interpreter.snapshot()
        terminal = interpreter.output
        let savedObserver = interpreter.checkObserver, savedBreakpoint = interpreter.breakpointHandler
        let savedFigures = interpreter.figureObserver
        defer {
            interpreter.checkObserver = savedObserver
            interpreter.breakpointHandler = savedBreakpoint
            interpreter.figureObserver = savedFigures
        }
        if let transcript {
            interpreter.figureObserver = { [unowned self] map in
                terminal(try map.terminal(color: style.isEnabled, width: Terminal.columns()))
                transcript.figure(try map.svg(standalone: false))
            }
        }
        if let repl {
            interpreter.breakpointHandler = { [unowned self] span in
                // Enter goes on to the next step and stops there; c runs to the end.
                continuing = try Self.breakpointPrompt(at: span, repl: repl, style: style, stepping: true)
            }
            out(style.paint("Enter: run a step.  ?: commands.  Anything else: tx in the script's variables.", .comment) + "\n")
        } else {
            interpreter.breakpointHandler = nil
        }
        continuing = readLine == nil
        do {
            // All on one thread with a large stack, rather than a thread made for each
            // statement (a breakpoint's prompt reads there already).
            try LargeStack.run { try loop() }
        } catch {
            // StepperQuit: leave, keeping the variables.
        }
        guard failed && readLine == nil else { return 0 }
        return interrupted && !StandardOutput.failed ? Runner.interruptedStatus : 1
    }

    private func loop() throws {
        position = 0
        presented = -1
        while true {
            if presented != position {
                present(position)
                presented = position
            }
            if continuing {
                if position == steps.count {
                    if readLine == nil { return }
                    continuing = false
                    continue
                }
                if try perform(position) { position += 1 } else if readLine == nil { return } else { continuing = false }
                continue
            }
            guard let repl else { return }
            let label = position < steps.count
                ? "[\(position + 1)/\(steps.count)] \(steps[position].heading)" : "[end of \(steps.count)]"
            switch repl.readEntry(prompt: label + "> ") {
            case .endOfInput:
                out("\n")
                return
            case .cancelled, .block:  // (readEntry makes a block a line)
                continue
            case .line(let text):
                let input = text.trimmingSpaces
                if input.isEmpty {
                    if position == steps.count { return }
                    if try perform(position) { position += 1 }
                    continue
                }
                let variables = Set(interpreter.userVariables.map(\.name))
                guard case let (command, number)? = StepCommand.named(input, variables: variables) else {
                    if !repl.handle(text) { return }
                    if case let (shadowed, _)? = StepCommand.named(":" + input, variables: []) {
                        // A variable named like a command: the variable was shown.
                        out(style.paint("(\(input) is your variable; :\(input) \(shadowed.meaning))", .comment) + "\n")
                    }
                    continue
                }
                if try !command.perform(self, number) { return }
            }
        }
    }

    // MARK: The step commands' handlers (StepCommand.all names them); false leaves

    func listCommands(_: Int) -> Bool {
        out(StepCommand.list(stepCount: steps.count))
        return true
    }

    func continueToEnd(_: Int) -> Bool {
        continuing = true
        return true
    }

    func rerun(_: Int) throws -> Bool {
        guard position > 0 else {
            out("no step has run yet: Enter runs step 1\n")
            return true
        }
        present(position - 1)
        _ = try perform(position - 1)
        presented = -1
        return true
    }

    func back(_: Int) throws -> Bool {
        guard position > 0 else {
            out("already at the first step\n")
            return true
        }
        position = try go(to: position - 1, from: position)
        return true
    }

    func jump(_ target: Int) throws -> Bool {
        guard (1...max(1, steps.count)).contains(target), !steps.isEmpty else {
            out("there are steps 1 to \(steps.count)\n")
            return true
        }
        position = try go(to: target - 1, from: position)
        return true
    }

    func nextSection(_: Int) throws -> Bool {
        guard let target = steps.indices.first(where: { $0 > position && !steps[$0].narration.isEmpty }) else {
            out("this is the last section\n")
            return true
        }
        position = try go(to: target, from: position)
        return true
    }

    func previousSection(_: Int) throws -> Bool {
        guard let target = steps.indices.last(where: { $0 < position && !steps[$0].narration.isEmpty }) else {
            out("this is the first section\n")
            return true
        }
        position = try go(to: target, from: position)
        return true
    }

    /// Makes `target` the next step to run: forward by running the steps between, back by
    /// starting over from where the script started (seeds make that deterministic), both
    /// without showing their output. Returns where it stopped (earlier on an error).
    private func go(to target: Int, from position: Int) throws -> Int {
        var at = position
        if target < position, let start {
            interpreter.restore(start)
            at = 0
        }
        let first = at
        let (output, breakpoint) = (interpreter.output, interpreter.breakpointHandler)
        interpreter.output = { _ in }
        interpreter.breakpointHandler = nil
        defer { (interpreter.output, interpreter.breakpointHandler) = (output, breakpoint) }
        while at < target {
            do {
                try runQuietly(at)
            } catch let error as StepperQuit {
                throw error
            } catch {
                interpreter.output = output
                out(cross("step \(at + 1) failed") + "\n")
                Runner.reportError(error)
                return at
            }
            at += 1
        }
        interpreter.output = output
        if target > first {
            out(style.paint(first + 1 == target ? "(ran step \(target))" : "(ran steps \(first + 1) to \(target))", .comment) + "\n")
        }
        return at
    }

    private func runQuietly(_ index: Int) throws {
        interpreter.checkObserver = nil
        for statement in steps[index].statements { _ = try interpreter.run(statement: statement) }
    }

    /// Shows a step's narration and code (or the closing narration past the last step).
    private func present(_ index: Int) {
        let narration = index < steps.count ? steps[index].narration : closing
        if index == steps.count && narration.isEmpty { return }
        if index > 0 || repl != nil { out("\n") }
        let width = Terminal.columns()
        for line in narration {
            guard let line else { out("\n"); continue }
            // A line longer than the terminal breaks between words, not inside one.
            for piece in Self.wrapped(line.isEmpty ? "#" : "# " + line, width: width, continuation: "# ") {
                out(style.paint(piece, .narration) + "\n")
            }
        }
        transcript?.narration(narration)
        guard index < steps.count else { return }
        out(style.paint(steps[index].code, .code) + "\n")
        transcript?.code(steps[index].code)
    }

    /// Runs a step and shows what each statement did: a value, a one-line summary of
    /// what was assigned, check marks, or at least `ok`. False when it failed.
    private func perform(_ index: Int) throws -> Bool {
        var checks: [Check] = []
        var printed = false
        let output = interpreter.output, figures = interpreter.figureObserver
        interpreter.output = { [unowned self] text in
            printed = true
            terminal(text)
            transcript?.output(text)
        }
        interpreter.figureObserver = figures.map { draw in { map in
            printed = true
            try draw(map)
        } }
        // savefig names the file it wrote; the transcript shows the picture too.
        interpreter.savedFigureObserver = { [unowned self] map, path in
            printed = true
            say(style.paint("wrote \(path)", .comment), plain: "wrote \(path)")
            transcript?.figure(try map.svg(standalone: false))
        }
        let script = scriptName
        interpreter.checkObserver = { check in
            // A failing check is always shown; a passing one only from the script itself.
            if !check.passed || check.source == script { checks.append(check) }
        }
        defer {
            interpreter.output = output
            interpreter.figureObserver = figures
            interpreter.savedFigureObserver = nil
            interpreter.checkObserver = nil
        }
        for statement in steps[index].statements {
            printed = false
            checks = []
            // What the statement writes, to show what a loop changed.
            let (outcome, written) = interpreter.noticingWrites { try interpreter.run(statement: statement) }
            do {
                let result = try outcome.get()
                show(checks)
                show(result, written: written, quiet: printed || !checks.isEmpty, checks: checks)
            } catch let error as StepperQuit {
                throw error
            } catch {
                failed = true
                // Standard output's reader is gone: that is reported once, when tx exits.
                if StandardOutput.failed { return false }
                show(checks)
                if let error = error as? TxError, error.kind == .interrupted {
                    interrupted = true
                    out("\n")
                }
                Runner.reportError(error)
                transcript?.error(Self.errorText(error))
                return false
            }
        }
        return true
    }

    private static func errorText(_ error: Error) -> String {
        var text = ""
        Runner.reportError(error) { text += $0 }
        return text
    }

    /// A line of the stepper's own: a value, a summary, a mark.
    private func say(_ painted: String, plain: String? = nil, check: Check? = nil) {
        terminal(painted + "\n")
        if let check { transcript?.check(check) } else { transcript?.result(plain ?? painted) }
    }

    /// Check marks; a run of more than three (an assert in a loop) as counts per call.
    private func show(_ checks: [Check]) {
        if checks.count <= 3 {
            for check in checks {
                let mark = check.passed ? tick(check.text) : cross(check.text)
                say(check.detail.isEmpty || !check.passed ? mark : mark + "  " + style.paint(check.detail, .comment), check: check)
            }
            return
        }
        var order: [String] = []
        var counts: [String: (passed: Int, failed: Int)] = [:]
        for check in checks {
            if counts[check.text] == nil { order.append(check.text) }
            var count = counts[check.text] ?? (0, 0)
            if check.passed { count.passed += 1 } else { count.failed += 1 }
            counts[check.text] = count
        }
        for text in order {
            let count = counts[text] ?? (0, 0)
            let check = Check(passed: count.failed == 0, text: text,
                              detail: count.failed == 0 ? "\(count.passed) times" : "failed after \(count.passed) passes")
            say((check.passed ? tick(text) : cross(text)) + "  " + style.paint(check.detail, .comment), check: check)
        }
    }

    /// What a statement did, when it printed nothing itself.
    /// What a statement did, after its `checks` were shown: its value (unless a check
    /// showed it already, as `expect_error`'s message), what it assigned, or `ok`.
    private func show(_ result: Interpreter.StatementResult, written: Interpreter.Writes, quiet: Bool, checks: [Check]) {
        switch result.statement.kind {
        case .expression(let expression):
            if case .string(let string) = result.value, checks.contains(where: { $0.detail.contains(string.text) }) { return }
            if let name = Self.pushedList(expression), !quiet, let list = interpreter.value(named: name) {
                assignment(name, list)   // push(losses, v): the list it grew, in one line
                return
            }
            if result.shouldEcho {
                say(Display.show(result.value, style: style), plain: Display.show(result.value))
            } else if !quiet && !result.statement.silenced {
                say(style.paint("ok", .comment), plain: "ok")
            }
        case .assign(let target, _), .compoundAssign(_, let target, _):
            if let name = Self.rootName(target), let value = interpreter.value(named: name) {
                assignment(name, value)
            }
        case .function(let declaration):
            let signature = "fn \(declaration.name ?? "")(" + declaration.parameters.map(\.name).joined(separator: ", ") + ")"
            say(style.paint("defined ", .comment) + signature, plain: "defined " + signature)
        case .forLoop(_, _, let body), .whileLoop(_, let body):
            guard !quiet else { return }
            // The variables the loop assigned a new value, or changed in place, in the
            // order they were defined.
            var changed = interpreter.changedVariables(written, changedInPlace: Self.changedInPlace(body.statements))
            // The loop's own variable only when nothing else changed: it is scaffolding.
            if case .forLoop(let variables, _, _) = result.statement.kind, changed.count > 1 {
                changed.removeAll { variables.names.contains($0.name) }
            }
            if changed.isEmpty { say(style.paint("ok (no variable changed)", .comment), plain: "ok (no variable changed)") }
            for variable in changed.prefix(6) { assignment(variable.name, variable.value) }
            if changed.count > 6 { say(style.paint("… and \(changed.count - 6) more", .comment), plain: "… and \(changed.count - 6) more") }
        case .breakLoop, .continueLoop, .returnValue:
            if !quiet { say(style.paint("ok", .comment), plain: "ok") }
        }
    }

    private func assignment(_ name: String, _ value: Value) {
        // The whole line fits the terminal: `name = ` and the summary.
        let summary = Summary.line(value, width: Swift.max(40, Terminal.columns() - name.count - 3))
        say(style.paint(name, .code) + " = " + summary, plain: name + " = " + summary)
    }

    /// The variable an assignment target starts from: `x` of `x`, `x[1:]`, `x.a.b`.
    private static func rootName(_ target: Expr) -> String? {
        switch target.kind {
        case .name(let name): return name
        case .index(let base, _): return rootName(base)
        case .field(let base, _): return rootName(base)
        default: return nil
        }
    }

    /// The variables whose contents `statements` change in place (`ids[i] = v`,
    /// `p.W += d`), in nested loops and `if` blocks too: such a variable stays the same
    /// object, with new contents. Functions defined there are not looked into.
    private static func changedInPlace(_ statements: [Stmt]) -> Set<String> {
        var names = Set<String>()
        func visit(_ statements: [Stmt]) {
            for statement in statements {
                switch statement.kind {
                case .assign(let target, let value), .compoundAssign(_, let target, let value):
                    if case .name = target.kind {} else if let name = rootName(target) { names.insert(name) }
                    visit(value)
                case .expression(let expression):
                    if let name = pushedList(expression) { names.insert(name) }
                    visit(expression)
                case .forLoop(_, _, let body), .whileLoop(_, let body):
                    visit(body.statements)
                case .function, .breakLoop, .continueLoop, .returnValue:
                    break
                }
            }
        }
        func visit(_ expression: Expr) {
            guard case .ifElse(_, let then, let otherwise) = expression.kind else { return }
            visit(then.statements)
            if let otherwise { visit(otherwise.statements) }
        }
        visit(statements)
        return names
    }

    /// The list `push(list, v...)` grows in place, when `expression` is such a call on a variable.
    private static func pushedList(_ expression: Expr) -> String? {
        guard case .call(let callee, let arguments) = expression.kind, case .name("push") = callee.kind,
              let first = arguments.first, first.label == nil, case .name(let name) = first.value.kind else { return nil }
        return name
    }

    // MARK: breakpoint()

    /// The prompt `breakpoint()` opens: tx in the script's variables until Enter or `c`;
    /// `q` leaves the script. Returns whether `c` asked to run to the end without
    /// stopping (when stepping; Enter stops at the next step).
    @discardableResult
    static func breakpointPrompt(at span: SourceSpan, repl: REPL, style: Style, stepping: Bool = false) throws -> Bool {
        let out = repl.interpreter.output
        let place = "\(span.source.name):\(span.line)"
        let keys = stepping ? "Enter goes on to the next step, c to the end" : "Enter or c goes on"
        out(style.paint("breakpoint at \(place): \(keys), q leaves, anything else is tx", .comment) + "\n")
        while true {
            switch repl.readEntry(prompt: "[breakpoint \(place)]> ") {
            case .endOfInput: throw StepperQuit()
            case .cancelled, .block: continue  // (readEntry makes a block a line)
            case .line(let text):
                // Enter, and the step prompt's c, q and ? as this prompt means them
                // (BreakpointCommand.all).
                switch BreakpointCommand.named(text.trimmingSpaces)?.action {
                case .goOn(let toEnd): return toEnd
                case .leave: throw StepperQuit()
                case .list: out(BreakpointCommand.list(stepping: stepping))
                case nil: if !repl.handle(text) { throw StepperQuit() }
                }
            }
        }
    }

    /// Makes `breakpoint()` open its prompt in scripts run with `tx FILE` from a terminal.
    public static func installBreakpoints(in interpreter: Interpreter, readLine: @escaping (String) -> REPL.LineInput) {
        let repl = REPL(interpreter: interpreter, readLine: readLine, errorStyle: .standardError)
        let style = interpreter.style
        interpreter.breakpointHandler = { span in try breakpointPrompt(at: span, repl: repl, style: style) }
    }
}

extension Stepper {
    func tick(_ text: String) -> String { style.paint("✓", .checkMark) + " " + text }
    func cross(_ text: String) -> String { style.paint("✗", .cross) + " " + text }
}
