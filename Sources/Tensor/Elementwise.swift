import CKernels
import Glibc

/// Binary elementwise operations with NumPy broadcasting.
public enum BinaryOp: Sendable {
    case add, subtract, multiply, divide, floorDivide, power, modulo, maximum, minimum
    case equal, notEqual, less, lessEqual, greater, greaterEqual

    /// Comparisons give masks: the tape records nothing for them.
    public var isDifferentiable: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual: return false
        default: return true
        }
    }

    /// Whether the derivative rule reads the result (d(a/b)/db = -(a/b)/b, d(a^b)/db =
    /// a^b log a): the tape then keeps the result from being written in place.
    public var derivativeReadsResult: Bool { self == .divide || self == .power }

    /// Whether the derivative rule reads the operands: all but + and -, whose gradients
    /// are the output's gradient itself.
    public var derivativeReadsOperands: Bool { self != .add && self != .subtract }

    public var symbol: String {
        switch self {
        case .add: return "+"
        case .subtract: return "-"
        case .multiply: return "*"
        case .divide: return "/"
        case .floorDivide: return "//"
        case .power: return "^"
        case .modulo: return "%"
        case .maximum: return "maximum"
        case .minimum: return "minimum"
        case .equal: return "=="
        case .notEqual: return "!="
        case .less: return "<"
        case .lessEqual: return "<="
        case .greater: return ">"
        case .greaterEqual: return ">="
        }
    }
}

/// Unary elementwise functions.
public enum UnaryOp: Sendable {
    case negate, not, exp, log, sqrt, abs, tanh, sin, cos, sigmoid, relu, gelu, floor, ceil, round
}

/// NumPy's `maximum` and `minimum`: NaN on either side gives NaN. The one rule behind
/// tensors and numbers alike.
@inlinable
public func propagatingMaximum<T: FloatingPoint>(_ x: T, _ y: T) -> T {
    x.isNaN || y.isNaN ? .nan : (x > y ? x : y)
}

@inlinable
public func propagatingMinimum<T: FloatingPoint>(_ x: T, _ y: T) -> T {
    x.isNaN || y.isNaN ? .nan : (x < y ? x : y)
}

@inline(__always)
private func floorMod(_ x: Float, _ y: Float) -> Float {
    let r = fmodf(x, y)
    return r != 0 && (r < 0) != (y < 0) ? r + y : r
}

