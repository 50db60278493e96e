import CKernels
import Glibc

/// The derivative of every differentiable tensor primitive, one rule per primitive, in the
/// manner of PyTorch's derivatives.yaml and tinygrad's gradient.py: each takes the
/// forward's inputs and output and the gradient `g` of the output, and gives the
/// gradients of the inputs (nil: none, for an input that is not differentiated, an
/// index, or an input the tape does not track). The forwards record these with
/// `Tape.recording` (see Elementwise.swift, Reductions.swift, ShapeOps.swift,
/// Indexing.swift, MatMul.swift). The rules run with recording paused, on tensor
/// operations, so they check for Ctrl-C as the forward's do.
///
/// Conventions that follow PyTorch: a gradient reaching a broadcast operand is summed
/// over the broadcast axes; maximum/minimum of two equal values give each half;
/// max/min reductions share the gradient evenly among tied maxima (amax); relu'(0) = 0;
/// abs'(0) = 0; floor, ceil, round and // have gradient 0; x ^ 0 passes 0 to x; std and
/// norm pass 0 where they are 0 (sqrt at 0 gives inf, as the math does).
public enum Derivative {
    // MARK: Broadcasting

    /// `g` summed over the axes along which `shape` was broadcast to `g`'s shape.
    public static func unbroadcast(_ g: Tensor, to shape: [Int]) throws -> Tensor {
        if g.shape == shape { return g }
        let extra = g.rank - shape.count
        var axes = Array(0..<extra)
        for (i, size) in shape.enumerated() where size == 1 && g.shape[extra + i] != 1 { axes.append(extra + i) }
        let summed = axes.isEmpty ? g : try g.reduce(.sum, axes: axes, keepdims: true)
        return try summed.reshaped(shape)
    }

    // MARK: Elementwise

