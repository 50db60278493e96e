import CKernels
import Tensor

extension Attention {
    /// The gradients of attention with respect to Q, K and V, given the gradient dO of
    /// its output: FlashAttention-2's backward (Dao 2023, Algorithm 2). The forward's
    /// `output` O and `logsumexp` L (from `attentionWithStatistics`) let the kernel
    /// recompute the weights block by block instead of keeping the n_q x n_k matrix:
    ///
    ///     D = rowsum(dO * O)                        [..., n_q]
    ///     P = exp(Q K^T * scale + mask - L)         a block of the weights
    ///     dV = P^T dO
    ///     dP = dO V^T
    ///     dS = P * (dP - D)                         the softmax's backward
    ///     dQ = dS K * scale
    ///     dK = dS^T Q * scale
    ///
    /// The gradients have the shapes of `queries`, `keys` and `values` (summed over the
    /// batch axes they broadcast along). The mask is a constant: it has no gradient. A
    /// query row that sees no key has zero gradients.
    public static func backward(queries: Tensor, keys: Tensor, values: Tensor, mask: Tensor? = nil, causal: Bool = false,
                                scale: Float? = nil, output: Tensor, logsumexp: Tensor, outputGradient: Tensor) throws
        -> (queries: Tensor, keys: Tensor, values: Tensor) {
        try backward(queries: queries, keys: keys, values: values, mask: mask, causal: causal, scale: scale,
                     output: output, logsumexp: logsumexp, outputGradient: outputGradient, kernels: nil).gradients
    }

    /// `backward` on the instruction set named `kernels` ("avx512", "avx2", "generic", or
    /// "avx512-layout": the AVX-512 build's tiles compiled for AVX2; as TX_KERNELS, an
    /// older one when the CPU lacks it), and the name of the set that ran (nil when the
    /// kernel did not run: nothing to compute).
    static func backward(queries: Tensor, keys: Tensor, values: Tensor, mask: Tensor?, causal: Bool, scale: Float?,
                         output: Tensor, logsumexp: Tensor, outputGradient: Tensor, kernels: String?) throws
        -> (gradients: (queries: Tensor, keys: Tensor, values: Tensor), kernels: String?) {
        // sgemm (the generic set's products) wants each matrix's rows at least a row apart:
        // a broadcast row (stride 0) is copied out.
        func rowMajor(_ t: Tensor) throws -> Tensor {
            guard t.rank >= 2 else { return t }
            let rows = t.shape[t.rank - 2], width = t.shape[t.rank - 1]
            let unit = t.strides[t.rank - 1] == 1 || width <= 1, apart = rows <= 1 || t.strides[t.rank - 2] >= width
            return unit && apart ? t : try t.contiguous()
        }
        let plan = try Plan(queries: try rowMajor(queries), keys: try rowMajor(keys), values: try rowMajor(values),
                            mask: mask, name: "attention backward")
        let (nq, nk, dk, dv) = (plan.nq, plan.nk, plan.dk, plan.dv)
        let outputShape = plan.batchShape + [nq, dv]
        guard output.shape == outputShape, outputGradient.shape == outputShape,
              logsumexp.shape == plan.batchShape + [nq] else {
            throw TensorError.shape(in: "attention backward", "the output and its gradient must be \(describe(shape: outputShape)) and the logsumexp \(describe(shape: plan.batchShape + [nq])), got \(describe(shape: output.shape)), \(describe(shape: outputGradient.shape)) and \(describe(shape: logsumexp.shape))")
        }
        // The kernel reads the logsumexp as one [batch, n_q] array.
        let o = try rowMajor(output), dO = try rowMajor(outputGradient), lse = try logsumexp.contiguous()
        try BLAS.check(largest: max(o.strides[o.rank - 2], dO.strides[dO.rank - 2]),
                       for: "attention backward: the output's row stride")
        let batches = plan.batchCount
        let dQ = try Tensor(uninitializedShape: plan.batchShape + [nq, dk], zeroed: true)
        let dK = try Tensor(uninitializedShape: plan.batchShape + [nk, dk], zeroed: true)
        let dV = try Tensor(uninitializedShape: plan.batchShape + [nk, dv], zeroed: true)
        var ran: String? = nil
        if nq > 0, nk > 0, batches > 0 {
            let blocks = Blocks.backward(plan)
            let (blockRows, blockKeys, threads) = (blocks.rows, blocks.keys, blocks.threads)
            let partials = blocks.splits > 1 && threads > 1
                ? try Tensor(uninitializedShape: [threads - 1, batches * nq * dk], zeroed: true) : nil
            let products = 2 * Double(nq) * Double(nk) * Double(3 * dk + 2 * dv)
            BLAS.countOperations(Double(batches) * products / (causal ? 2 : 1))
            let scratch = threads * withSet(kernels) { tx_attention_backward_scratch_on($0, nq, dk, dv, blockRows, blockKeys) }
            let status: Int32 = try Memory.withScratch(bytes: scratch, "attention backward's blocks (\(threads) x [\(blockRows), \(blockKeys)])") {
                let doOffsets = (0..<batches).map { plan.offsets($0, Array(dO.strides.dropLast(2))) }
                return doOffsets.withUnsafeBufferPointer { doo in
                    withJob(plan, causal: causal, scale: scale, output: o, weights: nil, logsumexp: nil,
                            blocks: blocks) { forward in
                        var job = tx_attention_backward_job(
                            forward: forward, dout_offsets: doo.baseAddress,
                            dout: UnsafePointer(dO.storage.pointer + dO.offset), lddout: dO.strides[dO.rank - 2],
                            logsumexp: UnsafePointer(lse.storage.pointer + lse.offset),
                            dq: dQ.storage.pointer, dk: dK.storage.pointer, dv: dV.storage.pointer,
                            dq_partials: partials?.storage.pointer, splits: Int32(blocks.splits))
                        var status: Int32 = 0
                        ran = String(cString: withSet(kernels) { tx_attention_backward_on($0, &job, &status) })
                        return status
                    }
                }
            }
            try check(status, "attention backward could not allocate its blocks (\(blockRows) x \(blockKeys) floats per thread)")
        }
        return ((try Derivative.unbroadcast(dQ, to: queries.shape), try Derivative.unbroadcast(dK, to: keys.shape),
                 try Derivative.unbroadcast(dV, to: values.shape)), ran)
    }
}
