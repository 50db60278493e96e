@preconcurrency import CReadline
@preconcurrency import Glibc
import Tensor

/// Reading lines for the REPL: GNU readline on a terminal (history, editing; Ctrl-C
/// drops the line being typed), plain lines from a pipe.
public enum Terminal {
    /// Makes Ctrl-C set the interrupt flag that running code polls, instead of killing
    /// tx. Not restarting system calls lets the prompt's poll() see it at once.
    public static func installInterruptHandler() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in Interrupt.request() }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
    }

    /// Lines from a pipe or file: no prompts.
    public static func plainReader() -> (String) -> REPL.LineInput {
        { _ in
            guard let line = Swift.readLine(strippingNewline: true) else { return .endOfInput }
            return .line(line)
        }
    }

    /// Lines from GNU readline, with history kept in `historyPath`.
    public static func readlineReader(historyPath: String?) -> (String) -> REPL.LineInput {
        rl_catch_signals = 0
        using_history()
        if let historyPath { read_history(historyPath) }
        return { prompt in
            let input = readWithInterrupts(prompt: prompt)
            if case .line(let line) = input, !line.trimmingSpaces.isEmpty {
                add_history(line)
                if let historyPath {
                    append_history(1, historyPath)
                    history_truncate_file(historyPath, 2000)
                }
            }
            return input
        }
    }

    /// Creates the history file if it does not exist, so that append_history works.
    public static func prepareHistory(at path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        if fd >= 0 { close(fd) }
    }

    nonisolated(unsafe) private static var completed: REPL.LineInput? = nil

    /// readline's callback interface, so that a Ctrl-C at the prompt (which interrupts
    /// poll) can abandon the line cleanly.
    private static func readWithInterrupts(prompt: String) -> REPL.LineInput {
        completed = nil
        Interrupt.clear()
        rl_callback_handler_install(prompt) { line in
            if let line {
                Terminal.completed = .line(String(cString: line))
                free(line)
            } else {
                Terminal.completed = .endOfInput
            }
            rl_callback_handler_remove()
        }
        while completed == nil {
            var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, -1)
            if Interrupt.isRequested {
                Interrupt.clear()
                // Show ^C after what was typed, then drop the line.
                rl_point = rl_end
                rl_redisplay()
                fputs("^C\n", stdout)
                fflush(stdout)
                rl_free_line_state()
                rl_callback_sigcleanup()
                rl_replace_line("", 0)
                rl_callback_handler_remove()
                return .cancelled
            }
            if ready < 0 { continue }
            rl_callback_read_char()
        }
        return completed ?? .endOfInput
    }
}
