import Glibc
import Tensor
import Testing
@testable import Transformer

/// The AVX-512 build's attention (tiles of 12 rows by 2 x 16 columns, packed panels of 32
/// columns, its scratch) runs here on any AVX2 machine through the "avx512-layout"
/// kernels: the same sources compiled for AVX2 (see CKernels/isa.h). A shape is n_q
/// queries, n_k keys, d and d_v; the sizes leave every part of a tile, a panel and a
/// key block ragged: 1, 13, 17 and 31 rows are no multiple of 12 (or of AVX2's 6),
/// 100 = 8 x 12 + 4, and 1025 keys make the forward take blocks of 512 keys (the last
/// of one key) and the backward blocks of 128 (the last of one); d = 8, 16 and 24 fill
/// part of a 32-column panel, 64 two panels, 80 two and a half.
struct LayoutCase: Sendable, CustomTestStringConvertible {
    let nq, nk, d, dv: Int

    var testDescription: String { "n_q \(nq), n_k \(nk), d \(d), d_v \(dv)" }
}

let layoutCases: [LayoutCase] = {
    let sizes = [1, 13, 17, 31, 100, 1025], widths = [8, 16, 24, 64, 80]
    let square = sizes.flatMap { n in widths.map { LayoutCase(nq: n, nk: n, d: $0, dv: $0) } }
    // More keys than queries and the other way round, d_v != d.
    let oblong = [LayoutCase(nq: 13, nk: 1025, d: 24, dv: 80), LayoutCase(nq: 1025, nk: 17, d: 80, dv: 8),
                  LayoutCase(nq: 31, nk: 100, d: 16, dv: 64), LayoutCase(nq: 100, nk: 31, d: 64, dv: 24)]
    return square + oblong
}()

/// Whether /proc/cpuinfo lists every one of `flags` (false when it cannot be read).
func cpuHas(_ flags: [String]) -> Bool {
    guard let file = fopen("/proc/cpuinfo", "r") else { return false }
    defer { fclose(file) }
    var line: UnsafeMutablePointer<CChar>? = nil, capacity = 0
    defer { free(line) }
    while getline(&line, &capacity, file) > 0, let line {
        let text = String(cString: line)
        guard text.hasPrefix("flags") else { continue }
        let have = Set(text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init))
        return flags.allSatisfy(have.contains)
    }
    return false
}

/// What attention computes for one problem on the kernels named `kernels`: the output
/// and logsumexp, the weights, the gradients for dO, and the names of the sets that ran.
struct LayoutRun {
    let output, logsumexp, weights: Tensor
    let dq, dk, dv: Tensor
    let ran: [String?]

    init(q: Tensor, k: Tensor, v: Tensor, mask: Tensor?, causal: Bool, dO: Tensor, kernels: String) throws {
        let plan = try Attention.Plan(queries: q, keys: k, values: v, mask: mask, name: "attention")
        output = try Tensor(uninitializedShape: plan.batchShape + [plan.nq, plan.dv])
        logsumexp = try Tensor(uninitializedShape: plan.batchShape + [plan.nq])
        let forward = try Attention.run(plan, causal: causal, scale: nil, output: output, weights: nil,
                                        logsumexp: logsumexp, kernels: kernels)
        let weightsPlan = try Attention.Plan(queries: q, keys: k, values: nil, mask: mask, name: "attention_weights")
        weights = try Tensor(uninitializedShape: weightsPlan.batchShape + [plan.nq, plan.nk])
        let weighting = try Attention.run(weightsPlan, causal: causal, scale: nil, output: nil, weights: weights,
                                          kernels: kernels)
        let (gradients, backward) = try Attention.backward(queries: q, keys: k, values: v, mask: mask, causal: causal,
                                                           scale: nil, output: output, logsumexp: logsumexp,
                                                           outputGradient: dO, kernels: kernels)
        (dq, dk, dv) = gradients
        ran = [forward, weighting, backward]
    }
}

/// Whether a and b hold the same floats, bit for bit.
func sameBits(_ a: Tensor, _ b: Tensor) -> Bool {
    a.shape == b.shape && zip(a.values, b.values).allSatisfy { $0.bitPattern == $1.bitPattern }
}

