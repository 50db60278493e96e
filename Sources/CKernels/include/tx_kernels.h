// Hot loops that profit from SIMD: elementwise functions, reductions, softmax and
// attention over float32 rows, the transpose behind copies of transposed views, and
// the compression behind boolean masks.
//
// They are written as plain C loops that clang vectorises, compiled once per
// instruction set (AVX-512; AVX2 with FMA; x86-64's baseline) and chosen on first use
// by the CPU's features, so one binary runs fast on every x86-64 machine. The
// environment variable TX_KERNELS=avx2 (or generic) asks for an older set than the CPU
// has, to measure a slower machine's path; a set the CPU lacks is never chosen.
// Elementwise functions of at least 2^16 floats, and softmax and layer normalisation of
// at least 2^15 floats, run on tx's pool of threads (tx_pool.h), as the matrix products do.
#ifndef TX_KERNELS_H
#define TX_KERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/// The instruction set the kernels run: "avx512", "avx2" or "generic" (or, when
/// TX_KERNELS names it, the tests' "avx512-layout"; see tx_attention_backward_on).
const char *tx_kernels_name(void);

/// y[i] = exp(x[i]) for n floats (x and y may be the same array). Accurate to a few
/// ulp; exp(x) is exactly 0 for x < -87.3 (so exp(-inf) = 0) and inf past 88.7.
void tx_exp(const float *x, float *y, long n);

/// y[i] = f(x[i]) for n floats; x and y do not overlap or, except for sigmoid (which
/// reads x again after writing y), are the same array. log is
/// within 0.5 ulp (the C library's logf within 0.82); tanh within 1.4 ulp (tanhf within
/// 2.2); the erf in gelu = x/2 (1 + erf(x / sqrt 2)), the exact form, within 1.1 ulp
/// (1.4 without FMA; erff within 1); sigmoid keeps its subnormal tail below -87.3 exact.
void tx_sqrt(const float *x, float *y, long n);
void tx_log(const float *x, float *y, long n);
void tx_tanh(const float *x, float *y, long n);
void tx_sigmoid(const float *x, float *y, long n);
void tx_gelu(const float *x, float *y, long n);
/// y[i] = gelu'(x[i]) = Phi(x) + x phi(x) (Phi the normal distribution, phi its density):
/// the slope the GELU's backward pass multiplies by; x and y do not overlap.
void tx_gelu_slope(const float *x, float *y, long n);

/// dst[i * dst_row_stride + j] = src[i + j * src_col_stride] for a rows x cols block:
/// a transpose, in 16 x 16 blocks transposed in registers, so that memory is read and
/// written in whole cache lines (power-of-two strides defeat tiles kept in cache).
void tx_transpose(const float *src, long src_col_stride, float *dst, long dst_row_stride, long rows, long cols);

/// Writes the x[i] whose mask[i] is nonzero to out, in order, and returns how many
/// (out has room for exactly those). Branch-free: each x[i] is written to the next free
/// place, which moves on only past selected ones; the writes stop at the last selected
/// element, so that they stay inside out.
long tx_compress(const float *x, const float *mask, long n, float *out);

/// Reductions of a segment of n > 0 floats. Sums are in double precision. max and min
/// are NaN when any element is; argmax and argmin give the first extreme element, or
/// the first NaN. logsumexp subtracts the maximum and sums exp in double precision.
double tx_sum(const float *x, long n);
double tx_sum_squared_deviations(const float *x, long n, double mean);
float tx_max(const float *x, long n);
float tx_min(const float *x, long n);
long tx_argmax(const float *x, long n);
long tx_argmin(const float *x, long n);
float tx_logsumexp(const float *x, long n);

/// The same reductions down the n columns of a [rows, n] row-major matrix (rows > 0),
/// one result per column, computed by accumulating whole rows. argmax and argmin give
/// row indices (as floats).
void tx_sum_columns(const float *x, long rows, long n, double *sums);
void tx_sum_squared_deviations_columns(const float *x, long rows, long n, const double *means, double *sums);
void tx_max_columns(const float *x, long rows, long n, float *out);
void tx_min_columns(const float *x, long rows, long n, float *out);
void tx_argmax_columns(const float *x, long rows, long n, float *out);
void tx_argmin_columns(const float *x, long rows, long n, float *out);
void tx_logsumexp_columns(const float *x, long rows, long n, float *out);

