import Glibc
import Tensor
import Testing
@testable import Transformer

/// A problem for attention's backward. The kernel takes blocks of 64 queries by 128
/// keys: the sizes below are one block, several of each, and ragged last blocks; one
/// batch item (one head) has its key blocks shared between threads.
struct BackwardCase: Sendable, CustomTestStringConvertible {
    let name: String
    let queries: [Int], keys: [Int], dv: Int
    var mask: AttentionCase.MaskKind = .none
    var causal = false
    /// Q, K and V as strided views: the heads of a [n, heads, d] tensor, and V a slice of
    /// wider rows, as multi-head attention passes them.
    var views = false

    var testDescription: String {
        "\(name): Q \(queries), K \(keys), d_v \(dv), mask \(mask.rawValue)\(causal ? ", causal" : "")\(views ? ", views" : "")"
    }
}

let backwardCases: [BackwardCase] = [
    BackwardCase(name: "one block", queries: [5, 8], keys: [7, 8], dv: 8),
    BackwardCase(name: "several query and key blocks", queries: [300, 16], keys: [1100, 16], dv: 16),
    BackwardCase(name: "ragged, d_v != d_k", queries: [130, 24], keys: [257, 24], dv: 20),
    BackwardCase(name: "causal", queries: [200, 16], keys: [200, 16], dv: 16, causal: true),
    BackwardCase(name: "causal, more keys than queries", queries: [70, 8], keys: [300, 8], dv: 12, causal: true),
    BackwardCase(name: "causal, one head, long", queries: [1, 700, 16], keys: [1, 1100, 16], dv: 16, causal: true),
    BackwardCase(name: "additive mask with a fully masked row", queries: [90, 16], keys: [150, 16], dv: 8, mask: .scattered),
    BackwardCase(name: "additive mask, causal", queries: [90, 16], keys: [150, 16], dv: 8, mask: .scattered, causal: true),
    BackwardCase(name: "padding mask", queries: [3, 100, 16], keys: [3, 300, 16], dv: 16, mask: .padding),
    BackwardCase(name: "padding mask, causal", queries: [3, 100, 16], keys: [3, 300, 16], dv: 16, mask: .padding, causal: true),
    BackwardCase(name: "batched, broadcast keys and values", queries: [2, 3, 70, 16], keys: [3, 90, 16], dv: 16),
    BackwardCase(name: "broadcast queries", queries: [70, 16], keys: [2, 3, 90, 16], dv: 12, causal: true),
    BackwardCase(name: "strided views", queries: [4, 150, 16], keys: [4, 200, 16], dv: 8, views: true),
    BackwardCase(name: "strided views, causal", queries: [4, 150, 16], keys: [4, 150, 16], dv: 16, causal: true, views: true),
]

/// The inputs of a case: Q, K, V (views when asked), the mask and dO.
func backwardInputs(_ c: BackwardCase) throws -> (q: Tensor, k: Tensor, v: Tensor, mask: Tensor?) {
    func operand(_ shape: [Int], _ seed: UInt64) throws -> Tensor {
        guard c.views, shape.count == 3 else { return try randn(shape, seed: seed) }
        // Heads of [n, heads, d]: rows heads * d floats apart.
        return try randn([shape[1], shape[0], shape[2]], seed: seed).transposed(0, 1)
    }
    let q = try operand(c.queries, 31), k = try operand(c.keys, 32)
    let vShape = Array(c.keys.dropLast()) + [c.dv]
    let v = c.views
        ? try randn(Array(vShape.dropLast()) + [c.dv + 3], seed: 33)
            .subscripted(Array(repeating: .slice(start: nil, stop: nil, step: nil), count: vShape.count - 1)
                + [.slice(start: 1, stop: c.dv + 1, step: nil)])
        : try randn(vShape, seed: 33)
    guard c.mask == .padding else { return (q, k, v, try mask(c.mask, queries: c.queries, keys: c.keys)) }
    // Padding that blocks whole blocks of keys: batch item b sees its first n_k / (1 + 3 b).
    let nk = c.keys[c.keys.count - 2], batch = c.queries.count > 2 ? c.queries[0] : 1
    let padding = try Masks.padding(lengths: (0..<batch).map { max(1, nk / (1 + 3 * $0)) }, n: nk)
    return (q, k, v, c.queries.count > 2 ? padding : try padding.reshaped([1, nk]))
}

