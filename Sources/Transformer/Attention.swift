import CKernels
import COpenBLAS
import Glibc
import Tensor

/// Scaled dot-product attention, softmax(Q K^T / sqrt(d_k) + mask) V.
///
/// Tensors are `[..., n, d]`; leading (batch) axes broadcast against each other and
/// against the mask's. The kernel walks the queries in blocks of rows, so attention
/// that returns no weights needs O(block x n_k) extra memory rather than n_q x n_k:
/// for each block, one sgemm makes the scores (K enters through the transpose flag),
/// one fused pass adds the mask, applies the causal cut and exponentiates, one sgemm
/// multiplies by V, and the output rows are divided by the row sums at the end (n x d_v
/// divisions instead of n x n_k).
public enum Attention {
    /// Floats of score buffer per block (TX_ATTENTION_BLOCK overrides, for tuning).
    static let blockElements: Int = {
        if let text = getenv("TX_ATTENTION_BLOCK"), let n = Int(String(cString: text)), n > 0 { return n }
        return 8 << 20
    }()

    /// softmax(Q K^T * scale + mask) V; `scale` defaults to 1/sqrt(d_k).
    public static func attention(queries: Tensor, keys: Tensor, values: Tensor, mask: Tensor? = nil,
                                 causal: Bool = false, scale: Float? = nil) throws -> Tensor {
        let plan = try Plan(queries: queries, keys: keys, values: values, mask: mask, name: "attention")
        let output = try Tensor(uninitializedShape: plan.batchShape + [plan.nq, plan.dv])
        try run(plan, causal: causal, scale: scale, output: output, weights: nil)
        return output
    }

    /// Attention written into `output`, a `[batch..., n_q, d_v]` view whose last axis is
    /// contiguous (multi-head attention passes a head-interleaved view of its result).
    public static func attention(queries: Tensor, keys: Tensor, values: Tensor, mask: Tensor?, causal: Bool,
                                 scale: Float?, into output: Tensor) throws {
        let plan = try Plan(queries: queries, keys: keys, values: values, mask: mask, name: "attention")
        guard output.shape == plan.batchShape + [plan.nq, plan.dv], output.strides.last == 1 || plan.dv <= 1 else {
            throw TensorError.shape("shape mismatch in attention: output must be \(describe(shape: plan.batchShape + [plan.nq, plan.dv]))")
        }
        try run(plan, causal: causal, scale: scale, output: output, weights: nil)
    }

    /// The weights alpha = softmax(Q K^T / sqrt(d_k) + mask), `[..., n_q, n_k]`.
    public static func weights(queries: Tensor, keys: Tensor, mask: Tensor? = nil, causal: Bool = false,
                               scale: Float? = nil) throws -> Tensor {
        let plan = try Plan(queries: queries, keys: keys, values: nil, mask: mask, name: "attention_weights")
        let weights = try Tensor(uninitializedShape: plan.batchShape + [plan.nq, plan.nk])
        try run(plan, causal: causal, scale: scale, output: nil, weights: weights)
        return weights
    }

    /// Shapes, broadcast batch axes and the 2-D matrices' strides, checked once.
    struct Plan {
        let batchShape: [Int]
        let nq, nk, dk, dv: Int
        let q, k: Tensor
        let v: Tensor?
        let mask: Tensor?
        let qBatch, kBatch, vBatch, maskBatch: [Int]     // strides over batchShape (0 = broadcast)

        init(queries: Tensor, keys: Tensor, values: Tensor?, mask: Tensor?, name: String) throws {
            func matrix(_ t: Tensor, _ role: String) throws -> Tensor {
                guard t.rank >= 2 else {
                    throw TensorError.shape("shape mismatch in \(name): \(role) must be [..., n, d], got \(describe(shape: t.shape))")
                }
                // BLAS needs unit stride along rows; other layouts are copied once.
                return t.strides[t.rank - 1] == 1 || t.shape[t.rank - 1] <= 1 ? t : try t.contiguous()
            }
            q = try matrix(queries, "Q")
            k = try matrix(keys, "K")
            v = try values.map { try matrix($0, "V") }
            nq = q.shape[q.rank - 2]
            dk = q.shape[q.rank - 1]
            nk = k.shape[k.rank - 2]
            guard k.shape[k.rank - 1] == dk else {
                throw TensorError.shape("shape mismatch in \(name): Q is \(describe(shape: q.shape)) and K is \(describe(shape: k.shape)) (query and key sizes \(dk) and \(k.shape[k.rank - 1]) differ)")
            }
            if let v, v.shape[v.rank - 2] != nk {
                throw TensorError.shape("shape mismatch in \(name): K is \(describe(shape: k.shape)) and V is \(describe(shape: v.shape)) (\(nk) keys but \(v.shape[v.rank - 2]) values)")
            }
            dv = v.map { $0.shape[$0.rank - 1] } ?? 0
            var batch = Array(q.shape.dropLast(2))
            for other in [k, v].compactMap({ $0 }) {
                guard let b = Tensor.broadcastShape(batch, Array(other.shape.dropLast(2))) else {
                    throw TensorError.shape("shape mismatch in \(name): batch axes of \(describe(shape: q.shape)), \(describe(shape: k.shape))\(v.map { " and " + describe(shape: $0.shape) } ?? "") cannot broadcast")
                }
                batch = b
            }
            var maskView: Tensor? = nil
            if let mask {
                let m = mask.rank < 2 ? try mask.reshaped(Array(repeating: 1, count: 2 - mask.rank) + mask.shape) : mask
                let lastTwo = Array(m.shape.suffix(2))
                guard (lastTwo[0] == nq || lastTwo[0] == 1), (lastTwo[1] == nk || lastTwo[1] == 1),
                      let b = Tensor.broadcastShape(batch, Array(m.shape.dropLast(2))) else {
                    throw TensorError.shape("shape mismatch in \(name): the mask \(describe(shape: mask.shape)) does not broadcast to the scores \(describe(shape: batch + [nq, nk]))")
                }
                batch = b
                maskView = m
            }
            batchShape = batch
            self.mask = maskView
            func batchStrides(_ t: Tensor) -> [Int] {
                let extra = batch.count - (t.rank - 2)
                return batch.indices.map { axis in
                    let own = axis - extra
                    return own < 0 || t.shape[own] == 1 ? 0 : t.strides[own]
                }
            }
            qBatch = batchStrides(q)
            kBatch = batchStrides(k)
            vBatch = v.map(batchStrides) ?? []
            maskBatch = maskView.map(batchStrides) ?? []
        }

