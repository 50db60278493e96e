#define _GNU_SOURCE
#include "tx_blas.h"
#include "tx_pool.h"

#include <dlfcn.h>
#include <sched.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { RowMajor = 101, NoTrans = 111, Trans = 112 };

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int,
                         const float *, int, float, float *, int);
typedef char *(*string_fn)(void);
typedef int (*int_fn)(void);
typedef void (*set_int_fn)(int);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static sgemm_fn sgemm;
static string_fn get_corename, get_config;
static int_fn get_threads;
static set_int_fn set_threads;
static char library[512];
static char source[256] = "left to OpenBLAS";
static int pool_threads = 1;

/* The threads OpenBLAS would use on its own: OPENBLAS_NUM_THREADS (or OMP_NUM_THREADS),
 * else the cores this process may run on. */
static int threads_from_environment(void) {
    const char *names[] = {"OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *text = getenv(names[i]);
        if (text && atoi(text) > 0) return atoi(text);
    }
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
    return 1;
}

const char *tx_blas_preferred_core(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return "Haswell";
    if (__builtin_cpu_supports("avx"))
        return "Sandybridge";
#endif
    return NULL;
}

static void load(void) {
    const char *user = getenv("OPENBLAS_CORETYPE");
    if (user && *user) {
        const char *core = tx_blas_preferred_core();
        if (core && strcasecmp(core, user) != 0)
            snprintf(source, sizeof source,
                     "set by the user: OPENBLAS_CORETYPE=%s; unset, tx would choose %s", user, core);
        else
            snprintf(source, sizeof source, "set by the user: OPENBLAS_CORETYPE=%s", user);
    } else {
        const char *core = tx_blas_preferred_core();
        if (core) {
            /* Overwrite: an empty value counts as unset, and OpenBLAS would ignore it. */
            setenv("OPENBLAS_CORETYPE", core, 1);
            snprintf(source, sizeof source, "chosen by tx from the CPU's features");
        }
    }
    static const char *names[] = {"libopenblas.so.0", "libopenblas.so"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        void *handle = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!handle) continue;
        sgemm = (sgemm_fn)dlsym(handle, "cblas_sgemm");
        if (!sgemm) { dlclose(handle); continue; }
        get_corename = (string_fn)dlsym(handle, "openblas_get_corename");
        get_config = (string_fn)dlsym(handle, "openblas_get_config");
        get_threads = (int_fn)dlsym(handle, "openblas_get_num_threads");
        set_threads = (set_int_fn)dlsym(handle, "openblas_set_num_threads");
        Dl_info info;
        if (dladdr((void *)sgemm, &info) && info.dli_fname)
            snprintf(library, sizeof library, "%s", info.dli_fname);
        else
            snprintf(library, sizeof library, "%s", names[i]);
        /* tx splits products between its own threads (tx_pool.h); OpenBLAS runs each
         * piece on the thread that asks, so that its workers never spin beside tx's. */
        pool_threads = get_threads ? get_threads() : threads_from_environment();
        if (set_threads) set_threads(1);
        return;
    }
    pool_threads = threads_from_environment();
    snprintf(source, sizeof source, "OpenBLAS could not be opened; using tx's plain C kernel");
}

int tx_blas_load(void) {
    pthread_once(&once, load);
    return sgemm != NULL;
}

/* The fallback: a plain i-k-j loop, correct for every transpose combination. */
static void fallback_sgemm(int transA, int transB, int M, int N, int K, float alpha,
                           const float *A, int lda, const float *B, int ldb,
                           float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        for (int j = 0; j < N; j++) c[j] = beta == 0 ? 0 : beta * c[j];
        for (int k = 0; k < K; k++) {
            float a = transA == Trans ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
            a *= alpha;
            if (transB == Trans) {
                for (int j = 0; j < N; j++) c[j] += a * B[(size_t)j * ldb + k];
            } else {
                const float *b = B + (size_t)k * ldb;
                for (int j = 0; j < N; j++) c[j] += a * b[j];
            }
        }
    }
}

static void serial_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                         const float *B, int ldb, float beta, float *C, int ldc) {
    if (sgemm)
        sgemm(RowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else
        fallback_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* A product cut into `pieces` bands of `step` rows of C (along_rows) or columns. Each
 * element of C is still summed over K by one thread in OpenBLAS's order, so the bits do
 * not depend on the cut. */
struct product {
    int ta, tb, M, N, K, lda, ldb, ldc, along_rows, step;
    float alpha, beta;
    const float *A, *B;
    float *C;
};

static void product_piece(void *context, int t) {
    const struct product *p = context;
    long first = (long)t * p->step;
    if (p->along_rows) {
        if (first >= p->M) return;
        int rows = p->M - first < p->step ? p->M - (int)first : p->step;
        const float *a = p->ta == Trans ? p->A + first : p->A + first * p->lda;
        serial_sgemm(p->ta, p->tb, rows, p->N, p->K, p->alpha, a, p->lda, p->B, p->ldb, p->beta,
                     p->C + first * p->ldc, p->ldc);
    } else {
        if (first >= p->N) return;
        int columns = p->N - first < p->step ? p->N - (int)first : p->step;
        const float *b = p->tb == Trans ? p->B + first * p->ldb : p->B + first;
        serial_sgemm(p->ta, p->tb, p->M, columns, p->K, p->alpha, p->A, p->lda, b, p->ldb, p->beta,
                     p->C + first, p->ldc);
    }
}

/* Multiply-adds a piece gets at least (about 5 us of work): below it, waking a thread
 * costs more than it saves. Bands are whole multiples of 16 rows or columns, the width
 * of OpenBLAS's kernels. */
enum { PIECE_WORK = 1 << 19, BAND = 16 };

void tx_sgemm(int transA, int transB, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb,
              float beta, float *C, int ldc) {
    tx_blas_load();
    int ta = transA ? Trans : NoTrans, tb = transB ? Trans : NoTrans;
    double work = (double)M * N * (K > 0 ? K : 1);
    int pieces = pool_threads;
    if (work / PIECE_WORK < pieces) pieces = (int)(work / PIECE_WORK);
    int along_rows = M >= N, extent = along_rows ? M : N;
    int step = pieces > 1 ? (extent + pieces - 1) / pieces : extent;
    step = (step + BAND - 1) / BAND * BAND;
    if (step > 0) pieces = (extent + step - 1) / step;
    if (pieces <= 1) {
        serial_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    struct product p = {ta, tb, M, N, K, lda, ldb, ldc, along_rows, step, alpha, beta, A, B, C};
    tx_pool_run(pieces, product_piece, &p);
}

const char *tx_blas_core(void) {
    tx_blas_load();
    if (!sgemm) return "fallback";
    return get_corename ? get_corename() : "unknown";
}

const char *tx_blas_config(void) {
    tx_blas_load();
    return get_config ? get_config() : "";
}

const char *tx_blas_core_source(void) {
    tx_blas_load();
    return source;
}

const char *tx_blas_library(void) {
    tx_blas_load();
    return library;
}

int tx_pool_threads(void) {
    tx_blas_load();
    return pool_threads < 1 ? 1 : (pool_threads > 64 ? 64 : pool_threads);
}
