import Tensor

/// The order topk and sample read a row in: the largest entries first, equal values in
/// index order, NaN last.
enum Ranking {
    /// The indices of `values`, largest value first; equal values in index order, NaN last
    /// (topk's order, and sample's for top_k and temperature 0).
    static func largestFirst(_ values: [Double]) -> [Int] {
        values.indices.sorted { a, b in
            let (x, y) = (values[a], values[b])
            if x.isNaN != y.isNaN { return y.isNaN }
            if x != y, !x.isNaN { return x > y }
            return a < b
        }
    }

    /// The indices of the `first` largest entries of `row`, in `largestFirst`'s order,
    /// sorted so that Ctrl-C stops it (a row of 10^8 entries takes seconds): each entry
    /// is a 64-bit key, its value's order in the high half and its index in the low one,
    /// sorted in blocks and merged, with a check for Ctrl-C every block and every
    /// chunk merged.
    static func largestFirst(_ row: UnsafeBufferPointer<Float>, first: Int) throws -> [Int] {
        let n = row.count
        guard n > 0, first > 0 else { return [] }
        guard n <= Int(UInt32.max) else { return try largestFirstByClosure(row, first: first) }
        var keys = [UInt64](repeating: 0, count: n)
        var poll = Interrupt.Poll()
        try poll.run(n) { start, count in
            for i in start..<(start + count) { keys[i] = UInt64(descendingKey(row[i])) << 32 | UInt64(i) }
        }
        let block = 1 << 16
        for start in stride(from: 0, to: n, by: block) {
            keys[start..<Swift.min(n, start + block)].sort()
            try Interrupt.check()
        }
        var other = [UInt64](repeating: 0, count: n)
        var width = block
        while width < n {
            var poll = Interrupt.Poll()
            for start in stride(from: 0, to: n, by: 2 * width) {
                let middle = Swift.min(n, start + width), end = Swift.min(n, start + 2 * width)
                var (i, j, out) = (start, middle, start)
                while out < end {
                    if j >= end || i < middle && keys[i] <= keys[j] {
                        other[out] = keys[i]
                        i += 1
                    } else {
                        other[out] = keys[j]
                        j += 1
                    }
                    out += 1
                    try poll.advance()
                }
            }
            swap(&keys, &other)
            width *= 2
        }
        return keys.prefix(first).map { Int($0 & 0xFFFF_FFFF) }
    }

    /// A key whose ascending order is `largestFirst`'s: larger values first, -0 equal to
    /// 0, NaN last.
    private static func descendingKey(_ x: Float) -> UInt32 {
        if x.isNaN { return UInt32.max }
        let bits = (x == 0 ? Float(0) : x).bitPattern
        // Ascending order of floats as unsigned numbers, then reversed.
        let ascending = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        return ~ascending
    }

    /// For rows of more than 2^32 entries (beyond any memory limit today).
    private static func largestFirstByClosure(_ row: UnsafeBufferPointer<Float>, first: Int) throws -> [Int] {
        Array(largestFirst(row.map(Double.init)).prefix(first))
    }
}