        var batchCount: Int { batchShape.reduce(1, *) }

        /// Element offsets of batch item `index` for each operand.
        func offsets(_ index: Int, _ strides: [Int]) -> Int {
            var rest = index, offset = 0
            for axis in stride(from: batchShape.count - 1, through: 0, by: -1) {
                let size = batchShape[axis]
                offset += (rest % size) * strides[axis]
                rest /= size
            }
            return offset
        }
    }

    static func run(_ plan: Plan, causal: Bool, scale: Float?, output: Tensor?, weights: Tensor?) throws {
        let nq = plan.nq, nk = plan.nk, dk = plan.dk, dv = plan.dv
        let alpha = scale ?? 1 / Float(dk).squareRoot()
        if nq == 0 || plan.batchCount == 0 { return }
        let outputBatch: [Int] = output.map { o in Array(o.strides.dropLast(2)) } ?? []
        let outputRowStride = output.map { $0.strides[$0.rank - 2] } ?? 0
        let blockRows = weights != nil ? nq : max(1, min(nq, blockElements / max(nk, 1)))
        // With weights wanted, the result itself is the score buffer.
        let buffer: UnsafeMutablePointer<Float>? = weights == nil ? .allocate(capacity: max(1, blockRows * nk)) : nil
        defer { buffer?.deallocate() }
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: max(1, blockRows))
        defer { sums.deallocate() }
        let threads = Int32(max(1, min(2, BLAS.threads)))

        let q = plan.q, k = plan.k
        let ldq = q.strides[q.rank - 2], ldk = k.strides[k.rank - 2]
        let mask = plan.mask
        let maskRowStride = mask.map { $0.shape[$0.rank - 2] == 1 ? 0 : $0.strides[$0.rank - 2] } ?? 0
        let maskColStride = mask.map { $0.shape[$0.rank - 1] == 1 ? 0 : $0.strides[$0.rank - 1] } ?? 0

        for b in 0..<plan.batchCount {
            let qBase = q.storage.pointer + q.offset + plan.offsets(b, plan.qBatch)
            let kBase = k.storage.pointer + k.offset + plan.offsets(b, plan.kBatch)
            let maskBase = mask.map { $0.storage.pointer + $0.offset + plan.offsets(b, plan.maskBatch) }
            var row0 = 0
            while row0 < nq {
                try Interrupt.check()
                let rows = min(blockRows, nq - row0)
                // Causal: rows up to row0 + rows - 1 see keys j <= their index only.
                let keys = causal ? min(nk, row0 + rows) : nk
                let scores: UnsafeMutablePointer<Float>
                let ld: Int
                if let weights {
                    scores = weights.storage.pointer + b * nq * nk + row0 * nk
                    ld = nk
                } else {
                    scores = buffer ?? sums
                    ld = max(keys, 1)
                }
                if keys > 0 {
                    if dk > 0 {
                        tx_sgemm(0, 1, Int32(rows), Int32(keys), Int32(dk), alpha,
                                 qBase + row0 * ldq, Int32(max(ldq, 1)), kBase, Int32(max(ldk, 1)),
                                 0, scores, Int32(ld))
                    } else {
                        for r in 0..<rows { (scores + r * ld).update(repeating: 0, count: keys) }
                    }
                }
                tx_attention_exp_rows(scores, rows, keys, ld,
                                      maskBase.map { UnsafePointer($0 + row0 * maskRowStride) },
                                      maskRowStride, maskColStride, causal ? 1 : 0, row0, sums, threads)
                if weights != nil {
                    for r in 0..<rows {
                        let row = scores + r * ld
                        if keys < nk { (row + keys).update(repeating: 0, count: nk - keys) }
                        let s = sums[r]
                        if s > 0 {
                            let inverse = 1 / s
                            for j in 0..<keys { row[j] *= inverse }
                        }
                    }
                } else if let output, let v = plan.v {
                    let vBase = v.storage.pointer + v.offset + plan.offsets(b, plan.vBatch)
                    let ldv = v.strides[v.rank - 2]
                    let outBase = output.storage.pointer + output.offset + plan.offsets(b, outputBatch) + row0 * outputRowStride
                    if keys > 0 && dv > 0 {
                        tx_sgemm(0, 0, Int32(rows), Int32(dv), Int32(keys), 1,
                                 scores, Int32(ld), vBase, Int32(max(ldv, 1)), 0, outBase, Int32(max(outputRowStride, 1)))
                    }
                    for r in 0..<rows {
                        let row = outBase + r * outputRowStride
                        let s = sums[r]
                        if s > 0 {
                            let inverse = 1 / s
                            for j in 0..<dv { row[j] *= inverse }
                        } else {
                            row.update(repeating: 0, count: dv)
                        }
                    }
                }
                row0 += rows
            }
        }
    }
}
