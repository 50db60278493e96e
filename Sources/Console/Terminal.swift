@preconcurrency import CReadline
@preconcurrency import Glibc
import Interpreter
import Lang
import Tensor

/// Reading lines for the REPL: GNU readline on a terminal (history, editing; Ctrl-C
/// drops the line being typed), plain lines from a pipe.
extension Terminal {
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
    /// Down move between the lines of an input of several lines (a recalled block) and,
    /// from its first or last line, search the history for entries that start with what
    /// is typed before the cursor. Ctrl-X Ctrl-E opens the input in the editor. Ctrl-D
    /// on an empty continuation line abandons the input being typed (`.cancelled`), not
    /// the session.
    public static func readlineReader(history: History, style: Style) -> (String) -> REPL.LineInput {
        rl_catch_signals = 0
        // Readline must not tell programs started from tx (:sh, the editor) the tall
        // screen it is given (see `screenRows`).
        rl_change_environment = 0
        // Readline reads the inputrc files and the terminal's capabilities now, before tx
        // binds its keys and sets its redisplay function: the inputrc's bindings would
        // win over tx's (Debian's /etc/inputrc binds Home and End, ESC [1~ and ESC [4~,
        // to the start and end of the whole input), and with a redisplay function of the
        // program's set, readline reads no capabilities and turns bracketed paste off.
        rl_initialize()
        if TallInput.display != nil { rl_redisplay_function = { Terminal.redisplay() } }
        history.load()
        Terminal.history = history
        for up in ["\\e[A", "\\eOA"] { rl_bind_keyseq(up, upKey) }
        for down in ["\\e[B", "\\eOB"] { rl_bind_keyseq(down, downKey) }
        rl_bind_keyseq("\\C-x\\C-e", { _, _ in Terminal.editInEditor() })
        // Home and End (Ctrl-A, Ctrl-E) keep to the line the cursor is on.
        for home in ["\\C-a", "\\e[H", "\\eOH", "\\e[1~"] { rl_bind_keyseq(home, { count, key in Terminal.homeOrEnd(-1, count, key) }) }
        for end in ["\\C-e", "\\e[F", "\\eOF", "\\e[4~"] { rl_bind_keyseq(end, { count, key in Terminal.homeOrEnd(1, count, key) }) }
        return { prompt in
            let continuation = prompt == REPL.continuationPrompt
            if !continuation { history.commit() }
            Terminal.continuing = continuation
            Terminal.editedBlock = false
            let input = readWithInterrupts(prompt: style.prompt(prompt, continuation: continuation))
            switch input {
            case .line(let line) where Terminal.editedBlock:
                history.replaceUnfinished(line)
                return .block(line)
            case .line(let line):
                history.add(line, continuation: continuation)
            case .endOfInput where continuation:
                // readline keeps the flag and would end every later line with a newline.
                rl_eof_found = 0
                history.commit()
                return .cancelled
            case .endOfInput, .cancelled, .block:
                history.commit()
            }
            return input
        }
    }

    nonisolated(unsafe) private static var history: History?

    /// Makes `text` the newest history entry, as if typed (an input `:edit` ran).
    static func remember(_ text: String) {
        history?.add(text, continuation: false)
        history?.commit()
    }

    /// Whether the keys since the last other command have searched the history (Up and
    /// Down then go on with that search, as readline's own search keys do).
    nonisolated(unsafe) private static var searching = false
    /// Up (`direction` -1) or Down (1): the line above or below in an input of several
    /// lines, else the history search.
    fileprivate static func upOrDown(_ direction: Int, _ count: Int32, _ key: Int32) -> Int32 {
        let last = unsafeBitCast(rl_last_func, to: UnsafeRawPointer?.self)
        let up: @convention(c) (Int32, Int32) -> Int32 = upKey, down: @convention(c) (Int32, Int32) -> Int32 = downKey
        if last != unsafeBitCast(up, to: UnsafeRawPointer.self), last != unsafeBitCast(down, to: UnsafeRawPointer.self) {
            searching = false
        }
        if moveBetweenLines(direction) { return 0 }
        // Readline goes on with a search when the last command was one of its own.
        if searching {
            rl_last_func = rl_history_search_backward
        } else if let buffer = rl_line_buffer, strchr(buffer, 10) != nil {
            // A new search from a block (one edited since it was recalled): what stands
            // before the cursor is no prefix to search for; the next input is wanted.
            rl_point = 0
        }
        searching = true
        return direction < 0 ? rl_history_search_backward(count, key) : rl_history_search_forward(count, key)
    }

