#define _GNU_SOURCE
#include "tx_blas.h"

#include <dlfcn.h>
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
        return;
    }
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

void tx_sgemm(int transA, int transB, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb,
              float beta, float *C, int ldc) {
    tx_blas_load();
    int ta = transA ? Trans : NoTrans, tb = transB ? Trans : NoTrans;
    if (sgemm)
        sgemm(RowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else
        fallback_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
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

/* OpenBLAS's thread count is process-wide. Serial sections (see tx_blas.h) may overlap
   when several threads call attention at once, so they are counted under a lock: the
   first to begin remembers the count and sets 1, the last to end restores it, and
   tx_blas_threads answers the remembered count meanwhile. */
static pthread_mutex_t serial_lock = PTHREAD_MUTEX_INITIALIZER;
static int serial_sections;
static int threads_outside;

int tx_blas_threads(void) {
    tx_blas_load();
    pthread_mutex_lock(&serial_lock);
    int n = serial_sections > 0 ? threads_outside : (get_threads ? get_threads() : 1);
    pthread_mutex_unlock(&serial_lock);
    return n;
}

void tx_blas_serial_begin(void) {
    tx_blas_load();
    pthread_mutex_lock(&serial_lock);
    if (serial_sections++ == 0) {
        threads_outside = get_threads ? get_threads() : 1;
        if (set_threads) set_threads(1);
    }
    pthread_mutex_unlock(&serial_lock);
}

void tx_blas_serial_end(void) {
    pthread_mutex_lock(&serial_lock);
    if (--serial_sections == 0 && set_threads) set_threads(threads_outside);
    pthread_mutex_unlock(&serial_lock);
}