    /// a op b (after broadcasting): the gradients of a and b, summed back to their shapes.
    static func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ out: Tensor, _ g: Tensor,
                       needA: Bool, needB: Bool) throws -> (Tensor?, Tensor?) {
        var da: Tensor? = nil, db: Tensor? = nil
        switch op {
        case .add:
            da = g
            db = g
        case .subtract:
            da = g
            if needB { db = try -g }
        case .multiply:
            if needA { da = try g * b }
            if needB { db = try g * a }
        case .divide:
            if needA { da = try g / b }                                  // d(a/b)/da = 1/b
            if needB { db = try -(g * out / b) }                         // d(a/b)/db = -a/b^2
        case .power:
            // d(a^b)/da = b a^(b-1), and 0 where b = 0 (as PyTorch);
            // d(a^b)/db = a^b log(a), and 0 where a = 0 and b >= 0.
            if needA { da = try Tensor.select(b .== 0, zero(), g * b * Tensor.binary(.power, a, b - 1)) }
            if needB { db = try Tensor.select((a .== 0) * (b .>= 0), zero(), g * out * a.map(.log)) }
        case .modulo:
            // a mod b = a - b floor(a/b)
            da = g
            if needB { db = try -(g * Tensor.binary(.floorDivide, a, b)) }
        case .maximum, .minimum:
            // The winner takes the gradient; equal values share it (PyTorch).
            let wins = try op == .maximum ? a .> b : a .< b
            let share = try wins + (a .== b) * 0.5
            if needA { da = try g * share }
            if needB { db = try g * (1 - share) }
        case .floorDivide, .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual:
            break   // piecewise constant: gradient 0
        }
        return (try da.map { try unbroadcast($0, to: a.shape) }, try db.map { try unbroadcast($0, to: b.shape) })
    }

    /// y = f(x) elementwise.
    public static func map(_ op: UnaryOp, _ x: Tensor, _ y: Tensor, _ g: Tensor) throws -> Tensor? {
        switch op {
        case .negate: return try -g
        case .exp: return try g * y                                      // exp' = exp
        case .log: return try g / x                                      // log' = 1/x
        case .sqrt: return try g / (y * 2)                               // sqrt' = 1/(2 sqrt x)
        case .abs: return try g * ((x .> 0) - (x .< 0))                  // sign(x), 0 at 0
        case .tanh: return try g * (1 - y * y)                           // tanh' = 1 - tanh^2
        case .sin: return try g * x.map(.cos)
        case .cos: return try -(g * x.map(.sin))
        case .sigmoid: return try g * y * (1 - y)                        // s' = s (1 - s)
        case .relu: return try g * (y .> 0)                              // 0 at 0
        case .gelu: return try g * geluSlope(x)
        case .floor, .ceil, .round, .not: return nil                     // piecewise constant
        }
    }

    /// The derivative of the exact GELU x Phi(x): Phi(x) + x phi(x), phi the normal density.
    /// Itself differentiable (for a gradient of a gradient): its derivative is
    /// phi(x) (2 - x^2).
    static func geluSlope(_ x: Tensor) throws -> Tensor {
        if let tape = try Tape.tracking(x) {
            return try tape.recording("gelu'", inputs: [x], forward: { try geluSlope(x) }) { g, _ in
                let phi = try (x * x * -0.5).map(.exp) * 0.39894228040143268
                return [try g * phi * (2 - x * x)]
            }
        }
        let input = try x.contiguous()
        let result = try Tensor(uninitializedShape: x.shape)
        tx_gelu_slope(input.storage.pointer + input.offset, result.storage.pointer, result.count)   // polls for Ctrl-C itself
        try Interrupt.check()
        return result
    }

    /// where(c, a, b): the gradient goes to a where c holds, to b elsewhere.
    static func select(_ c: Tensor, _ a: Tensor, _ b: Tensor, _ g: Tensor, needA: Bool, needB: Bool) throws -> (Tensor?, Tensor?) {
        let da = needA ? try unbroadcast(Tensor.select(c, g, zero()), to: a.shape) : nil
        let db = needB ? try unbroadcast(Tensor.select(c, zero(), g), to: b.shape) : nil
        return (da, db)
    }

    // MARK: Reductions

    /// y = reduce(x) over `axes` (normalised); g and y have the reduced shape (with or
    /// without kept axes).
    static func reduce(_ reduction: Reduction, _ x: Tensor, axes: [Int], _ y: Tensor, _ g: Tensor) throws -> Tensor? {
        let kept = x.shape.indices.map { axes.contains($0) ? 1 : x.shape[$0] }
        let g = try g.reshaped(kept), y = try y.reshaped(kept)
        let n = axes.reduce(1) { $0 * x.shape[$1] }
        switch reduction {
        case .sum:
            return try g.broadcast(to: x.shape)
        case .mean:
            return try (g / Float(n)).broadcast(to: x.shape)
        case .max, .min:
            // Shared evenly among the elements equal to the result (PyTorch's amax).
            let hits = try x .== y
            return try g * hits / hits.reduce(.sum, axes: axes, keepdims: true)
        case .logsumexp:
            return try g * (x - y).map(.exp)                              // softmax(x)
        case .variance(let ddof):
            let centered = try x - x.reduce(.mean, axes: axes, keepdims: true)
            return try g * centered * (2 / Float(Swift.max(n - ddof, 0)))
        case .standardDeviation(let ddof):
            // d std = (x - mean) / ((n - ddof) std), 0 where std is 0 (PyTorch).
            let centered = try x - x.reduce(.mean, axes: axes, keepdims: true)
            let slope = try centered / (y * Float(Swift.max(n - ddof, 0)))
            return try Tensor.select(y .== 0, zero(), g * slope)
        case .argmax, .argmin:
            return nil
        }
    }

    /// y = sqrt(sum(x^2)) over `axes`: x / y, 0 where y is 0 (PyTorch).
    static func norm(_ x: Tensor, axes: [Int], _ y: Tensor, _ g: Tensor) throws -> Tensor {
        let kept = x.shape.indices.map { axes.contains($0) ? 1 : x.shape[$0] }
        let g = try g.reshaped(kept), y = try y.reshaped(kept)
        return try Tensor.select(y .== 0, zero(), g * x / y)
    }

    /// y = softmax(x) along `axis`: y (g - sum(g y)). (A 0-d x is one row of one
    /// element: y is constant.)
    static func softmax(_ y: Tensor, axis: Int, _ g: Tensor) throws -> Tensor {
        if y.rank == 0 { return try g * 0 }
        return try y * (g - (g * y).reduce(.sum, axes: [axis], keepdims: true))
    }

    // MARK: Products

    /// c = a @ b with NumPy's promotion of 1-D operands and broadcast batch axes:
    /// da = g b', db = a' g (transposes are views: sgemm's transpose flags), summed over
    /// the batch axes an operand was broadcast along.
    static func matmul(_ a: Tensor, _ b: Tensor, _ g: Tensor, needA: Bool, needB: Bool) throws -> (Tensor?, Tensor?) {
        let left = a.rank == 1 ? try a.unsqueezed(axis: 0) : a
        let right = b.rank == 1 ? try b.unsqueezed(axis: -1) : b
        let m = left.shape[left.rank - 2], n = right.shape[right.rank - 1]
        let batch = Tensor.broadcastShape(Array(left.shape.dropLast(2)), Array(right.shape.dropLast(2))) ?? []
        let g = try g.reshaped(batch + [m, n])
        let da = needA ? try unbroadcast(g.matmul(right.swappingLastAxes()), to: left.shape).reshaped(a.shape) : nil
        guard needB else { return (da, nil) }
        if right.rank == 2 && left.rank > 2 {
            // A stack of rows against one matrix (x @ W): db = rows' @ g in one product,
            // rather than a product per batch item and a sum.
            let k = left.shape[left.rank - 1]
            let rows = try left.reshaped([-1, k]), gRows = try g.reshaped([-1, n])
            return (da, try rows.swappingLastAxes().matmul(gRows).reshaped(b.shape))
        }
        return (da, try unbroadcast(left.swappingLastAxes().matmul(g), to: right.shape).reshaped(b.shape))
    }

    // MARK: Shapes and indexing

    /// The gradient of a view or gather `x[items]`: g put back where the items took it
    /// from, zeros elsewhere; a gather adds the gradients of repeated indices.
    static func subscripted(_ x: Tensor, _ items: [TensorIndex], _ g: Tensor) throws -> Tensor {
        let gx = try Tensor.zeros(x.shape)
        if items.count == 1, case .mask = items[0] {
            try gx.assign(items, g)
            return gx
        }
        let (view, gather) = try gx.basicView(items)
        guard let (axis, ids) = gather else {
            try gx.assign(items, g)
            return gx
        }
        let block = try scatterAdd(g, shape: view.shape, axis: axis, ids: ids)
        let whole = items.map { item -> TensorIndex in
            if case .gather = item { return .slice(start: nil, stop: nil, step: nil) }
            return item
        }
        try gx.assign(whole, block)
        return gx
    }

    /// The inverse of a gather along `axis`: g's slices added into a tensor of `shape` at
    /// the positions `ids` name (repeated ids add up). Differentiable: its derivative is
    /// the gather.
    static func scatterAdd(_ g: Tensor, shape: [Int], axis: Int, ids: Tensor) throws -> Tensor {
        if let tape = try Tape.tracking(g) {
            return try tape.recording("scatter-add", inputs: [g], forward: { try scatterAdd(g, shape: shape, axis: axis, ids: ids) }) { gb, _ in
                let items = [TensorIndex](repeating: .slice(start: nil, stop: nil, step: nil), count: axis) + [.gather(ids)]
                return [try gb.subscripted(items)]
            }
        }
        let size = shape[axis]
        let picked = try Tensor.positions(ids, size: size, axis: axis)
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        let block = try Tensor.zeros(shape)
        let source = try g.contiguous()
        let from = source.storage.pointer + source.offset, to = block.storage.pointer
        for o in 0..<outer {
            if o & 1023 == 1023 { try Interrupt.check() }
            for (k, p) in picked.enumerated() {
                let src = from + (o * picked.count + k) * inner, dst = to + (o * size + p) * inner
                for i in 0..<inner { dst[i] += src[i] }
            }
        }
        return block
    }

    /// The gradient of `parts` equal views along `axis`: g in the part's place, zeros elsewhere.
    static func part(_ x: Tensor, index: Int, parts: Int, axis: Int, _ g: Tensor) throws -> Tensor {
        let gx = try Tensor.zeros(x.shape)
        let size = x.shape[axis] / parts
        var items = [TensorIndex](repeating: .slice(start: nil, stop: nil, step: nil), count: axis)
        items.append(.slice(start: index * size, stop: (index + 1) * size, step: nil))
        try gx.assign(items, g)
        return gx
    }

    /// concat(xs, axis): each input's slice of g.
    static func concat(_ xs: [Tensor], axis: Int, _ g: Tensor) throws -> [Tensor?] {
        var start = 0
        return try xs.map { x in
            var items = [TensorIndex](repeating: .slice(start: nil, stop: nil, step: nil), count: axis)
            items.append(.slice(start: start, stop: start + x.shape[axis], step: nil))
            start += x.shape[axis]
            return try g.subscripted(items)
        }
    }

    /// cumsum(x, axis): the reverse running sum of g, flip(cumsum(flip(g))), written
    /// with recorded operations so that it is differentiated in turn.
    static func cumsum(_ g: Tensor, axis: Int) throws -> Tensor {
        if g.rank == 0 { return g }
        return try g.flipped(axes: [axis]).cumsum(axis: axis).flipped(axes: [axis])
    }

    /// sort(x, axis), the entries of each line moved by `order`: g moved back, by the
    /// inverse permutation (the scatter of g by `order`).
    static func sort(_ g: Tensor, axis: Int, order: Tensor) throws -> Tensor {
        try g.permuted(along: axis, by: try Tensor.inversePermutation(order, axis: axis))
    }

    /// The inverse of a permutation of axes.
    static func inverse(_ axes: [Int]) -> [Int] {
        var inverse = [Int](repeating: 0, count: axes.count)
        for (i, a) in axes.enumerated() { inverse[a] = i }
        return inverse
    }

    /// A 0-d zero(), for `where`.
    static func zero() throws -> Tensor { try Tensor(scalar: 0) }
}

