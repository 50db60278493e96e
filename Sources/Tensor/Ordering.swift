/// Operations along one axis that depend on the order of its entries: running sums,
/// reversal, sorting (its order and the entries moved into it), and one-hot rows.
extension Tensor {
    /// The running sums along `axis` (NumPy's and PyTorch's cumsum), accumulated in
    /// float32 from the first entry on, as both do. A 0-d tensor is its own sum.
    /// Gradient: the reverse running sum of g (`Derivative.cumsum`).
    public func cumsum(axis: Int) throws -> Tensor {
        let a = try Tensor.normalize(axis: axis, rank: max(rank, 1))
        if let tape = try Tape.tracking(self) {
            return try tape.recording("cumsum", inputs: [self], saving: [], savesOutput: false, forward: { try cumsum(axis: a) }) { g, _ in
                [try Derivative.cumsum(g, axis: a)]
            }
        }
        let source = try contiguous()
        let result = try Tensor(uninitializedShape: shape)
        if rank == 0 || result.count == 0 {
            source.copyElements(to: result.storage.pointer)
            return result
        }
        let n = shape[a], inner = shape[(a + 1)...].reduce(1, *), outer = shape[..<a].reduce(1, *)
        let from = source.storage.pointer + source.offset, to = result.storage.pointer
        for o in 0..<outer {
            if o & 0xFFF == 0xFFF { try Interrupt.check() }
            let base = o * n * inner
            (to + base).update(from: from + base, count: inner)
            // Row j adds row j of x to row j - 1 of the sums: a loop over contiguous rows.
            for j in 1..<n {
                let row = to + base + j * inner, previous = row - inner, x = from + base + j * inner
                for i in 0..<inner { row[i] = previous[i] + x[i] }
            }
        }
        return result
    }

    /// The entries in reverse order along each of `axes` (all axes when nil), as
    /// NumPy's flip: a view with negative strides, so its gradient is g flipped back.
    public func flipped(axes: [Int]?) throws -> Tensor {
        let chosen = try Set((axes ?? Array(0..<rank)).map { try Tensor.normalize(axis: $0, rank: rank) })
        let items = (0..<rank).map { axis -> TensorIndex in
            .slice(start: nil, stop: nil, step: chosen.contains(axis) ? -1 : nil)
        }
        return try subscripted(items)
    }

    /// The positions that sort each line along `axis` (as float32 integers), stable:
    /// equal entries keep their order, also when `descending` (as
    /// torch.sort(stable=True) and NumPy's stable argsort). NaN sorts after every number
    /// (first when descending), as NumPy and PyTorch place it. Not differentiable.
    public func argsorted(axis: Int, descending: Bool) throws -> Tensor {
        try Tape.paused {
            let a = try Tensor.normalize(axis: axis, rank: max(rank, 1))
            if rank == 0 { return try Tensor(scalar: 0) }
            let last = rank - 1
            let lines = try transposed(a, last).contiguous()
            let n = shape[a], count = n == 0 ? 0 : lines.count / n
            let order = try Tensor(uninitializedShape: lines.shape)
            let source = lines.storage.pointer + lines.offset
            var keys = [UInt64](repeating: 0, count: n)
            var poll = Interrupt.Poll()
            for r in 0..<count {
                let line = source + r * n, out = order.storage.pointer + r * n
                // One integer per entry, its order key above its position: sorting the
                // integers sorts by value and, among equal values, by position (stable).
                try poll.run(n) { start, run in
                    for j in start..<(start + run) {
                        let key = UInt64(Tensor.orderKey(line[j]))
                        keys[j] = (descending ? ~key & 0xFFFF_FFFF : key) << 32 | UInt64(j)
                    }
                }
                try Tensor.sortKeys(&keys)
                try poll.run(n) { start, run in
                    for j in start..<(start + run) { out[j] = Float(keys[j] & 0xFFFF_FFFF) }
                }
            }
            return try order.transposed(a, last).contiguous()
        }
    }

    /// Sorts `keys` so that Ctrl-C stops it (a line of 10^8 entries takes seconds): in
    /// blocks, then merged, with a check for Ctrl-C every block and every chunk merged.
    /// argsort's lines and topk's rows (an order key above a position in each) use it.
    public static func sortKeys(_ keys: inout [UInt64]) throws {
        let n = keys.count, block = 1 << 16
        for start in stride(from: 0, to: n, by: block) {
            keys[start..<Swift.min(n, start + block)].sort()
            try Interrupt.check()
        }
        guard n > block else { return }
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
    }

