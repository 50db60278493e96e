import Glibc

/// Refuses a string that cannot be a path. A NUL byte: the C library would read the path
/// only up to it, so `save("notes.txt\0.npy", x)` would write `notes.txt`. A line break,
/// or more bytes than PATH_MAX: such a string is nearly always a file's text given where
/// its name belongs (`read_text(corpus("shakespeare"))`, corpus giving the text), and the
/// message shows how it begins rather than all of it.
public func checkPath(_ path: String) throws {
    if path.utf8.contains(0) {
        let shown = path.split(separator: "\0", omittingEmptySubsequences: false).joined(separator: "\\0")
        throw TensorError.io("the path \"\(shown.count > 200 ? String(shown.prefix(200)) + "…" : shown)\" contains a NUL byte")
    }
    let lines = path.utf8.reduce(1) { $1 == 10 ? $0 + 1 : $0 }
    guard lines > 1 || path.utf8.count > Int(PATH_MAX) else { return }
    let beginning = path.prefix(40).map { $0 == "\n" ? "\\n" : String($0) }.joined()
    let size = lines > 1 ? "\(path.count) characters on \(lines) lines" : "\(path.count) characters"
    throw TensorError.io("a file name was expected, not a text of \(size) beginning \"\(beginning)…\"")
}

/// Reads a whole file and passes its bytes to `body`; they count against the memory
/// limit until `body` returns. Only regular files: a FIFO or a device could block or
/// never end. The file is read 64 MiB at a time, so Ctrl-C stops a long read. A file
/// whose size says 0 (those of /proc and /sys, generated as they are read) is read until
/// its end, its buffer counted as it grows.
public func readFile<T>(path: String, _ body: ([UInt8]) throws -> T) throws -> T {
    try checkPath(path)
    // Without O_NONBLOCK, opening a FIFO waits for a writer, where Ctrl-C cannot reach.
    let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard descriptor >= 0 else { throw fileError(path) }
    defer { close(descriptor) }
    var info = stat()
    guard fstat(descriptor, &info) == 0 else { throw fileError(path) }
    switch info.st_mode & S_IFMT {
    case S_IFREG: break
    case S_IFDIR: throw TensorError.io("\(path) is a directory")
    default: throw TensorError.io("\(path) is not a regular file (a pipe, socket or device); load reads files")
    }
    let size = Int(info.st_size)
    if size == 0 { return try readToEnd(descriptor, path: path, body) }
    // The buffer is a Swift array, whose allocation failing would abort: check the
    // address space too.
    try Memory.checkRoom(for: size, "reading \(path)")
    return try Memory.withScratch(bytes: size, "reading \(path)") {
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        try bytes.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            while done < size {
                try Interrupt.check()
                let n = read(descriptor, base + done, min(size - done, 1 << 26))
                if n < 0 && errno == EINTR { continue }
                if n < 0 { throw fileError(path) }
                guard n > 0 else { break }
                done += n
            }
        }
        guard done == size else { throw TensorError.io("\(path): could only read \(done) of \(size) bytes") }
        return try body(bytes)
    }
}

/// A file that gives no size, read until its end: the buffer doubles from 64 KiB, each
/// size counted against the memory limit before it is allocated.
private func readToEnd<T>(_ descriptor: Int32, path: String, _ body: ([UInt8]) throws -> T) throws -> T {
    var bytes: [UInt8] = []
    var counted = 0
    defer { Memory.release(counted) }
    var done = 0
    while true {
        try Interrupt.check()
        if done == bytes.count {
            let grown = max(1 << 16, bytes.count * 2)
            try Memory.checkRoom(for: grown, "reading \(path)")
            try Memory.reserve(grown - counted, "reading \(path)")
            counted = grown
            bytes += [UInt8](repeating: 0, count: grown - bytes.count)
        }
        let n = bytes.withUnsafeMutableBytes { buffer -> Int in
            guard let base = buffer.baseAddress else { return 0 }
            return read(descriptor, base + done, min(buffer.count - done, 1 << 26))
        }
        if n < 0 && errno == EINTR { continue }
        if n < 0 { throw fileError(path) }
        if n == 0 { break }
        done += n
    }
    bytes.removeLast(bytes.count - done)
    return try body(bytes)
}

/// Reads a whole file.
public func readFile(path: String) throws -> [UInt8] {
    try readFile(path: path) { $0 }
}

/// Where `writeFile` sends a file's bytes.
public struct FileWriter {
    fileprivate let descriptor: Int32
    fileprivate let path: String

