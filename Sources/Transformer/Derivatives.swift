import CKernels
import Tensor

/// The fused rules of the Transformer's own kernels (the tensor primitives' rules are in
/// Sources/Tensor/Autograd/Derivatives.swift). Each is recorded as one node by its
/// forward, which saves what the rule reads.
enum TransformerDerivative {
    /// y = gamma * xhat + beta with xhat = (x - mean) * rstd per row, from the saved row
    /// statistics `mean` and `rstd` (= 1 / sqrt(var + eps)), both [..., 1]:
    ///
    ///     dgamma = sum over rows of g * xhat        dbeta = sum over rows of g
    ///     dxhat = g * gamma
    ///     dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))   (means along the row)
    ///
    /// dx and g * xhat come from one kernel (tx_layernorm_backward_rows: two passes over
    /// each row), dgamma and dbeta are column sums of g * xhat and g.
    static func layerNorm(_ x: Tensor, gamma: Tensor, mean: Tensor, rstd: Tensor, _ g: Tensor,
                          needs: (x: Bool, gamma: Bool, beta: Bool)) throws -> [Tensor?] {
        let d = x.shape.last ?? 0, count = d == 0 ? 0 : x.count / d
        if count > 0 {
            let xc = try x.contiguous(), gc = try g.contiguous(), w = try gamma.contiguous()
            let m = try mean.contiguous(), s = try rstd.contiguous()
            let dx = try Tensor(uninitializedShape: x.shape), gxhat = try Tensor(uninitializedShape: [count, d])
            if tx_layernorm_backward_rows(xc.storage.pointer + xc.offset, gc.storage.pointer + gc.offset,
                                          dx.storage.pointer, gxhat.storage.pointer, count, d,
                                          w.storage.pointer + w.offset, m.storage.pointer + m.offset,
                                          s.storage.pointer + s.offset) != 0 {
                try Interrupt.check()
            }
            let dgamma = needs.gamma ? try gxhat.reduce(.sum, axes: [0]) : nil
            let dbeta = needs.beta ? try gc.reshaped([count, d]).reduce(.sum, axes: [0]) : nil
            return [needs.x ? dx : nil, dgamma, dbeta]
        }
        let rows = Array(0..<(x.rank - 1))
        let xhat = try (x - mean) * rstd
        let dgamma = needs.gamma ? try (g * xhat).reduce(.sum, axes: rows) : nil
        let dbeta = needs.beta ? try g.reduce(.sum, axes: rows) : nil
        var dx: Tensor? = nil
        if needs.x {
            let dxhat = try g * gamma
            let centered = try dxhat - dxhat.reduce(.mean, axes: [-1], keepdims: true)
            dx = try rstd * (centered - xhat * (dxhat * xhat).reduce(.mean, axes: [-1], keepdims: true))
        }
        return [dx, dgamma, dbeta]
    }

    /// y = act(z) with z = x @ W + b, x [..., d_in] seen as rows [r, d_in], from the saved
    /// pre-activation z:
    ///
    ///     dz = g * act'(z)     dx = dz @ W'     dW = x' @ dz     db = sum over rows of dz
    ///
    /// (ReLU's dz in one pass: y > 0 ? g : 0, as PyTorch's threshold_backward.)
    static func affine(_ x: Tensor, _ W: Tensor, _ b: Tensor?, activation: Activation?, z: Tensor, y: Tensor,
                       _ g: Tensor, needs: (x: Bool, W: Bool, b: Bool)) throws -> [Tensor?] {
        let dIn = W.shape[0], dOut = W.shape[1]
        let dz: Tensor
        if activation == .relu && y.count > 0 {
            // One pass: y > 0 ? g : 0.
            let gc = try g.contiguous(), yc = try y.contiguous()
            dz = try Tensor(uninitializedShape: y.shape)
            if tx_relu_backward(gc.storage.pointer + gc.offset, yc.storage.pointer + yc.offset, dz.storage.pointer,
                                y.count) != 0 {
                try Interrupt.check()
            }
        } else {
            dz = try activation.map { try Derivative.map($0.operation, z, y, g) ?? Tensor.zeros(g.shape) } ?? g
        }
        let rows = dIn == 0 ? z.count / Swift.max(dOut, 1) : x.count / dIn
        let dz2 = try dz.reshaped([rows, dOut]), x2 = try x.reshaped([rows, dIn])
        let dx = needs.x ? try dz2.matmul(W.swappingLastAxes()).reshaped(x.shape) : nil
        let dW = needs.W ? try x2.swappingLastAxes().matmul(dz2) : nil
        let db = needs.b ? try dz2.reduce(.sum, axes: [0]) : nil
        return b == nil ? [dx, dW] : [dx, dW, db]
    }
}