    /// An unsigned key in the order of the numbers: -0 and 0 are equal, and every NaN has
    /// the largest key, above +inf's. (A float's bits, with the sign bit flipped for
    /// positive numbers and all bits flipped for negative ones, count upwards with the
    /// value.)
    public static func orderKey(_ x: Float) -> UInt32 {
        if x.isNaN { return UInt32.max }
        let bits = (x == 0 ? Float(0) : x).bitPattern
        return bits & 0x8000_0000 == 0 ? bits | 0x8000_0000 : ~bits
    }

    /// The entries of each line along `axis` moved to the positions `order` gives:
    /// out[..., j, ...] = x[..., order[..., j, ...], ...], where each line of `order` is a
    /// permutation of 0..<n (what `argsorted` returns). Gradient: g moved back by the
    /// inverse permutation (the scatter of g by `order`).
    public func permuted(along axis: Int, by order: Tensor) throws -> Tensor {
        let a = try Tensor.normalize(axis: axis, rank: max(rank, 1))
        guard order.shape == shape else {
            throw TensorError.shape(in: "permuted", "\(describe(shape: shape)) and order \(describe(shape: order.shape))")
        }
        if let tape = try Tape.tracking(self) {
            return try tape.recording("sort", inputs: [self], saving: [order], savesOutput: false, forward: { try permuted(along: a, by: order) }) { g, _ in
                [try Derivative.sort(g, axis: a, order: order)]
            }
        }
        if rank == 0 { return try copy() }
        let last = rank - 1
        let lines = try transposed(a, last).contiguous(), picks = try order.transposed(a, last).contiguous()
        let n = shape[a], count = n == 0 ? 0 : lines.count / n
        let result = try Tensor(uninitializedShape: lines.shape)
        let from = lines.storage.pointer + lines.offset, by = picks.storage.pointer + picks.offset, to = result.storage.pointer
        for r in 0..<count {
            for j in 0..<n {
                let position = by[r * n + j]
                guard position >= 0, position < Float(n) else { throw TensorError.index("position \(position) is out of range for axis \(a) of size \(n)") }
                to[r * n + j] = from[r * n + Int(position)]
            }
        }
        return try result.transposed(a, last).contiguous()
    }

    /// The inverse of each line of the permutation `order` along `axis`.
    static func inversePermutation(_ order: Tensor, axis: Int) throws -> Tensor {
        try Tape.paused {
            if order.rank == 0 { return order }
            let last = order.rank - 1
            let lines = try order.transposed(axis, last).contiguous()
            let n = order.shape[axis], count = n == 0 ? 0 : lines.count / n
            let inverse = try Tensor(uninitializedShape: lines.shape)
            let from = lines.storage.pointer + lines.offset, to = inverse.storage.pointer
            for r in 0..<count {
                for j in 0..<n {
                    let position = from[r * n + j]
                    guard position >= 0, position < Float(n) else { throw TensorError.index("position \(position) is out of range for axis \(axis) of size \(n)") }
                    to[r * n + Int(position)] = Float(j)
                }
            }
            return try inverse.transposed(axis, last).contiguous()
        }
    }

    /// Rows of `classes` zeros with a 1 at each id (torch.nn.functional.one_hot, as
    /// float32): shape [..., classes]. Every id must be an integer in 0..<classes.
    public func oneHot(classes: Int) throws -> Tensor {
        guard classes >= 0 else { throw TensorError.value("one_hot: n cannot be negative, got \(classes)").blaming("n", classes) }
        let ids = try contiguous()
        let result = try Tensor(uninitializedShape: shape + [classes], zeroed: true)
        let from = ids.storage.pointer + ids.offset, to = result.storage.pointer
        for i in 0..<ids.count {
            let id = from[i]
            guard id == id.rounded(), id >= 0, id < Float(classes) else {
                let shown = id == id.rounded() && abs(id) < 1e9 ? String(Int(id)) : "\(id)"
                throw TensorError.value("one_hot: ids must be integers in 0..<\(classes), got \(shown)")
            }
            to[i * classes + Int(id)] = 1
        }
        return result
    }
}
