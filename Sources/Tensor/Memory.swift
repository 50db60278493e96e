import CKernels
import Glibc
import Synchronization

/// Accounting for memory. Every tensor buffer (with a fixed overhead for its objects),
/// the scratch buffers of kernels and file reads, and the strings, lists and records of
/// the interpreter are counted while they live; an allocation that would take the total over
/// `limit` fails with an error instead of letting the kernel (or an address-space limit)
/// kill the process. Strings, lists and other large buffers are also checked with
/// `checkRoom` before they are built.
public enum Memory {
    private static let live = Atomic<Int>(0)
    private static let peak = Atomic<Int>(0)
    private static let limitBytes = Atomic<Int>(defaultLimit)

    /// Three quarters of `available()`.
    public static let defaultLimit: Int = available() / 4 * 3

    /// What this process may use: physical memory, or less when its container says so
    /// (cgroup v2 `memory.max`, v1 `memory.limit_in_bytes`) or when an address-space
    /// limit (`ulimit -v`) leaves less after what is mapped now and `reserved` bytes
    /// more (stacks and libraries the caller knows it will map).
    public static func available(reservingAddressSpace reserved: Int = 0) -> Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        var bytes = pages > 0 && pageSize > 0 ? pages * pageSize : 8 << 30
        if let container = containerLimit() { bytes = min(bytes, container) }
        if let space = addressSpaceLeft() { bytes = min(bytes, max(0, space - reserved)) }
        return bytes
    }

    /// The memory limit of this process's control group, the lowest on its path.
    private static func containerLimit() -> Int? {
        guard let groups = smallFile("/proc/self/cgroup") else { return nil }
        var limits: [Int] = []
        for line in groups.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let (root, file): (String, String)
            if fields[0] == "0" && fields[1].isEmpty {
                (root, file) = ("/sys/fs/cgroup", "memory.max")
            } else if fields[1].split(separator: ",").contains("memory") {
                (root, file) = ("/sys/fs/cgroup/memory", "memory.limit_in_bytes")
            } else {
                continue
            }
            var path = String(fields[2])
            while true {
                if let text = smallFile(root + path + (path.hasSuffix("/") ? "" : "/") + file),
                   let value = Int(text.filter { !$0.isWhitespace }) {
                    limits.append(value)
                }
                guard let slash = path.lastIndex(of: "/"), path != "/" else { break }
                path = slash == path.startIndex ? "/" : String(path[..<slash])
            }
        }
        return limits.min()
    }

    /// The address space left under `ulimit -v`, or nil when there is no such limit.
    private static func addressSpaceLeft() -> Int? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max,
              let statm = smallFile("/proc/self/statm"), let pages = Int(statm.prefix { $0 != " " }) else { return nil }
        return Int(clamping: limit.rlim_cur) - pages * sysconf(Int32(_SC_PAGESIZE))
    }

    /// The first 4 KiB of a file of the system (readFile would count its buffer, and
    /// this runs while the limit is being set).
    private static func smallFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, 4096) }
        return count > 0 ? String(decoding: buffer.prefix(count), as: UTF8.self) : nil
    }

    /// Bytes counted for each tensor besides its payload: the storage and view objects,
    /// shape and strides, and malloc's own overhead (a million tiny tensors hold far more
    /// than their payloads).
    public static let tensorOverhead = 256

    /// The most bytes all live tensors may hold together.
    public static var limit: Int {
        get { limitBytes.load(ordering: .relaxed) }
        set { limitBytes.store(max(0, newValue), ordering: .relaxed) }
    }
    /// Bytes held by live tensors now.
    public static var liveBytes: Int { live.load(ordering: .relaxed) }
    /// Bytes of freed tensor buffers kept for reuse (see BufferCache).
    public static var cachedBytes: Int { BufferCache.cachedBytes }

    /// Gives the freed buffers kept for reuse back to the system (`:reset` does).
    public static func trimCache() { BufferCache.trim() }

    /// The largest `liveBytes` seen so far.
    public static var peakBytes: Int { peak.load(ordering: .relaxed) }

    /// Forgets the peak so far: the peak becomes what is live now.
    public static func resetPeak() {
        peak.store(liveBytes, ordering: .relaxed)
    }

    /// Runs `body` and gives the most tensor memory it held at once beyond what was
    /// live when it started. `peakBytes` afterwards is what it would have been anyway.
    public static func peakGrowth<T>(during body: () throws -> T) rethrows -> (result: T, bytes: Int) {
        let earlier = peakBytes, start = liveBytes
        peak.store(start, ordering: .relaxed)
        defer { raisePeak(to: earlier) }
        let result = try body()
        return (result, peakBytes - start)
    }

    /// Counts `bytes` of a kernel's scratch buffers (`what` names them in a memory
    /// error) while `body` runs, so that they count against the limit and in the peak.
    public static func withScratch<T>(bytes: Int, _ what: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
        try reserve(bytes, what())
        defer { release(bytes) }
        return try body()
    }

    /// Counts a tensor buffer of `bytes` and its overhead.
    static func reserve(_ bytes: Int, shape: [Int]) throws {
        try reserve(bytes + tensorOverhead, "a tensor of shape \(describe(shape: shape))")
    }

    /// Stops counting a tensor buffer of `bytes` and its overhead.
    static func release(tensorBytes bytes: Int) {
        release(bytes + tensorOverhead)
    }

    /// Counts (positive) or stops counting (negative) memory that is already allocated,
    /// such as a list's storage after it grew: it counts against later allocations.
    public static func adjust(by bytes: Int) {
        let now = live.add(bytes, ordering: .relaxed).newValue
        if bytes > 0 { raisePeak(to: now) }
        if now + BufferCache.cachedBytes > limit { BufferCache.trim() }
    }

    /// Throws a memory error unless `bytes` more (a string or list about to be built, not
    /// counted before it exists) fit in what the limit leaves, and, under an address-space
    /// limit, in the address space left.
    public static func checkRoom(for bytes: Int, _ what: @autoclosure () -> String) throws {
        let left = limit - liveBytes
        if bytes > left - BufferCache.cachedBytes { BufferCache.trim() }
        if bytes > left {
            throw TensorError(.memory, "\(what()) needs \(format(bytes: bytes)), which would not fit in the \(format(bytes: max(left, 0))) left of the \(format(bytes: limit)) limit (set it with --max-memory, TX_MAX_MEMORY or memory(limit=...))")
        }
        // Reading the address space costs a system call: only for large requests.
        if bytes >= 1 << 20, let space = addressSpaceLeft(), bytes > space - (64 << 20) {
            throw TensorError(.memory, label: "out of memory", "\(what()) needs \(format(bytes: bytes)), and only \(format(bytes: max(space, 0))) of address space is left (ulimit -v)")
        }
    }

    static func reserve(_ bytes: Int, _ what: @autoclosure () -> String) throws {
        // Counted only when it fits: a request refused on one thread never shows in
        // `live`, where it would make a small one on another thread fail meanwhile.
        var before = live.load(ordering: .relaxed)
        while true {
            // Freed buffers kept for reuse count against the limit too, and are given
            // back first: they never make an allocation fail.
            if before + bytes + BufferCache.cachedBytes > limit { BufferCache.trim() }
            guard before + bytes <= limit else {
                throw TensorError(.memory, "\(what()) needs \(format(bytes: bytes)), and \(format(bytes: before)) of the \(format(bytes: limit)) limit are in use (set it with --max-memory, TX_MAX_MEMORY or memory(limit=...))")
            }
            let (exchanged, original) = live.compareExchange(expected: before, desired: before + bytes, ordering: .relaxed)
            if exchanged { break }
            before = original
        }
        raisePeak(to: before + bytes)
    }

    private static func raisePeak(to now: Int) {
        var seen = peak.load(ordering: .relaxed)
        while now > seen {
            let (exchanged, original) = peak.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
    }

    static func release(_ bytes: Int) {
        live.subtract(bytes, ordering: .relaxed)
    }

    /// `4G`, `512M`, `1.5GB`, `100000`, `50%` (of `available`) in bytes; nil for
    /// anything else, for sizes that are not positive and for percentages over 100.
    public static func size(_ text: String, of available: Int) -> Int? {
        var s = text.uppercased().filter { !$0.isWhitespace }
        if s.hasSuffix("%") {
            guard let percent = Double(s.dropLast()), percent > 0, percent <= 100 else { return nil }
            return Int(Double(available) * percent / 100)
        }
        if s.hasSuffix("B") { s.removeLast() }
        if s.hasSuffix("I") { s.removeLast() }
        let units: [Character: Double] = ["K": 1024, "M": 1024 * 1024, "G": 1024 * 1024 * 1024, "T": 1024 * 1024 * 1024 * 1024]
        var multiplier = 1.0
        if let last = s.last, let unit = units[last] {
            multiplier = unit
            s.removeLast()
        }
        guard let value = Double(s), value > 0, value * multiplier < 1e18 else { return nil }
        return Int(value * multiplier)
    }

    /// `1.5 GB`, `12 MB`, `300 B`.
    public static func format(bytes: Int) -> String {
        let units = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (size, name) in units where bytes >= size {
            let value = Double(bytes) / Double(size)
            let rounded = (value * 10).rounded() / 10
            let text = rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
            return "\(text) \(name)"
        }
        return "\(bytes) B"
    }
}