    /// Writes all of `bytes`, a piece at a time (Ctrl-C stops between pieces).
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var next = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            try Interrupt.check()
            let written = Glibc.write(descriptor, next, min(left, 1 << 24))
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    // A pipe or device opened without blocking is full: wait for its
                    // reader a tenth of a second at a time, looking for Ctrl-C between.
                    var ready = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&ready, 1, 100)
                    continue
                }
                throw fileError(path)
            }
            next += written
            left -= written
        }
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}

/// Writes a file whole or not at all: `body` writes into a new file beside `path`, which
/// is flushed to the disk and renamed over `path` only when every byte is there. On any
/// failure (a full disk, a file-size limit, Ctrl-C) the new file is removed and the old
/// one is untouched; a kill during the write leaves the old one and a hidden
/// `.NAME.tx-…` file. A device or pipe is written in place.
public func writeFile(path: String, _ body: (FileWriter) throws -> Void) throws {
    try checkPath(path)
    // Through a symbolic link, the file it names is the one replaced.
    let target = symbolicLinkTarget(path) ?? path
    var old = stat()
    let exists = stat(target, &old) == 0
    if exists && (old.st_mode & S_IFMT) == S_IFDIR { throw TensorError.io("\(path) is a directory") }
    // A device or a pipe (/dev/null, /dev/stdout) is written in place: renaming over it
    // would replace the device with a file.
    if exists && (old.st_mode & S_IFMT) != S_IFREG {
        // Without O_NONBLOCK, opening a FIFO waits for a reader, where Ctrl-C cannot
        // reach; with it, a FIFO nobody reads is an error at once (ENXIO).
        let descriptor = open(target, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        if descriptor < 0 && errno == ENXIO && (old.st_mode & S_IFMT) == S_IFIFO {
            throw TensorError.io("\(path) is a pipe (FIFO) that no process is reading; start its reader first")
        }
        guard descriptor >= 0 else { throw fileError(path) }
        defer { close(descriptor) }
        try body(FileWriter(descriptor: descriptor, path: path))
        return
    }
    let slash = target.lastIndex(of: "/")
    let folder = slash.map { String(target[...$0]) } ?? ""
    let name = slash.map { String(target[target.index(after: $0)...]) } ?? target
    // The temporary's name is the file's with a dot before and ".tx-" and ten digits
    // after: a name of more than 240 bytes is cut (between Unicode scalars) to keep it
    // within the 255 bytes a file name may have.
    var stem = "", bytes = 0
    for scalar in name.unicodeScalars {
        bytes += UTF8.width(scalar)
        if bytes > 240 { break }
        stem.unicodeScalars.append(scalar)
    }
    var temporary = "", descriptor: Int32 = -1
    while descriptor < 0 {
        temporary = "\(folder).\(stem).tx-\(UInt32.random(in: 0...UInt32.max))"
        // The kernel applies the umask to 0o666, as for any new file.
        descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        if descriptor < 0 && errno != EEXIST { throw fileError(path) }
    }
    var renamed = false
    defer {
        if !renamed {
            if descriptor >= 0 { close(descriptor) }
            unlink(temporary)
        }
    }
    if exists { _ = fchmod(descriptor, old.st_mode & 0o7777) }
    try body(FileWriter(descriptor: descriptor, path: path))
    guard fsync(descriptor) == 0 else { throw fileError(path) }
    let closed = close(descriptor)
    descriptor = -1
    guard closed == 0 else { throw fileError(path) }
    guard rename(temporary, target) == 0 else { throw fileError(path) }
    renamed = true
}

/// Writes (replaces) a whole file, as `writeFile(path:_:)` does.
public func writeFile(path: String, bytes: [UInt8]) throws {
    try writeFile(path: path) { try $0.write(bytes) }
}

/// Writes (replaces) a whole file with the UTF-8 of `text`, straight from the string's
/// storage (no copy of a large text).
public func writeFile(path: String, text: String) throws {
    var text = text
    try text.withUTF8 { utf8 in try writeFile(path: path) { try $0.write(UnsafeRawBufferPointer(utf8)) } }
}

/// Makes the folder `path` and the missing folders above it, as `mkdir -p`; a folder
/// already there is left as it is.
public func makeFolder(path: String) throws {
    try checkPath(path)
    guard !path.isEmpty else { throw TensorError.io("a folder needs a name") }
    var prefix = path.hasPrefix("/") ? "/" : ""
    for part in path.split(separator: "/") {
        prefix += part
        if mkdir(prefix, 0o777) != 0 && errno != EEXIST {
            throw TensorError.io("cannot make the folder \(prefix): \(String(cString: strerror(errno)))")
        }
        prefix += "/"
    }
    var info = stat()
    guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
        throw TensorError.io("\(path) exists and is not a folder")
    }
}

