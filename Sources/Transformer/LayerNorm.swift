import CKernels
import Tensor

extension Tensor {
    /// Layer normalisation over the last axis, as PyTorch's `nn.LayerNorm`: each row is
    /// shifted to mean 0 and scaled to variance 1 (biased variance), then multiplied by
    /// `gamma` and shifted by `beta` (both `[d]`).
    public func layerNormalized(gamma: Tensor, beta: Tensor, eps: Float = 1e-5) throws -> Tensor {
        guard let d = shape.last else {
            throw TensorError.shape(in: "layernorm", "x must have at least one axis, got a 0-d tensor")
        }
        guard gamma.shape == [d], beta.shape == [d] else {
            throw TensorError.shape(in: "layernorm", "x is \(describe(shape: shape)), so gamma and beta must be [\(d)], got \(describe(shape: gamma.shape)) and \(describe(shape: beta.shape))")
                .blaming(gamma.shape == [d] ? "beta" : "gamma")
        }
        if let tape = try Tape.tracking([self, gamma, beta]), tape.isNested {
            // Its gradient will be differentiated: the formula, from recorded primitives.
            let centered = try self - reduce(.mean, axes: [-1], keepdims: true)
            let variance = try (centered * centered).reduce(.mean, axes: [-1], keepdims: true)
            return try Tensor.binary(.add, centered / (variance + eps).map(.sqrt) * gamma, beta)
        }
        if let tape = try Tape.tracking([self, gamma, beta]) {
            // One node; the backward reads the saved row mean and 1/std.
            let needs = (tape.tracks(self), tape.tracks(gamma), tape.tracks(beta))
            let (y, mean, rstd) = try Tape.paused {
                let y = try layerNormalized(gamma: gamma, beta: beta, eps: eps)
                let mean = try reduce(.mean, axes: [-1], keepdims: true)
                let variance = try reduce(.variance(ddof: 0), axes: [-1], keepdims: true)
                return (y, mean, try Tensor.binary(.divide, scalar: 1, (variance + eps).map(.sqrt)))
            }
            tape.record("layernorm", output: y, inputs: [self, gamma, beta]) { g in
                try TransformerDerivative.layerNorm(self, gamma: gamma, mean: mean, rstd: rstd, g, needs: needs)
            }
            return y
        }
        let input = try contiguous(), g = try gamma.contiguous(), b = try beta.contiguous()
        let result = try Tensor(uninitializedShape: shape)
        let rows = d == 0 ? 0 : count / d
        let source = input.storage.pointer + input.offset
        let gp = g.storage.pointer + g.offset, bp = b.storage.pointer + b.offset
        // Mean and variance in double: rows of 1e20 or of 1e-23 neither overflow nor
        // vanish before the square root.
        if rows > 0 && tx_layernorm_rows(source, result.storage.pointer, rows, d, gp, bp, eps) != 0 {
            try Interrupt.check()
        }
        return result
    }
}
