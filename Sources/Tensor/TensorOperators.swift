/// Throwing operators, so that code reads as the formula it computes:
/// `try (q.matmul(k.swappingLastAxes()) / scale + mask).softmax().matmul(v)`.
/// Each is the NumPy-broadcasting operation of the same name; a shape mismatch throws.
extension Tensor {
    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try binary(.add, a, b) }
    public static func / (a: Tensor, b: Float) throws -> Tensor { try binary(.divide, a, scalar: b) }

    /// The (batched) matrix product `self @ other`.
    public func matmul(_ other: Tensor) throws -> Tensor { try Tensor.matmul(self, other) }
}
