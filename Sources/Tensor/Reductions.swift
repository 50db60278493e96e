import CKernels
import Glibc

/// Reductions over one or more axes.
public enum Reduction: Sendable {
    case sum, mean, max, min, argmax, argmin
    case variance(ddof: Int)
    case standardDeviation(ddof: Int)
    case logsumexp

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
    /// Reduces over `axes` (nil: all axes). The reduced axes are moved last and made
    /// contiguous, so that every result element reduces one contiguous segment;
    /// sums accumulate in double precision.
    public func reduce(_ reduction: Reduction, axes: [Int]? = nil, keepdims: Bool = false) throws -> Tensor {
        var reduced = Set<Int>()
        for axis in axes ?? Array(0..<rank) {
            let a = try Tensor.normalize(axis: axis, rank: rank)
            guard reduced.insert(a).inserted else {
                throw TensorError.index("index error: axis \(axis) appears twice in \(reduction.name)")
            }
        }
        switch reduction {
        case .argmax, .argmin:
            if reduced.count > 1 && reduced.count != rank {
                throw TensorError.value("value error: \(reduction.name) takes one axis or none")
            }
        default: break
        }
        let kept = (0..<rank).filter { !reduced.contains($0) }
        let order = kept + reduced.sorted()
        let arranged = try (order == Array(0..<rank) ? self : permuted(order)).contiguous()
        let segment = reduced.reduce(1) { $0 * shape[$1] }
        let outputShape = keepdims ? shape.indices.map { reduced.contains($0) ? 1 : shape[$0] } : kept.map { shape[$0] }
        if segment == 0 {
            switch reduction {
            case .sum: return try Tensor.zeros(outputShape)
            case .mean, .variance, .standardDeviation: return try Tensor.full(.nan, outputShape)
            case .logsumexp: return try Tensor.full(-.infinity, outputShape)
            default: throw TensorError.value("value error: \(reduction.name) of an empty tensor")
            }
        }
        let result = try Tensor(uninitializedShape: outputShape)
        let source = arranged.storage.pointer + arranged.offset
        let out = result.storage.pointer
        let segments = result.count
        for s in 0..<segments {
            if s & 1023 == 1023 { try Interrupt.check() }
            out[s] = Tensor.reduceSegment(reduction, source + s * segment, segment)
        }
        return result
    }

    static func reduceSegment(_ reduction: Reduction, _ p: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
        switch reduction {
        case .sum: return Float(sum(p, n))
        case .mean: return Float(sum(p, n) / Double(n))
        case .max:
            var m = p[0]
            for i in 0..<n { let v = p[i]; if v > m || v.isNaN { m = v; if v.isNaN { break } } }
            return m
        case .min:
            var m = p[0]
            for i in 0..<n { let v = p[i]; if v < m || v.isNaN { m = v; if v.isNaN { break } } }
            return m
        case .argmax:
            var best = 0
            for i in 1..<max(n, 1) where p[i] > p[best] || (p[i].isNaN && !p[best].isNaN) { best = i }
            return Float(best)
        case .argmin:
            var best = 0
            for i in 1..<max(n, 1) where p[i] < p[best] || (p[i].isNaN && !p[best].isNaN) { best = i }
            return Float(best)
        case .variance(let ddof), .standardDeviation(let ddof):
            let mean = sum(p, n) / Double(n)
            var squares = 0.0
            for i in 0..<n { let d = Double(p[i]) - mean; squares += d * d }
            // NumPy divides by max(n - ddof, 0): inf past the sample size, nan when 0 / 0.
            let v = squares / Swift.max(Double(n) - Double(ddof), 0)
            if case .standardDeviation = reduction { return Float(v.squareRoot()) }
            return Float(v)
        case .logsumexp:
            var m = p[0]
            for i in 0..<n where p[i] > m { m = p[i] }
            if m == -.infinity || !m.isFinite { return m }
            var total = 0.0
            for i in 0..<n { total += Glibc.exp(Double(p[i] - m)) }
            return m + Float(Glibc.log(total))
        }
    }

    /// A double-precision sum with four partial sums (fast and accurate).
    @inline(__always)
    static func sum(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> Double {
        var a = 0.0, b = 0.0, c = 0.0, d = 0.0
        var i = 0
        while i + 4 <= n {
            a += Double(p[i]); b += Double(p[i + 1]); c += Double(p[i + 2]); d += Double(p[i + 3])
            i += 4
        }
        while i < n { a += Double(p[i]); i += 1 }
        return (a + b) + (c + d)
    }

    /// sqrt of the sum of squares of all elements, as a 0-d tensor.
    public func norm() throws -> Tensor {
        let c = try contiguous()
        let p = c.storage.pointer + c.offset
        var total = 0.0
        for i in 0..<c.count { total += Double(p[i]) * Double(p[i]) }
        return try Tensor(scalar: Float(total.squareRoot()))
    }

    /// Softmax along `axis`: stable (the row maximum is subtracted); a row that is all
    /// -inf gives zeros; -inf entries give exactly 0; a row holding nan or +inf gives
    /// nan everywhere (as PyTorch).
    public func softmax(axis: Int = -1) throws -> Tensor {
        let a = try Tensor.normalize(axis: axis, rank: max(rank, 1))
        let last = rank - 1
        if rank == 0 {
            // One row of one element: 1, nan for nan and inf, 0 for -inf.
            let result = try copy()
            tx_softmax_rows(result.storage.pointer, 1, 1, 1)
            return result
        }
        if a == last {
            let result = try copy()
            let n = shape[last]
            if n > 0 { tx_softmax_rows(result.storage.pointer, result.count / n, n, n) }
            return result
        }
        return try transposed(a, last).softmax(axis: -1).transposed(a, last).contiguous()
    }

    /// log(softmax(x)) along `axis`, computed stably.
    public func logSoftmax(axis: Int = -1) throws -> Tensor {
        let lse = try reduce(.logsumexp, axes: [axis], keepdims: true)
        return try Tensor.binary(.subtract, self, lse)
    }
}
