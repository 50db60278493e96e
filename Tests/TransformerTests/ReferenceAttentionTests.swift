import Tensor
import Testing
import Transformer

/// One attention problem: the sizes pick the kernel's path (see Attention.run): up to
/// 256 query rows (128 when causal) are one block, more are several blocks shared
/// between the BLAS threads, and more than 1024 keys are taken 512 at a time with an
/// online softmax (then 512 rows per block, 256 when causal).
struct AttentionCase: Sendable, CustomTestStringConvertible {
    let path: String
    let queries: [Int], keys: [Int], dv: Int
    let mask: MaskKind
    let causal: Bool

    enum MaskKind: String, Sendable { case none, scattered, padding }

    var testDescription: String {
        "\(path): Q \(queries), K \(keys), d_v \(dv), mask \(mask.rawValue)\(causal ? ", causal" : "")"
    }
}

let attentionCases: [AttentionCase] = {
    let shapes: [(String, [Int], [Int], Int)] = [
        ("one block", [5, 8], [7, 8], 8),
        ("several blocks, threaded", [600, 16], [300, 16], 12),
        ("key tiles, one block", [100, 16], [1500, 16], 16),
        ("key tiles, several blocks, threaded", [1100, 8], [2100, 8], 8),
        ("more queries than keys", [300, 8], [40, 8], 8),
        ("batched, broadcast keys", [2, 3, 70, 16], [3, 90, 16], 16),
        ("batched key tiles", [2, 130, 8], [2, 1300, 8], 4),
    ]
    return shapes.flatMap { path, q, k, dv in
        [AttentionCase.MaskKind.none, .scattered, .padding].flatMap { mask in
            [false, true].map { AttentionCase(path: path, queries: q, keys: k, dv: dv, mask: mask, causal: $0) }
        }
    }
}()

/// An additive mask for `[..., n_q, n_k]` scores: scattered -inf entries and small
/// offsets with one query row that sees no key at all, or a padding mask per batch
/// item that hides the last keys.
func mask(_ kind: AttentionCase.MaskKind, queries: [Int], keys: [Int]) throws -> Tensor? {
    let nq = queries[queries.count - 2], nk = keys[keys.count - 2]
    switch kind {
    case .none:
        return nil
    case .scattered:
        var values = [Float](repeating: 0, count: nq * nk)
        for i in 0..<nq {
            for j in 0..<nk {
                values[i * nk + j] = (i * 7 + j * 13) % 5 == 0 || i == nq / 2 ? -.infinity : Float((i + j) % 3) * 0.25
            }
        }
        return try Tensor(shape: [nq, nk], values: values)
    case .padding:
        let batch = queries.count > 2 ? queries[0] : 1
        let lengths = (0..<batch).map { max(1, nk - 1 - 17 * $0) }
        let m = try Masks.padding(lengths: lengths, n: nk)                        // [b, 1, n_k]
        return queries.count > 2 ? try m.reshaped([batch] + Array(repeating: 1, count: queries.count - 3) + [1, nk]) : try m.reshaped([1, nk])
    }
}

/// The blocked, threaded and key-tiled kernel against the formula, written out.
@Test(arguments: attentionCases)
func attentionMatchesTheFormula(_ c: AttentionCase) throws {
    let q = try randn(c.queries, seed: 21), k = try randn(c.keys, seed: 22)
    let v = try randn(Array(c.keys.dropLast()) + [c.dv], seed: 23)
    let m = try mask(c.mask, queries: c.queries, keys: c.keys)
    let expected = try Attention.reference(queries: q, keys: k, values: v, mask: m, causal: c.causal)
    let output = try Attention.attention(queries: q, keys: k, values: v, mask: m, causal: c.causal)
    #expect(output.shape == expected.shape)
    #expect(try maxDifference(output, expected) < 2e-5)
}

/// The weights are the formula's softmax: with V = I, the formula's output is alpha.
@Test(arguments: attentionCases.filter { $0.keys[$0.keys.count - 2] <= 300 })
func attentionWeightsMatchTheFormula(_ c: AttentionCase) throws {
    let q = try randn(c.queries, seed: 24), k = try randn(c.keys, seed: 25)
    let nk = c.keys[c.keys.count - 2]
    let identity = try Tensor(shape: [nk, nk], values: (0..<(nk * nk)).map { $0 / nk == $0 % nk ? 1 : 0 })
    let m = try mask(c.mask, queries: c.queries, keys: c.keys)
    let expected = try Attention.reference(queries: q, keys: k, values: identity, mask: m, causal: c.causal)
    let weights = try Attention.weights(queries: q, keys: k, mask: m, causal: c.causal)
    #expect(try maxDifference(weights, expected) < 1e-6)
}
