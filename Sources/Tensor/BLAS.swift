import CKernels
import COpenBLAS
import Synchronization

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
    /// The threads of tx's pool (tx_pool.h), between which products and kernels are split.
    public static var threads: Int { Int(tx_pool_threads()) }
    /// The instruction set of tx's own kernels (elementwise, reductions, softmax,
    /// attention): "avx512", "avx2" or "generic" (TX_KERNELS asks for an older one).
    public static var kernels: String { String(cString: tx_kernels_name()) }

    /// The largest size or leading dimension sgemm takes: its integers are 32-bit.
    public static let maxSize = Int(Int32.max)

    /// Throws unless `largest`, the largest of the matrix sizes and leading dimensions
    /// of a product, fits sgemm's 32-bit integers; `what` names the operation.
    @inline(__always)
    public static func check(largest: Int, for what: @autoclosure () -> String) throws {
        guard largest > maxSize else { return }
        throw TensorError.value("\(what()) is too large for BLAS (a size or row stride of \(largest); at most 2^31 - 1)")
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

    /// How `product` cuts a large product: blocks of `rows` x `cols` of C, each over
    /// slices of `depth` of the inner size.
    public struct Tiling: Equatable, Sendable {
        public let rows: Int, cols: Int, depth: Int

        public init(rows: Int, cols: Int, depth: Int) {
            (self.rows, self.cols, self.depth) = (max(rows, 1), max(cols, 1), max(depth, 1))
        }

        /// A product of up to 2^35 floating-point operations (about 3200^3, some 70 ms
        /// on two cores) is one call. A larger one is cut into tiles of at most about
        /// 2^36 operations (a quarter of a second at 250 GFLOP/s), first along the inner
        /// size, in slices of at least 512 that add into C, then, when the inner size is
        /// short, into blocks of C of at least 1024 x 1024. Slices of the inner size cost
        /// nothing measurable: OpenBLAS packs each element of A and B once either way and
        /// already updates C once per slice of a few hundred. Blocks of C make OpenBLAS
        /// pack A and B again for every block: 1024 x 1024 x 8192 tiles made an 8192
        /// product 20-25% slower than one sgemm, 8192 x 8192 x 512 slices none (Intel
        /// Xeon, Sapphire Rapids).
        public static func plan(m: Int, n: Int, k: Int) -> Tiling {
            var (rows, cols, depth) = (m, n, k)
            if operations(m, n, k) <= 0x1p35 { return Tiling(rows: m, cols: n, depth: k) }
            while operations(rows, cols, depth) > 0x1p36 {
                if depth >= 1024 {
                    depth = (depth + 1) / 2
                } else if max(rows, cols) >= 2048 {
                    if rows >= cols { rows = (rows + 1) / 2 } else { cols = (cols + 1) / 2 }
                } else {
                    break
                }
            }
            return Tiling(rows: rows, cols: cols, depth: depth)
        }
    }

    static func operations(_ m: Int, _ n: Int, _ k: Int) -> Double { 2 * Double(m) * Double(n) * Double(k) }

    /// Row-major C = op(A) op(B), or C + op(A) op(B) when `accumulate`, through `gemm`
    /// (whose checks `what` names), cut into tiles (`Tiling.plan` unless `tiling` is
    /// given) with a check for Ctrl-C before each, so that no single BLAS call runs for
    /// long, and once more after the last. Throws `interrupted` with C partly written,
    /// which callers discard.
    public static func product(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                               a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                               accumulate: Bool = false, c: UnsafeMutablePointer<Float>, ldc: Int,
                               tiling: Tiling? = nil, for what: @autoclosure () -> String) throws {
        try check(largest: max(m, n, k, lda, ldb, ldc), for: what())
        try Interrupt.check()
        countOperations(operations(m, n, k))
        let tile = tiling ?? Tiling.plan(m: m, n: n, k: k)
        // Element (i, j) of op(X) for a row-major X with leading dimension ld.
        func element(_ x: UnsafePointer<Float>, _ transposed: Bool, _ ld: Int, _ i: Int, _ j: Int) -> UnsafePointer<Float> {
            transposed ? x + j * ld + i : x + i * ld + j
        }
        for p in stride(from: 0, to: max(k, 1), by: tile.depth) {
            for i in stride(from: 0, to: m, by: tile.rows) {
                for j in stride(from: 0, to: n, by: tile.cols) {
                    if p + i + j > 0 { try Interrupt.check() }
                    try gemm(transposeA: transposeA, transposeB: transposeB,
                             m: min(tile.rows, m - i), n: min(tile.cols, n - j), k: min(tile.depth, k - p), alpha: 1,
                             a: element(a, transposeA, lda, i, p), lda: lda,
                             b: element(b, transposeB, ldb, p, j), ldb: ldb,
                             beta: p == 0 && !accumulate ? 0 : 1, c: c + i * ldc + j, ldc: ldc, for: what())
                }
            }
        }
        // Ctrl-C pressed during the last (or only) call stops the product too: its
        // result is not used.
        try Interrupt.check()
    }

    private static let operationTotal = Mutex<Double>(0)

    /// Floating-point operations done by products and attention since tx started
    /// (`:time` reports GFLOP/s from it).
    public static var operationCount: Double { operationTotal.withLock { $0 } }

    /// Adds `count` to `operationCount`.
    public static func countOperations(_ count: Double) {
        operationTotal.withLock { $0 += count }
    }
}
