import Foundation

/// `tx` running on a pseudo-terminal, typed at as a person would: keys go in, and the
/// screen's bytes (escapes included) come out. tx leads a session of its own whose
/// controlling terminal this is, as under a shell, so that typed Ctrl-C sends it SIGINT.
/// Waits are generous (a loaded machine can be slow) and end as soon as the text shows;
/// a tx still running after two minutes is killed, so a test that goes wrong fails.
final class PseudoTerminal {
    private let master: Int32
    let processIdentifier: pid_t
    /// The wait status, once tx has exited and been reaped.
    private var waitStatus: Int32?
    /// Everything tx has written so far.
    private(set) var output = Data()

    /// Starts `tx arguments` on a new terminal of `columns` columns, with `environment`
    /// added to this process's (TERM defaults to xterm).
    init(_ arguments: [String] = [], environment: [String: String] = [:], columns: UInt16 = 100,
         directory: String? = nil) throws {
        var master: Int32 = -1, slave: Int32 = -1
        var size = winsize(ws_row: 30, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        var name = [CChar](repeating: 0, count: 256)
        guard openpty(&master, &slave, &name, nil, &size) == 0 else { throw POSIXError(.ENXIO) }
        // The slave stays open here until tx has it, so that reading the master ends
        // only when tx and its children are gone.
        defer { close(slave) }
        self.master = master
        // Writes take what fits (see `type`).
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
        var env = ProcessInfo.processInfo.environment
        env["TERM"] = "xterm"
        env["NO_COLOR"] = nil
        for (k, v) in environment { env[k] = v }
        // A new session that opens the terminal first takes it as its controlling
        // terminal; it is standard input, output and error, and no other file of this
        // process's stays open in tx. A folder to start in is set by env(1), which
        // then runs tx in its place.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, PseudoTerminal.newSession)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, name, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap({ Int32($0) }) where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        let command = (directory.map { ["/usr/bin/env", "--chdir=\($0)"] } ?? []) + [txPath] + arguments
        let argv = command.map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: pid_t = 0
        let failure = posix_spawn(&child, command[0], &actions, &attributes, argv, envp)
        guard failure == 0 else {
            close(master)
            throw POSIXError(POSIXErrorCode(rawValue: failure) ?? .EIO)
        }
        let pid = child
        processIdentifier = pid
        // A test that goes wrong fails instead of hanging.
        Thread.detachNewThread {
            sleep(120)
            kill(pid, SIGKILL)
        }
    }

    deinit {
        if isRunning {
            kill(processIdentifier, SIGKILL)
            _ = reap(blocking: true)
        }
        close(master)
    }

    /// glibc's POSIX_SPAWN_SETSID (a GNU extension, which Swift's Glibc module leaves out):
    /// the child calls setsid().
    private static let newSession: Int16 = 0x80

    /// Whether tx has not exited yet (a stopped tx is running).
    private var isRunning: Bool { reap(blocking: false) == nil }

    /// tx's wait status once it has exited (waiting for that when `blocking`), else nil.
    private func reap(blocking: Bool) -> Int32? {
        if let waitStatus { return waitStatus }
        var status: Int32 = 0
        if waitpid(processIdentifier, &status, blocking ? 0 : WNOHANG) == processIdentifier {
            waitStatus = status
        }
        return waitStatus
    }

    /// Gives the terminal a new size, as a terminal window resized does (tx's process
    /// group gets SIGWINCH).
    func resize(rows: UInt16, columns: UInt16) {
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
    }

    /// Whether tx is stopped (by SIGTSTP), as /proc says.
    var isStopped: Bool {
        let stat = (try? String(contentsOfFile: "/proc/\(processIdentifier)/stat", encoding: .utf8)) ?? ""
        // The state follows the command name in parentheses: "123 (tx) T ...".
        return stat.split(separator: ")").last?.split(separator: " ").first == "T"
    }

    /// The output with escape sequences, readline's \r, its markers around invisible
    /// prompt characters (\u{1}, \u{2}) and bells removed.
    var text: String { PseudoTerminal.plain(String(decoding: output, as: UTF8.self)) }

    static func plain(_ screen: String) -> String {
        // "\r\n" is one Character to Swift: drop the "\r"s as scalars.
        String(String.UnicodeScalarView(screen.unicodeScalars.filter { !["\r", "\u{1}", "\u{2}", "\u{7}"].contains($0) }))
            .replacing(/\u{1B}\[[0-9;?]*[A-Za-z]|\u{1B}[78=>]/, with: "")
    }

    /// Types `keys` (a string: "\t" is Tab, "\u{4}" Ctrl-D, "\u{1B}[A" Up). Long input
    /// (a paste) goes in as tx takes it, with its echo read meanwhile, so that neither
    /// side waits for the other.
    func type(_ keys: String) {
        let bytes = Array(keys.utf8)
        var written = 0
        while written < bytes.count {
            var ready = pollfd(fd: master, events: Int16(POLLOUT), revents: 0)
            if poll(&ready, 1, 10) > 0 {
                let count = bytes[written...].withUnsafeBufferPointer { write(master, $0.baseAddress, $0.count) }
                if count > 0 { written += count }
            }
            if written < bytes.count && !readAvailable(milliseconds: 0) { return }
        }
    }

    /// Reads until the plain text after `offset` contains `expected` (true), or 90 seconds
    /// pass or tx exits (false).
    @discardableResult
    func wait(for expected: String, after offset: Int = 0) -> Bool {
        waitUntil { String($0.dropFirst(offset)).contains(expected) ? () : nil } != nil
    }

    /// Reads until the plain text after `offset` (in characters) has a match of the
    /// regular expression `pattern`, and gives the offset of the match's end; nil when
    /// 90 seconds pass or tx exits first.
    func wait(matching pattern: String, after offset: Int = 0) throws -> Int? {
        let regex = try Regex(pattern)
        return waitUntil { text in
            let rest = text.dropFirst(offset)
            return (try? regex.firstMatch(in: rest)).flatMap { $0 }.map { offset + rest.distance(from: rest.startIndex, to: $0.range.upperBound) }
        }
    }

    /// Reads until `found` gives a value for the plain text, or 90 seconds pass or tx
    /// exits (nil).
    private func waitUntil<T>(_ found: (String) -> T?) -> T? {
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            if let result = found(text) { return result }
            guard readAvailable(milliseconds: 50) else { return found(text) }
        }
        return nil
    }

    /// Reads whatever comes within `milliseconds`; false at end of output.
    @discardableResult
    func readAvailable(milliseconds: Int32) -> Bool {
        var ready = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        guard poll(&ready, 1, milliseconds) > 0 else { return true }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = read(master, &chunk, chunk.count)
        guard count > 0 else { return false }
        output.append(contentsOf: chunk[0..<count])
        return true
    }

    /// Waits for tx to exit (reading its last words) and gives its exit status, or the
    /// number of the signal that ended it.
    func exitStatus() -> Int32 {
        while readAvailable(milliseconds: 100), isRunning || hasPendingOutput {}
        let status = reap(blocking: true) ?? -1
        // Exited: its exit status; killed: the signal's number.
        return status & 0x7F == 0 ? (status >> 8) & 0xFF : status & 0x7F
    }

    private var hasPendingOutput: Bool {
        var ready = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        return poll(&ready, 1, 0) > 0 && ready.revents & Int16(POLLIN) != 0
    }
}

/// One thing to do at a terminal: wait for output matching a regular expression (after
/// the previous match), or type keys.
enum TerminalAction {
    case expect(String)
    case send(String)
}

/// Runs `tx arguments` on a pseudo-terminal of 100 columns, without colour (TERM=dumb)
/// and with a history file of its own, doing `actions` in order, then waits for tx to
/// exit. `status` is tx's exit status, or -1 when an expected text never came (`err`
/// then names it); `out` is the plain text of the screen.
func terminalSession(_ arguments: [String], _ actions: [TerminalAction]) throws -> Run {
    let terminal = try PseudoTerminal(arguments, environment: ["TERM": "dumb", "NO_COLOR": "1", "TX_HISTORY": try temporaryHistory()])
    var matched = 0
    for action in actions {
        switch action {
        case .send(let keys):
            terminal.type(keys)
        case .expect(let pattern):
            guard let end = try terminal.wait(matching: pattern, after: matched) else {
                return Run(status: -1, out: terminal.text, err: "never came: \(pattern)")
            }
            matched = end
        }
    }
    let status = terminal.exitStatus()
    return Run(status: status, out: terminal.text, err: "")
}