    /// Home (`direction` -1) or End (1) of the line the cursor is on.
    private static func homeOrEnd(_ direction: Int, _ count: Int32, _ key: Int32) -> Int32 {
        guard let buffer = rl_line_buffer, rl_end > 0 else { return 0 }
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(buffer).assumingMemoryBound(to: UInt8.self), count: Int(rl_end))
        let point = min(Int(rl_point), bytes.count)
        let newline = UInt8(ascii: "\n")
        rl_point = Int32(direction < 0
            ? bytes[..<point].lastIndex(of: newline).map { $0 + 1 } ?? 0
            : bytes[point...].firstIndex(of: newline) ?? bytes.count)
        return 0
    }

    /// Moves the cursor to the line above (`direction` -1) or below (1) in the input,
    /// at the same column as far as that line reaches; false on its first or last line.
    private static func moveBetweenLines(_ direction: Int) -> Bool {
        guard let buffer = rl_line_buffer, rl_end > 0 else { return false }
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(buffer).assumingMemoryBound(to: UInt8.self), count: Int(rl_end))
        let newline = UInt8(ascii: "\n")
        let point = min(Int(rl_point), bytes.count)
        let lineStart = bytes[..<point].lastIndex(of: newline).map { $0 + 1 } ?? 0
        // Columns count characters: UTF-8 bytes that start one.
        let column = bytes[lineStart..<point].filter { $0 & 0xC0 != 0x80 }.count
        let target: Int
        if direction < 0 {
            guard lineStart > 0 else { return false }
            target = bytes[..<(lineStart - 1)].lastIndex(of: newline).map { $0 + 1 } ?? 0
        } else {
            guard let lineEnd = bytes[point...].firstIndex(of: newline) else { return false }
            target = lineEnd + 1
        }
        var offset = target, characters = 0
        while offset < bytes.count, bytes[offset] != newline {
            if bytes[offset] & 0xC0 != 0x80 {
                if characters == column { break }
                characters += 1
            }
            offset += 1
        }
        rl_point = Int32(offset)
        return true
    }

    /// Whether the line being read continues an unfinished input (a `...>` prompt).
    nonisolated(unsafe) private static var continuing = false
    /// Whether the line just entered is the whole unfinished input, edited in the editor.
    nonisolated(unsafe) private static var editedBlock = false

    /// Ctrl-X Ctrl-E: the input being typed in the editor, its earlier lines too at a
    /// `...>` prompt (the last input when nothing is typed at `tx>`); what the editor leaves
    /// is then entered, as if typed and Enter pressed, and replaces the whole input.
    private static func editInEditor() -> Int32 {
        let typed = rl_line_buffer.map { String(cString: $0) } ?? ""
        var text = typed
        let earlier = continuing ? history?.unfinished : nil
        if let earlier { text = earlier + "\n" + typed }
        if text.isEmpty, history_length > 0, let entry = history_get(history_base + history_length - 1) {
            text = String(cString: entry.pointee.line)
        }
        rl_point = rl_end
        redisplay()
        fputs("\n", rl_outstream)
        fflush(rl_outstream)
        rl_deprep_terminal()
        let edited = Shell.edit(text)
        rl_prep_terminal(1)
        rl_on_new_line()
        switch edited {
        case .failed(let reason):
            fputs("error: \(reason)\n", stderr)
            rl_replace_line(earlier == nil ? text : typed, 0)
            rl_point = rl_end
            redisplay()
        case .text(var edited):
            while let last = edited.last, last.isWhitespace { edited.removeLast() }
            rl_replace_line(edited, 0)
            rl_point = rl_end
            redisplay()
            if earlier != nil {
                editedBlock = true
                return rl_newline(1, 10)
            }
            if !edited.isEmpty { return rl_newline(1, 10) }
        }
        return 0
    }

    /// The terminal's rows. Readline is told of a screen far taller than that: given the
    /// real one, it draws an input taller than the screen (a long paste) by writing every
    /// line past the last row over that row, garbling it; given a tall one, it writes the
    /// lines one under the other and the terminal scrolls, as it does for output. (An
    /// input taller than the screen is then drawn by tx: see `TallInput`.)
    nonisolated(unsafe) private(set) static var screenRows: Int32 = 24
    private static let tallScreenRows: Int32 = 100_000

    /// Tells readline of a tall screen of the terminal's width (again after a resize:
    /// readline reads the terminal's size only when it catches SIGWINCH, which it
    /// listens for only while it handles a key, so the size is asked here too).
    private static func keepScreenTall() {
        var told: Int32 = 0, columns: Int32 = 0
        rl_get_screen_size(&told, &columns)
        var rows = told
        var size = winsize()
        if ioctl(0, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0, size.ws_col > 0 {
            (rows, columns) = (Int32(size.ws_row), Int32(size.ws_col))
        }
        guard rows != tallScreenRows else { return }
        if told == tallScreenRows, rows == screenRows, columns == readlineColumns { return }
        screenRows = rows
        readlineColumns = columns
        rl_set_screen_size(tallScreenRows, columns)
    }
    nonisolated(unsafe) private static var readlineColumns: Int32 = 0

    /// Whether Ctrl-R's search prompt stands in for the prompt.
    private static var isSearching: Bool {
        guard let prompt = rl_prompt, let shown = rl_display_prompt else { return false }
        return strcmp(prompt, shown) != 0
    }

    /// Draws the prompt and the input anew once a Ctrl-R search has ended. Readline
    /// redraws only what it thinks changed, and with a coloured prompt (whose escapes it
    /// does not count) over an input of several lines it gets the first row wrong,
    /// leaving part of the search prompt on the screen: from the prompt's row, the
    /// screen is cleared and everything drawn again.
    private static func redrawAfterSearch() {
        let point = rl_point
        rl_point = 0
        redisplay()
        fputs("\r\u{1B}[J", rl_outstream)
        rl_forced_update_display()
        rl_point = point
        redisplay()
        fflush(rl_outstream)
    }

    /// After Enter in a Ctrl-R search: readline has drawn the accepted input as it
    /// redraws one (`redrawAfterSearch`), the first row wrong; the rows it took are
    /// cleared and the prompt and input written again.
    private static func redrawAccepted(_ line: String, prompt: String) {
        var rows: Int32 = 0, columns: Int32 = 0
        rl_get_screen_size(&rows, &columns)
        guard columns > 0, line.contains("\n") else { return }
        var invisible = false, promptWidth = 0
        for c in prompt {
            if c == "\u{1}" { invisible = true } else if c == "\u{2}" { invisible = false } else if !invisible { promptWidth += displayWidth(c) }
        }
        var taken = 0
        for (i, text) in line.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let width = (i == 0 ? promptWidth : 0) + text.reduce(0) { $0 + displayWidth($1) }
            taken += max(1, (width + Int(columns) - 1) / Int(columns))
        }
        guard taken < Int(screenRows) else { return }
        let shown = prompt.filter { $0 != "\u{1}" && $0 != "\u{2}" }
        fputs("\u{1B}[\(taken)A\r\u{1B}[J" + shown + line + "\n", rl_outstream)
        fflush(rl_outstream)
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
        TallInput.shown = nil
        TallInput.quiet = false
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
                redisplay()
                fputs("^C\n", stdout)
                fflush(stdout)
                // What readline redraws while it drops the line is what is on the
                // screen already (to its redisplay), or would be drawn again under ^C
                // (to tx's, for an input taller than the screen).
                TallInput.shown = nil
                TallInput.quiet = true
                rl_free_line_state()
                rl_callback_sigcleanup()
                rl_replace_line("", 0)
                rl_callback_handler_remove()
                return .cancelled
            }
            if ready <= 0 { continue }
            let wasSearching = isSearching
            keepScreenTall()
            rl_callback_read_char()
            if completed == nil, wasSearching, !isSearching { redrawAfterSearch() }
            if completed != nil { showAcceptedTallInput() }
            if case .line(let line)? = completed, wasSearching { redrawAccepted(line, prompt: prompt) }
            if completed == nil { Highlight.colourLine() }
        }
        return completed ?? .endOfInput
    }
}

