import Tensor
import Testing
import TestSupport

/// Mutated .npy and .safetensors files (5,000 times TX_FUZZ_SCALE): each decodes or
/// fails with a TensorError; both happen often enough that both paths are exercised.
@Test func mutatedFilesDecodeOrFailCleanly() throws {
    let seeds: [[UInt8]] = [
        try NPY.encode(try Tensor.arange(start: 0, stop: 6, step: 1).reshaped([2, 3])),
        try NPY.encode(try Tensor(scalar: 1)),
        try readFile(path: fixtures + "version3.npy"),
        try readFile(path: fixtures + "arange_i8.npy"),
    ]
    let safeSeeds: [[UInt8]] = [
        try readFile(path: fixtures + "model.safetensors"),
        try SafeTensors.encode([("a", try Tensor.zeros([2, 2])), ("b.c", try Tensor(scalar: 5))]),
    ]
    var random = Seeded(state: 99)
    let count = TestEnvironment.fuzzCount(5_000)
    var decoded = 0, failed = 0
    for n in 0..<count {
        let npy = n % 2 == 0
        let source = npy ? seeds[n / 2 % seeds.count] : safeSeeds[n / 2 % safeSeeds.count]
        let bytes = random.mutated(source)
        do {
            if npy { _ = try NPY.decode(bytes) } else { _ = try SafeTensors.decode(bytes) }
            decoded += 1
        } catch is TensorError {
            failed += 1
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
    #expect(decoded > count / 100, "some mutated files still decode")
    #expect(failed > count / 10, "mutations break files")
}
