@preconcurrency import CReadline
@preconcurrency import Glibc

/// The REPL's history, in readline and in a file (`~/.tx_history` or `TX_HISTORY`).
///
/// An input typed over several lines (a block, a pasted function) is one entry, recalled
/// and saved whole; an entry equal to the one before it is not stored again. The file
/// holds each entry after a `#<seconds>` line, as readline writes timestamps, so that
/// entries of several lines read back whole (a file of plain lines reads one entry a
/// line); a line of an entry that would read as such a stamp (`#1`) is written with a
/// backslash before it, which reading removes. Only the newest `capacity` entries are
/// read, from the end of the file. Entries are appended as they are made, each by one write under a lock, and
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

    /// Puts the file's newest `capacity` entries into readline's history, reading only
    /// the end of the file.
    public func load() {
        using_history()
        stifle_history(Int32(capacity))
        guard let path, let (entries, _) = History.withLockedFile(path, flags: O_RDONLY, lock: LOCK_SH, { fd in
            History.newestEntries(fd, capacity: capacity)
        }) else { return }
        for entry in entries {
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

    /// The lines of the input being typed so far, joined by "\n" (nil between inputs).
    public var unfinished: String? { pending }

    /// Replaces the input being typed (edited whole in the editor) by `text`.
    public func replaceUnfinished(_ text: String) {
        pending = text.trimmingSpaces.isEmpty ? nil : text
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
        var record = Array(History.record(entry).utf8)
        _ = History.withLockedFile(path, flags: O_WRONLY | O_APPEND | O_CREAT, lock: LOCK_EX) { fd in
            write(fd, &record, record.count)
        }
    }

    /// At the end of a session: commits the last input and, when the file holds more
    /// than `capacity` entries, cuts it to the newest `capacity` (reading only its end).
    public func close() {
        commit()
        guard let path else { return }
        _ = History.withLockedFile(path, flags: O_RDWR, lock: LOCK_EX) { fd -> Bool in
            guard let (entries, whole) = History.newestEntries(fd, capacity: capacity) else { return false }
            guard !whole else { return true }
            var kept = Array(entries.map(History.record).joined().utf8)
            guard lseek(fd, 0, SEEK_SET) == 0, write(fd, &kept, kept.count) == kept.count else { return false }
            return ftruncate(fd, off_t(kept.count)) == 0
        }
    }

    /// An entry as the file holds it: a `#<seconds>` line, then its lines, a line that
    /// would read as a time stamp (`#1`, a comment in a block) escaped with a backslash.
    static func record(_ entry: String) -> String {
        let lines = entry.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            isEscapedStamp(line) ? "\\" + line : line
        }
        return "#\(time(nil))\n" + lines.joined(separator: "\n") + "\n"
    }

    /// `#` and digits: readline's time stamp line, which starts an entry.
    static func isStamp<S: StringProtocol>(_ line: S) -> Bool {
        let bytes = line.utf8
        return bytes.count > 1 && bytes.first == UInt8(ascii: "#") && bytes.dropFirst().allSatisfy { (0x30...0x39).contains($0) }
    }

    /// A time stamp after any number of backslashes: such a line of an entry is written
    /// with one backslash more, and read with one less.
    static func isEscapedStamp<S: StringProtocol>(_ line: S) -> Bool {
        isStamp(line.drop { $0 == "\\" })
    }

    /// The newest `capacity` entries of a history file, read from its end in growing
    /// pieces until they hold more than `capacity` entries (or the whole file), so that a
    /// file of millions of entries costs what its newest entries hold; and whether they
    /// are all the file holds.
    static func newestEntries(_ fd: Int32, capacity: Int) -> (entries: [String], whole: Bool)? {
        var status = stat()
        guard fstat(fd, &status) == 0 else { return nil }
        let size = Int(status.st_size)
        var length = min(size, 1 << 18)
        while true {
            let start = size - length
            guard let bytes = readAll(fd, from: start, count: length) else { return nil }
            let all = entries(in: String(decoding: bytes, as: UTF8.self), partial: start > 0)
            if start == 0 || all.count > capacity {
                return (Array(all.suffix(capacity)), start == 0 && all.count <= capacity)
            }
            length = min(size, length * 4)
        }
    }

    /// The entries of a history file's text: with `#<digits>` lines, the lines after each
    /// one form an entry; without them, each line is one. A `partial` text (the end of a
    /// file) starts with what is left of an earlier entry, which is dropped.
    static func entries(in text: String, partial: Bool = false) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // The first line may be cut; with stamps, all before the first whole one goes.
        if partial && !lines.isEmpty { lines.removeFirst() }
        let stamped = lines.contains(where: isStamp)
        if partial && stamped { lines.removeFirst(lines.firstIndex(where: isStamp) ?? lines.count) }
        guard stamped else { return lines.filter { !$0.isEmpty }.map(String.init) }
        var entries: [String] = []
        var current: [Substring]? = nil
        for line in lines {
            if isStamp(line) {
                if let current { entries.append(current.joined(separator: "\n")) }
                current = []
            } else if current != nil {
                current?.append(isEscapedStamp(line) ? line.dropFirst() : line)
            } else if !line.isEmpty {
                entries.append(String(line))
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

    /// `count` bytes from `start` (fewer when the file ends first).
    private static func readAll(_ fd: Int32, from start: Int, count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return pread(fd, base + done, count - done, off_t(start + done))
            }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { return nil }
            if got == 0 { break }
            done += got
        }
        return Array(bytes[0..<done])
    }
}
