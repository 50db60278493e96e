/// A directional finite-difference check of the tape's gradients, for tests: with
/// L(x) = sum(f(x) * W) for fixed random weights W, it compares the tape's directional
/// derivative sum_i <dL/dx_i, v_i> along a fixed random direction v with the central
/// difference (L(x + h v) - L(x - h v)) / 2h, L summed in double precision. Returns
/// |analytic - numeric| / max(|analytic|, |numeric|) (0 when both are 0). In float32 a
/// step near 3e-3 balances rounding against curvature: errors below 1e-2 are agreement.
public enum GradientCheck {
    public static func relativeError(_ inputs: [Tensor], step: Double = 3e-3, seed: UInt64 = 1,
                                     _ f: ([Tensor]) throws -> Tensor) throws -> Double {
        var random = RandomGenerator(seed: seed)
        let tape = Tape()
        let leaves = try inputs.map { try $0.copy() }
        for leaf in leaves { tape.watch(leaf) }
        let output = try tape.activate { try f(leaves) }
        let weights = try Tensor.randn(output.shape, using: &random)
        let gradients = try tape.backward(from: output, seed: weights)
        let directions = try inputs.map { try Tensor.randn($0.shape, using: &random) }
        var analytic = 0.0
        for (leaf, v) in zip(leaves, directions) {
            let g = try Tape.gradient(leaf, in: gradients).values
            for (a, b) in zip(g, v.values) { analytic += Double(a) * Double(b) }
        }
        func loss(_ sign: Double) throws -> Double {
            let moved = try zip(inputs, directions).map { x, v in
                try Tensor.binary(.add, x, Tensor.binary(.multiply, v, scalar: Float(sign * step)))
            }
            let values = try f(moved).values
            return zip(values, weights.values).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        let numeric = (try loss(1) - loss(-1)) / (2 * step)
        let scale = max(abs(analytic), abs(numeric))
        return scale == 0 ? 0 : abs(analytic - numeric) / scale
    }

    /// The gradient of sum(f(x)) with respect to x, from a tape of its own. Inside another
    /// tape's recording, that tape records this backward pass too, so the result can be
    /// differentiated in turn (gradients of gradients).
    public static func gradient(_ x: Tensor, _ f: (Tensor) throws -> Tensor) throws -> Tensor {
        let tape = Tape()
        let leaf = try x.copy()
        tape.watch(leaf)
        let y = try tape.activate { try f(leaf).reduce(.sum) }
        return try Tape.gradient(leaf, in: tape.backward(from: y))
    }
}