/// The gradients of the formula, dense and in double precision, for every batch item of
/// the broadcast batch shape, summed back onto each operand's own batch axes:
///
///     S = Q K^T scale + mask,  P = softmax(S),  O = P V
///     dV = P^T dO,  dP = dO V^T,  dS = P * (dP - rowsum(dP * P)),
///     dQ = dS K scale,  dK = dS^T Q scale
func formulaGradients(q: Tensor, k: Tensor, v: Tensor, mask: Tensor?, causal: Bool, outputGradient dO: Tensor)
    throws -> (queries: [Double], keys: [Double], values: [Double]) {
    let nq = q.shape[q.rank - 2], nk = k.shape[k.rank - 2], d = q.shape[q.rank - 1], dv = v.shape[v.rank - 1]
    let batch = Array(dO.shape.dropLast(2))
    let scale = 1 / Double(d).squareRoot()
    let m = try mask.map { $0.rank < 2 ? try $0.reshaped([1, 1]) : $0 }
    /// Row-major values of `t`, and for a batch item of `batch` the offset of its matrix.
    func operand(_ t: Tensor) -> (values: [Double], offset: (Int) -> Int) {
        let values = t.values.map(Double.init)
        let own = Array(t.shape.dropLast(2)), size = t.shape.suffix(2).reduce(1, *)
        return (values, { index in
            var rest = index, flat = 0, step = 1
            for axis in stride(from: batch.count - 1, through: 0, by: -1) {
                let i = rest % batch[axis]
                rest /= batch[axis]
                let ownAxis = axis - (batch.count - own.count)
                if ownAxis >= 0 {
                    if own[ownAxis] != 1 { flat += i * step }
                    step *= own[ownAxis]
                }
            }
            return flat * size
        })
    }
    let (Q, K, V, G) = (operand(q), operand(k), operand(v), operand(dO))
    let M = m.map(operand)
    let maskRows = m.map { $0.shape[$0.rank - 2] } ?? 1, maskCols = m.map { $0.shape[$0.rank - 1] } ?? 1
    var dQ = [Double](repeating: 0, count: Q.values.count), dK = [Double](repeating: 0, count: K.values.count)
    var dV = [Double](repeating: 0, count: V.values.count)
    for b in 0..<batch.reduce(1, *) {
        let (qo, ko, vo, go) = (Q.offset(b), K.offset(b), V.offset(b), G.offset(b))
        for i in 0..<nq {
            var s = [Double](repeating: 0, count: nk)
            for j in 0..<nk {
                var dot = 0.0
                for c in 0..<d { dot += Q.values[qo + i * d + c] * K.values[ko + j * d + c] }
                s[j] = dot * scale
                if let M { s[j] += M.values[M.offset(b) + (maskRows == 1 ? 0 : i) * maskCols + (maskCols == 1 ? 0 : j)] }
                if causal && j > i { s[j] = -.infinity }
            }
            let top = s.max() ?? -.infinity
            if top == -.infinity { continue }   // no key: P = 0, no gradient
            var p = s.map { exp($0 - top) }
            let total = p.reduce(0, +)
            p = p.map { $0 / total }
            var dP = [Double](repeating: 0, count: nk)
            for j in 0..<nk {
                for c in 0..<dv { dP[j] += G.values[go + i * dv + c] * V.values[vo + j * dv + c] }
            }
            let rowsum = zip(p, dP).reduce(0.0) { $0 + $1.0 * $1.1 }
            for j in 0..<nk where p[j] != 0 {
                let dS = p[j] * (dP[j] - rowsum)
                for c in 0..<dv { dV[vo + j * dv + c] += p[j] * G.values[go + i * dv + c] }
                for c in 0..<d {
                    dQ[qo + i * d + c] += dS * K.values[ko + j * d + c] * scale
                    dK[ko + j * d + c] += dS * Q.values[qo + i * d + c] * scale
                }
            }
        }
    }
    return (dQ, dK, dV)
}

