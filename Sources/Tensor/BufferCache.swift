import Glibc
import Synchronization

/// Where tensor buffers come from, and where freed ones go: buffers of 64 KiB and more
/// are rounded up to a size class and, when freed, kept in a cache for the next tensor
/// of that class (as PyTorch's allocators do), so that a model's second pass reuses the
/// first pass's memory instead of having the kernel map and zero it again page by page.
/// Cached bytes count against `Memory.limit` beside the live ones: an allocation that
/// would take the two over the limit first gives the whole cache back to the system,
/// as does `:reset` (`trim()`). Smaller buffers come from malloc, which reuses them
/// without page faults anyway.
enum BufferCache {
    /// Buffers below this come from malloc and go back to free.
    static let minimumBytes = 64 << 10

    /// From 32 MiB on, where glibc's malloc maps every buffer afresh anyway, buffers are
    /// mapped here, aligned to 2 MiB, and ask for transparent huge pages, as NumPy's do:
    /// a fresh 40 MB result then takes a few dozen page faults instead of 10,000. Smaller
    /// buffers stay with malloc (asking for huge pages there made the encoder block 15%
    /// slower: compaction on first touch).
    static let mappingThreshold = 32 << 20

    static let hugePage = 2 << 20

    /// The cache holds at most this many bytes (a quarter of the memory limit, at most
    /// 2 GiB); a buffer freed when it is full goes back to the system.
    static var capacity: Int { min(Memory.limit / 4, 2 << 30) }

    /// Cached buffers by size class, as addresses (which, unlike pointers, may cross
    /// threads in a Mutex).
    private struct State {
        var free: [Int: [Int]] = [:]
        var bytes = 0
    }
    private static let state = Mutex(State())
    private static let cached = Atomic<Int>(0)

    /// Bytes held by the cache now.
    static var cachedBytes: Int { cached.load(ordering: .relaxed) }

    /// The size class of a request: below `minimumBytes` the request itself (not
    /// cached); from `mappingThreshold` on a whole number of huge pages; in between
    /// rounded up to a multiple of an eighth of the power of two below it (at most 12.5%
    /// more) and of a page.
    static func sizeClass(_ bytes: Int) -> Int {
        if bytes < minimumBytes { return bytes }
        let step = bytes >= mappingThreshold ? hugePage : max(4096, (1 << (Int.bitWidth - 1 - bytes.leadingZeroBitCount)) / 8)
        return (bytes + step - 1) / step * step
    }

    /// A buffer of at least `bytes` (zeroed when `zeroed`) and its size class, or nil
    /// when the system has no memory left even after the cache was given back.
    static func allocate(_ bytes: Int, zeroed: Bool) -> (pointer: UnsafeMutableRawPointer, size: Int)? {
        let size = sizeClass(bytes)
        if size >= minimumBytes, let reused = take(size) {
            if zeroed { memset(reused, 0, bytes) }
            return (reused, size)
        }
        if let fresh = fresh(size, zeroed: zeroed) { return (fresh, size) }
        trim()
        return fresh(size, zeroed: zeroed).map { ($0, size) }
    }

    /// Takes back a buffer `allocate` gave out with `size`.
    static func recycle(_ pointer: UnsafeMutableRawPointer, size: Int) {
        if size >= minimumBytes {
            let address = Int(bitPattern: pointer), limit = capacity
            let kept = state.withLock { state -> Bool in
                guard state.bytes + size <= limit else { return false }
                state.free[size, default: []].append(address)
                state.bytes += size
                cached.store(state.bytes, ordering: .relaxed)
                return true
            }
            if kept { return }
        }
        release(pointer, size: size)
    }

    /// Gives every cached buffer back to the system.
    static func trim() {
        let buffers = state.withLock { state -> [(address: Int, size: Int)] in
            let all = state.free.flatMap { size, addresses in addresses.map { (address: $0, size: size) } }
            state = State()
            cached.store(0, ordering: .relaxed)
            return all
        }
        for buffer in buffers {
            if let pointer = UnsafeMutableRawPointer(bitPattern: buffer.address) { release(pointer, size: buffer.size) }
        }
    }

    private static func take(_ size: Int) -> UnsafeMutableRawPointer? {
        let address = state.withLock { state -> Int? in
            guard let address = state.free[size]?.popLast() else { return nil }
            state.bytes -= size
            cached.store(state.bytes, ordering: .relaxed)
            return address
        }
        return address.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
    }

    private static func fresh(_ size: Int, zeroed: Bool) -> UnsafeMutableRawPointer? {
        if size >= mappingThreshold { return mapAligned(size) }
        return zeroed ? calloc(size, 1) : malloc(size)
    }

    private static func release(_ pointer: UnsafeMutableRawPointer, size: Int) {
        if size >= mappingThreshold { munmap(pointer, size) } else { free(pointer) }
    }

    /// `length` bytes (a multiple of 2 MiB) of fresh zeroed memory starting on a 2 MiB
    /// boundary: one more huge page is mapped, and the ends outside the boundary trimmed.
    private static func mapAligned(_ length: Int) -> UnsafeMutableRawPointer? {
        let total = length + hugePage
        guard let start = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              start != UnsafeMutableRawPointer(bitPattern: -1) else { return nil }
        let address = Int(bitPattern: start)
        let aligned = (address + hugePage - 1) & ~(hugePage - 1)
        if aligned > address { munmap(start, aligned - address) }
        let tail = address + total - (aligned + length)
        if tail > 0 { munmap(UnsafeMutableRawPointer(bitPattern: aligned + length), tail) }
        let buffer = UnsafeMutableRawPointer(bitPattern: aligned)
        _ = madvise(buffer, length, MADV_HUGEPAGE)
        return buffer
    }
}
