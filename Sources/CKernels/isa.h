/* The kernels compiled once per instruction set. kernels.c, elementwise.c and
 * reductions.c are not compiled on their own: isa_avx512.c, isa_avx2.c and
 * isa_generic.c each include them (through isa_sources.h) with TX_ISA naming the
 * instruction set and every function compiled for it, and end with a table of their
 * entry points; dispatch.c
 * picks a table once (by the CPU's features, or TX_KERNELS) and defines the public
 * tx_* functions of tx_kernels.h, which call through it. Internal to CKernels.
 *
 * A fourth table, "avx512-layout" (isa_avx512_layout.c), is for tests: the AVX-512
 * build's sources as it compiles them (TX_GEMM_WIDTH 16, TX_GEMM_ROWS 12, and so its
 * packed panels of 32 columns and its scratch sizes) but for AVX2 and FMA, so that the
 * logic of the AVX-512 path runs on machines without AVX-512. The CPU's features never
 * choose it; only its name does (TX_KERNELS=avx512-layout, or the `set` of
 * tx_attention_on and tx_attention_backward_on), and it needs AVX2 and FMA like the
 * avx2 table (without them it falls back to generic). The AVX-512 build differs from
 * it only in code generation: its instructions, registers (32 zmm: the 12 x 2 tile's
 * accumulators stay in registers, which 16 ymm cannot hold) and speed. */
#ifndef TX_ISA_H
#define TX_ISA_H

/* The C library and the BLAS and thread-pool headers, included here, before any isa_*.c
 * pushes its target: none of their functions takes an instruction set's target. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tx_blas.h"
#include "tx_kernels.h"
#include "tx_pool.h"

#define TX_PASTE_(name, isa) name##_##isa
#define TX_PASTE(name, isa) TX_PASTE_(name, isa)
/* tx_exp in isa_avx2.c is tx_exp_avx2. */
#define TX_KERNEL(name) TX_PASTE(name, TX_ISA)

/* f(x) elementwise over n floats: the functions dispatch.c spreads over threads. */
#define TX_UNARY_KERNELS(X) X(tx_exp) X(tx_sqrt) X(tx_log) X(tx_tanh) X(tx_sigmoid) X(tx_gelu) X(tx_gelu_slope)

/* The other entry points: return type, name, parameters, arguments. */
#define TX_OTHER_KERNELS(X)                                                                                      \
    X(void, tx_transpose, (const float *src, long src_col_stride, float *dst, long dst_row_stride, long rows,   \
                           long cols), (src, src_col_stride, dst, dst_row_stride, rows, cols))                   \
    X(long, tx_compress, (const float *x, const float *mask, long n, float *out), (x, mask, n, out))             \
    X(double, tx_sum, (const float *x, long n), (x, n))                                                          \
    X(double, tx_sum_squared_deviations, (const float *x, long n, double mean), (x, n, mean))                    \
    X(float, tx_max, (const float *x, long n), (x, n))                                                           \
    X(float, tx_min, (const float *x, long n), (x, n))                                                           \
    X(long, tx_argmax, (const float *x, long n), (x, n))                                                         \
    X(long, tx_argmin, (const float *x, long n), (x, n))                                                         \
    X(float, tx_logsumexp, (const float *x, long n), (x, n))                                                     \
    X(void, tx_sum_columns, (const float *x, long rows, long n, double *sums), (x, rows, n, sums))               \
    X(void, tx_sum_squared_deviations_columns, (const float *x, long rows, long n, const double *means,         \
                                                double *sums), (x, rows, n, means, sums))                        \
    X(void, tx_max_columns, (const float *x, long rows, long n, float *out), (x, rows, n, out))                  \
    X(void, tx_min_columns, (const float *x, long rows, long n, float *out), (x, rows, n, out))                  \
    X(void, tx_argmax_columns, (const float *x, long rows, long n, float *out), (x, rows, n, out))               \
    X(void, tx_argmin_columns, (const float *x, long rows, long n, float *out), (x, rows, n, out))               \
    X(void, tx_logsumexp_columns, (const float *x, long rows, long n, float *out), (x, rows, n, out))            \
    X(void, tx_softmax_columns, (const float *x, float *y, long rows, long n), (x, y, rows, n))                  \
    X(int, tx_attention, (const tx_attention_job *job), (job))                                                  \
    X(long, tx_attention_scratch, (long block_keys, long dk, long dv, long block_rows, int weights),             \
      (block_keys, dk, dv, block_rows, weights))                                                                        \
    X(int, tx_attention_backward, (const tx_attention_backward_job *job), (job))                                \
    X(long, tx_attention_backward_scratch, (long nq, long dk, long dv, long block_rows, long block_keys),        \
      (nq, dk, dv, block_rows, block_keys))

/* Row kernels that dispatch.c spreads over threads, a range of rows per call. */
#define TX_ROW_KERNELS(X)                                                                                        \
    X(tx_softmax_rows_range, (float *x, long n, long stride, long begin, long end))                             \
    X(tx_layernorm_rows_range, (const float *x, float *y, long n, const float *gamma, const float *beta,         \
                                float eps, long begin, long end))                                           \
    X(tx_layernorm_backward_rows_range, (const float *x, const float *g, float *dx, float *gxhat, long n,       \
                                         const float *gamma, const float *mean, const float *rstd, long begin,  \
                                         long end))                                                             \
    X(tx_activation_rows_range, (float *c, long ldc, long n, int activation, long begin, long end))

struct tx_kernel_table {
    const char *name;
#define TX_UNARY_FIELD(name) void (*name)(const float *x, float *y, long n);
    TX_UNARY_KERNELS(TX_UNARY_FIELD)
#undef TX_UNARY_FIELD
#define TX_OTHER_FIELD(result, name, parameters, arguments) result (*name) parameters;
    TX_OTHER_KERNELS(TX_OTHER_FIELD)
#undef TX_OTHER_FIELD
#define TX_ROW_FIELD(name, parameters) void (*name) parameters;
    TX_ROW_KERNELS(TX_ROW_FIELD)
#undef TX_ROW_FIELD
};

extern const struct tx_kernel_table tx_kernel_table_avx512, tx_kernel_table_avx512_layout, tx_kernel_table_avx2,
    tx_kernel_table_generic;

#endif