/// What readline calls for Up and Down (C functions: readline remembers the last one).
private func upKey(_ count: Int32, _ key: Int32) -> Int32 { Terminal.upOrDown(-1, count, key) }
private func downKey(_ count: Int32, _ key: Int32) -> Int32 { Terminal.upOrDown(1, count, key) }

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

/// An input taller than the terminal, drawn by tx. Readline is told of a tall screen
/// (`Terminal.screenRows`) and draws every line of an input one under the other, updating
/// only what changed and moving the cursor up with the terminal's cursor-up; once the
/// input is taller than the screen, the cursor cannot go up to the lines that scrolled
/// off the top: it stops at the top row (xterm's ESC [ A) or scrolls the screen down
/// over blank rows (tmux's ESC M), and from then on readline writes each edit on the
/// wrong row. So an input taller than the screen is drawn here instead, as Julia's and
/// IPython's REPLs do: the screen shows as many of its rows as fit, scrolled so that the
/// cursor's row is among them, and the whole input is written out once it is entered.
/// An input that fits is readline's to draw, as before.
enum TallInput {
    /// Readline's record of where its cursor is, which tx's drawing keeps: readline's
    /// redisplay reads it, and so do the few places that move the cursor before output of
    /// their own (a list of completions goes below the input, Enter below it too).
    struct Display {
        let row: UnsafeMutablePointer<Int32>, column: UnsafeMutablePointer<Int32>
        /// The input's last row on the screen, counted as `row` is.
        let lastRow: UnsafeMutablePointer<Int32>
        /// Moves the cursor to a row, counted as `row` is.
        let moveToRow: @convention(c) (Int32) -> Void
    }