extension Tensor {
    /// `a op b` with broadcasting; comparisons give 1 and 0.
    public static func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        if op.isDifferentiable, let tape = try Tape.tracking(a, b) {
            let needA = tape.tracks(a), needB = tape.tracks(b)
            return try tape.recording(op.symbol, inputs: [a, b], saving: op.derivativeReadsOperands ? [a, b] : [],
                                      savesOutput: op.derivativeReadsResult, forward: { try binary(op, a, b) }) { g, out in
                let (da, db) = try Derivative.binary(op, a, b, out, g, needA: needA, needB: needB)
                return [da, db]
            }
        }
        guard let shape = broadcastShape(a.shape, b.shape) else {
            let joiner = op == .maximum || op == .minimum ? " and " : " \(op.symbol) "
            throw TensorError.shape(in: "\(op.symbol)", "\(describe(shape: a.shape))\(joiner)\(describe(shape: b.shape)) (cannot broadcast)")
        }
        if b.count == 1 && b.rank == 0, let y = b.scalarValue, shape == a.shape { return try binary(op, a, scalar: y) }
        if a.count == 1 && a.rank == 0, let x = a.scalarValue, shape == b.shape { return try binary(op, scalar: x, b) }
        let result = try Tensor(uninitializedShape: shape)
        let x = try a.withContiguousRows().broadcast(to: shape), y = try b.withContiguousRows().broadcast(to: shape)
        let px = x.storage.pointer + x.offset, py = y.storage.pointer + y.offset
        if x.isContiguous && y.isContiguous && a.shape == b.shape {
            try applyOnAllThreads(op, px, 1, py, 1, result.storage.pointer, result.count)
        } else {
            try apply(op, px, py, shape: shape, strides: { SIMD4(x.strides[$0], y.strides[$0], 0, 0) },
                      into: result.storage.pointer)
        }
        return result
    }

    /// `a op y` for a scalar y.
    public static func binary(_ op: BinaryOp, _ a: Tensor, scalar y: Float) throws -> Tensor {
        try binary(op, a, number: y, numberFirst: false)
    }

    /// `x op b` for a scalar x.
    public static func binary(_ op: BinaryOp, scalar x: Float, _ b: Tensor) throws -> Tensor {
        try binary(op, b, number: x, numberFirst: true)
    }

    /// `t op number`, or `number op t` when `numberFirst`.
    private static func binary(_ op: BinaryOp, _ t: Tensor, number: Float, numberFirst: Bool) throws -> Tensor {
        if op.isDifferentiable, let tape = try Tape.tracking(t) {
            // With a number for the other operand, only ^, maximum, minimum, % and a
            // number divided by t read t.
            let readsT = op == .power || op == .maximum || op == .minimum || op == .modulo || (op == .divide && numberFirst)
            return try tape.recording(op.symbol, inputs: [t], saving: readsT ? [t] : [], savesOutput: op.derivativeReadsResult,
                                      forward: { try binary(op, t, number: number, numberFirst: numberFirst) }) { g, out in
                let n = try Tensor(scalar: number)
                let (a, b) = numberFirst ? (n, t) : (t, n)
                let (da, db) = try Derivative.binary(op, a, b, out, g, needA: !numberFirst, needB: numberFirst)
                return [numberFirst ? db : da]
            }
        }
        let x = try t.withContiguousRows()
        let result = try Tensor(uninitializedShape: t.shape)
        // The number is an operand with stride 0.
        let source = x.storage.pointer + x.offset, out = result.storage.pointer, strides = x.strides
        var scalar = number
        try withUnsafeMutablePointer(to: &scalar) { s in
            let (l, r) = numberFirst ? (s, source) : (source, s)
            if x.isContiguous {
                try applyOnAllThreads(op, l, numberFirst ? 0 : 1, r, numberFirst ? 1 : 0, out, x.count)
            } else {
                let tensor = numberFirst ? SIMD4(0, 1, 0, 0) : SIMD4(1, 0, 0, 0)
                try apply(op, l, r, shape: x.shape, strides: { tensor &* strides[$0] }, into: out)
            }
        }
        return result
    }

    /// The operands and result of `applyOnAllThreads`, for the C threads.
    private struct ElementJob {
        let op: BinaryOp
        let x: UnsafeMutablePointer<Float>, sx: Int
        let y: UnsafeMutablePointer<Float>, sy: Int
        let out: UnsafeMutablePointer<Float>
    }

    /// `apply` over n elements that are one run (operands of one shape, or with a number),
    /// on all threads from 2^18 elements on, polling Ctrl-C between pieces; throws
    /// `interrupted` when it stopped. Without the walk of `forEachRun`, so that a small
    /// tensor's operator costs no more than the operation.
    private static func applyOnAllThreads(_ op: BinaryOp, _ x: UnsafeMutablePointer<Float>, _ sx: Int,
                                          _ y: UnsafeMutablePointer<Float>, _ sy: Int,
                                          _ out: UnsafeMutablePointer<Float>, _ n: Int) throws {
        var job = ElementJob(op: op, x: x, sx: sx, y: y, sy: sy, out: out)
        let stopped = withUnsafeMutablePointer(to: &job) { pointer in
            tx_parallel_elements(n, { context, begin, end in
                guard let job = context?.assumingMemoryBound(to: ElementJob.self).pointee else { return }
                Tensor.apply(job.op, job.x + begin * job.sx, job.sx, job.y + begin * job.sy, job.sy, job.out + begin, end - begin)
            }, pointer)
        }
        if stopped != 0 { try Interrupt.check() }
    }

    /// out = x op y over `shape`, the operands' elements at `x` and `y` with their strides
    /// along an axis `strides(axis)[0]` and `[1]` (0 where broadcast), in runs along the
    /// last axis on all threads for large results (`forEachRun`).
    private static func apply(_ op: BinaryOp, _ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                              shape: [Int], strides: (Int) -> SIMD4<Int>, into out: UnsafeMutablePointer<Float>) throws {
        let inner = shape.isEmpty ? .zero : strides(shape.count - 1)
        try forEachRun(shape: shape, strides: strides) { offsets, start, count in
            apply(op, x + offsets[0], inner[0], y + offsets[1], inner[1], out + start, count)
        }
    }

    /// out[i] = x[i * sx] op y[i * sy]; the switch is outside the loops so that each
    /// loop is a plain, vectorisable loop over one operation. A power whose exponent is
    /// one number (sy = 0) of 2 or 0.5 is a product or a square root, with powf's answers
    /// where the square root's differ (-0 and -inf), so that `x ^ 0.5`, `x ^ [0.5]` and a
    /// number's `^` agree.
    static func apply(_ op: BinaryOp, _ x: UnsafeMutablePointer<Float>, _ sx: Int,
                      _ y: UnsafeMutablePointer<Float>, _ sy: Int, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        @inline(__always)
        func run(_ f: (Float, Float) -> Float) {
            if sx == 1 && sy == 1 {
                for i in 0..<n { out[i] = f(x[i], y[i]) }
            } else if sx == 1 && sy == 0 {
                let v = y[0]
                for i in 0..<n { out[i] = f(x[i], v) }
            } else if sx == 0 && sy == 1 {
                let v = x[0]
                for i in 0..<n { out[i] = f(v, y[i]) }
            } else {
                for i in 0..<n { out[i] = f(x[i * sx], y[i * sy]) }
            }
        }
        if op == .power && sy == 0 && y[0] == 2 { return run { a, _ in a * a } }
        if op == .power && sy == 0 && y[0] == 0.5 {
            return run { a, _ in a == -.infinity ? .infinity : a.squareRoot() + 0 }
        }
        switch op {
        case .add: run { $0 + $1 }
        case .subtract: run { $0 - $1 }
        case .multiply: run { $0 * $1 }
        case .divide: run { $0 / $1 }
        case .floorDivide: run { ($0 / $1).rounded(.down) }
        case .power: run { powf($0, $1) }
        case .modulo: run { floorMod($0, $1) }
        case .maximum: run(propagatingMaximum)
        case .minimum: run(propagatingMinimum)
        case .equal: run { $0 == $1 ? 1 : 0 }
        case .notEqual: run { $0 != $1 ? 1 : 0 }
        case .less: run { $0 < $1 ? 1 : 0 }
        case .lessEqual: run { $0 <= $1 ? 1 : 0 }
        case .greater: run { $0 > $1 ? 1 : 0 }
        case .greaterEqual: run { $0 >= $1 ? 1 : 0 }
        }
    }

    /// f(x) elementwise.
    public func map(_ op: UnaryOp) throws -> Tensor {
        if op != .not, let tape = try Tape.tracking(self) {
            return try tape.recording("\(op)", inputs: [self], forward: { try map(op) }) { g, out in
                [try Derivative.map(op, self, out, g)]
            }
        }
        let input = try contiguous()
        let result = try Tensor(uninitializedShape: shape)
        try Tensor.apply(op, input.storage.pointer + input.offset, result.storage.pointer, result.count)
        return result
    }

    /// y[i] = f(x[i]) for i < n; x and y are the same pointer or do not overlap. Throws
    /// `interrupted` when Ctrl-C stopped it, with y partly written.
    private static func apply(_ op: UnaryOp, _ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) throws {
        switch op {
        case .exp, .log, .sqrt, .tanh, .sigmoid, .gelu:
            // The C kernels poll for Ctrl-C themselves.
            kernel(op, x, y, n)
            try Interrupt.check()
        default:
            var poll = Interrupt.Poll()
            try poll.run(n) { start, count in kernel(op, x + start, y + start, count) }
        }
    }

    @inline(__always)
    private static func kernel(_ op: UnaryOp, _ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        switch op {
        case .negate: for i in 0..<n { y[i] = -x[i] }
        case .not: for i in 0..<n { y[i] = x[i] == 0 ? 1 : 0 }
        case .exp: tx_exp(x, y, n)
        case .log: tx_log(x, y, n)
        case .sqrt: tx_sqrt(x, y, n)
        case .abs: for i in 0..<n { y[i] = Swift.abs(x[i]) }
        case .tanh: tx_tanh(x, y, n)
        case .sin: for i in 0..<n { y[i] = sinf(x[i]) }
        case .cos: for i in 0..<n { y[i] = cosf(x[i]) }
        case .sigmoid: tx_sigmoid(x, y, n)
        case .relu:
            // Branch-free (a select), so random signs cost no mispredictions; NaN stays NaN.
            for i in 0..<n { let v = x[i]; y[i] = v < 0 ? 0 : v }
        case .gelu: tx_gelu(x, y, n)
        case .floor: for i in 0..<n { y[i] = x[i].rounded(.down) }
        case .ceil: for i in 0..<n { y[i] = x[i].rounded(.up) }
        case .round: for i in 0..<n { y[i] = x[i].rounded(.toNearestOrEven) }
        }
    }

    /// The same functions on a double, for number values.
    public static func apply(_ op: UnaryOp, to x: Double) -> Double {
        switch op {
        case .negate: return -x
        case .not: return x == 0 ? 1 : 0
        case .exp: return Glibc.exp(x)
        case .log: return Glibc.log(x)
        case .sqrt: return x.squareRoot()
        case .abs: return Swift.abs(x)
        case .tanh: return Glibc.tanh(x)
        case .sin: return Glibc.sin(x)
        case .cos: return Glibc.cos(x)
        case .sigmoid: return x >= 0 ? 1 / (1 + Glibc.exp(-x)) : Glibc.exp(x) / (1 + Glibc.exp(x))
        case .relu: return x < 0 ? 0 : x
        case .gelu: return 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
        case .floor: return x.rounded(.down)
        case .ceil: return x.rounded(.up)
        case .round: return x.rounded(.toNearestOrEven)
        }
    }

    /// `where`: a where condition is nonzero, else b; all three broadcast together.
    public static func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        if let tape = try Tape.tracking(a, b) {
            let needA = tape.tracks(a), needB = tape.tracks(b)
            return try tape.recording("where", inputs: [condition, a, b], saving: [condition], savesOutput: false, forward: { try select(condition, a, b) }) { g, _ in
                let (da, db) = try Derivative.select(condition, a, b, g, needA: needA, needB: needB)
                return [nil, da, db]
            }
        }
        guard let ab = broadcastShape(a.shape, b.shape), let shape = broadcastShape(condition.shape, ab) else {
            throw TensorError.shape(in: "where", "\(describe(shape: condition.shape)), \(describe(shape: a.shape)) and \(describe(shape: b.shape)) (cannot broadcast)")
        }
        let c = try condition.withContiguousRows().broadcast(to: shape)
        let x = try a.withContiguousRows().broadcast(to: shape), y = try b.withContiguousRows().broadcast(to: shape)
        let result = try Tensor(uninitializedShape: shape)
        let pc = c.storage.pointer + c.offset, px = x.storage.pointer + x.offset, py = y.storage.pointer + y.offset
        let out = result.storage.pointer
        let (sc, sx, sy) = (c.strides.last ?? 0, x.strides.last ?? 0, y.strides.last ?? 0)
        try forEachRun(shape: shape, strides: { SIMD4(c.strides[$0], x.strides[$0], y.strides[$0], 0) }) { o, start, count in
            select(pc + o[0], sc, px + o[1], sx, py + o[2], sy, out + start, count)
        }
        return result
    }

    /// out[i] = c[i * sc] != 0 ? x[i * sx] : y[i * sy]; strides 0 (a broadcast value) and
    /// 1 get loops of their own, which vectorise.
    private static func select(_ c: UnsafeMutablePointer<Float>, _ sc: Int, _ x: UnsafeMutablePointer<Float>, _ sx: Int,
                               _ y: UnsafeMutablePointer<Float>, _ sy: Int, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        // Both sides are loaded before the choice, so that it is a select, not a branch.
        switch (sc, sx, sy) {
        case (1, 1, 1): for i in 0..<n { let a = x[i], b = y[i]; out[i] = c[i] != 0 ? a : b }
        case (1, 1, 0): let b = y[0]; for i in 0..<n { let a = x[i]; out[i] = c[i] != 0 ? a : b }
        case (1, 0, 1): let a = x[0]; for i in 0..<n { let b = y[i]; out[i] = c[i] != 0 ? a : b }
        case (1, 0, 0): let a = x[0], b = y[0]; for i in 0..<n { out[i] = c[i] != 0 ? a : b }
        default: for i in 0..<n { let a = x[i * sx], b = y[i * sy]; out[i] = c[i * sc] != 0 ? a : b }
        }
    }

    /// x limited to [lo, hi] (either bound may be nil), as NumPy's clip and PyTorch's
    /// clamp: min(max(x, lo), hi), so lo > hi gives hi everywhere, and NaN stays NaN.
    /// Gradient (PyTorch's clamp): g where lo <= x <= hi, the bounds included, else 0.
    public func clipped(lo: Float?, hi: Float?) throws -> Tensor {
        if lo == nil && hi == nil { return self }
        let (bounded, inside) = try Tape.paused {
            var bounded = self, inside = try Tensor.full(1, [])
            if let lo {
                bounded = try Tensor.binary(.maximum, bounded, scalar: lo)
                inside = try inside * Tensor.binary(.greaterEqual, self, scalar: lo)
            }
            if let hi {
                bounded = try Tensor.binary(.minimum, bounded, scalar: hi)
                inside = try inside * Tensor.binary(.lessEqual, self, scalar: hi)
            }
            return (bounded, inside)
        }
        return try Tensor.select(inside, self, bounded)
    }
}
