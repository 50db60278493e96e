import CKernels

/// Reductions over one or more axes.
public enum Reduction: Sendable {
    case sum, mean, max, min, argmax, argmin
    case variance(ddof: Int)
    case standardDeviation(ddof: Int)
    case logsumexp

    /// argmax and argmin give indices: the tape records nothing for them.
    public var isDifferentiable: Bool {
        switch self {
        case .argmax, .argmin: return false
        default: return true
        }
    }

    public var name: String {
        switch self {
        case .sum: return "sum"
        case .mean: return "mean"
        case .max: return "max"
        case .min: return "min"
        case .argmax: return "argmax"
        case .argmin: return "argmin"
        case .variance: return "var"
        case .standardDeviation: return "std"
        case .logsumexp: return "logsumexp"
        }
    }
}

extension Tensor {
    /// Reduces over `axes` (nil: all axes); sums accumulate in double precision.
    ///
    /// When the reduced axes are adjacent in memory, the data is a stack of
    /// [length, inner] matrices: with inner = 1 every result reduces one contiguous
    /// segment, otherwise whole rows of a matrix are accumulated into its inner results
    /// (reading memory in order, not down strided columns). Other cases move the reduced
    /// axes last first.
    public func reduce(_ reduction: Reduction, axes: [Int]? = nil, keepdims: Bool = false) throws -> Tensor {
        if reduction.isDifferentiable, let tape = try Tape.tracking(self) {
            let all = try (axes ?? Array(0..<rank)).map { try Tensor.normalize(axis: $0, rank: rank) }
            return try tape.recording(reduction.name, inputs: [self], forward: { try reduce(reduction, axes: axes, keepdims: keepdims) }) { g, out in
                [try Derivative.reduce(reduction, self, axes: all, out, g)]
            }
        }
        var reduced = Set<Int>()
        for axis in axes ?? Array(0..<rank) {
            let a = try Tensor.normalize(axis: axis, rank: rank)
            guard reduced.insert(a).inserted else {
                throw TensorError.index("axis \(axis) appears twice in \(reduction.name)").blaming("axis", axis)
            }
        }
        switch reduction {
        case .argmax, .argmin:
            if reduced.count > 1 && reduced.count != rank {
                throw TensorError.value("\(reduction.name) takes one axis or none").blaming("axis", axes?.last ?? 0)
            }
        default: break
        }
        let kept = (0..<rank).filter { !reduced.contains($0) }
        let length = reduced.reduce(1) { $0 * shape[$1] }
        let outputShape = keepdims ? shape.indices.map { reduced.contains($0) ? 1 : shape[$0] } : kept.map { shape[$0] }
        if length == 0 {
            switch reduction {
            case .sum: return try Tensor.zeros(outputShape)
            case .mean, .variance, .standardDeviation: return try Tensor.full(.nan, outputShape)
            case .logsumexp: return try Tensor.full(-.infinity, outputShape)
            default: throw TensorError.value("\(reduction.name) of an empty tensor")
            }
        }
        let result = try Tensor(uninitializedShape: outputShape)
        if result.count == 0 { return result }
        let out = result.storage.pointer
        // Reduced axes already last in memory (a view with them moved last is contiguous).
        let arranged = try permuted(kept + reduced.sorted())
        if arranged.isContiguous {
            try Tensor.reduceSegments(reduction, arranged.storage.pointer + arranged.offset, length, out, result.count)
            return result
        }
        guard let inner = Tensor.innerCount(shape, reducing: reduced) else {
            let moved = try arranged.contiguous()
            try Tensor.reduceSegments(reduction, moved.storage.pointer + moved.offset, length, out, result.count)
            return result
        }
        let source = try contiguous()
        let matrices = result.count / inner
        let p = source.storage.pointer + source.offset
        if inner == 1 {
            try Tensor.reduceSegments(reduction, p, length, out, matrices)
            return result
        }
        try Memory.withScratch(bytes: 2 * inner * MemoryLayout<Double>.stride, "the sums of \(reduction.name)") {
            let sums = UnsafeMutablePointer<Double>.allocate(capacity: 2 * inner)
            defer { sums.deallocate() }
            for m in 0..<matrices {
                try Interrupt.check()
                Tensor.reduceColumns(reduction, p + m * length * inner, rows: length, columns: inner, out + m * inner,
                                     scratch: sums)
            }
            try Interrupt.check()
        }
        return result
    }

    /// When the `reduced` axes of a contiguous tensor of `shape` are adjacent in memory
    /// (only size-1 axes between them), the number of elements after the last of them:
    /// the tensor is then a stack of [reduced elements, inner] matrices. nil otherwise.
    static func innerCount(_ shape: [Int], reducing reduced: Set<Int>) -> Int? {
        guard let first = reduced.min(), let last = reduced.max() else { return nil }
        guard (first...last).allSatisfy({ reduced.contains($0) || shape[$0] == 1 }) else { return nil }
        return shape[(last + 1)...].reduce(1, *)
    }

    /// out[s] reduces the segment of `length` floats at p + s * length, for `count` segments.
    static func reduceSegments(_ reduction: Reduction, _ p: UnsafeMutablePointer<Float>, _ length: Int,
                               _ out: UnsafeMutablePointer<Float>, _ count: Int) throws {
        // The kernels stop early on Ctrl-C; a check after the last one finds that too.
        for s in 0..<count {
            if s & 1023 == 1023 { try Interrupt.check() }
            out[s] = reduceSegment(reduction, p + s * length, length)
        }
        try Interrupt.check()
    }