    nonisolated(unsafe) static let display: Display? = {
        guard let library = dlopen(nil, RTLD_NOW), let row = dlsym(library, "_rl_last_v_pos"),
              let column = dlsym(library, "_rl_last_c_pos"), let lastRow = dlsym(library, "_rl_vis_botlin"),
              let move = dlsym(library, "_rl_move_vert") else { return nil }
        return Display(row: row.assumingMemoryBound(to: Int32.self), column: column.assumingMemoryBound(to: Int32.self),
                       lastRow: lastRow.assumingMemoryBound(to: Int32.self),
                       moveToRow: unsafeBitCast(move, to: (@convention(c) (Int32) -> Void).self))
    }()

    /// What tx drew last: the rows shown (`height` of them, the first being the input's row
    /// `top`), and the cursor's row among them.
    struct Shown {
        var top: Int, height: Int, cursorRow: Int
        /// What readline's row and column are set to after a drawing: readline then
        /// counts rows up from the last one shown (so that it goes down to below the
        /// input, not past it), and no column it would ever set (so that a drawing of its
        /// own since, which starts at a fresh line, is seen).
        var readlineRow: Int32 { Int32(cursorRow - (height - 1)) }
        static let readlineColumn: Int32 = -1
    }

    nonisolated(unsafe) static var shown: Shown?
    /// Whether nothing is to be drawn (the line being dropped after Ctrl-C).
    nonisolated(unsafe) static var quiet = false

    /// The rows of `prompt` (readline's, its invisible parts between \u{1} and \u{2})
    /// followed by `text`, at `columns` columns, and the row and column of the byte
    /// offset `point` in `text`. Rows hold what the terminal is to show: the prompt's
    /// escapes, tabs as spaces to the next multiple of 8, control characters as ^X.
    static func layout(prompt: String, text: String, point: Int, columns: Int) -> (rows: [String], cursorRow: Int, cursorColumn: Int) {
        let columns = max(1, columns)
        var rows: [String] = []
        var cursor = (row: 0, column: 0)
        var row = "", width = 0
        var invisible = false
        for c in prompt {
            if c == "\u{1}" { invisible = true } else if c == "\u{2}" { invisible = false } else {
                if !invisible, c != "\n" {
                    if width == columns { rows.append(row); row = ""; width = 0 }
                    width += displayWidth(c)
                }
                row.append(c)
            }
        }
        var offset = 0
        func markCursor() {
            cursor = width == columns ? (rows.count + 1, 0) : (rows.count, width)
        }
        for c in text {
            if offset == point { markCursor() }
            offset += c.utf8.count
            if c == "\n" || c == "\r\n" {
                rows.append(row)
                row = ""
                width = 0
                continue
            }
            let cells: [Character]
            if c == "\t" {
                cells = Array(repeating: " ", count: 8 - width % 8)
            } else if let ascii = c.asciiValue, ascii < 32 || ascii == 127 {
                cells = ["^", Character(Unicode.Scalar(ascii ^ 0x40))]
            } else {
                cells = [c]
            }
            for cell in cells {
                let cellWidth = displayWidth(cell)
                if width + cellWidth > columns { rows.append(row); row = ""; width = 0 }
                row.append(cell)
                width += cellWidth
            }
        }
        if offset <= point { markCursor() }
        rows.append(row)
        if cursor.row == rows.count { rows.append("") }
        return (rows, min(cursor.row, rows.count - 1), cursor.column)
    }

    /// The first of `height` rows shown of the rows `first..<count`: `top` as before,
    /// moved as little as makes `cursorRow` one of them (when it is one of those rows), and
    /// never leaving rows below the input empty.
    static func windowTop(_ top: Int, cursorRow: Int, count: Int, height: Int, first: Int = 0) -> Int {
        var top = min(top, count - height)
        if cursorRow < top { top = cursorRow }
        if cursorRow >= top + height { top = cursorRow - height + 1 }
        return max(first, top)
    }
}