extension Activation {
    /// The elementwise function of the same name.
    var operation: UnaryOp { self == .relu ? .relu : .gelu }
}

extension Attention {
    /// Attention while `tape` tracks Q, K, V or the mask, recorded as one node: the
    /// forward keeps each row's logsumexp, and the node's backward is FlashAttention-2's
    /// (`backward`), which recomputes the weights block by block. The mask is a constant
    /// to it; a mask the tape tracks (a learned bias) takes the formula's path, whose
    /// n_q x n_k scores give it a gradient. So does a nested tape (`Tape.isNested`, a
    /// gradient of a gradient), as layer norm and affine do: the fused backward is not
    /// made of recorded operations, so its own gradient could not be taken.
    static func recordedAttention(queries q: Tensor, keys k: Tensor, values v: Tensor, mask: Tensor?, causal: Bool,
                                  scale: Float?, on tape: Tape) throws -> Tensor {
        if tape.isNested || mask.map(tape.tracks) == true {
            return try recordedAttention(queries: q, keys: k, values: v, mask: mask, causal: causal, scale: scale)
        }
        let (output, logsumexp) = try Tape.paused {
            try attentionWithStatistics(queries: q, keys: k, values: v, mask: mask, causal: causal, scale: scale)
        }
        let needs = (tape.tracks(q), tape.tracks(k), tape.tracks(v))
        tape.record("attention", output: output, inputs: [q, k, v]) { g in
            let d = try backward(queries: q, keys: k, values: v, mask: mask, causal: causal, scale: scale,
                                 output: output, logsumexp: logsumexp, outputGradient: g)
            return [needs.0 ? d.queries : nil, needs.1 ? d.keys : nil, needs.2 ? d.values : nil]
        }
        return output
    }

    /// The formula softmax(Q K' * scale + mask) V built from recorded tensor operations,
    /// so that the gradient flows through their rules (and the n_q x n_k weights are in
    /// memory): the weights' path under a tape (with `values` nil, the weights), and
    /// attention's when the tape tracks the mask or is nested.
    static func recordedAttention(queries q: Tensor, keys k: Tensor, values v: Tensor?, mask: Tensor?,
                                  causal: Bool, scale: Float?) throws -> Tensor {
        let dk = q.shape.last ?? 1, nq = q.shape.dropLast().last ?? 1, nk = k.shape.dropLast().last ?? 1
        var scores = try q.matmul(k.swappingLastAxes()) * (scale ?? 1 / Float(dk).squareRoot())   // [..., n_q, n_k]
        if let mask { scores = try scores + mask }
        if causal { scores = try scores + Tensor.full(-.infinity, [nq, nk]).triu(k: 1) }         // keys j <= i
        let weights = try scores.softmax(axis: -1)
        guard let v else { return weights }
        return try weights.matmul(v)                                                               // [..., n_q, d_v]
    }

    /// Whether the active tape tracks one of the operands.
    static func isTracked(_ tensors: Tensor?...) throws -> Bool {
        try Tape.tracking(tensors.compactMap { $0 }) != nil
    }
}
