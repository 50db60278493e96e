@preconcurrency import Glibc
import Lang
import Tensor

/// The ways to run tx code from the command line: a script, `-e`, `--step`. Each prints
/// an error the one way `TxError.rendered()` formats it and returns an exit status.
public enum Runner {
    /// Writes to standard error (in colour when it is a terminal).
    public static func reportError(_ error: Error, to sink: (String) -> Void = writeStandardError,
                                   style: Style = .standardError) {
        // Leaving from a breakpoint's prompt is not an error.
        if error is StepperQuit { return }
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
        } catch is StepperQuit {
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
}

/// Writes text to standard error, after what is waiting in standard output's buffer,
/// so that errors and results come out in order when both go to one file or pipe.
public func writeStandardError(_ text: String) {
    fflush(stdout)
    fputs(text, stderr)
}

extension String {
    var trimmingTrailingSpaces: String {
        var s = Substring(self)
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