    static func reduceSegment(_ reduction: Reduction, _ p: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
        switch reduction {
        case .sum: return Float(tx_sum(p, n))
        case .mean: return Float(tx_sum(p, n) / Double(n))
        case .max: return tx_max(p, n)
        case .min: return tx_min(p, n)
        case .argmax: return Float(tx_argmax(p, n))
        case .argmin: return Float(tx_argmin(p, n))
        case .variance(let ddof), .standardDeviation(let ddof):
            let mean = tx_sum(p, n) / Double(n)
            let v = spread(squares: tx_sum_squared_deviations(p, n, mean), count: n, ddof: ddof)
            if case .standardDeviation = reduction { return Float(v.squareRoot()) }
            return Float(v)
        case .logsumexp: return tx_logsumexp(p, n)
        }
    }

    /// out[j] reduces column j of the [rows, columns] matrix at p; `scratch` holds
    /// 2 * columns doubles.
    static func reduceColumns(_ reduction: Reduction, _ p: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
                              _ out: UnsafeMutablePointer<Float>, scratch sums: UnsafeMutablePointer<Double>) {
        switch reduction {
        case .sum:
            tx_sum_columns(p, rows, columns, sums)
            for j in 0..<columns { out[j] = Float(sums[j]) }
        case .mean:
            tx_sum_columns(p, rows, columns, sums)
            for j in 0..<columns { out[j] = Float(sums[j] / Double(rows)) }
        case .max: tx_max_columns(p, rows, columns, out)
        case .min: tx_min_columns(p, rows, columns, out)
        case .argmax: tx_argmax_columns(p, rows, columns, out)
        case .argmin: tx_argmin_columns(p, rows, columns, out)
        case .variance(let ddof), .standardDeviation(let ddof):
            let means = sums, squares = sums + columns
            tx_sum_columns(p, rows, columns, means)
            for j in 0..<columns { means[j] /= Double(rows) }
            tx_sum_squared_deviations_columns(p, rows, columns, means, squares)
            for j in 0..<columns {
                let v = spread(squares: squares[j], count: rows, ddof: ddof)
                if case .standardDeviation = reduction { out[j] = Float(v.squareRoot()) } else { out[j] = Float(v) }
            }
        case .logsumexp: tx_logsumexp_columns(p, rows, columns, out)
        }
    }

    /// The variance from the sum of squared deviations. NumPy divides by max(n - ddof, 0):
    /// inf past the sample size, nan when 0 / 0.
    private static func spread(squares: Double, count n: Int, ddof: Int) -> Double {
        squares / Swift.max(Double(n) - Double(ddof), 0)
    }

    /// sqrt of the sum of squares of all elements, as a 0-d tensor.
    public func norm() throws -> Tensor {
        if let tape = try Tape.tracking(self) {
            return try tape.recording("norm", inputs: [self], forward: { try norm() }) { g, out in
                [try Derivative.norm(self, axes: Array(0..<self.rank), out, g)]
            }
        }
        let c = try contiguous()
        let total = c.count == 0 ? 0 : tx_sum_squared_deviations(c.storage.pointer + c.offset, c.count, 0)
        try Interrupt.check()
        return try Tensor(scalar: Float(total.squareRoot()))
    }

    /// sqrt of the sum of squares along `axes`.
    public func norm(axes: [Int], keepdims: Bool = false) throws -> Tensor {
        if let tape = try Tape.tracking(self) {
            let all = try axes.map { try Tensor.normalize(axis: $0, rank: rank) }
            return try tape.recording("norm", inputs: [self], forward: { try norm(axes: axes, keepdims: keepdims) }) { g, out in
                [try Derivative.norm(self, axes: all, out, g)]
            }
        }
        return try Tensor.binary(.multiply, self, self).reduce(.sum, axes: axes, keepdims: keepdims).map(.sqrt)
    }

    /// Softmax along `axis`: stable (the row maximum is subtracted); a row that is all
    /// -inf gives zeros; -inf entries give exactly 0; a row holding nan or +inf gives
    /// nan everywhere (as PyTorch).
    public func softmax(axis: Int = -1) throws -> Tensor {
        if let tape = try Tape.tracking(self) {
            return try tape.recording("softmax", inputs: [self], forward: { try softmax(axis: axis) }) { g, out in
                [try Derivative.softmax(out, axis: axis, g)]
            }
        }
        let a = try Tensor.normalize(axis: axis, rank: max(rank, 1))
        let last = rank - 1
        if rank == 0 {
            // One row of one element: 1, nan for nan and inf, 0 for -inf.
            let result = try copy()
            _ = tx_softmax_rows(result.storage.pointer, 1, 1, 1)
            return result
        }
        if a == last {
            let result = try copy()
            let n = shape[last]
            if n > 0 && tx_softmax_rows(result.storage.pointer, result.count / n, n, n) != 0 { try Interrupt.check() }
            return result
        }
        // Along another axis the tensor is a stack of [length, inner] matrices, each
        // normalised down its columns.
        let input = try contiguous()
        let result = try Tensor(uninitializedShape: shape)
        let length = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        if result.count == 0 { return result }
        let x = input.storage.pointer + input.offset, y = result.storage.pointer
        for m in 0..<(result.count / (length * inner)) {
            try Interrupt.check()
            tx_softmax_columns(x + m * length * inner, y + m * length * inner, length, inner)
        }
        try Interrupt.check()
        return result
    }

    /// log(softmax(x)) along `axis`, computed stably.
    public func logSoftmax(axis: Int = -1) throws -> Tensor {
        let lse = try reduce(.logsumexp, axes: [axis], keepdims: true)
        return try Tensor.binary(.subtract, self, lse)
    }
}