// The rules read as the math: throwing elementwise operators with broadcasting (the
// comparisons, SIMD's dotted operators, give 0/1 tensors and are for the rules only).

extension Tensor {
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try binary(.multiply, a, b) }
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try binary(.subtract, a, b) }
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try binary(.divide, a, b) }
    public static func * (a: Tensor, b: Float) throws -> Tensor { try binary(.multiply, a, scalar: b) }
    public static func + (a: Tensor, b: Float) throws -> Tensor { try binary(.add, a, scalar: b) }
    public static func - (a: Tensor, b: Float) throws -> Tensor { try binary(.subtract, a, scalar: b) }
    public static func - (a: Float, b: Tensor) throws -> Tensor { try binary(.subtract, scalar: a, b) }
    public static prefix func - (a: Tensor) throws -> Tensor { try a.map(.negate) }
    static func .== (a: Tensor, b: Tensor) throws -> Tensor { try binary(.equal, a, b) }
    static func .== (a: Tensor, b: Float) throws -> Tensor { try binary(.equal, a, scalar: b) }
    static func .>= (a: Tensor, b: Float) throws -> Tensor { try binary(.greaterEqual, a, scalar: b) }
    static func .> (a: Tensor, b: Tensor) throws -> Tensor { try binary(.greater, a, b) }
    static func .> (a: Tensor, b: Float) throws -> Tensor { try binary(.greater, a, scalar: b) }
    static func .< (a: Tensor, b: Tensor) throws -> Tensor { try binary(.less, a, b) }
    static func .< (a: Tensor, b: Float) throws -> Tensor { try binary(.less, a, scalar: b) }
}
