import CKernels
import COpenBLAS
import Glibc
import Tensor

/// Scaled dot-product attention, softmax(Q K^T / sqrt(d_k) + mask) V.
///
/// Tensors are `[..., n, d]`; leading (batch) axes broadcast against each other and
/// against the mask's. `Blocks` decides how a call is cut up: blocks of query rows
/// shared between threads, and for long key sequences blocks of keys too, so that
/// attention that returns no weights needs a few MiB of extra memory rather than
/// n_q x n_k floats. The kernel (tx_attention in CKernels/kernels.c) computes each
/// block as the formula reads:
///
///     S = Q K^T * scale      scores_product: tx's micro-kernel on a packed K^T (AVX2,
///                            AVX-512; d_k and d_v up to 512), else sgemm with K
///                            through its transpose flag
///     S += mask              mask_row_max, which also takes each row's maximum and
///                            leaves out the causal tail (query i sees keys j <= i)
///     P = exp(S - max)       exp_row, which sums each row as it goes
///     O = P V / rowsum(P)    values_product (micro-kernel or sgemm), then one division
///                            per output element (n x d_v, not n x n_k)
///
/// Keys that no row of a block sees (the causal tail, keys a padding mask blocks) are
/// never multiplied. With blocks of keys, an online softmax keeps each row's running
/// maximum and sum and rescales its output when the maximum grows. The gradient is
/// `backward` (AttentionBackward.swift), FlashAttention-2's, which recomputes the
/// weights block by block from the logsumexp of each row that `attentionWithStatistics`
/// keeps; under a tape, `attention` records it as one node.
public enum Attention {
    /// softmax(Q K^T * scale + mask) V; `scale` defaults to 1/sqrt(d_k).
    public static func attention(queries: Tensor, keys: Tensor, values: Tensor, mask: Tensor? = nil,
                                 causal: Bool = false, scale: Float? = nil) throws -> Tensor {
        let plan = try Plan(queries: queries, keys: keys, values: values, mask: mask, name: "attention")
        if let tape = try Tape.tracking([queries, keys, values] + (mask.map { [$0] } ?? [])) {
            return try recordedAttention(queries: queries, keys: keys, values: values, mask: mask, causal: causal,
                                         scale: scale, on: tape)
        }
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
            throw TensorError.shape(in: "attention", "output must be \(describe(shape: plan.batchShape + [plan.nq, plan.dv]))")
        }
        try BLAS.check(largest: output.strides[output.rank - 2], for: "attention: the output's row stride")
        if try isTracked(queries, keys, values, mask) {
            throw TensorError(.value, label: "gradient error", "attention into an output view writes in place, which has no derivative; call attention(queries:keys:values:...) for its result")
        }
        try run(plan, causal: causal, scale: scale, output: output, weights: nil)
    }

    /// Attention and each query row's logsumexp L = log(sum_j exp(s_j)) of its scaled,
    /// masked scores s (`[batch..., n_q]`; -inf for a row whose keys are all blocked):
    /// what `backward` needs to recompute the weights, exp(s - L), block by block.
    public static func attentionWithStatistics(queries: Tensor, keys: Tensor, values: Tensor, mask: Tensor? = nil,
                                               causal: Bool = false, scale: Float? = nil) throws
        -> (output: Tensor, logsumexp: Tensor) {
        let plan = try Plan(queries: queries, keys: keys, values: values, mask: mask, name: "attention")
        let output = try Tensor(uninitializedShape: plan.batchShape + [plan.nq, plan.dv])
        let logsumexp = try Tensor(uninitializedShape: plan.batchShape + [plan.nq])
        try run(plan, causal: causal, scale: scale, output: output, weights: nil, logsumexp: logsumexp)
        return (output, logsumexp)
    }

    /// The weights alpha = softmax(Q K^T / sqrt(d_k) + mask), `[..., n_q, n_k]`.
    public static func weights(queries: Tensor, keys: Tensor, mask: Tensor? = nil, causal: Bool = false,
                               scale: Float? = nil) throws -> Tensor {
        let plan = try Plan(queries: queries, keys: keys, values: nil, mask: mask, name: "attention_weights")
        if try isTracked(queries, keys, mask) {
            return try recordedAttention(queries: queries, keys: keys, values: nil, mask: mask, causal: causal, scale: scale)
        }
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
                    throw TensorError.shape(in: "\(name)", "\(role) must be [..., n, d], got \(describe(shape: t.shape))")
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
                throw TensorError.shape(in: "\(name)", "Q is \(describe(shape: q.shape)) and K is \(describe(shape: k.shape)) (query and key sizes \(dk) and \(k.shape[k.rank - 1]) differ)")
            }
            if let v, v.shape[v.rank - 2] != nk {
                throw TensorError.shape(in: "\(name)", "K is \(describe(shape: k.shape)) and V is \(describe(shape: v.shape)) (\(nk) keys but \(v.shape[v.rank - 2]) values)")
            }
            dv = v.map { $0.shape[$0.rank - 1] } ?? 0
            var batch = Array(q.shape.dropLast(2))
            for other in [k, v].compactMap({ $0 }) {
                guard let b = Tensor.broadcastShape(batch, Array(other.shape.dropLast(2))) else {
                    throw TensorError.shape(in: "\(name)", "batch axes of \(describe(shape: q.shape)), \(describe(shape: k.shape))\(v.map { " and " + describe(shape: $0.shape) } ?? "") cannot broadcast")
                }
                batch = b
            }
            var maskView: Tensor? = nil
            if let mask {
                let m = mask.rank < 2 ? try mask.reshaped(Array(repeating: 1, count: 2 - mask.rank) + mask.shape) : mask
                let lastTwo = Array(m.shape.suffix(2))
                guard (lastTwo[0] == nq || lastTwo[0] == 1), (lastTwo[1] == nk || lastTwo[1] == 1),
                      let b = Tensor.broadcastShape(batch, Array(m.shape.dropLast(2))) else {
                    throw TensorError.shape(in: "\(name)", "the mask \(describe(shape: mask.shape)) does not broadcast to the scores \(describe(shape: batch + [nq, nk]))")
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
            // The kernel's sgemm calls take these as 32-bit integers (the weights' rows are
            // n_k long).
            try BLAS.check(largest: max(nq, nk, dk, dv, q.strides[q.rank - 2], k.strides[k.rank - 2],
                                        v.map { $0.strides[$0.rank - 2] } ?? 0),
                           for: "\(name): Q \(describe(shape: q.shape)), K \(describe(shape: k.shape))\(v.map { ", V " + describe(shape: $0.shape) } ?? "")")
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

    /// How one call is cut into blocks and shared between threads: the one place that
    /// decides it, for the forward and the backward; the kernels (tx_attention and
    /// tx_attention_backward in kernels.c) follow what it says.
    struct Blocks {
        /// Query rows and keys per block, and the threads that share the blocks.
        let rows, keys, threads: Int
        /// The backward's parts per batch item (its key blocks split between threads).
        var splits = 1

        /// Rows per block at most (TX_ATTENTION_ROWS overrides it, for tuning).
        static let maxRows = setting("TX_ATTENTION_ROWS", 256)
        /// Keys per block when the keys are taken in blocks (TX_ATTENTION_KEYS).
        static let longKeys = setting("TX_ATTENTION_KEYS", 512)
        /// The backward's queries and keys per block (TX_ATTENTION_BACKWARD_ROWS and
        /// TX_ATTENTION_BACKWARD_KEYS).
        static let backwardRows = setting("TX_ATTENTION_BACKWARD_ROWS", 64)
        static let backwardKeys = setting("TX_ATTENTION_BACKWARD_KEYS", 128)
        /// The most threads a call uses (the kernels' bound too).
        static let maxThreads = Int(TX_ATTENTION_MAX_THREADS)

        /// The forward: blocks of at most `maxRows` rows and all the keys; past twice
        /// `longKeys` keys (when the weights are not the output), blocks of `longKeys`
        /// keys with an online softmax and twice the rows; half the rows when causal,
        /// whose blocks skip the keys after their last row. A block's scores are then at
        /// most 256 x 1024 or 512 x 512 floats per thread.
        static func forward(_ plan: Plan, causal: Bool, weights: Bool) -> Blocks {
            let tiled = !weights && plan.nk > 2 * longKeys
            let rowLimit = max(1, (tiled ? 2 * maxRows : maxRows) / (causal ? 2 : 1))
            let rows = max(1, min(plan.nq, rowLimit))
            let queryBlocks = (plan.nq + rows - 1) / rows
            return Blocks(rows: rows, keys: tiled ? longKeys : plan.nk,
                          threads: max(1, min(BLAS.threads, maxThreads, plan.batchCount * queryBlocks)))
        }

        /// The backward: blocks of 64 queries by 128 keys. P and dS are then 32 KiB each,
        /// and with the packed blocks of K, V, Q and dO stay in a Zen 3 core's L2 cache
        /// (on one, 96 or 128 queries were no faster, 64 or 256 keys slower). Batch items
        /// are shared out between the threads; when they do not divide evenly among few
        /// items (one head), each item's key blocks are split too, into twice as many
        /// parts as threads (so that a thread slowed by other work leaves the others parts
        /// to take), and each thread adds the dQ of its parts in a buffer of its own.
        static func backward(_ plan: Plan) -> Blocks {
            let rows = min(plan.nq, backwardRows), keys = min(plan.nk, backwardKeys)
            let keyBlocks = (plan.nk + keys - 1) / keys, batches = plan.batchCount
            let threads = max(1, min(BLAS.threads, maxThreads, batches * keyBlocks))
            let splits = batches >= 4 * threads || batches % threads == 0 ? 1 : min(2 * threads, keyBlocks)
            return Blocks(rows: rows, keys: keys, threads: threads, splits: splits)
        }
    }

    /// A positive whole number from the environment variable `name`, else `fallback`.
    static func setting(_ name: String, _ fallback: Int) -> Int {
        guard let text = getenv(name), let n = Int(String(cString: text)), n > 0 else { return fallback }
        return n
    }

    /// The scale of the scores: `scale`, or 1/sqrt(d_k).
    static func scaleOf(_ plan: Plan, _ scale: Float?) -> Float { scale ?? 1 / Float(plan.dk).squareRoot() }

    /// Runs the kernel on the chosen instruction set, or for tests on the one named
    /// `kernels` (as `backward`'s); returns the name of the set that ran when one was
    /// named and the kernel ran.
    @discardableResult
    static func run(_ plan: Plan, causal: Bool, scale: Float?, output: Tensor?, weights: Tensor?,
                    logsumexp: Tensor? = nil, kernels: String? = nil) throws -> String? {
        let nq = plan.nq, nk = plan.nk
        if nq == 0 || plan.batchCount == 0 { return nil }
        let blocks = Blocks.forward(plan, causal: causal, weights: weights != nil)
        // For `:time`: the scores and the weighted sum of values; causal skips half.
        let products = 2 * Double(nq) * Double(nk) * Double(plan.dk + (plan.v == nil ? 0 : plan.dv))
        BLAS.countOperations(Double(plan.batchCount) * products / (causal ? 2 : 1))
        // The kernel's scratch per thread: a block of scores (none when the weights are
        // the output), a row sum and maximum per row, and a block of K or V packed for
        // its micro-kernel.
        let width = weights != nil ? 0 : max(blocks.keys, 1)
        let scratch = blocks.threads * withSet(kernels) {
            tx_attention_scratch_on($0, blocks.keys, plan.dk, plan.dv, blocks.rows, weights != nil ? 1 : 0)
        }
        var ran: String? = nil
        let status: Int32 = try Memory.withScratch(bytes: scratch, "attention's score blocks (\(blocks.threads) x [\(blocks.rows), \(width)])") {
            withJob(plan, causal: causal, scale: scale, output: output, weights: weights, logsumexp: logsumexp,
                    blocks: blocks) { job in
                guard let kernels else { return tx_attention(&job) }
                var status: Int32 = 0
                ran = String(cString: kernels.withCString { tx_attention_on($0, &job, &status) })
                return status
            }
        }
        try check(status, "attention could not allocate its score buffers (\(blocks.rows) x \(nk) floats per thread)")
        return ran
    }

    /// `body` with the C string of an instruction set's name, or NULL (the chosen set).
    static func withSet<T>(_ kernels: String?, _ body: (UnsafePointer<CChar>?) -> T) -> T {
        guard let kernels else { return body(nil) }
        return kernels.withCString { body($0) }
    }

    /// Calls `body` with the kernel's job for `plan`: pointers to the operands and each
    /// batch item's offsets, which live as long as the call.
    static func withJob(_ plan: Plan, causal: Bool, scale: Float?, output: Tensor?, weights: Tensor?, logsumexp: Tensor?,
                        blocks: Blocks, _ body: (inout tx_attention_job) -> Int32) -> Int32 {
        let batches = plan.batchCount
        func offsets(_ strides: [Int]) -> [Int] { (0..<batches).map { plan.offsets($0, strides) } }
        let q = plan.q, k = plan.k, mask = plan.mask
        let qOffsets = offsets(plan.qBatch), kOffsets = offsets(plan.kBatch)
        let vOffsets = plan.v.map { _ in offsets(plan.vBatch) } ?? [Int](repeating: 0, count: batches)
        let maskOffsets = plan.mask.map { _ in offsets(plan.maskBatch) }
        let outOffsets = output.map { o in offsets(Array(o.strides.dropLast(2))) } ?? [Int](repeating: 0, count: batches)
        return qOffsets.withUnsafeBufferPointer { qo in
            kOffsets.withUnsafeBufferPointer { ko in
                vOffsets.withUnsafeBufferPointer { vo in
                    outOffsets.withUnsafeBufferPointer { oo in
                        (maskOffsets ?? []).withUnsafeBufferPointer { mo in
                            var job = tx_attention_job(
                                batches: batches,
                                q_offsets: qo.baseAddress, k_offsets: ko.baseAddress, v_offsets: vo.baseAddress,
                                mask_offsets: maskOffsets == nil ? nil : mo.baseAddress, out_offsets: oo.baseAddress,
                                q: UnsafePointer(q.storage.pointer + q.offset), k: UnsafePointer(k.storage.pointer + k.offset),
                                v: plan.v.map { UnsafePointer($0.storage.pointer + $0.offset) },
                                mask: mask.map { UnsafePointer($0.storage.pointer + $0.offset) },
                                out: output.map { $0.storage.pointer + $0.offset },
                                weights: weights.map { $0.storage.pointer },
                                logsumexp: logsumexp.map { $0.storage.pointer },
                                nq: plan.nq, nk: plan.nk, dk: plan.dk, dv: plan.dv,
                                ldq: q.strides[q.rank - 2], ldk: k.strides[k.rank - 2],
                                ldv: plan.v.map { $0.strides[$0.rank - 2] } ?? 0,
                                ldout: output.map { $0.strides[$0.rank - 2] } ?? 0,
                                mask_row_stride: mask.map { $0.shape[$0.rank - 2] == 1 ? 0 : $0.strides[$0.rank - 2] } ?? 0,
                                mask_col_stride: mask.map { $0.shape[$0.rank - 1] == 1 ? 0 : $0.strides[$0.rank - 1] } ?? 0,
                                scale: scaleOf(plan, scale),
                                causal: causal ? 1 : 0,
                                block_rows: blocks.rows, block_keys: blocks.keys,
                                threads: Int32(blocks.threads))
                            return body(&job)
                        }
                    }
                }
            }
        }
    }

    /// Turns a kernel's status into an error: 1 is Ctrl-C, -1 a failed allocation.
    static func check(_ status: Int32, _ allocation: @autoclosure () -> String) throws {
        switch status {
        case 0: return
        case 1:
            tx_interrupt_clear()
            throw TensorError(.interrupted, "")
        default:
            throw TensorError(.memory, allocation())
        }
    }
}
