// OpenBLAS, loaded at run time.
//
// Debian's OpenBLAS chooses its kernels ("core") from the CPU when the library is
// loaded, and on some newer CPUs it falls back to a slow generic core. It reads
// OPENBLAS_CORETYPE only at load time, so tx does not link it: the first call that
// needs BLAS detects the CPU's features, sets OPENBLAS_CORETYPE (unless the user
// already set it), and only then opens libopenblas.so.0 with dlopen.
//
// If no OpenBLAS can be opened, the functions below fall back to a plain C kernel,
// so tx still computes correct (if slow) products.
#ifndef TX_BLAS_H
#define TX_BLAS_H

#ifdef __cplusplus
extern "C" {
#endif

/// Loads OpenBLAS once (thread-safe); later calls return at once.
/// Returns 1 when OpenBLAS was opened, 0 when the fallback kernel is in use.
int tx_blas_load(void);

/// Row-major C = alpha * op(A) @ op(B) + beta * C, op(X) = X or X^T.
/// Same meaning as cblas_sgemm(CblasRowMajor, ...): A is M x K after op, B is K x N.
void tx_sgemm(int transA, int transB, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb,
              float beta, float *C, int ldc);

/// The core OpenBLAS runs, e.g. "SkylakeX"; "fallback" when OpenBLAS is missing.
const char *tx_blas_core(void);
/// OpenBLAS's configuration string (version and build options), or "".
const char *tx_blas_config(void);
/// How OPENBLAS_CORETYPE was decided: "chosen by tx from the CPU's features",
/// "set by the user: ..." (naming the core tx would have chosen when it differs),
/// "left to OpenBLAS", or why the fallback kernel is in use.
const char *tx_blas_core_source(void);
/// The library path that was opened, or "" when the fallback is in use.
const char *tx_blas_library(void);

/// The OpenBLAS core tx would choose for this CPU ("SkylakeX", "Haswell",
/// "Sandybridge"), or NULL to leave the choice to OpenBLAS.
const char *tx_blas_preferred_core(void);

#ifdef __cplusplus
}
#endif
#endif