/// Softmax down the columns of a [rows, n] matrix into y (same layout, not overlapping
/// x), with the rules of tx_softmax_rows for each column; the sums are in double.
void tx_softmax_columns(const float *x, float *y, long rows, long n);

/// In-place softmax of `rows` rows of `n` floats, `stride` floats apart:
/// y = exp(x - max) / sum(exp(x - max)). A row that is all -inf becomes all 0;
/// entries of -inf become exactly 0; a row holding NaN or +inf becomes all NaN.
/// Returns 1 when Ctrl-C stopped it (some rows are then left as they were), else 0.
int tx_softmax_rows(float *x, long rows, long n, long stride);

/// Layer normalisation of `rows` rows of n > 0 floats x into y (not overlapping):
/// y = (x - mean) / sqrt(variance + eps) * gamma + beta, the mean and the biased
/// variance of each row computed in double precision. Returns 1 when Ctrl-C stopped
/// it, else 0.
int tx_layernorm_rows(const float *x, float *y, long rows, long n, const float *gamma, const float *beta, float eps);

/// The backward of tx_layernorm_rows for `rows` rows of n > 0 floats, from the rows' saved
/// mean and rstd = 1 / sqrt(variance + eps) (one float per row) and the gradient g of
/// the output: with xhat = (x - mean) * rstd and dxhat = g * gamma,
/// dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) (means along the row),
/// and gxhat = g * xhat, whose column sums are gamma's gradient. Two passes over each
/// row, rows spread over threads. Returns 1 when Ctrl-C stopped it, else 0.
int tx_layernorm_backward_rows(const float *x, const float *g, float *dx, float *gxhat, long rows, long n,
                               const float *gamma, const float *mean, const float *rstd);

/// The backward of ReLU, out = y > 0 ? g : 0 over n floats (y the ReLU's output), in one
/// pass on all threads from 2^18 elements on. Returns 1 when Ctrl-C stopped it, else 0.
int tx_relu_backward(const float *g, const float *y, float *out, long n);

/// The activations of tx_activation_rows.
enum { TX_ACTIVATION_NONE = 0, TX_ACTIVATION_RELU = 1, TX_ACTIVATION_GELU = 2 };

/// Copies `row` (n floats) into each of `rows` rows of c (n floats, ldc apart): an
/// affine layer's output starts as copies of its bias, to which sgemm adds the product
/// (beta = 1, with no pass of its own to zero the output first). Applies the
/// activation, a TX_ACTIVATION_* (relu keeps NaN, gelu is tx_gelu's), in place to rows
/// of c. Both spread large matrices over threads and return 1 when Ctrl-C stopped them
/// (some rows are then left as they were), else 0.
int tx_fill_rows(float *c, long rows, long n, long ldc, const float *row);

/// body(context, begin, end) over [0, n), on the threads the elementwise functions use
/// (from 2^18 elements on), in pieces between which Ctrl-C is polled: for elementwise
/// work written outside C, such as the arithmetic operators. Returns 1 when Ctrl-C
/// stopped it, else 0.
int tx_parallel_elements(long n, void (*body)(void *context, long begin, long end), void *context);
int tx_activation_rows(float *c, long rows, long n, long ldc, int activation);

/// Ctrl-C: set from the signal handler, polled by long loops. Async-signal-safe.
/// Every kernel here polls it at least every TX_CHUNK elements (a few milliseconds of
/// work) and, once it is set, stops early with its output partly written: callers check
/// tx_interrupt_requested() after a kernel and discard what it wrote. A row of
/// tx_softmax_rows or tx_layernorm_rows is not cut.
enum { TX_CHUNK = 1 << 22 };
void tx_interrupt_request(void);
void tx_interrupt_clear(void);
int tx_interrupt_requested(void);

