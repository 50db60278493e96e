@preconcurrency import Glibc
import Interpreter
import Tensor

/// What the REPL runs outside tx: a shell command (`:sh`) and the user's editor
/// (`:edit`, Ctrl-X Ctrl-E).
enum Shell {
    /// Runs `script` with /bin/sh, with `arguments` as $1, $2...; standard input, output
    /// and error are tx's. Gives the exit status (128 + the signal's number for a
    /// command a signal ended), or nil when /bin/sh could not be started. Ctrl-C goes to
    /// the command (it is in the terminal's foreground group too); tx waits for it and
    /// drops the interrupt.
    static func run(_ script: String, arguments: [String] = []) -> Int32? {
        fflush(stdout)
        fflush(stderr)
        let argv = (["/bin/sh", "-c", script, "sh"] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        guard posix_spawn(&child, "/bin/sh", nil, nil, argv, environ) == 0 else { return nil }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 {
            guard errno == EINTR else { return nil }
        }
        Interrupt.clear()
        return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + status & 0x7F
    }

    /// The editor the user chose: $VISUAL, else $EDITOR, else vi on a terminal; nil
    /// without a terminal and without a choice (vi would read tx's piped input).
    static var editor: String? {
        for name in ["VISUAL", "EDITOR"] {
            if let value = getenv(name).map({ String(cString: $0) }), !value.trimmingSpaces.isEmpty { return value }
        }
        return isatty(0) != 0 ? "vi" : nil
    }

    /// What the editor left.
    enum Edited: Equatable {
        case text(String)
        /// The editor could not start, or exited with a status other than 0.
        case failed(String)
    }

    /// Opens `text` in the editor, in a new file `tx-edit-*.tx` in $TMPDIR (or /tmp),
    /// and gives what the file holds once the editor exits (the file is then removed).
    static func edit(_ text: String) -> Edited {
        guard let editor else { return .failed("no editor: set EDITOR (standard input is not a terminal, where vi would be used)") }
        let folder = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((folder + "/tx-edit-XXXXXX.tx").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { mkstemps($0, 3) } ?? -1 }
        guard descriptor >= 0 else { return .failed("cannot make a file in \(folder) to edit: \(String(cString: strerror(errno)))") }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { unlink(path) }
        var bytes = Array((text.hasSuffix("\n") || text.isEmpty ? text : text + "\n").utf8)
        let written = write(descriptor, &bytes, bytes.count)
        close(descriptor)
        guard written == bytes.count else { return .failed("cannot write \(path)") }
        // The editor's command may hold arguments of its own (`code -w`).
        guard let status = Shell.run(editor + " \"$1\"", arguments: [path]) else { return .failed("cannot start /bin/sh") }
        guard status == 0 else { return .failed("the editor (\(editor)) exited with status \(status); nothing was run") }
        guard let edited = try? Runner.readSource(path: path) else { return .failed("cannot read \(path) back") }
        return .text(edited)
    }
}
