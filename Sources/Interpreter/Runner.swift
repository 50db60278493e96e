@preconcurrency import Glibc
import Lang
import Tensor

/// The ways to run tx code from the command line: a script, `-e`, `--step`. Each prints
/// an error the one way `TxError.rendered()` formats it and returns an exit status.
public enum Runner {
    /// Writes to standard error (in colour when it is a terminal).
    public static func reportError(_ error: Error, to sink: (String) -> Void = writeStandardError,
                                   style: Style = .standardError) {
        if let error = error as? TxError {
            sink(style.error(error) + "\n")
        } else if let error = error as? TensorError {
            sink(style.error(TxError(error, at: nil)) + "\n")
        } else {
            sink(style.error(TxError(.value, "\(error)")) + "\n")
        }
    }

    /// Reads a script file as text.
    public static func readSource(path: String) throws -> String {
        do {
            return String(decoding: try readFile(path: path), as: UTF8.self)
        } catch let error as TensorError {
            throw TxError(.io, error.message)
        }
    }

    /// `tx FILE.tx`: runs the script, printing top-level expression values; status 1
    /// after the first error.
    public static func runFile(_ path: String, interpreter: Interpreter) -> Int32 {
        do {
            try interpreter.run(try readSource(path: path), name: path, echo: true)
            return 0
        } catch {
            reportError(error)
            return 1
        }
    }

    /// `tx -e 'expr'`.
    public static func runExpression(_ text: String, interpreter: Interpreter) -> Int32 {
        do {
            try interpreter.run(text, name: "<expr>", echo: true)
            return 0
        } catch {
            reportError(error)
            return 1
        }
    }

    /// `tx --step FILE.tx`: shows each top-level statement (statements sharing a line
    /// together) with the comment lines above it as narration, waits for Enter (when
    /// `wait`), runs it and shows its value.
    public static func step(_ path: String, interpreter: Interpreter, wait: Bool,
                            readKey: () -> Bool = Runner.waitForEnter) -> Int32 {
        // The syntax tree is as deep as the input: build and free it on the large stack.
        (try? LargeStack.run { stepOnLargeStack(path, interpreter: interpreter, wait: wait, readKey: readKey) }) ?? 1
    }

    private static func stepOnLargeStack(_ path: String, interpreter: Interpreter, wait: Bool,
                                         readKey: () -> Bool) -> Int32 {
        let program: Program
        do {
            program = try Parser.parse(Source(name: path, text: try readSource(path: path)))
        } catch {
            reportError(error)
            return 1
        }
        let out = interpreter.output
        // Statements written on one line (`Q = x @ Wq; K = x @ Wk`) are one step.
        var steps: [[Stmt]] = []
        for statement in program.statements {
            if let last = steps.last?.last, statement.span.line == last.span.source.line(at: max(last.span.end - 1, last.span.start)) {
                steps[steps.count - 1].append(statement)
            } else {
                steps.append([statement])
            }
        }
        for (i, step) in steps.enumerated() {
            guard let first = step.first, let last = step.last else { continue }
            if i > 0 { out("\n") }
            for line in first.comments { out(line.isEmpty ? "#\n" : "# \(line)\n") }
            out("tx> \(first.span.through(last.span).text)\n")
            if wait, !readKey() { return 0 }
            for statement in step {
                do {
                    let result = try interpreter.run(statement: statement)
                    if result.shouldEcho { try interpreter.write(Display.show(result.value, style: interpreter.style) + "\n", at: statement.span) }
                } catch {
                    reportError(error)
                    return 1
                }
            }
        }
        return 0
    }

    /// Waits for a line on standard input; false at end of input or on `q`.
    public static func waitForEnter() -> Bool {
        fputs("  [Enter: run, q: quit] ", stdout)
        fflush(stdout)
        guard let line = readLine() else { return false }
        return line.trimmingSpaces != "q"
    }
}

/// Writes text to standard error, after what is waiting in standard output's buffer,
/// so that errors and results come out in order when both go to one file or pipe.
public func writeStandardError(_ text: String) {
    fflush(stdout)
    fputs(text, stderr)
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