/// ||x - reference|| / ||reference||.
func relativeError(_ x: Tensor, _ reference: [Double]) -> Double {
    let values = x.values
    var difference = 0.0, norm = 0.0
    for (a, b) in zip(values, reference) {
        difference += (Double(a) - b) * (Double(a) - b)
        norm += b * b
    }
    return (difference / max(norm, .leastNormalMagnitude)).squareRoot()
}

func checkBackward(_ c: BackwardCase, kernels: String?) throws {
    let (q, k, v, m) = try backwardInputs(c)
    let (output, logsumexp) = try Attention.attentionWithStatistics(queries: q, keys: k, values: v, mask: m, causal: c.causal)
    let dO = try randn(output.shape, seed: 34)
    let (gradients, ran) = try Attention.backward(queries: q, keys: k, values: v, mask: m, causal: c.causal, scale: nil,
                                                  output: output, logsumexp: logsumexp, outputGradient: dO,
                                                  kernels: kernels)
    if let kernels {
        // A CPU without the set runs an older one.
        let order = ["avx512", "avx512-layout", "avx2", "generic"]
        #expect((order.firstIndex(of: ran ?? "") ?? -1) >= (order.firstIndex(of: kernels) ?? 0))
        // The AVX-512 layout runs when it is named (on AVX2), and only then.
        #expect((ran == "avx512-layout") == (kernels == "avx512-layout" && cpuHas(["avx2", "fma"])))
    }
    let expected = try formulaGradients(q: q, k: k, v: v, mask: m, causal: c.causal, outputGradient: dO)
    #expect(gradients.queries.shape == q.shape)
    #expect(gradients.keys.shape == k.shape)
    #expect(gradients.values.shape == v.shape)
    for (name, gradient, reference) in [("dQ", gradients.queries, expected.queries), ("dK", gradients.keys, expected.keys),
                                        ("dV", gradients.values, expected.values)] {
        #expect(gradient.values.allSatisfy { $0.isFinite }, "\(name) has NaN or inf")
        let error = relativeError(gradient, reference)
        #expect(error <= 1e-5, "\(name): relative error \(error)")
    }
}

/// The blocked, threaded backward against the formula's gradients.
@Test(arguments: backwardCases)
func attentionBackwardMatchesTheFormula(_ c: BackwardCase) throws {
    try checkBackward(c, kernels: nil)
}

/// The same on each instruction set's kernels (the micro-kernel of AVX-512 and AVX2,
/// sgemm on the generic set), in this process; "avx512-layout" runs AVX-512's tiles on AVX2.
@Test(arguments: ["avx512", "avx512-layout", "avx2", "generic"], backwardCases.filter { $0.keys[$0.keys.count - 2] <= 300 })
func attentionBackwardOfEveryInstructionSetMatchesTheFormula(kernels: String, _ c: BackwardCase) throws {
    try checkBackward(c, kernels: kernels)
}

/// L = log(sum_j exp(s_j)) for each row, -inf for a row that sees no key, on the single
/// block and the key-tiled paths of the forward.
@Test(arguments: [([40, 8], [60, 8]), ([30, 8], [1500, 8])])
func attentionLogsumexpIsTheScoresLogsumexp(queries: [Int], keys: [Int]) throws {
    let q = try randn(queries, seed: 41), k = try randn(keys, seed: 42), v = try randn(keys, seed: 43)
    for kind in [AttentionCase.MaskKind.none, .scattered] {
        let m = try mask(kind, queries: queries, keys: keys)
        for causal in [false, true] {
            let (output, logsumexp) = try Attention.attentionWithStatistics(queries: q, keys: k, values: v, mask: m,
                                                                            causal: causal)
            #expect(try maxDifference(output, try Attention.attention(queries: q, keys: k, values: v, mask: m,
                                                                      causal: causal)) == 0)
            var scores = try q.matmul(k.swappingLastAxes()) / Float(queries[1]).squareRoot()
            if let m { scores = try scores + m }
            if causal { scores = try scores + Tensor.full(-.infinity, [queries[0], keys[0]]).triu(k: 1) }
            let expected = try scores.reduce(.logsumexp, axes: [-1]).values, actual = logsumexp.values
            #expect(logsumexp.shape == [queries[0]])
            for (a, e) in zip(actual, expected) {
                #expect(a == e || abs(a - e) <= 1e-5 * max(1, abs(e)), "logsumexp \(a), expected \(e)")
            }
        }
    }
}

