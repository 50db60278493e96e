import Glibc
import Tensor

/// x @ W + b in one sgemm: the output starts as copies of b and BLAS adds the product
/// (beta = 1), so the bias costs no extra pass. x is `[..., d_in]`, W `[d_in, d_out]`,
/// b `[d_out]` or nil.
public func affine(_ x: Tensor, _ W: Tensor, _ b: Tensor?, name: String = "linear") throws -> Tensor {
    guard x.rank >= 1, W.rank == 2, let dIn = x.shape.last, W.shape[0] == dIn else {
        throw TensorError.shape("shape mismatch in \(name): x is \(describe(shape: x.shape)) and W is \(describe(shape: W.shape)) (W must be [d_in, d_out] with d_in the last size of x)")
    }
    let dOut = W.shape[1]
    if let b, b.shape != [dOut] {
        throw TensorError.shape("shape mismatch in \(name): W is \(describe(shape: W.shape)), so b must be [\(dOut)], got \(describe(shape: b.shape))")
    }
    let input = try x.contiguous()
    let result = try Tensor(uninitializedShape: Array(x.shape.dropLast()) + [dOut])
    let rows = dIn == 0 ? result.count / max(dOut, 1) : input.count / dIn
    let out = result.storage.pointer
    if let b {
        let bias = try b.contiguous()
        let source = bias.storage.pointer + bias.offset
        for r in 0..<rows { (out + r * dOut).update(from: source, count: dOut) }
    } else {
        out.update(repeating: 0, count: rows * dOut)
    }
    guard rows > 0, dOut > 0, dIn > 0 else { return result }
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
                     b: weights.storage.pointer + weights.offset, ldb: ldw, accumulate: true, c: out, ldc: dOut,
                     for: "\(name): x \(describe(shape: x.shape)) @ W \(describe(shape: W.shape))")
    return result
}

/// The activations of the feed-forward network: the elementwise builtins of the same
/// names, applied by the same kernels.
public enum Activation: String, Sendable {
    case relu
    /// The exact GELU, x * Phi(x), as PyTorch's default.
    case gelu

    /// Applies the activation in place to a tensor tx owns (a fresh result).
    func apply(inPlace t: Tensor) throws {
        try t.mapInPlace(self == .relu ? .relu : .gelu)
    }
}
