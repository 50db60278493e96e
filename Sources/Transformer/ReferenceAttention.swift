import Tensor

extension Attention {
    /// Scaled dot-product attention exactly as the lecture writes it, one line per step
    /// and the full score matrix in memory:
    ///
    ///     e = Q K^T / sqrt(d_k) + mask         scores, [..., n_q, n_k]
    ///     alpha = softmax(e)                   weights, each row sums to 1
    ///     output = alpha V                     [..., n_q, d_v]
    ///
    /// `attention` computes the same without building `e` (blocks of queries, tiles of
    /// keys, threads); the tests hold it to this definition.
    public static func reference(queries q: Tensor, keys k: Tensor, values v: Tensor, mask: Tensor? = nil,
                                 causal: Bool = false) throws -> Tensor {
        let dk = Float(q.shape.last ?? 1), nq = q.shape.dropLast().last ?? 1, nk = k.shape.dropLast().last ?? 1
        var scores = try q.matmul(k.swappingLastAxes()) / dk.squareRoot()   // (..., n_q, n_k)
        if let mask { scores = try scores + mask }
        if causal {
            // Query i sees keys j <= i: -inf above the diagonal, also when n_q != n_k.
            scores = try scores + Tensor.full(-.infinity, [nq, nk]).triu(k: 1)
        }
        let weights = try scores.softmax(axis: -1)                            // (..., n_q, n_k)
        return try weights.matmul(v)                                          // (..., n_q, d_v)
    }
}
