import CKernels
import Glibc
import Synchronization

/// Accounting for tensor memory. Every tensor buffer, and the scratch buffers of the
/// attention kernel, is counted while it lives; an allocation that would take the total
/// over `limit` fails with an error instead of letting the kernel kill the process.
public enum Memory {
    private static let live = Atomic<Int>(0)
    private static let peak = Atomic<Int>(0)
    private static let limitBytes = Atomic<Int>(defaultLimit)

    /// Three quarters of physical memory.
    public static let defaultLimit: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0 else { return 8 << 30 }
        return pages * pageSize / 4 * 3
    }()

    /// The most bytes all live tensors may hold together.
    public static var limit: Int {
        get { limitBytes.load(ordering: .relaxed) }
        set { limitBytes.store(max(0, newValue), ordering: .relaxed) }
    }
    /// Bytes held by live tensors now.
    public static var liveBytes: Int { live.load(ordering: .relaxed) }
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

    private static func raisePeak(to bytes: Int) {
        var seen = peak.load(ordering: .relaxed)
        while bytes > seen {
            let (exchanged, original) = peak.compareExchange(expected: seen, desired: bytes, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
    }

    /// Counts `bytes` of a kernel's scratch buffers (`what` names them in a memory
    /// error) while `body` runs, so that they count against the limit and in the peak.
    public static func withScratch<T>(bytes: Int, _ what: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
        try reserve(bytes, what())
        defer { release(bytes) }
        return try body()
    }

    static func reserve(_ bytes: Int, shape: [Int]) throws {
        try reserve(bytes, "a tensor of shape \(describe(shape: shape))")
    }

    static func reserve(_ bytes: Int, _ what: @autoclosure () -> String) throws {
        let now = live.add(bytes, ordering: .relaxed).newValue
        if now > limit {
            live.subtract(bytes, ordering: .relaxed)
            throw TensorError(.memory, "memory limit: \(what()) needs \(format(bytes: bytes)), and \(format(bytes: now - bytes)) of the \(format(bytes: limit)) limit are in use (set it with --max-memory or TX_MAX_MEMORY)")
        }
        raisePeak(to: now)
    }

    static func release(_ bytes: Int) {
        live.subtract(bytes, ordering: .relaxed)
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
/// with an `interrupted` error.
public enum Interrupt {
    public static func request() { tx_interrupt_request() }
    public static func clear() { tx_interrupt_clear() }
    public static var isRequested: Bool { tx_interrupt_requested() != 0 }

    /// Throws (and clears the flag) when Ctrl-C was pressed.
    @inline(__always)
    public static func check() throws {
        if tx_interrupt_requested() != 0 {
            tx_interrupt_clear()
            throw TensorError(.interrupted, "interrupted")
        }
    }
}