/// A row that sees no key gets zero gradients, never NaN; so do its keys when no other
/// row sees them.
@Test func attentionBackwardOfAFullyMaskedRowIsZero() throws {
    let q = try randn([6, 8], seed: 51), k = try randn([9, 8], seed: 52), v = try randn([9, 8], seed: 53)
    var values = [Float](repeating: 0, count: 6 * 9)
    for j in 0..<9 { values[2 * 9 + j] = -.infinity }
    let m = try Tensor(shape: [6, 9], values: values)
    let (output, logsumexp) = try Attention.attentionWithStatistics(queries: q, keys: k, values: v, mask: m)
    #expect(logsumexp.values[2] == -.infinity)
    let dO = try randn([6, 8], seed: 54)
    let g = try Attention.backward(queries: q, keys: k, values: v, mask: m, output: output, logsumexp: logsumexp,
                                   outputGradient: dO)
    #expect(g.queries.values[16..<24].allSatisfy { $0 == 0 })
    #expect([g.queries, g.keys, g.values].allSatisfy { $0.values.allSatisfy(\.isFinite) })
}

/// Shapes that do not fit are errors, not crashes.
@Test func attentionBackwardRejectsMismatchedShapes() throws {
    let q = try randn([4, 8], seed: 61), k = try randn([5, 8], seed: 62), v = try randn([5, 8], seed: 63)
    let (output, logsumexp) = try Attention.attentionWithStatistics(queries: q, keys: k, values: v)
    #expect(throws: TensorError.self) {
        try Attention.backward(queries: q, keys: k, values: v, output: output, logsumexp: logsumexp,
                               outputGradient: try randn([4, 7], seed: 64))
    }
    #expect(throws: TensorError.self) {
        try Attention.backward(queries: q, keys: k, values: v, output: output, logsumexp: try randn([5], seed: 65),
                               outputGradient: output)
    }
}

/// Under a tape, attention is one node whose backward is the fused kernel; its gradients
/// are the formula's.
@Test(arguments: backwardCases.filter { $0.keys[$0.keys.count - 2] <= 300 })
func attentionOnATapeIsOneNodeWithTheFormulasGradients(_ c: BackwardCase) throws {
    let (q, k, v, m) = try backwardInputs(c)
    let tape = Tape()
    for t in [q, k, v] { tape.watch(t) }
    let output = try tape.activate { try Attention.attention(queries: q, keys: k, values: v, mask: m, causal: c.causal) }
    #expect(tape.count == 1)
    let dO = try randn(output.shape, seed: 34)
    let gradients = try tape.backward(from: output, seed: dO)
    let expected = try formulaGradients(q: q, k: k, v: v, mask: m, causal: c.causal, outputGradient: dO)
    for (name, leaf, reference) in [("dQ", q, expected.queries), ("dK", k, expected.keys), ("dV", v, expected.values)] {
        let gradient = try Tape.gradient(leaf, in: gradients)
        #expect(gradient.shape == leaf.shape)
        let error = relativeError(gradient, reference)
        #expect(error <= 1e-5, "\(name): relative error \(error)")
    }
}

/// A mask the tape tracks (a learned bias) gets its gradient through the formula's path:
/// dS summed over the axes it broadcasts along.
@Test func attentionWithATrackedMaskGivesTheMaskAGradient() throws {
    let q = try randn([2, 6, 8], seed: 71), k = try randn([2, 9, 8], seed: 72), v = try randn([2, 9, 4], seed: 73)
    let bias = try randn([6, 9], seed: 74)
    let tape = Tape()
    for t in [q, bias] { tape.watch(t) }
    let output = try tape.activate { try Attention.attention(queries: q, keys: k, values: v, mask: bias) }
    let gradients = try tape.backward(from: output, seed: try randn(output.shape, seed: 75))
    #expect(try Tape.gradient(bias, in: gradients).shape == [6, 9])
    #expect(try Tape.gradient(q, in: gradients).shape == q.shape)
}