/// Ctrl-C. The REPL's signal handler sets the flag (an atomic in CKernels, so that C
/// kernels see it too); long loops in kernels and in the interpreter poll it and stop
/// with an `interrupted` error. Where it is polled (each at most a fraction of a second
/// apart on large input):
/// - the interpreter: every loop iteration and every call (Compiler, Interpreter), and
///   output while it is written in pieces (Interpreter.run);
/// - products: between BLAS tiles of about 3200^3 (BLAS); C kernels (elementwise,
///   reductions, softmax, layer norm, attention) between the pieces they are cut into
///   (dispatch.c, kernels.c); Swift kernel loops every 4096 rows (Elementwise) or per
///   matrix (Reductions, tril and triu), gathers every 1024 outer slabs (Indexing),
///   concatenation per tensor (ShapeOps), random fills every 2^20 values (Random);
/// - Transformer stacks between blocks and layers (Blocks), init_transformer per block;
/// - files: reads and writes every 64 MiB and 16 MiB (Files), safetensors per entry;
/// - JSON every 4,096 values and every MiB of a string (JSON), WordPiece's basic
///   tokenizer every 2^20 characters (and every 65,536 scalars it matches against the
///   keep strings) and `wordpiece` every 65,536 words; `lines` every 4,096 lines;
/// - a pipe or device that is full, every tenth of a second while a write waits (Files);
/// - pictures every 4,096 cells (heatmap, savefig);
/// - reading a source (`include`, a script, REPL input): every 65,536 lexer steps and
///   expressions as it is lexed and parsed (Lang calls the check it is given, which
///   also checks the tokens against the memory limit) and compiled (Compiler);
/// - list and record equality every 4096 pairs (Operators).
/// Not polled, on purpose: printing (only what is shown is formatted), copies of strided
/// views (one pass over at most the memory limit), and single Swift string operations
/// (`split`, `replace`, `+`: one pass each, bounded by the memory limit).
public enum Interrupt {
    public static func request() { tx_interrupt_request() }
    public static func clear() { tx_interrupt_clear() }
    public static var isRequested: Bool { tx_interrupt_requested() != 0 }

