@preconcurrency import CReadline
@preconcurrency import Glibc
import Tensor

/// Reading lines for the REPL: GNU readline on a terminal (history, editing; Ctrl-C
/// drops the line being typed), plain lines from a pipe.
public enum Terminal {
    /// The width printing wraps at: the terminal's columns when standard output is one,
    /// else 80 (pipes and files print the same everywhere).
    public static func columns() -> Int {
        var size = winsize()
        if isatty(1) != 0, ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col >= 20 { return Int(size.ws_col) }
        return TensorFormatter.defaultWidth
    }

    /// Makes Ctrl-C set the interrupt flag that running code polls, instead of killing
    /// tx. Not restarting system calls lets the prompt's poll() see it at once.
    public static func installInterruptHandler() {
        handle(SIGINT) { _ in Interrupt.request() }
    }

    /// Runs `handler` on `signal`, without restarting system calls. A parent may have
    /// started tx with the signal blocked (threads of test runners and language servers
    /// often block SIGINT): it is unblocked, for this thread and the ones started
    /// later, which inherit the mask.
    private static func handle(_ signal: Int32, with handler: @convention(c) (Int32) -> Void) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = handler
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(signal, &action, nil)
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, signal)
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }

    /// Lines from a pipe or file: no prompts. Read with read(2) rather than stdio, so
    /// that an interrupt while waiting for a line (read fails with EINTR) cancels the
    /// statement being typed and reading goes on.
    public static func plainReader() -> (String) -> REPL.LineInput {
        let reader = PlainLineReader(descriptor: 0)
        return { _ in reader.next() }
    }

    /// Lines from GNU readline, with `history` and prompts in `style`'s colours. Up and
    /// Down search the history for entries that start with what is typed before the
    /// cursor. Ctrl-D on an empty continuation line abandons the input being typed
    /// (`.cancelled`), not the session.
    public static func readlineReader(history: History, style: Style) -> (String) -> REPL.LineInput {
        rl_catch_signals = 0
        history.load()
        for up in ["\\e[A", "\\eOA"] { rl_bind_keyseq(up, rl_history_search_backward) }
        for down in ["\\e[B", "\\eOB"] { rl_bind_keyseq(down, rl_history_search_forward) }
        return { prompt in
            let continuation = prompt == REPL.continuationPrompt
            if !continuation { history.commit() }
            let input = readWithInterrupts(prompt: style.prompt(prompt, continuation: continuation))
            switch input {
            case .line(let line):
                history.add(line, continuation: continuation)
            case .endOfInput where continuation:
                // readline keeps the flag and would end every later line with a newline.
                rl_eof_found = 0
                history.commit()
                return .cancelled
            case .endOfInput, .cancelled:
                history.commit()
            }
            return input
        }
    }

    nonisolated(unsafe) private static var completed: REPL.LineInput? = nil
    nonisolated(unsafe) private static var stopRequested: Int32 = 0

    /// Ctrl-Z at the prompt (SIGTSTP) sets a flag that the wait for a key sees.
    private static func catchStops() {
        stopRequested = 0
        handle(SIGTSTP) { _ in Terminal.stopRequested = 1 }
    }

    /// After Ctrl-Z: gives the terminal back in its normal mode and stops; on `fg`, takes
    /// it again and redraws the prompt and the line being typed.
    private static func stopIfRequested() {
        guard stopRequested != 0 else { return }
        rl_deprep_terminal()
        signal(SIGTSTP, SIG_DFL)
        raise(SIGTSTP)
        catchStops()
        rl_prep_terminal(1)
        rl_forced_update_display()
        Highlight.colourLine()
    }

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
        catchStops()
        defer { signal(SIGTSTP, SIG_DFL) }
        while completed == nil {
            var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            // A bounded wait: SIGINT may be handled on another thread (the interpreter's
            // or OpenBLAS's), which leaves this poll uninterrupted; the flag is then seen
            // within a tenth of a second.
            let ready = poll(&descriptor, 1, 100)
            stopIfRequested()
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
            if ready <= 0 { continue }
            rl_callback_read_char()
            if completed == nil { Highlight.colourLine() }
        }
        return completed ?? .endOfInput
    }
}

/// Lines from a file descriptor, split at "\n" (a final line without one counts too).
final class PlainLineReader {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private var chunk = [UInt8](repeating: 0, count: 1 << 16)

    init(descriptor: Int32) { self.descriptor = descriptor }

    func next() -> REPL.LineInput {
        var searched = start
        while true {
            if let newline = buffer[searched...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[start..<newline], as: UTF8.self)
                start = newline + 1
                if start > 1 << 16 {
                    buffer.removeFirst(start)
                    start = 0
                }
                return .line(line)
            }
            searched = buffer.count
            if atEnd {
                guard start < buffer.count else { return .endOfInput }
                let line = String(decoding: buffer[start...], as: UTF8.self)
                start = buffer.count
                return .line(line)
            }
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
            } else if count < 0 && errno == EINTR {
                if Interrupt.isRequested {
                    Interrupt.clear()
                    return .cancelled
                }
            } else {
                atEnd = true
            }
        }
    }
}
