extension Tensor {
    /// How a 2-D slice enters sgemm: its row stride and whether it is transposed.
    private struct MatrixLayout {
        let transposed: Bool
        let leading: Int
    }

    /// The layout of the last two axes, if BLAS can read them without a copy (and its
    /// leading dimension fits BLAS's 32-bit integers).
    private func matrixLayout() -> MatrixLayout? {
        let rows = shape[rank - 2], cols = shape[rank - 1]
        let rowStride = strides[rank - 2], colStride = strides[rank - 1]
        var layout: MatrixLayout? = nil
        if (colStride == 1 || cols == 1) && (rowStride >= max(cols, 1) || rows == 1) {
            layout = MatrixLayout(transposed: false, leading: rows == 1 ? max(cols, 1) : rowStride)
        } else if (rowStride == 1 || rows == 1) && (colStride >= max(rows, 1) || cols == 1) {
            layout = MatrixLayout(transposed: true, leading: cols == 1 ? max(rows, 1) : colStride)
        }
        guard let layout, layout.leading <= BLAS.maxSize else { return nil }
        return layout
    }

    /// The matrix product `a @ b` (NumPy's matmul): 1-D operands are promoted to a row
    /// (left) or a column (right) and the added axis is removed again; leading axes are
    /// batch axes and broadcast. Each 2-D product is one sgemm (large ones are tiled so
    /// that Ctrl-C stops them, see `BLAS.product`); transposed views (`K'`) go in with
    /// the transpose flag, not as copies.
    public static func matmul(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        if let tape = try Tape.tracking(a, b) {
            let needA = tape.tracks(a), needB = tape.tracks(b)
            return try tape.recording("@", inputs: [a, b], savesOutput: false, forward: { try matmul(a, b) }) { g, _ in
                let (da, db) = try Derivative.matmul(a, b, g, needA: needA, needB: needB)
                return [da, db]
            }
        }
        guard a.rank >= 1, b.rank >= 1 else {
            throw TensorError.shape(in: "@", "\(describe(shape: a.shape)) @ \(describe(shape: b.shape)) (@ needs tensors of rank 1 or more)")
        }
        let left = a.rank == 1 ? try a.unsqueezed(axis: 0) : a
        let right = b.rank == 1 ? try b.unsqueezed(axis: -1) : b
        let m = left.shape[left.rank - 2], k = left.shape[left.rank - 1]
        let k2 = right.shape[right.rank - 2], n = right.shape[right.rank - 1]
        guard k == k2 else {
            throw TensorError.shape(in: "@", "\(describe(shape: a.shape)) @ \(describe(shape: b.shape)) (inner sizes \(k) and \(k2) differ)")
        }
        let batchA = Array(left.shape.dropLast(2)), batchB = Array(right.shape.dropLast(2))
        guard let batch = broadcastShape(batchA, batchB) else {
            throw TensorError.shape(in: "@", "\(describe(shape: a.shape)) @ \(describe(shape: b.shape)) (batch axes \(describe(shape: batchA)) and \(describe(shape: batchB)) cannot broadcast)")
        }
        var resultShape = batch + [m, n]
        let result = try Tensor(uninitializedShape: resultShape)
        if a.rank == 1 { resultShape.remove(at: resultShape.count - 2) }
        if b.rank == 1 { resultShape.removeLast() }
        let finish = { try result.reshaped(resultShape) }
        let out = result.storage.pointer
        if result.count == 0 { return try finish() }
        if k == 0 {
            out.update(repeating: 0, count: result.count)
            return try finish()
        }
        let what = { "@: \(describe(shape: a.shape)) @ \(describe(shape: b.shape))" }
        try BLAS.check(largest: max(m, n, k), for: what())
        // One sgemm for [..., m, k] @ [k, n] when a's rows are evenly spaced.
        if batchB.isEmpty, !batch.isEmpty, left.isContiguous, left.count / k <= BLAS.maxSize, let rl = right.matrixLayout() {
            let rows = left.count / k
            try BLAS.product(transposeA: false, transposeB: rl.transposed, m: rows, n: n, k: k,
                             a: left.storage.pointer + left.offset, lda: k,
                             b: right.storage.pointer + right.offset, ldb: rl.leading, c: out, ldc: n, for: what())
            return try finish()
        }
        let l = left.matrixLayout() == nil ? try left.contiguous() : left
        let r = right.matrixLayout() == nil ? try right.contiguous() : right
        guard let ll = l.matrixLayout(), let rl = r.matrixLayout() else {
            throw TensorError.value("\(what()) is too large for BLAS (a row stride above 2^31 - 1)")
        }
        let batchCount = batch.reduce(1, *)
        let stridesA = batchStrides(l, batch), stridesB = batchStrides(r, batch)
        // One matrix per step of an odometer over the batch axes (a trailing axis of 1
        // makes RowWalker step over all of them).
        var walker = RowWalker(shape: batch + [1], operandStrides: [stridesA + [0], stridesB + [0]],
                               baseOffsets: [l.offset, r.offset])
        for item in 0..<batchCount {
            try BLAS.product(transposeA: ll.transposed, transposeB: rl.transposed, m: m, n: n, k: k,
                             a: l.storage.pointer + walker.offsets[0], lda: ll.leading,
                             b: r.storage.pointer + walker.offsets[1], ldb: rl.leading, c: out + item * m * n, ldc: n, for: what())
            walker.next()
        }
        return try finish()
    }

    /// Strides of a matrix stack's batch axes against a broadcast batch shape.
    private static func batchStrides(_ t: Tensor, _ batch: [Int]) -> [Int] {
        let own = t.rank - 2
        let extra = batch.count - own
        return batch.indices.map { axis in
            let a = axis - extra
            return a < 0 || t.shape[a] == 1 ? 0 : t.strides[a]
        }
    }
}
