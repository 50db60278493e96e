import Tensor
import Testing
import TestSupport

/// Flips, inserts and deletes bytes, rewrites or inserts digits and cuts files short.
func mutate(_ file: [UInt8], _ random: inout Seeded) -> [UInt8] {
    var bytes = file
    for _ in 0..<(1 + random.below(4)) {
        guard !bytes.isEmpty else { break }
        let i = random.below(bytes.count)
        switch random.below(6) {
        case 0: bytes[i] ^= UInt8(1 << random.below(8))
        case 1: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: i)
        case 2: bytes.remove(at: i)
        case 3: bytes = Array(bytes.prefix(i))
        case 4: if (48...57).contains(bytes[i]) { bytes[i] = UInt8(48 + random.below(10)) } else { bytes.insert(UInt8(48 + random.below(10)), at: i) }
        default: bytes[i] = [0x22, 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x3A, 0x27, 0x28, 0x29][random.below(10)]
        }
    }
    return bytes
}

/// 100,000 mutated .npy and .safetensors files: each decodes or fails with a TensorError.
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
    var decoded = 0, failed = 0
    for n in 0..<100_000 {
        let npy = n % 2 == 0
        let source = npy ? seeds[n / 2 % seeds.count] : safeSeeds[n / 2 % safeSeeds.count]
        let bytes = mutate(source, &random)
        do {
            if npy { _ = try NPY.decode(bytes) } else { _ = try SafeTensors.decode(bytes) }
            decoded += 1
        } catch is TensorError {
            failed += 1
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
    #expect(decoded + failed == 100_000)
    #expect(decoded > 1_000 && failed > 10_000)
}
