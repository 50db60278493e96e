@preconcurrency import Glibc
import Lang
import Tensor

/// Leaving a script from its step or breakpoint prompt (`q`, `:quit`): what a
/// `breakpointHandler` throws to stop the script, keeping its variables.
public struct StepperQuit: Error {
    public init() {}
}

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
            sink(style.error(TxError(.value, label: "", "\(error)")) + "\n")
        }
    }

    /// Reads a script file as text.
    public static func readSource(path: String) throws -> String {
        do {
            return String(decoding: try readFile(path: path), as: UTF8.self)
        } catch let error as TensorError {
            throw TxError(.io, label: error.label, error.detail)
        }
    }

    /// The exit status of a script stopped by Ctrl-C (SIGINT), as a shell gives for a
    /// command a signal ended: 128 + 2.
    public static let interruptedStatus: Int32 = 130

    /// `tx FILE.tx`: runs the script, printing top-level expression values; status 1
    /// after the first error, 130 when Ctrl-C stopped it.
    public static func runFile(_ path: String, interpreter: Interpreter) -> Int32 {
        do {
            try interpreter.run(try readSource(path: path), name: path, echo: true)
            return 0
        } catch is StepperQuit {
            return 0
        } catch {
            return report(error)
        }
    }

    /// Reports an error that ended a script and gives the exit status: 130 for Ctrl-C, 1
    /// otherwise. When standard output failed (its reader gone), nothing is reported
    /// here: that failure is what ended the script, and is reported once at the end.
    static func report(_ error: Error) -> Int32 {
        if StandardOutput.failed { return 1 }
        reportError(error)
        if let error = error as? TxError, error.kind == .interrupted { return interruptedStatus }
        return 1
    }

    /// `tx -e 'expr'`.
    public static func runExpression(_ text: String, interpreter: Interpreter) -> Int32 {
        do {
            try interpreter.run(text, name: "<expr>", echo: true)
            return 0
        } catch {
            return report(error)
        }
    }
}

/// Standard output as the interpreter writes it (`print`, echoed values): a write that
/// fails for good (the reader of a pipe gone with SIGPIPE ignored, a full disk, a closed
/// descriptor) stops the work, as Ctrl-C does: nothing written from then on could be read.
public enum StandardOutput {
    /// Whether a write to standard output failed; the runners then stop and tx exits
    /// with status 1 after saying so.
    nonisolated(unsafe) public private(set) static var failed = false
    /// Why: the errno of the failed write (EPIPE, ENOSPC, EBADF).
    nonisolated(unsafe) public private(set) static var failure: Int32 = 0

    /// Writes `text` to standard output; on a failure, sets `failed` and asks the running
    /// code to stop.
    public static func write(_ text: String) {
        errno = 0
        fputs(text, stdout)
        if !failed && ferror(stdout) != 0 {
            failure = errno
            failed = true
            Interrupt.request()
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
    public var trimmingTrailingSpaces: String {
        var s = Substring(self)
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
