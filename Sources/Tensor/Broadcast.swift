import CKernels

extension Tensor {
    /// NumPy's broadcast of two shapes, or nil when they do not fit.
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let x = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let y = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if x == y || y == 1 { result[i] = x } else if x == 1 { result[i] = y } else { return nil }
        }
        return result
    }

    /// A view of `self` with `shape`, stride 0 along broadcast axes.
    public func broadcast(to target: [Int]) throws -> Tensor {
        if target == shape { return self }
        guard target.count >= rank else {
            throw TensorError.shape("shape mismatch: cannot broadcast \(describe(shape: shape)) to \(describe(shape: target))")
        }
        try Tensor.checkShape(target)
        let extra = target.count - rank
        var newStrides = [Int](repeating: 0, count: target.count)
        for axis in 0..<target.count where axis >= extra {
            let own = axis - extra
            if shape[own] == target[axis] {
                newStrides[axis] = shape[own] == 1 ? 0 : strides[own]
            } else if shape[own] == 1 {
                newStrides[axis] = 0
            } else {
                throw TensorError.shape("shape mismatch: cannot broadcast \(describe(shape: shape)) to \(describe(shape: target))")
            }
        }
        return Tensor(storage: storage, shape: target, strides: newStrides, offset: offset)
    }

    /// Walks a contiguous result of `shape` in runs along its last axis, for operands
    /// with `operandStrides` along its axes (0 where one is broadcast): body(offsets,
    /// start, count) for the `count` elements from `start` in the result, `offsets[k]`
    /// being operand k's element offset at the run's first one. Axes of size 1 but the
    /// last are dropped and adjacent axes that every operand steps through as through one
    /// are merged, so that the runs are as long as they can be; the last axis keeps its
    /// strides. From 2^18 elements on the runs are shared out among all threads
    /// (tx_parallel_elements, which may split a run where its pieces meet); Ctrl-C stops
    /// the work between pieces and throws `interrupted`.
    static func forEachRun(shape: [Int], operandStrides: [[Int]],
                           _ body: (_ offsets: [Int], _ start: Int, _ count: Int) -> Void) throws {
        let count = shape.reduce(1, *)
        if count == 0 { return }
        var merged: [Int] = [], strides = [[Int]](repeating: [], count: operandStrides.count)
        for axis in shape.indices where shape[axis] > 1 || axis == shape.count - 1 {
            let along = operandStrides.map { $0[axis] }
            if let outer = merged.last, strides.indices.allSatisfy({ strides[$0].last == along[$0] * shape[axis] }) {
                merged[merged.count - 1] = outer * shape[axis]
                for k in strides.indices { strides[k][strides[k].count - 1] = along[k] }
            } else {
                merged.append(shape[axis])
                for k in strides.indices { strides[k].append(along[k]) }
            }
        }
        if merged.isEmpty {
            merged = [1]
            strides = strides.map { _ in [0] }
        }
        let inner = merged[merged.count - 1], last = strides.map { $0[$0.count - 1] }
        try withoutActuallyEscaping(body) { body in
            var runs = { (begin: Int, end: Int) in
                var walker = RowWalker(shape: merged, operandStrides: strides, baseOffsets: last.map { _ in 0 },
                                       row: begin / inner)
                var start = begin, column = begin % inner
                while start < end {
                    let n = Swift.min(inner - column, end - start)
                    if column == 0 {
                        body(walker.offsets, start, n)
                    } else {
                        body(walker.offsets.indices.map { walker.offsets[$0] + column * last[$0] }, start, n)
                    }
                    start += n
                    column = 0
                    walker.next()
                }
            }
            let stopped = withUnsafeMutablePointer(to: &runs) { pointer in
                tx_parallel_elements(count, { context, begin, end in
                    context?.assumingMemoryBound(to: ((Int, Int) -> Void).self).pointee(begin, end)
                }, pointer)
            }
            if stopped != 0 { try Interrupt.check() }
        }
    }
}

/// Walks the rows of a tensor of `shape` (all axes but the last) and, for each, the
/// element offsets of several operands with their own (broadcast) strides.
struct RowWalker {
    let shape: [Int]
    let operandStrides: [[Int]]
    private var index: [Int]
    private(set) var offsets: [Int]

    /// Starts at row `row` (in row-major order).
    init(shape: [Int], operandStrides: [[Int]], baseOffsets: [Int], row: Int = 0) {
        self.shape = shape
        self.operandStrides = operandStrides
        self.index = [Int](repeating: 0, count: max(shape.count - 1, 0))
        self.offsets = baseOffsets
        var rest = row
        for axis in index.indices.reversed() {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
            for k in offsets.indices { offsets[k] += index[axis] * operandStrides[k][axis] }
        }
    }

    var rowCount: Int {
        shape.isEmpty ? 1 : shape.dropLast().reduce(1, *)
    }

    /// Advances to the next row.
    mutating func next() {
        var axis = shape.count - 2
        while axis >= 0 {
            index[axis] += 1
            for k in offsets.indices { offsets[k] += operandStrides[k][axis] }
            if index[axis] < shape[axis] { return }
            for k in offsets.indices { offsets[k] -= operandStrides[k][axis] * shape[axis] }
            index[axis] = 0
            axis -= 1
        }
    }
}