extension Terminal {
    /// Moves the cursor to the input's last row on the screen (of those shown, for an
    /// input taller than the screen), as readline does before it lists completions, so
    /// that what is written next goes under the whole input, not over its lines below
    /// the cursor.
    static func moveToLastRowOfInput() {
        guard let display = TallInput.display else { return }
        display.moveToRow(display.lastRow.pointee)
    }

    /// Readline's redisplay function: readline draws an input that fits on the screen,
    /// tx one taller than the screen (`TallInput`).
    static func redisplay() {
        if TallInput.quiet { return }
        guard let display = TallInput.display, let buffer = rl_line_buffer else { return rl_redisplay() }
        let rowsBefore = screenRows
        keepScreenTall()
        var rows: Int32 = 0, columns: Int32 = 0
        rl_get_screen_size(&rows, &columns)
        let height = Int(screenRows)
        let prompt = rl_display_prompt.map { String(cString: $0) } ?? ""
        let text = String(cString: buffer)
        let layout = TallInput.layout(prompt: prompt, text: text, point: Int(rl_point), columns: Int(columns))
        // The rows between the cursor and the first row of the input on the screen: those
        // tx drew, unless readline has started afresh since (a new line, or after a list
        // of completions), or those readline drew.
        let shown = TallInput.shown
        var above: Int
        if let shown, display.column.pointee == TallInput.Shown.readlineColumn, display.row.pointee == shown.readlineRow {
            above = shown.cursorRow
        } else {
            above = max(0, Int(display.row.pointee))
        }
        // After a resize to fewer rows the first row of the input is at most at the top.
        if height < rowsBefore { above = min(above, height - 1) }
        guard height > 1, columns > 0, layout.rows.count > height else {
            if shown != nil {
                // Back to readline's drawing (the input got shorter): from a clear screen
                // below the input's first row.
                fputs((above > 0 ? "\u{1B}[\(above)A" : "") + "\r\u{1B}[J", rl_outstream)
                rl_on_new_line()
                TallInput.shown = nil
            }
            rl_redisplay()
            return
        }
        // In a Ctrl-R search its prompt stays on the first row, above the rows around
        // the match.
        let first = isSearching ? 1 : 0
        let top = TallInput.windowTop(shown?.top ?? layout.rows.count, cursorRow: layout.cursorRow, count: layout.rows.count,
                                      height: height - first, first: first)
        let rowsShown = layout.rows[0..<first] + layout.rows[top..<(top + height - first)]
        // Each row cleared, then written (not the screen cleared below the first row:
        // tmux keeps a screen cleared from its top left corner in the scrollback).
        var out = (above > 0 ? "\u{1B}[\(above)A" : "") + "\r"
        out += rowsShown.map { "\u{1B}[K" + $0 }.joined(separator: "\r\n")
        let cursorRow = layout.cursorRow < first ? layout.cursorRow : layout.cursorRow - top + first
        if height - 1 > cursorRow { out += "\u{1B}[\(height - 1 - cursorRow)A" }
        out += "\r" + (layout.cursorColumn > 0 ? "\u{1B}[\(layout.cursorColumn)C" : "")
        fputs(out, rl_outstream)
        fflush(rl_outstream)
        rl_on_new_line()
        let now = TallInput.Shown(top: top, height: height, cursorRow: cursorRow)
        TallInput.shown = now
        display.row.pointee = now.readlineRow
        display.column.pointee = TallInput.Shown.readlineColumn
    }

    /// After Enter on an input tx drew (`TallInput`): readline has moved the cursor to
    /// the last row shown; the rows shown are cleared and the whole input is written, so
    /// that it stands whole above its output, the terminal scrolling as it does for output.
    static func showAcceptedTallInput() {
        guard let shown = TallInput.shown else { return }
        TallInput.shown = nil
        guard case .line(let line)? = completed else { return }
        var rows: Int32 = 0, columns: Int32 = 0
        rl_get_screen_size(&rows, &columns)
        let input = TallInput.layout(prompt: rl_prompt.map { String(cString: $0) } ?? "", text: line, point: 0, columns: Int(columns))
        let up = shown.height - 1
        fputs("\r" + (up > 0 ? "\u{1B}[\(up)A" : "") + input.rows.map { "\u{1B}[K" + $0 }.joined(separator: "\r\n") + "\r\n",
              rl_outstream)
        fflush(rl_outstream)
    }
}