    /// Throws (and clears the flag) when Ctrl-C was pressed.
    @inline(__always)
    public static func check() throws {
        if tx_interrupt_requested() != 0 {
            tx_interrupt_clear()
            throw TensorError(.interrupted, "")
        }
    }

    /// Elements a long loop does between two checks (a few milliseconds of work), in
    /// Swift as in the C kernels.
    public static let chunk = Int(TX_CHUNK)

    /// Paces a long loop made of many short or a few long pieces of work: `run` cuts
    /// each piece into chunks and checks for Ctrl-C whenever a chunk's worth of
    /// elements was done since the last check, so that a loop over a billion elements
    /// stops soon and one over short rows checks rarely.
    public struct Poll {
        private var done = 0
        /// Elements between two checks: a chunk, or fewer for costly ones
        /// (a heatmap's cell is text to build, not a float to add).
        private let every: Int

        public init(every: Int = Interrupt.chunk) { self.every = every }

        /// Counts `n` elements done (a row, a merged key) and checks for Ctrl-C once a
        /// chunk's worth has been done since the last check: for loops whose pieces are
        /// not cut, as `run` cuts them.
        @inline(__always)
        public mutating func advance(by n: Int = 1) throws {
            done += n
            if done >= every {
                done = 0
                try Interrupt.check()
            }
        }

        /// body(start, count) over 0..<n, in pieces that each end at a check or at n.
        @inline(__always)
        public mutating func run(_ n: Int, _ body: (_ start: Int, _ count: Int) -> Void) throws {
            var start = 0
            while start < n {
                let count = Swift.min(n - start, every - done)
                body(start, count)
                start += count
                done += count
                if done >= every {
                    done = 0
                    try Interrupt.check()
                }
            }
        }
    }
}
