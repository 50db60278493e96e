import CKernels
import Glibc
import Tensor

/// act(x @ W + b) in one sgemm and at most one more pass: the output starts as copies
/// of b and BLAS adds the product (beta = 1), so the bias costs no pass of its own (nor
/// does zeroing the output); then the activation, if any, in place. Both passes run on
/// all threads for large outputs. x is `[..., d_in]`, W `[d_in, d_out]`, b `[d_out]` or
/// nil, act an activation or nil.
public func affine(_ x: Tensor, _ W: Tensor, _ b: Tensor?, activation: Activation? = nil,
                   name: String = "linear") throws -> Tensor {
    guard x.rank >= 1, W.rank == 2, let dIn = x.shape.last, W.shape[0] == dIn else {
        throw TensorError.shape(in: "\(name)", "x is \(describe(shape: x.shape)) and W is \(describe(shape: W.shape)) (W must be [d_in, d_out] with d_in the last size of x)")
    }
    let dOut = W.shape[1]
    if let b, b.shape != [dOut] {
        throw TensorError.shape(in: "\(name)", "W is \(describe(shape: W.shape)), so b must be [\(dOut)], got \(describe(shape: b.shape))")
    }
    if let tape = try Tape.tracking([x, W] + (b.map { [$0] } ?? [])), tape.isNested {
        // Its gradient will be differentiated: the formula, from recorded primitives.
        let product = try Tensor.matmul(x, W)
        let z = try b.map { try Tensor.binary(.add, product, $0) } ?? product
        return try activation.map { try z.map($0.operation) } ?? z
    }
    if let tape = try Tape.tracking([x, W] + (b.map { [$0] } ?? [])) {
        // One node; the backward reads the saved pre-activation z.
        let needs = (tape.tracks(x), tape.tracks(W), b.map(tape.tracks) ?? false)
        let (z, y) = try Tape.paused {
            let z = try affine(x, W, b, name: name)
            return (z, try activation.map { try z.map($0.operation) } ?? z)
        }
        tape.record(name, output: y, inputs: [x, W] + (b.map { [$0] } ?? [])) { g in
            try TransformerDerivative.affine(x, W, b, activation: activation, z: z, y: y, g, needs: needs)
        }
        return y
    }
    let input = try x.contiguous()
    let result = try Tensor(uninitializedShape: Array(x.shape.dropLast()) + [dOut])
    let rows = dIn == 0 ? result.count / max(dOut, 1) : input.count / dIn
    guard rows > 0, dOut > 0 else { return result }
    let out = result.storage.pointer
    if let b {
        let bias = try b.contiguous()
        if tx_fill_rows(out, rows, dOut, dOut, bias.storage.pointer + bias.offset) != 0 { try Interrupt.check() }
    } else if dIn == 0 {
        out.update(repeating: 0, count: rows * dOut)
    }
    if dIn > 0 {
        // W may be a transposed view: pass the transpose flag instead of copying.
        let (weights, transposed, ldw): (Tensor, Bool, Int)
        if W.strides[1] == 1 && W.strides[0] >= dOut {
            (weights, transposed, ldw) = (W, false, W.strides[0])
        } else if W.strides[0] == 1 && W.strides[1] >= dIn {
            (weights, transposed, ldw) = (W, true, W.strides[1])
        } else {
            let copy = try W.contiguous()
            (weights, transposed, ldw) = (copy, false, dOut)
        }
        try BLAS.product(transposeA: false, transposeB: transposed, m: rows, n: dOut, k: dIn,
                         a: input.storage.pointer + input.offset, lda: dIn,
                         b: weights.storage.pointer + weights.offset, ldb: ldw, accumulate: b != nil, c: out, ldc: dOut,
                         for: "\(name): x \(describe(shape: x.shape)) @ W \(describe(shape: W.shape))")
    }
    if let activation, tx_activation_rows(out, rows, dOut, dOut, activation.kernelCode) != 0 { try Interrupt.check() }
    return result
}

/// The activations of the feed-forward network: the elementwise builtins of the same
/// names, applied by the same kernels.
public enum Activation: String, Sendable {
    case relu
    /// The exact GELU, x * Phi(x), as PyTorch's default.
    case gelu

    /// The activation's code for the kernels (TX_ACTIVATION_*).
    var kernelCode: Int32 { Int32(self == .relu ? TX_ACTIVATION_RELU : TX_ACTIVATION_GELU) }
}
