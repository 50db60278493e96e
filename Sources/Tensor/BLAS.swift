import COpenBLAS

/// The BLAS library behind `@` (see tx_blas.h for how its core is chosen).
public enum BLAS {
    /// Loads OpenBLAS now (it is otherwise loaded by the first product).
    @discardableResult
    public static func load() -> Bool { tx_blas_load() != 0 }

    /// The kernel family in use, e.g. "SkylakeX".
    public static var core: String { String(cString: tx_blas_core()) }
    /// How the core was chosen.
    public static var coreSource: String { String(cString: tx_blas_core_source()) }
    /// The library file, or "" when tx's fallback kernel is in use.
    public static var library: String { String(cString: tx_blas_library()) }
    public static var threads: Int { Int(tx_blas_threads()) }

    /// The largest size or leading dimension sgemm takes: its integers are 32-bit.
    public static let maxSize = Int(Int32.max)

    /// Throws unless `largest`, the largest of the matrix sizes and leading dimensions
    /// of a product, fits sgemm's 32-bit integers; `what` names the operation.
    @inline(__always)
    public static func check(largest: Int, for what: @autoclosure () -> String) throws {
        guard largest > maxSize else { return }
        throw TensorError.value("value error: \(what()) is too large for BLAS (a size or row stride of \(largest); at most 2^31 - 1)")
    }

    /// Row-major C = alpha op(A) op(B) + beta C: the one way tx calls sgemm, with its
    /// sizes checked (OpenBLAS would print a complaint and leave C as it was).
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                            for what: @autoclosure () -> String) throws {
        try check(largest: max(m, n, k, lda, ldb, ldc), for: what())
        tx_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha,
                 a, Int32(max(lda, 1)), b, Int32(max(ldb, 1)), beta, c, Int32(max(ldc, 1)))
    }
}
