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
        try Tensor.sortKeys(&keys)
        return keys.prefix(first).map { Int($0 & 0xFFFF_FFFF) }
    }

    /// A key whose ascending order is `largestFirst`'s: larger values first, -0 equal to
    /// 0, NaN last.
    private static func descendingKey(_ x: Float) -> UInt32 {
        x.isNaN ? UInt32.max : ~Tensor.orderKey(x)
    }

    /// For rows of more than 2^32 entries (beyond any memory limit today).
    private static func largestFirstByClosure(_ row: UnsafeBufferPointer<Float>, first: Int) throws -> [Int] {
        Array(largestFirst(row.map(Double.init)).prefix(first))
    }
}