/// On the AVX-512 layout, attention's output and weights equal the formula's (written
/// out with sgemm and softmax), and its gradients the formula's in double precision,
/// plain, causal, with an additive mask that blocks one query row entirely and with a
/// padding mask. Every output float is also bit for bit the AVX2 kernels': at either
/// width each one is a sum over the same inner index in the same order, with the same
/// fused multiply-adds, so a tile, panel or block edge that the wider layout handles
/// differently shows up as a difference. dQ is compared within 1e-6 when n_k spans
/// several key blocks: they are shared between threads, whose partial sums add up in
/// the order the threads take them.
@Test(.enabled(if: cpuHas(["avx2", "fma"]), "the AVX-512 layout is compiled for AVX2 and FMA"), arguments: layoutCases)
func avx512LayoutAttentionMatchesTheFormulaAndTheAVX2Kernels(_ c: LayoutCase) throws {
    let q = try randn([c.nq, c.d], seed: 81), k = try randn([c.nk, c.d], seed: 82), v = try randn([c.nk, c.dv], seed: 83)
    let dO = try randn([c.nq, c.dv], seed: 84)
    // The double-precision formula costs n_q n_k (3 d + 2 d_v) per mask: on 1025 x 1025
    // only for d = 8 (the bits of AVX2's gradients, which the other tests hold to the
    // formula, check the others).
    let formula = c.nq * c.nk * (3 * c.d + 2 * c.dv) <= 50_000_000
    for kind in [AttentionCase.MaskKind.none, .scattered, .padding] {
        let m = try mask(kind, queries: [c.nq, c.d], keys: [c.nk, c.d])
        for causal in [false, true] {
            let what = "mask \(kind.rawValue)\(causal ? ", causal" : "")"
            let wide = try LayoutRun(q: q, k: k, v: v, mask: m, causal: causal, dO: dO, kernels: "avx512-layout")
            let narrow = try LayoutRun(q: q, k: k, v: v, mask: m, causal: causal, dO: dO, kernels: "avx2")
            #expect(wide.ran == ["avx512-layout", "avx512-layout", "avx512-layout"], "\(what)")
            #expect(narrow.ran == ["avx2", "avx2", "avx2"], "\(what)")

            let expected = try Attention.reference(queries: q, keys: k, values: v, mask: m, causal: causal)
            #expect(try maxDifference(wide.output, expected) < 2e-5, "\(what): output")
            var scores = try q.matmul(k.swappingLastAxes()) / Float(c.d).squareRoot()
            if let m { scores = try scores + m }
            if causal { scores = try scores + Tensor.full(-.infinity, [c.nq, c.nk]).triu(k: 1) }
            #expect(try maxDifference(wide.weights, try scores.softmax(axis: -1)) < 2e-6, "\(what): weights")
            let lse = try scores.reduce(.logsumexp, axes: [-1]).values
            #expect(zip(wide.logsumexp.values, lse).allSatisfy { $0 == $1 || abs($0 - $1) <= 1e-5 * max(1, abs($1)) },
                    "\(what): logsumexp")
            if formula {
                let gradients = try formulaGradients(q: q, k: k, v: v, mask: m, causal: causal, outputGradient: dO)
                for (name, gradient, reference) in [("dQ", wide.dq, gradients.queries), ("dK", wide.dk, gradients.keys),
                                                    ("dV", wide.dv, gradients.values)] {
                    #expect(gradient.values.allSatisfy { $0.isFinite }, "\(what): \(name) has NaN or inf")
                    let error = relativeError(gradient, reference)
                    #expect(error <= 1e-5, "\(what): \(name) relative error \(error)")
                }
            }

            for (name, a, b) in [("output", wide.output, narrow.output), ("logsumexp", wide.logsumexp, narrow.logsumexp),
                                 ("weights", wide.weights, narrow.weights), ("dK", wide.dk, narrow.dk),
                                 ("dV", wide.dv, narrow.dv)] {
                #expect(sameBits(a, b), "\(what): \(name) differs from AVX2's")
            }
            if c.nk <= Attention.Blocks.backwardKeys {
                #expect(sameBits(wide.dq, narrow.dq), "\(what): dQ differs from AVX2's")
            } else {
                let error = relativeError(wide.dq, narrow.dq.values.map(Double.init))
                #expect(error <= 1e-6, "\(what): dQ relative difference \(error) from AVX2's")
            }
        }
    }
}

/// The layout is taken only by its name: asking for AVX-512 on a CPU without it runs
/// AVX2's kernels, never the layout's.
@Test(.enabled(if: cpuHas(["avx2", "fma"]) && !cpuHas(["avx512f"]), "a CPU with AVX2 and without AVX-512"))
func avx512LayoutIsNeverTakenInAVX512sPlace() throws {
    let q = try randn([5, 8], seed: 91), k = try randn([7, 8], seed: 92), v = try randn([7, 8], seed: 93)
    let plan = try Attention.Plan(queries: q, keys: k, values: v, mask: nil, name: "attention")
    let output = try Tensor(uninitializedShape: [5, 8])
    #expect(try Attention.run(plan, causal: false, scale: nil, output: output, weights: nil, kernels: "avx512") == "avx2")
    #expect(try Attention.run(plan, causal: false, scale: nil, output: output, weights: nil, kernels: "AVX512-Layout")
            == "avx512-layout")
    #expect(BLAS.kernels != "avx512-layout" || getenv("TX_KERNELS") != nil)
}
