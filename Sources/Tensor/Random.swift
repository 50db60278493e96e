import Glibc

/// tx's random generator: the same seed gives the same numbers on every machine.
///
/// - State: xoshiro256** (Blackman and Vigna), its four 64-bit words filled from the
///   seed by SplitMix64 (state += 0x9E3779B97F4A7C15; z = state;
///   z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
///   word = z ^ (z >> 31)).
/// - `uniform()`: (next() >> 11) * 2^-53, in [0, 1).
/// - `normal()`: Box–Muller on two uniforms u1, u2: with r = sqrt(-2 ln(1 - u1)) and
///   t = 2 pi u2, returns r cos t, and r sin t on the following call.
/// - Tensors draw in row-major order, computed in double precision and rounded to
///   float32.
public struct RandomGenerator: Sendable {
    private var s0, s1, s2, s3: UInt64
    private var spare: Double?

    public init(seed: UInt64) {
        var state = seed
        func splitmix() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
        spare = nil
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = RandomGenerator.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = RandomGenerator.rotl(s3, 45)
        return result
    }

    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    public mutating func normal() -> Double {
        if let z = spare {
            spare = nil
            return z
        }
        let u1 = uniform(), u2 = uniform()
        let r = (-2 * log(1 - u1)).squareRoot()
        let t = 2 * Double.pi * u2
        spare = r * sin(t)
        return r * cos(t)
    }
}

extension Tensor {
    /// Standard normal samples.
    public static func randn(_ shape: [Int], using random: inout RandomGenerator) throws -> Tensor {
        let t = try Tensor(uninitializedShape: shape)
        for i in 0..<t.count {
            if i & 0xFFFFF == 0xFFFFF { try Interrupt.check() }
            t.storage.pointer[i] = Float(random.normal())
        }
        return t
    }

    /// Uniform samples in [0, 1).
    public static func rand(_ shape: [Int], using random: inout RandomGenerator) throws -> Tensor {
        try uniform(shape, low: 0, high: 1, using: &random)
    }

    /// Uniform samples in [low, high).
    public static func uniform(_ shape: [Int], low: Double, high: Double, using random: inout RandomGenerator) throws -> Tensor {
        let t = try Tensor(uninitializedShape: shape)
        let top = Float(high)
        for i in 0..<t.count {
            if i & 0xFFFFF == 0xFFFFF { try Interrupt.check() }
            let v = Float(low + (high - low) * random.uniform())
            // Rounding to float32 must not reach the open upper end.
            t.storage.pointer[i] = v >= top && high > low ? top.nextDown : v
        }
        return t
    }
}

extension Tensor {
    /// Inverted dropout's multiplier (torch.nn.functional.dropout): each entry is 0 with
    /// probability p (a uniform draw below p) and else 1 / (1 - p), computed in float32
    /// as PyTorch scales; p = 1 gives all zeros. x * mask is the dropout, and its
    /// gradient is g * mask.
    public static func dropoutMask(_ shape: [Int], p: Double, using random: inout RandomGenerator) throws -> Tensor {
        guard p >= 0, p <= 1 else { throw TensorError.value("dropout: p must be in [0, 1], got \(p)") }
        let t = try Tensor(uninitializedShape: shape)
        let scale: Float = p == 1 ? 0 : 1 / Float(1 - p)
        for i in 0..<t.count {
            if i & 0xFFFFF == 0xFFFFF { try Interrupt.check() }
            t.storage.pointer[i] = random.uniform() < p ? 0 : scale
        }
        return t
    }

    /// Integers drawn uniformly from low..<high (torch.randint), as float32: each is
    /// low + floor(u (high - low)) for a uniform draw u. |low| and |high| are at most 2^24,
    /// where float32 still holds every integer.
    public static func randint(_ shape: [Int], low: Int, high: Int, using random: inout RandomGenerator) throws -> Tensor {
        let limit = 1 << 24
        guard abs(low) <= limit, abs(high) <= limit else {
            throw TensorError.value("randint: bounds must lie within ±2^24 (float32 holds every integer there), got \(low) and \(high)")
        }
        guard high > low else { throw TensorError.value("randint: hi must be greater than lo, got lo = \(low), hi = \(high)") }
        let t = try Tensor(uninitializedShape: shape)
        let width = high - low
        for i in 0..<t.count {
            if i & 0xFFFFF == 0xFFFFF { try Interrupt.check() }
            t.storage.pointer[i] = Float(low + min(Int(random.uniform() * Double(width)), width - 1))
        }
        return t
    }
}
