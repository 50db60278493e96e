import Glibc

extension Tensor {
    /// The n x n identity.
    public static func eye(_ n: Int) throws -> Tensor {
        let t = try zeros([n, n])
        for i in 0..<n { t.storage.pointer[i * n + i] = 1 }
        return t
    }

    /// start, start + step, ... before stop (NumPy's arange).
    public static func arange(start: Double, stop: Double, step: Double) throws -> Tensor {
        guard step != 0, step.isFinite, start.isFinite, stop.isFinite else {
            throw TensorError.value("arange needs finite bounds and a nonzero step")
        }
        let n = max(0, ((stop - start) / step).rounded(.up))
        guard n < 1e12 else { throw TensorError(.memory, "arange(\(start), \(stop), \(step)) is too large") }
        let t = try Tensor(uninitializedShape: [Int(n)])
        for i in 0..<Int(n) { t.storage.pointer[i] = Float(start + Double(i) * step) }
        return t
    }

    /// `count` evenly spaced values from a to b inclusive.
    public static func linspace(_ a: Double, _ b: Double, count: Int) throws -> Tensor {
        let t = try Tensor(uninitializedShape: [count])
        let step = count > 1 ? (b - a) / Double(count - 1) : 0
        for i in 0..<count { t.storage.pointer[i] = Float(i == count - 1 && count > 1 ? b : a + Double(i) * step) }
        return t
    }
}