/// The file a symbolic link names, relative links resolved against the link's folder;
/// nil when `path` is not a link.
private func symbolicLinkTarget(_ path: String) -> String? {
    var info = stat()
    guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK else { return nil }
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}

private func fileError(_ path: String) -> TensorError {
    let code = errno
    switch code {
    case ENOENT: return TensorError.io("no such file: \(path)")
    case EACCES: return TensorError.io("permission denied: \(path)")
    case EISDIR: return TensorError.io("\(path) is a directory")
    default: return TensorError.io("\(path): \(String(cString: strerror(code)))")
    }
}

/// Little-endian reads from a byte array, checked against its end.
struct ByteReader {
    let bytes: [UInt8]

    func uint(_ offset: Int, _ size: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<size { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        return v
    }
}

/// Float32 values from raw little-endian data of a numeric type.
enum ElementType: Sendable {
    case f16, bf16, f32, f64, i8, u8, i16, i32, i64, u32, bool

    var size: Int {
        switch self {
        case .i8, .u8, .bool: return 1
        case .f16, .bf16, .i16: return 2
        case .f32, .i32, .u32: return 4
        case .f64, .i64: return 8
        }
    }

    func decode(_ bytes: [UInt8], from start: Int, count: Int, into out: UnsafeMutablePointer<Float>, bigEndian: Bool = false) {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let p = base + start
            func word(_ i: Int, _ size: Int) -> UInt64 {
                var v: UInt64 = 0
                for b in 0..<size {
                    let byte = UInt64(p[i * size + (bigEndian ? size - 1 - b : b)])
                    v |= byte << (8 * UInt64(b))
                }
                return v
            }
            switch self {
            case .f32 where !bigEndian:
                memcpy(out, p, count * 4)
            case .f32: for i in 0..<count { out[i] = Float(bitPattern: UInt32(word(i, 4))) }
            case .f64: for i in 0..<count { out[i] = Float(Double(bitPattern: word(i, 8))) }
            case .f16: for i in 0..<count { out[i] = Float(Float16(bitPattern: UInt16(word(i, 2)))) }
            case .bf16: for i in 0..<count { out[i] = Float(bitPattern: UInt32(word(i, 2)) << 16) }
            case .i8: for i in 0..<count { out[i] = Float(Int8(bitPattern: p[i])) }
            case .u8: for i in 0..<count { out[i] = Float(p[i]) }
            case .bool: for i in 0..<count { out[i] = p[i] != 0 ? 1 : 0 }
            case .i16: for i in 0..<count { out[i] = Float(Int16(bitPattern: UInt16(word(i, 2)))) }
            case .i32: for i in 0..<count { out[i] = Float(Int32(bitPattern: UInt32(word(i, 4)))) }
            case .u32: for i in 0..<count { out[i] = Float(UInt32(word(i, 4))) }
            case .i64: for i in 0..<count { out[i] = Float(Int64(bitPattern: word(i, 8))) }
            }
        }
    }
}

/// A tensor's data as a file holds it, a piece at a time: float32 straight from the
/// tensor's buffer (a strided view is copied first), or for a mask one byte 1 or 0 per
/// element (NumPy's bool, safetensors' BOOL), a megabyte at a time.
func writeData(of tensor: Tensor, to emit: (UnsafeRawBufferPointer) throws -> Void) throws {
    let values = try tensor.contiguous()
    let start = values.storage.pointer + values.offset, count = values.count
    guard tensor.isMask else {
        try emit(UnsafeRawBufferPointer(start: start, count: count * MemoryLayout<Float>.stride))
        return
    }
    var piece = [UInt8](repeating: 0, count: min(count, 1 << 20))
    var done = 0
    while done < count {
        let n = min(piece.count, count - done)
        for i in 0..<n { piece[i] = start[done + i] != 0 ? 1 : 0 }
        try piece.withUnsafeBytes { try emit(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        done += n
    }
}

/// The element count of a shape from a file, by the rule every tensor shape follows
/// (`Tensor.elementCount`); nil when the shape breaks it.
func checkedCount(_ shape: [Int]) -> Int? {
    try? Tensor.elementCount(shape)
}
