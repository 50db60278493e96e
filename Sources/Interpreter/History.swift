@preconcurrency import CReadline
@preconcurrency import Glibc

/// The REPL's history, in readline and in a file (`~/.tx_history` or `TX_HISTORY`).
///
/// An input typed over several lines (a block, a pasted function) is one entry, recalled
/// and saved whole; an entry equal to the one before it is not stored again. The file
/// holds each entry after a `#<seconds>` line, as readline writes timestamps, so that
/// entries of several lines read back whole (a file of plain lines reads one entry a
/// line). Entries are appended as they are made, each by one write under a lock, and
/// the file is cut to `capacity` entries only when a session ends, in place and under
/// the same lock, so that two sessions sharing the file lose nothing. A path that is
/// not a regular file (a FIFO, a device) is never opened for blocking reads or writes.
public final class History {
    public let path: String?
    public let capacity: Int
    /// The lines of the input being typed, joined by "\n", until it is complete.
    private var pending: String?
    private var last: String?

    public init(path: String?, capacity: Int = 2000) {
        self.path = path
        self.capacity = capacity
    }

    /// Puts the file's entries into readline's history.
    public func load() {
        using_history()
        stifle_history(Int32(capacity))
        guard let path, let text = History.withLockedFile(path, flags: O_RDONLY, lock: LOCK_SH, { fd in
            History.readAll(fd)
        }) else { return }
        for entry in History.entries(in: text).suffix(capacity) {
            add_history(entry)
            last = entry
        }
    }

    /// Records a typed line: the start of an input, or (`continuation`) the next line of one.
    public func add(_ line: String, continuation: Bool) {
        if continuation, let pending {
            self.pending = pending + "\n" + line
        } else {
            commit()
            if !line.trimmingSpaces.isEmpty { pending = line }
        }
    }

    /// Ends the input being typed: it becomes an entry unless it repeats the last one.
    public func commit() {
        guard var entry = pending else { return }
        pending = nil
        while let c = entry.last, c.isWhitespace { entry.removeLast() }
        guard !entry.isEmpty, entry != last else { return }
        last = entry
        add_history(entry)
        guard let path else { return }
        var record = Array("#\(time(nil))\n\(entry)\n".utf8)
        _ = History.withLockedFile(path, flags: O_WRONLY | O_APPEND | O_CREAT, lock: LOCK_EX) { fd in
            write(fd, &record, record.count)
        }
    }

    /// At the end of a session: commits the last input and cuts the file to `capacity`
    /// entries (the newest).
    public func close() {
        commit()
        guard let path else { return }
        _ = History.withLockedFile(path, flags: O_RDWR, lock: LOCK_EX) { fd -> Bool in
            guard let text = History.readAll(fd) else { return false }
            let entries = History.entries(in: text)
            guard entries.count > capacity else { return true }
            var kept = Array(entries.suffix(capacity).map { "#\(time(nil))\n\($0)\n" }.joined().utf8)
            guard lseek(fd, 0, SEEK_SET) == 0, write(fd, &kept, kept.count) == kept.count else { return false }
            return ftruncate(fd, off_t(kept.count)) == 0
        }
    }

    /// The entries of a history file's text: with `#<digits>` lines, the lines after each
    /// one form an entry; without them, each line is one.
    static func entries(in text: String) -> [String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func isStamp(_ line: String) -> Bool {
            line.count > 1 && line.hasPrefix("#") && line.dropFirst().allSatisfy(\.isASCII) && line.dropFirst().allSatisfy(\.isNumber)
        }
        guard lines.contains(where: isStamp) else { return lines.filter { !$0.isEmpty } }
        var entries: [String] = []
        var current: [String]? = nil
        for line in lines {
            if isStamp(line) {
                if let current { entries.append(current.joined(separator: "\n")) }
                current = []
            } else if current != nil {
                current?.append(line)
            } else if !line.isEmpty {
                entries.append(line)
            }
        }
        if let current { entries.append(current.joined(separator: "\n")) }
        return entries.map { entry in
            var entry = entry
            while entry.hasSuffix("\n") { entry.removeLast() }
            return entry
        }.filter { !$0.isEmpty }
    }

    /// Opens `path` without blocking (a FIFO with no writer or reader would block), and
    /// only when it is a regular file, calls `body` with it locked.
    private static func withLockedFile<T>(_ path: String, flags: Int32, lock: Int32, _ body: (Int32) -> T?) -> T? {
        let fd = open(path, flags | O_NONBLOCK | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return nil }
        // Back to blocking reads and writes: a regular file never waits long.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        while flock(fd, lock) != 0 {
            guard errno == EINTR else { return nil }
        }
        defer { flock(fd, LOCK_UN) }
        return body(fd)
    }

    private static func readAll(_ fd: Int32) -> String? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = pread(fd, &chunk, chunk.count, off_t(bytes.count))
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
