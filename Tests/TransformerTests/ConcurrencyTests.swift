import Dispatch
import Tensor
import Testing
import Transformer

/// Attention runs its blocks single-threaded in BLAS while its own threads share them.
/// Calls from several threads at once (the parallel test runner, a host program) must
/// leave OpenBLAS with the threads it had, and each must see that count.
@Test func concurrentAttentionLeavesTheBLASThreadsAlone() throws {
    let before = BLAS.threads
    let q = try randn([512, 16], seed: 1), k = try randn([512, 16], seed: 2), v = try randn([512, 16], seed: 3)
    let expected = try Attention.attention(queries: q, keys: k, values: v)
    let calls = 64
    // One slot per call, written by that call only.
    let seen = UnsafeMutableBufferPointer<Int>.allocate(capacity: calls)
    let differences = UnsafeMutableBufferPointer<Float>.allocate(capacity: calls)
    defer { seen.deallocate(); differences.deallocate() }
    nonisolated(unsafe) let slots = (seen, differences)
    DispatchQueue.concurrentPerform(iterations: calls) { i in
        slots.0[i] = BLAS.threads
        let output = try? Attention.attention(queries: q, keys: k, values: v)
        slots.1[i] = output.flatMap { try? maxDifference($0, expected) } ?? .infinity
    }
    #expect(BLAS.threads == before)
    #expect(seen.allSatisfy { $0 == before }, "\(Array(seen))")
    #expect(differences.allSatisfy { $0 < 1e-5 }, "\(Array(differences))")
}
