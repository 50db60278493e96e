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
        if let tape = try Tape.tracking(self) {
            return try tape.recording("broadcast", inputs: [self], saving: [], savesOutput: false, forward: { try broadcast(to: target) }) { g, _ in
                [try Derivative.unbroadcast(g, to: self.shape)]
            }
        }
        guard target.count >= rank else {
            throw TensorError.shape("cannot broadcast \(describe(shape: shape)) to \(describe(shape: target))")
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
                throw TensorError.shape("cannot broadcast \(describe(shape: shape)) to \(describe(shape: target))")
            }
        }
        return Tensor(storage: storage, shape: target, strides: newStrides, offset: offset)
    }

    /// Walks a contiguous result of `shape` in runs along its last axis, for up to four
    /// operands whose strides along an axis are `strides(axis)` (0 where one is
    /// broadcast): body(offsets, start, count) for the `count` elements from `start` in
    /// the result, `offsets[k]` being operand k's element offset at the run's first one.
    /// Axes of size 1 but the last are dropped and adjacent axes that every operand steps
    /// through as through one are merged, so that the runs are as long as they can be;
    /// the last axis keeps its strides. From 2^18 elements on the runs are shared out
    /// among all threads (tx_parallel_elements, which may split a run where its pieces
    /// meet); Ctrl-C stops the work between pieces and throws `interrupted`.
    static func forEachRun(shape: [Int], strides: (_ axis: Int) -> SIMD4<Int>,
                           _ body: (_ offsets: SIMD4<Int>, _ start: Int, _ count: Int) -> Void) throws {
        let count = shape.reduce(1, *)
        if count == 0 { return }
        // From the last axis outwards; the axes left outside the runs, innermost first
        // (none, and nothing allocated, when the whole result is one run).
        var inner = shape.last ?? 1, along = shape.isEmpty ? .zero : strides(shape.count - 1)
        var sizes: [Int] = [], steps: [SIMD4<Int>] = []
        for axis in stride(from: shape.count - 2, through: 0, by: -1) where shape[axis] > 1 {
            let step = strides(axis)
            if sizes.isEmpty && step == along &* inner {
                inner *= shape[axis]
            } else if let i = sizes.indices.last, step == steps[i] &* sizes[i] {
                sizes[i] *= shape[axis]
            } else {
                sizes.append(shape[axis])
                steps.append(step)
            }
        }
        try withoutActuallyEscaping(body) { body in
            var job = RunJob(inner: inner, along: along, outer: sizes.reversed(), steps: steps.reversed(), body: body)
            let stopped = withUnsafeMutablePointer(to: &job) { pointer in
                tx_parallel_elements(count, { context, begin, end in
                    context?.assumingMemoryBound(to: RunJob.self).pointee.run(from: begin, to: end)
                }, pointer)
            }
            if stopped != 0 { try Interrupt.check() }
        }
    }
}

/// The runs of `Tensor.forEachRun` from one element of the result to another, for the
/// C threads: the runs' length and the operands' strides along them, and the axes
/// outside the runs with the operands' strides along those.
private struct RunJob {
    let inner: Int, along: SIMD4<Int>
    let outer: [Int], steps: [SIMD4<Int>]
    let body: (SIMD4<Int>, Int, Int) -> Void

    func run(from begin: Int, to end: Int) {
        if outer.isEmpty {
            body(along &* begin, begin, end - begin)
            return
        }
        var walker = RowWalker(shape: outer + [inner], strides: steps + [along], row: begin / inner)
        var start = begin, column = begin % inner
        while start < end {
            let n = Swift.min(inner - column, end - start)
            body(walker.offsets &+ along &* column, start, n)
            start += n
            column = 0
            walker.next()
        }
    }
}

/// Walks the rows of a tensor of `shape` (all axes but the last) and, for each, the
/// element offsets of up to four operands with their own (broadcast) strides.
struct RowWalker {
    let shape: [Int]
    /// Per axis, the operands' strides along it.
    let strides: [SIMD4<Int>]
    private var index: [Int]
    private(set) var offsets: SIMD4<Int>

    /// Starts at row `row` (in row-major order), from the operands' `offsets`.
    init(shape: [Int], strides: [SIMD4<Int>], offsets: SIMD4<Int> = .zero, row: Int = 0) {
        self.shape = shape
        self.strides = strides
        self.index = [Int](repeating: 0, count: max(shape.count - 1, 0))
        self.offsets = offsets
        var rest = row
        for axis in index.indices.reversed() {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
            self.offsets &+= strides[axis] &* index[axis]
        }
    }

    /// Operand k's strides are `operandStrides[k]`, its first element at `baseOffsets[k]`.
    init(shape: [Int], operandStrides: [[Int]], baseOffsets: [Int]) {
        var offsets = SIMD4<Int>.zero
        for k in baseOffsets.indices { offsets[k] = baseOffsets[k] }
        let strides = shape.indices.map { axis in
            var along = SIMD4<Int>.zero
            for k in operandStrides.indices { along[k] = operandStrides[k][axis] }
            return along
        }
        self.init(shape: shape, strides: strides, offsets: offsets)
    }

    var rowCount: Int {
        shape.isEmpty ? 1 : shape.dropLast().reduce(1, *)
    }

    /// Advances to the next row.
    mutating func next() {
        var axis = shape.count - 2
        while axis >= 0 {
            index[axis] += 1
            offsets &+= strides[axis]
            if index[axis] < shape[axis] { return }
            offsets &-= strides[axis] &* shape[axis]
            index[axis] = 0
            axis -= 1
        }
    }
}
