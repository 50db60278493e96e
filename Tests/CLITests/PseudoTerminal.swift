import Foundation

/// `tx` running on a pseudo-terminal, typed at as a person would: keys go in, and the
/// screen's bytes (escapes included) come out.
final class PseudoTerminal {
    private let master: Int32
    private let process = Process()
    /// Everything tx has written so far.
    private(set) var output = Data()

    /// Starts `tx arguments` on a new terminal of `columns` columns, with `environment`
    /// added to this process's (TERM defaults to xterm).
    init(_ arguments: [String] = [], environment: [String: String] = [:], columns: UInt16 = 100,
         directory: String? = nil) throws {
        var master: Int32 = -1, slave: Int32 = -1
        var size = winsize(ws_row: 30, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        guard openpty(&master, &slave, nil, nil, &size) == 0 else { throw POSIXError(.ENXIO) }
        self.master = master
        process.executableURL = URL(fileURLWithPath: txPath)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["TERM"] = "xterm"
        env["NO_COLOR"] = nil
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let terminal = FileHandle(fileDescriptor: slave, closeOnDealloc: true)
        process.standardInput = terminal
        process.standardOutput = terminal
        process.standardError = terminal
        try process.run()
        // A test that goes wrong fails instead of hanging.
        let pid = process.processIdentifier
        Thread.detachNewThread {
            sleep(60)
            kill(pid, SIGKILL)
        }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        close(master)
    }

    var processIdentifier: Int32 { process.processIdentifier }

    /// Whether tx is stopped (by SIGTSTP), as /proc says.
    var isStopped: Bool {
        let stat = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8)) ?? ""
        // The state follows the command name in parentheses: "123 (tx) T ...".
        return stat.split(separator: ")").last?.split(separator: " ").first == "T"
    }

    /// The output with escape sequences and readline's \r removed.
    var text: String { PseudoTerminal.plain(String(decoding: output, as: UTF8.self)) }

    static func plain(_ screen: String) -> String {
        // "\r\n" is one Character to Swift: drop the "\r"s as scalars.
        String(String.UnicodeScalarView(screen.unicodeScalars.filter { $0 != "\r" }))
            .replacing(/\u{1B}\[[0-9;?]*[A-Za-z]|\u{1B}[78=>]/, with: "")
    }

    /// Types `keys` (a string: "\t" is Tab, "\u{4}" Ctrl-D, "\u{1B}[A" Up).
    func type(_ keys: String) {
        var bytes = Array(keys.utf8)
        _ = write(master, &bytes, bytes.count)
    }

    /// Reads until the plain text after `offset` contains `expected` (true), or 10 seconds
    /// pass or tx exits (false).
    @discardableResult
    func wait(for expected: String, after offset: Int = 0) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if String(text.dropFirst(offset)).contains(expected) { return true }
            guard readAvailable(milliseconds: 50) else { return String(text.dropFirst(offset)).contains(expected) }
        }
        return false
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

    /// Waits for tx to exit (reading its last words) and gives its status.
    func exitStatus() -> Int32 {
        while readAvailable(milliseconds: 100), process.isRunning || hasPendingOutput {}
        process.waitUntilExit()
        return process.terminationStatus
    }

    private var hasPendingOutput: Bool {
        var ready = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        return poll(&ready, 1, 0) > 0 && ready.revents & Int16(POLLIN) != 0
    }
}