/// Scaled dot-product attention over a batch of independent (Q, K, V) problems,
/// computed in blocks of `block_rows` query rows shared between `threads` threads (at
/// most TX_ATTENTION_MAX_THREADS). Each block makes its scores S = scale Q K^T (K
/// through the transpose flag, or packed for tx's own micro-kernel), adds the mask (row
/// r at mask + r * mask_row_stride, key j at j * mask_col_stride; strides may be 0 to
/// broadcast), applies the causal cut (query i sees keys j <= i), exponentiates (rows
/// with every key blocked give 0; rows whose scores hold NaN or +inf give NaN weights
/// and a NaN output row), multiplies by V and divides its output rows by the row sums.
/// The keys are taken `block_keys` at a time: all nk in one block, or fewer with an
/// online softmax (a running row maximum and sum) that keeps a block's scores in cache
/// (only when the weights are not the output). With `weights` set instead of `out`, the
/// normalised weights are written there ([nq, nk] per item). With `logsumexp` set
/// (beside `out`), each row's L = m + log(l) of its scaled, masked scores (m their
/// maximum, l the sum of exp(s - m)) is written there, [batches, nq] contiguous: -inf
/// for a row that sees no key, NaN for a NaN row. The backward recomputes the weights
/// from it, P = exp(S - L). The caller (Attention.Blocks in Swift) chooses block_rows,
/// block_keys and threads; the kernel only clamps threads to [1, TX_ATTENTION_MAX_THREADS].
typedef struct {
    long batches;
    /// Element offsets of each batch item's matrices (mask_offsets may be NULL).
    const long *q_offsets, *k_offsets, *v_offsets, *mask_offsets, *out_offsets;
    const float *q, *k, *v, *mask;
    float *out, *weights, *logsumexp;
    long nq, nk, dk, dv;
    long ldq, ldk, ldv, ldout;
    long mask_row_stride, mask_col_stride;
    float scale;
    int causal;
    long block_rows, block_keys;
    int threads;
} tx_attention_job;

/// The most threads one attention call (forward or backward) uses: beyond it the blocks
/// are too few to share.
enum { TX_ATTENTION_MAX_THREADS = 8 };

/// 0 on success, 1 when interrupted (tx_interrupt_requested), -1 when a buffer could
/// not be allocated.
int tx_attention(const tx_attention_job *job);
/// The bytes of scratch each thread of tx_attention allocates for a job of these sizes
/// (`weights`: 1 when the weights are the output, whose blocks take all the keys).
long tx_attention_scratch(long block_keys, long dk, long dv, long block_rows, int weights);
/// tx_attention and its scratch on the instruction set named `set`, as
/// tx_attention_backward_on and tx_attention_backward_scratch_on below.
const char *tx_attention_on(const char *set, const tx_attention_job *job, int *status);
long tx_attention_scratch_on(const char *set, long block_keys, long dk, long dv, long block_rows, int weights);

/// The gradients of attention with respect to Q, K and V, from the forward's output O
/// and logsumexp and the output's gradient dO: FlashAttention-2's backward, blocks of
/// `forward.block_rows` queries by `forward.block_keys` keys whose weights are recomputed from
/// the logsumexp (see kernels.c). `forward` is the forward's job with `out` = O and
/// `weights` NULL (its `logsumexp` is not read). The gradients are contiguous
/// [batches, nq, dk], [batches, nk, dk] and [batches, nk, dv], zeroed by the caller.
/// With splits > 1 the key blocks of one batch item are shared out between that many
/// work items (for fewer batch items than threads), and each thread adds its items' dQ
/// in a buffer of its own: dq for the first, and `forward.threads - 1` more
/// [batches, nq, dk] in dq_partials (zeroed by the caller; NULL when splits = 1).
typedef struct {
    tx_attention_job forward;
    const long *dout_offsets;
    const float *dout;
    long lddout;
    const float *logsumexp;   /* [batches, nq] */
    float *dq, *dk, *dv, *dq_partials;
    int splits;
} tx_attention_backward_job;

/// 0 on success, 1 when interrupted (tx_interrupt_requested), -1 when a buffer could
/// not be allocated.
int tx_attention_backward(const tx_attention_backward_job *job);
/// tx_attention_backward on the instruction set named `set` ("avx512", "avx2",
/// "generic", or for tests "avx512-layout": the AVX-512 build's tiles compiled for AVX2;
/// NULL for the chosen one), or on the newest older set the CPU has, as TX_KERNELS
/// chooses but for one call: for tests of every set in one process. Its status goes to
/// *status; returns the name of the set that ran.
const char *tx_attention_backward_on(const char *set, const tx_attention_backward_job *job, int *status);
/// The bytes of scratch each thread of tx_attention_backward allocates (on the chosen
/// set, or on `set` as tx_attention_backward_on takes it: the sets' panels differ).
long tx_attention_backward_scratch(long nq, long dk, long dv, long block_rows, long block_keys);
long tx_attention_backward_scratch_on(const char *set, long nq, long dk, long dv, long block_rows, long block_keys);

#ifdef __cplusplus
}
#endif
#endif
