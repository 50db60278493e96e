/* Softmax rows and attention (compiled once per instruction set, see isa.h). */
#include "isa.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "tx_blas.h"
#include "tx_pool.h"
#include "vector_math.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static float row_max(const float *x, long n) {
    v16 m = -INFINITY;
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        v16 v;
        memcpy(&v, x + i, sizeof v);
        m = v > m ? v : m;
    }
    float result = -INFINITY;
    for (int j = 0; j < 16; j++) result = m[j] > result ? m[j] : result;
    for (; i < n; i++) result = x[i] > result ? x[i] : result;
    return result;
}

/* x[i] = exp(x[i] - shift) and their sum; shift is at least every x[i] (the row's
 * maximum), so the arguments are <= 0 or NaN. */
static float exp_shift_sum(float *x, long n, float shift) {
    for (long i = 0; i < n; i++) x[i] = exp_nonpositive(x[i] - shift);
    v16 s = 0;
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        v16 v;
        memcpy(&v, x + i, sizeof v);
        s += v;
    }
    float sum = 0;
    for (int j = 0; j < 16; j++) sum += s[j];
    for (; i < n; i++) sum += x[i];
    return sum;
}

static void scale_row(float *x, long n, float factor) {
    for (long i = 0; i < n; i++) x[i] *= factor;
}

/* How many of n keys a row sees: all, or with the causal cut keys j <= last. */
static long visible_keys(int causal, long n, long last) {
    if (!causal) return n;
    long visible = last + 1 < n ? last + 1 : n;
    return visible < 0 ? 0 : visible;
}

/* Zeroes the entries of a row past `visible`, adds the mask (NULL for none; key i at
 * mask[i * stride]) to the others and returns their maximum: one pass for the mask and
 * the maximum, which the exponentiation then follows. */
static float mask_row_max(float *row, long n, long visible, const float *mask, long stride) {
    if (visible < n) memset(row + visible, 0, (size_t)(n - visible) * sizeof(float));
    if (!mask || visible <= 0) return row_max(row, visible);
    if (stride != 1) {
        float first = mask[0];
        if (stride == 0)
            for (long i = 0; i < visible; i++) row[i] += first;
        else
            for (long i = 0; i < visible; i++) row[i] += mask[i * stride];
        return row_max(row, visible);
    }
    v16 m = -INFINITY;
    long i = 0;
    for (; i + 16 <= visible; i += 16) {
        v16 v, a;
        memcpy(&v, row + i, sizeof v);
        memcpy(&a, mask + i, sizeof a);
        v += a;
        memcpy(row + i, &v, sizeof v);
        m = v > m ? v : m;
    }
    float result = -INFINITY;
    for (int j = 0; j < 16; j++) result = m[j] > result ? m[j] : result;
    for (; i < visible; i++) {
        row[i] += mask[i];
        result = row[i] > result ? row[i] : result;
    }
    return result;
}

static void fill_row(float *x, long n, float value) {
    for (long i = 0; i < n; i++) x[i] = value;
}

/* Whether any of n floats is NaN. */
static int has_nan(const float *x, long n) {
    for (long i = 0; i < n; i++)
        if (x[i] != x[i]) return 1;
    return 0;
}

/* The shared step of softmax and attention: the first `visible` entries, whose
 * maximum (NaN aside) is m, become exp(x - m), and their sum is returned. A row with
 * NaN or +inf (inf - inf) has a NaN sum: it becomes all NaN and returns NaN (as in
 * PyTorch). A row whose entries are all -inf becomes 0 and returns 0. The NaN check is
 * one comparison per row (row_max skips NaN, so a NaN shows up in the sum), plus a
 * scan of the rare rows whose maximum is -inf. */
static float exp_row(float *row, long visible, float m) {
    if (visible <= 0) return 0;
    if (m == -INFINITY) {
        if (has_nan(row, visible)) {
            fill_row(row, visible, NAN);
            return NAN;
        }
        memset(row, 0, (size_t)visible * sizeof(float));
        return 0;
    }
    float sum = exp_shift_sum(row, visible, m);
    if (sum != sum) fill_row(row, visible, NAN);
    return sum;
}

/* Rows begin..<end of tx_softmax_rows. */
void TX_KERNEL(tx_softmax_rows_range)(float *x, long n, long stride, long begin, long end) {
    for (long r = begin; r < end; r++) {
        float *row = x + r * stride;
        float sum = exp_row(row, n, row_max(row, n));
        if (sum > 0) scale_row(row, n, 1.0f / sum);
    }
}

/* The attention's two products, S = scale Q K^T and O = P V (+ O), whose inner size
 * (d) or output width (d_v) is small: with TX_GEMM_WIDTH set (floats per vector; the
 * AVX2 and AVX-512 clones), tx's own micro-kernel in place of sgemm. A tile of
 * TX_GEMM_ROWS x (2 TX_GEMM_WIDTH) outputs stays in registers while the inner index
 * runs: each step broadcasts one element of each of the tile's rows of A (read in
 * place) and loads two vectors of a panel of B packed for the purpose (2 TX_GEMM_WIDTH
 * columns, one row of the panel per inner index, zero past the last column), so a
 * panel is read from the L1 cache by every tile of rows. OpenBLAS took 5-40% longer on
 * these shapes (its driver also zeroes C and packs A). Larger sizes, and the generic
 * clone, go to sgemm. */
#ifdef TX_GEMM_WIDTH
#define GEMM_COLUMNS (2 * TX_GEMM_WIDTH)
typedef float gemm_vec __attribute__((vector_size(TX_GEMM_WIDTH * sizeof(float))));
typedef float gemm_vec_unaligned __attribute__((vector_size(TX_GEMM_WIDTH * sizeof(float)), aligned(4)));
enum { GEMM_LARGEST = 512 };   /* the largest d and d_v that gemm_packed multiplies */

/* Floats a packed B of `inner` x `n` takes. */
static long packed_floats(long inner, long n) {
    return (n + GEMM_COLUMNS - 1) / GEMM_COLUMNS * GEMM_COLUMNS * inner;
}

/* Packs B = X^T for X = n rows of `inner` floats (row c at x + c * ldx): the keys. Each
 * panel is a transpose (tx_transpose: 16 x 16 blocks in registers). */
static void pack_transposed(const float *x, long ldx, long n, long inner, float *packed) {
    for (long c0 = 0; c0 < n; c0 += GEMM_COLUMNS) {
        float *panel = packed + c0 * inner;
        long cols = n - c0 < GEMM_COLUMNS ? n - c0 : GEMM_COLUMNS;
        TX_KERNEL(tx_transpose)(x + c0 * ldx, ldx, panel, GEMM_COLUMNS, inner, cols);
        if (cols < GEMM_COLUMNS)
            for (long i = 0; i < inner; i++)
                memset(panel + i * GEMM_COLUMNS + cols, 0, (size_t)(GEMM_COLUMNS - cols) * sizeof(float));
    }
}

/* Packs B = X for X = `inner` rows of n floats (row i at x + i * ldx): the values. */
static void pack_rows(const float *x, long ldx, long inner, long n, float *packed) {
    for (long c0 = 0; c0 < n; c0 += GEMM_COLUMNS) {
        float *panel = packed + c0 * inner;
        long cols = n - c0 < GEMM_COLUMNS ? n - c0 : GEMM_COLUMNS;
        if (cols == GEMM_COLUMNS) {
            /* A copy of a constant size: vector moves, no call. */
            for (long i = 0; i < inner; i++)
                memcpy(panel + i * GEMM_COLUMNS, x + i * ldx + c0, sizeof(float[GEMM_COLUMNS]));
            continue;
        }
        for (long i = 0; i < inner; i++) {
            memcpy(panel + i * GEMM_COLUMNS, x + i * ldx + c0, (size_t)cols * sizeof(float));
            memset(panel + i * GEMM_COLUMNS + cols, 0, (size_t)(GEMM_COLUMNS - cols) * sizeof(float));
        }
    }
}

/* C (m x n, row stride ldc) = alpha A B (+ C when accumulate), A m x inner with element
 * (i, k) at a[i * a_row + k * a_col], B packed by pack_transposed or pack_rows. A is read
 * in place: with a_col = 1 it is a matrix of rows (gemm_packed), with a_row = 1 the
 * transpose of one (gemm_packed_at: the backward's P^T dO and dS^T Q, whose tile rows
 * are then adjacent floats of one row of P or dS). */
TX_INLINE void gemm_packed_strided(long m, long n, long inner, float alpha, const float *a, long a_row, long a_col,
                                   const float *packed, float *c, long ldc, int accumulate) {
    for (long c0 = 0; c0 < n; c0 += GEMM_COLUMNS) {
        const float *panel = packed + c0 * inner;
        long cols = n - c0 < GEMM_COLUMNS ? n - c0 : GEMM_COLUMNS;
        for (long r0 = 0; r0 < m; r0 += TX_GEMM_ROWS) {
            long rows = m - r0 < TX_GEMM_ROWS ? m - r0 : TX_GEMM_ROWS;
            /* A short last tile repeats its last row; the repeats are not stored. */
            const float *row[TX_GEMM_ROWS];
            for (int i = 0; i < TX_GEMM_ROWS; i++) row[i] = a + (r0 + (i < rows ? i : rows - 1)) * a_row;
            gemm_vec acc[TX_GEMM_ROWS][2];
            for (int i = 0; i < TX_GEMM_ROWS; i++) acc[i][0] = acc[i][1] = (gemm_vec){0};
            for (long k = 0; k < inner; k++) {
                gemm_vec b0, b1;
                memcpy(&b0, panel + k * GEMM_COLUMNS, sizeof b0);
                memcpy(&b1, panel + k * GEMM_COLUMNS + TX_GEMM_WIDTH, sizeof b1);
#pragma clang loop unroll(full)
                for (int i = 0; i < TX_GEMM_ROWS; i++) {
                    float x = row[i][k * a_col];
                    acc[i][0] += b0 * x;
                    acc[i][1] += b1 * x;
                }
            }
            /* C = alpha acc + C in one rounding: the fused multiply-add is written out, in
             * both paths. Left to -ffp-contract, clang fused it in some of its copies of
             * this code and not in others, so that the AVX-512 layout's dK differed from
             * AVX2's in the last bit when d ended in a short panel (d = 40, 48, 80, 112). */
            float *out = c + r0 * ldc + c0;
            if (cols == GEMM_COLUMNS) {
                gemm_vec scale = (gemm_vec){0} + alpha;
                for (long i = 0; i < rows; i++) {
                    gemm_vec_unaligned *o = (gemm_vec_unaligned *)(out + i * ldc);
                    if (accumulate) {
                        gemm_vec was0 = o[0], was1 = o[1];
                        o[0] = __builtin_elementwise_fma(acc[i][0], scale, was0);
                        o[1] = __builtin_elementwise_fma(acc[i][1], scale, was1);
                    } else {
                        o[0] = acc[i][0] * scale;
                        o[1] = acc[i][1] * scale;
                    }
                }
            } else {
                for (long i = 0; i < rows; i++) {
                    float tile[GEMM_COLUMNS];
                    memcpy(tile, &acc[i][0], sizeof acc[i][0]);
                    memcpy(tile + TX_GEMM_WIDTH, &acc[i][1], sizeof acc[i][1]);
                    float *o = out + i * ldc;
                    if (accumulate)
                        for (long j = 0; j < cols; j++) o[j] = __builtin_fmaf(tile[j], alpha, o[j]);
                    else
                        for (long j = 0; j < cols; j++) o[j] = tile[j] * alpha;
                }
            }
        }
    }
}

static void gemm_packed(long m, long n, long inner, float alpha, const float *a, long lda, const float *packed,
                        float *c, long ldc, int accumulate) {
    gemm_packed_strided(m, n, inner, alpha, a, lda, 1, packed, c, ldc, accumulate);
}

/* C = alpha A^T B (+ C) for A inner x m (row stride lda). */
static void gemm_packed_at(long m, long n, long inner, float alpha, const float *a, long lda, const float *packed,
                           float *c, long ldc, int accumulate) {
    gemm_packed_strided(m, n, inner, alpha, a, 1, lda, packed, c, ldc, accumulate);
}
#else
enum { GEMM_LARGEST = -1 };   /* no micro-kernel: every size goes to sgemm */
static long packed_floats(long inner, long n) {
    (void)inner;
    (void)n;
    return 0;
}
#endif

/* Whether the products of a job with these sizes use gemm_packed. */
static int uses_micro_kernel(long dk, long dv) { return dk <= GEMM_LARGEST && dv <= GEMM_LARGEST; }

/* Floats of packing space one thread needs for blocks of up to `keys` keys. */
static long pack_floats(long keys, long dk, long dv) {
    if (!uses_micro_kernel(dk, dv)) return 0;
    long for_keys = packed_floats(dk, keys), for_values = packed_floats(keys, dv);
    return for_keys > for_values ? for_keys : for_values;
}

/* S (rows x keys, row stride lds) = scale Q K^T for `rows` rows of Q and `keys` rows of K. */
static void scores_product(const tx_attention_job *job, long rows, long keys, const float *q, const float *k, float *s,
                           long lds, float *pack) {
    if (job->dk == 0) {
        for (long r = 0; r < rows; r++) memset(s + r * lds, 0, (size_t)keys * sizeof(float));
        return;
    }
#ifdef TX_GEMM_WIDTH
    if (uses_micro_kernel(job->dk, job->dv)) {
        pack_transposed(k, job->ldk, keys, job->dk, pack);
        gemm_packed(rows, keys, job->dk, job->scale, q, job->ldq, pack, s, lds, 0);
        return;
    }
#endif
    (void)pack;
    tx_sgemm(0, 1, (int)rows, (int)keys, (int)job->dk, job->scale, q, (int)(job->ldq > 0 ? job->ldq : 1), k,
             (int)(job->ldk > 0 ? job->ldk : 1), 0, s, (int)lds);
}

/* O (rows x dv, row stride ldout) = P V (+ O when accumulate) for `keys` rows of V. */
static void values_product(const tx_attention_job *job, long rows, long keys, const float *p, long ldp, const float *v,
                           float *out, int accumulate, float *pack) {
#ifdef TX_GEMM_WIDTH
    if (uses_micro_kernel(job->dk, job->dv)) {
        pack_rows(v, job->ldv, keys, job->dv, pack);
        gemm_packed(rows, job->dv, keys, 1, p, ldp, pack, out, job->ldout, accumulate);
        return;
    }
#endif
    (void)pack;
    tx_sgemm(0, 0, (int)rows, (int)job->dv, (int)keys, 1, p, (int)ldp, v, (int)(job->ldv > 0 ? job->ldv : 1),
             accumulate ? 1 : 0, out, (int)(job->ldout > 0 ? job->ldout : 1));
}

/* Attention */

struct attention_shared {
    const tx_attention_job *job;
    atomic_long next;          /* next work item: batch * blocks + block */
    long blocks;               /* row blocks per batch item */
    atomic_int status;
};

/* The keys [*lo, *hi) that rows row0..<row0 + rows of a batch item's block may see:
 * with the causal cut none after the last row's position; with a mask (the block's
 * first row at `mask`), none before the first or after the last key that the mask
 * leaves open (not -inf) in some row of the block. Every key outside gets weight 0 in
 * every row of the block, so its scores are never computed: a padding mask's blocked
 * keys and the keys above the diagonal cost nothing. */
static void key_window(const tx_attention_job *job, const float *mask, long row0, long rows, long *lo, long *hi) {
    long end = job->causal ? (job->nk < row0 + rows ? job->nk : row0 + rows) : job->nk;
    *lo = 0;
    *hi = end > 0 ? end : 0;
    if (!mask || end <= 0) return;
    long first = end, last = 0, stride = job->mask_col_stride;
    long mask_rows = job->mask_row_stride == 0 ? 1 : rows;
    for (long r = 0; r < mask_rows && (first > 0 || last < end); r++) {
        const float *m = mask + r * job->mask_row_stride;
        long row_end = mask_rows > 1 ? visible_keys(job->causal, end, row0 + r) : end;
        long limit = first < row_end ? first : row_end, a = 0;
        while (a < limit && m[a * stride] == -INFINITY) a++;
        if (a < limit) first = a;
        long z = row_end;
        while (z > last && m[(z - 1) * stride] == -INFINITY) z--;
        if (z > last) last = z;
    }
    *lo = first < last ? first : 0;
    *hi = first < last ? last : 0;
}

/* A row's logsumexp from its maximum m and its sum of exp(x - m): -inf when every key
 * is blocked (sum 0), NaN when the row holds NaN. */
static float logsumexp_of(float m, float sum) {
    if (sum != sum) return NAN;
    return sum > 0 ? m + logf(sum) : -INFINITY;
}

/* The job's logsumexp (when asked for) of rows row0..<row0 + rows of batch item b. */
static void store_logsumexp(const tx_attention_job *job, long b, long row0, long rows, const float *maxima,
                            const float *sums) {
    if (!job->logsumexp) return;
    float *out = job->logsumexp + b * job->nq + row0;
    for (long r = 0; r < rows; r++) out[r] = logsumexp_of(maxima[r], sums[r]);
}

/* One block of rows row0..<row0 + block_rows of batch item b, all its keys at once:
 *
 *     keys lo..<hi        key_window: the keys some row of the block sees
 *     S = scale Q K^T     scores_product (into `scores`, or into the weights' rows)
 *     S += mask, m = max  mask_row_max (the causal cut: row i sees keys j <= i)
 *     P = exp(S - m), l   exp_row, which returns the row's sum l
 *     weights: P / l      scale_row (zeros outside lo..<hi)
 *     else O = P V / l    values_product, then scale_row of each output row
 *
 * and the row's logsumexp m + log(l) when the job asks for it. */
static void attention_block(const tx_attention_job *job, long b, long row0, float *scores, float *sums, float *maxima,
                            float *pack) {
    long rows = job->nq - row0 < job->block_rows ? job->nq - row0 : job->block_rows;
    const float *mask = job->mask ? job->mask + (job->mask_offsets ? job->mask_offsets[b] : 0) + row0 * job->mask_row_stride : NULL;
    long lo, hi;
    key_window(job, mask, row0, rows, &lo, &hi);
    long keys = hi - lo;
    const float *q = job->q + job->q_offsets[b] + row0 * job->ldq;
    const float *k = job->k + job->k_offsets[b] + lo * job->ldk;
    float *s = scores;
    long ld = keys > 0 ? keys : 1;
    if (job->weights) {
        s = job->weights + (b * job->nq + row0) * job->nk + lo;
        ld = job->nk;
    }
    if (keys > 0) scores_product(job, rows, keys, q, k, s, ld, pack);
    for (long r = 0; r < rows; r++) {
        float *row = s + r * ld;
        long visible = visible_keys(job->causal, keys, row0 + r - lo);   /* keys lo + i, i <= row0 + r - lo */
        float m = mask_row_max(row, keys, visible, mask ? mask + r * job->mask_row_stride + lo * job->mask_col_stride : NULL,
                               job->mask_col_stride);
        sums[r] = exp_row(row, visible, m);
        maxima[r] = m;
    }
    if (job->weights) {
        for (long r = 0; r < rows; r++) {
            float *row = job->weights + (b * job->nq + row0 + r) * job->nk;
            if (sums[r] != sums[r]) {
                fill_row(row, job->nk, NAN);   /* a NaN row is NaN at the blocked keys too */
                continue;
            }
            memset(row, 0, (size_t)lo * sizeof(float));
            memset(row + hi, 0, (size_t)(job->nk - hi) * sizeof(float));
            if (sums[r] > 0) scale_row(row + lo, keys, 1.0f / sums[r]);
        }
        return;
    }
    store_logsumexp(job, b, row0, rows, maxima, sums);
    float *out = job->out + job->out_offsets[b] + row0 * job->ldout;
    if (keys > 0 && job->dv > 0) values_product(job, rows, keys, s, ld, job->v + job->v_offsets[b] + lo * job->ldv, out, 0, pack);
    for (long r = 0; r < rows; r++) {
        float *row = out + r * job->ldout;
        if (sums[r] != sums[r]) fill_row(row, job->dv, NAN);
        else if (sums[r] > 0 && keys > 0) scale_row(row, job->dv, 1.0f / sums[r]);
        else memset(row, 0, (size_t)job->dv * sizeof(float));
    }
}

/* Long key sequences: the keys are taken in blocks of `key_block`, with an online
 * softmax (a running row maximum m and sum l; the output rows are rescaled by
 * exp(m_old - m_new) when the maximum grows), so that a block's scores stay in the
 * cache instead of streaming n_k floats per row through memory three times. */

static void attention_block_tiled(const tx_attention_job *job, long b, long row0, float *scores, float *sums,
                                  float *maxima, float *pack) {
    long rows = job->nq - row0 < job->block_rows ? job->nq - row0 : job->block_rows;
    long kb_size = job->block_keys;
    const float *q = job->q + job->q_offsets[b] + row0 * job->ldq;
    float *out = job->out + job->out_offsets[b] + row0 * job->ldout;
    const float *mask_base = job->mask ? job->mask + (job->mask_offsets ? job->mask_offsets[b] : 0) + row0 * job->mask_row_stride : NULL;
    for (long r = 0; r < rows; r++) {
        maxima[r] = -INFINITY;
        sums[r] = 0;
        memset(out + r * job->ldout, 0, (size_t)job->dv * sizeof(float));
    }
    long lo, key_end;
    key_window(job, mask_base, row0, rows, &lo, &key_end);
    for (long k0 = lo; k0 < key_end; k0 += kb_size) {
        long keys = key_end - k0 < kb_size ? key_end - k0 : kb_size;
        float *s = scores;
        long ld = keys;
        scores_product(job, rows, keys, q, job->k + job->k_offsets[b] + k0 * job->ldk, s, ld, pack);
        int any = 0;
        for (long r = 0; r < rows; r++) {
            float *row = s + r * ld;
            long visible = visible_keys(job->causal, keys, row0 + r - k0);   /* keys k0 + c, c <= row0 + r - k0 */
            float m = mask_row_max(row, keys, visible,
                                   mask_base ? mask_base + r * job->mask_row_stride + k0 * job->mask_col_stride : NULL,
                                   job->mask_col_stride);
            if (visible == 0) continue;
            if (m == -INFINITY) {
                /* NaN among -inf: the row's sum becomes NaN for good (NaN + x, NaN * x). */
                if (has_nan(row, visible)) sums[r] = NAN;
                memset(row, 0, (size_t)visible * sizeof(float));
                continue;
            }
            float previous = maxima[r];
            float next = m > previous ? m : previous;
            if (next != previous && previous != -INFINITY) {
                float factor = exp_one(previous - next);
                sums[r] *= factor;
                scale_row(out + r * job->ldout, job->dv, factor);
            }
            maxima[r] = next;
            sums[r] += exp_shift_sum(row, visible, next);
            any = 1;
        }
        if (any && job->dv > 0) values_product(job, rows, keys, s, ld, job->v + job->v_offsets[b] + k0 * job->ldv, out, 1, pack);
    }
    store_logsumexp(job, b, row0, rows, maxima, sums);
    for (long r = 0; r < rows; r++) {
        float *row = out + r * job->ldout;
        if (sums[r] != sums[r]) fill_row(row, job->dv, NAN);
        else if (sums[r] > 0) scale_row(row, job->dv, 1.0f / sums[r]);
        else memset(row, 0, (size_t)job->dv * sizeof(float));
    }
}

/* A thread's scratch, one allocation of tx_attention_scratch's size: the packing space
 * first (a multiple of 16 floats, so the panels start on cache lines), a block of
 * scores (none when the weights are the output), and a row sum and maximum per row. */
struct attention_scratch {
    long scores, sums, maxima, floats;   /* offsets in floats, and the size */
};

static struct attention_scratch scratch_layout(long block_keys, long dk, long dv, long block_rows, int weights) {
    long keys = block_keys > 0 ? block_keys : 1;
    struct attention_scratch at;
    at.scores = pack_floats(keys, dk, dv);
    at.sums = at.scores + (weights ? 0 : block_rows * keys);
    at.maxima = at.sums + block_rows;
    at.floats = at.maxima + block_rows;
    return at;
}

static void *attention_worker(void *arg) {
    struct attention_shared *shared = arg;
    const tx_attention_job *job = shared->job;
    /* Blocks of fewer keys than nk: the online softmax (never when the weights are the
     * output, which the plain block writes in place). */
    int tiled = !job->weights && job->block_keys < job->nk;
    long block_keys = tiled ? job->block_keys : job->nk;
    struct attention_scratch at = scratch_layout(block_keys, job->dk, job->dv, job->block_rows, job->weights != NULL);
    float *base = aligned_alloc(64, (size_t)(at.floats * (long)sizeof(float) + 63) / 64 * 64);
    if (!base) {
        atomic_store(&shared->status, -1);
        return NULL;
    }
    float *pack = base, *scores = job->weights ? NULL : base + at.scores, *sums = base + at.sums,
          *maxima = base + at.maxima;
    long total = job->batches * shared->blocks;
    for (;;) {
        if (atomic_load(&shared->status) != 0) break;
        if (tx_interrupt_requested()) {
            atomic_store(&shared->status, 1);
            break;
        }
        long item = atomic_fetch_add(&shared->next, 1);
        if (item >= total) break;
        /* Causal blocks lower down see more keys: they are taken first, so that no thread
         * is left with a long block at the end. */
        long block = item % shared->blocks;
        if (job->causal) block = shared->blocks - 1 - block;
        long b = item / shared->blocks, row0 = block * job->block_rows;
        if (tiled)
            attention_block_tiled(job, b, row0, scores, sums, maxima, pack);
        else
            attention_block(job, b, row0, scores, sums, maxima, pack);
    }
    free(base);
    return NULL;
}

/* A share of the job for tx's pool: every thread runs the same loop over work items. */
static void attention_worker_share(void *shared, int t) {
    (void)t;
    attention_worker(shared);
}

long TX_KERNEL(tx_attention_scratch)(long block_keys, long dk, long dv, long block_rows, int weights) {
    return scratch_layout(block_keys, dk, dv, block_rows, weights).floats * (long)sizeof(float);
}

int TX_KERNEL(tx_attention)(const tx_attention_job *job) {
    if (job->nq <= 0 || job->batches <= 0 || job->block_rows < 1 || (job->block_keys < 1 && !job->weights && job->nk > 0))
        return 0;
    struct attention_shared shared;
    shared.job = job;
    shared.blocks = (job->nq + job->block_rows - 1) / job->block_rows;
    atomic_init(&shared.next, 0);
    atomic_init(&shared.status, 0);
    int threads = job->threads < 1 ? 1 : (job->threads > TX_ATTENTION_MAX_THREADS ? TX_ATTENTION_MAX_THREADS : job->threads);
    long items = job->batches * shared.blocks;
    if (threads > items) threads = (int)items;
    tx_pool_run(threads, attention_worker_share, &shared);
    return atomic_load(&shared.status);
}

/* Attention's backward: FlashAttention-2's Algorithm 2 (Dao, 2023). The forward kept
 * each row's logsumexp L; a block of the weights is recomputed from it, P = exp(S - L),
 * never the n_q x n_k matrix. For a block of keys (K_j, V_j) and one of queries (Q_i,
 * dO_i), with D = rowsum(dO * O) computed once per row:
 *
 *     S = scale Q_i K_j^T,  P = exp(S + mask - L)    (0 where the mask or the causal cut blocks)
 *     dV_j += P^T dO_i
 *     dP = dO_i V_j^T
 *     dS = P * (dP - D)
 *     dQ_i += scale dS K_j
 *     dK_j += scale dS^T Q_i
 *
 * A work item is a batch item's key blocks (all of them, or every `splits`-th when there
 * are fewer batch items than threads): its thread alone writes their dK and dV rows.
 * With one split an item alone writes its dQ too; with more, each thread adds the dQ of
 * the items it takes to a buffer of its own (dq for the first thread, dq_partials for
 * the others, added to dq at the end), so no two threads write the same float. Pairs of
 * blocks whose keys no query of the block sees (the causal tail, keys a padding mask
 * blocks) are skipped, as the forward skips them. A row that sees no key (L = -inf) has
 * P = 0, and so zero gradients. */

/* C (m x n, row stride ldc) = alpha op(A) B (+ C when accumulate), op(A) = A (m x inner,
 * row stride lda) or, with transpose_a, A^T (A inner x m). B is `packed` (by
 * pack_transposed or pack_rows) for the micro-kernel, else b (row stride ldb), inner x n
 * or, with transpose_b, n x inner, for sgemm. */
static void block_product(long m, long n, long inner, float alpha, const float *a, long lda, int transpose_a,
                          const float *packed, const float *b, long ldb, int transpose_b, float *c, long ldc,
                          int accumulate) {
    if (m <= 0 || n <= 0) return;
    if (inner <= 0) {
        if (!accumulate)
            for (long i = 0; i < m; i++) memset(c + i * ldc, 0, (size_t)n * sizeof(float));
        return;
    }
#ifdef TX_GEMM_WIDTH
    if (packed) {
        if (transpose_a) gemm_packed_at(m, n, inner, alpha, a, lda, packed, c, ldc, accumulate);
        else gemm_packed(m, n, inner, alpha, a, lda, packed, c, ldc, accumulate);
        return;
    }
#endif
    (void)packed;
    /* A matrix of one row may come with any row stride (0 when broadcast): sgemm wants
     * at least its width. */
    long a_width = transpose_a ? m : inner, a_rows = transpose_a ? inner : m;
    long b_width = transpose_b ? inner : n, b_rows = transpose_b ? n : inner;
    if (a_rows == 1 && lda < a_width) lda = a_width;
    if (b_rows == 1 && ldb < b_width) ldb = b_width;
    tx_sgemm(transpose_a, transpose_b, (int)m, (int)n, (int)inner, alpha, a, (int)lda, b, (int)ldb,
             accumulate ? 1 : 0, c, (int)ldc);
}

/* A thread's scratch for the backward (offsets in floats, each a multiple of 16): each
 * query block's key window (two longs), the packed K_j^T, V_j^T, K_j, Q_i and dO_i (none
 * on the sgemm path), the blocks P and dP (which becomes dS), and D for every row. */
struct backward_scratch {
    long packed_kt, packed_vt, packed_k, packed_q, packed_do, p, ds, d, floats;
};

static long round16(long n) { return (n + 15) / 16 * 16; }

static struct backward_scratch backward_layout(long nq, long dk, long dv, long block_rows, long block_keys) {
    long blocks = (nq + block_rows - 1) / block_rows;
    int own = uses_micro_kernel(dk, dv);
    struct backward_scratch at;
    at.packed_kt = round16(blocks * 2 * (long)(sizeof(long) / sizeof(float)));
    at.packed_vt = at.packed_kt + (own ? round16(packed_floats(dk, block_keys)) : 0);
    at.packed_k = at.packed_vt + (own ? round16(packed_floats(dv, block_keys)) : 0);
    at.packed_q = at.packed_k + (own ? round16(packed_floats(block_keys, dk)) : 0);
    at.packed_do = at.packed_q + (own ? round16(packed_floats(block_rows, dk)) : 0);
    at.p = at.packed_do + (own ? round16(packed_floats(block_rows, dv)) : 0);
    at.ds = at.p + round16(block_rows * block_keys);
    at.d = at.ds + round16(block_rows * block_keys);
    at.floats = at.d + round16(nq);
    return at;
}

long TX_KERNEL(tx_attention_backward_scratch)(long nq, long dk, long dv, long block_rows, long block_keys) {
    return backward_layout(nq, dk, dv, block_rows, block_keys).floats * (long)sizeof(float);
}

struct backward_shared {
    const tx_attention_backward_job *job;
    atomic_long next;   /* next work item: batch * splits + split */
    atomic_int status;
};

struct backward_worker {
    struct backward_shared *shared;
    int index;          /* 0 for the calling thread */
};

/* P = exp(S + mask - L) and dS = P * (dP - D) for rows i0..<i0 + rows and keys
 * k0..<k0 + keys of batch item b: s holds S on entry and P on return, ds holds dP on
 * entry and dS on return (rows `ld` floats apart). Only the first `used` keys were
 * multiplied (the others are blocked in every row): P and dS are 0 past them. */
static void weights_and_score_gradients(const tx_attention_backward_job *job, long b, long i0, long rows, long k0,
                                        long keys, long used, const float *d, float *s, float *ds, long ld) {
    const tx_attention_job *fwd = &job->forward;
    const float *lse = job->logsumexp + b * fwd->nq;
    const float *mask = fwd->mask ? fwd->mask + (fwd->mask_offsets ? fwd->mask_offsets[b] : 0) : NULL;
    long mask_col = fwd->mask_col_stride;
    for (long r = 0; r < rows; r++) {
        long i = i0 + r;
        float *p = s + r * ld, *g = ds + r * ld;
        float l = lse[i], di = d[i];
        long visible = l == -INFINITY ? 0 : visible_keys(fwd->causal, used, i - k0);
        if (mask && visible > 0) {
            const float *m = mask + i * fwd->mask_row_stride + k0 * mask_col;
            if (mask_col == 1)
                for (long c = 0; c < visible; c++) p[c] += m[c];
            else
                for (long c = 0; c < visible; c++) p[c] += m[c * mask_col];
        }
        for (long c = 0; c < visible; c++) {
            float x = exp_one(p[c] - l);
            p[c] = x;
            g[c] = x * (g[c] - di);
        }
        if (visible < keys) {
            memset(p + visible, 0, (size_t)(keys - visible) * sizeof(float));
            memset(g + visible, 0, (size_t)(keys - visible) * sizeof(float));
        }
    }
}

/* The key blocks split, split + splits, ... of batch item b, adding dQ to dq_base (the
 * batch's [batches, nq, dk]). Returns 1 when Ctrl-C stopped it. */
static int attention_backward_item(const tx_attention_backward_job *job, long b, long split, float *dq_base,
                                   float *base, const struct backward_scratch *at) {
    const tx_attention_job *fwd = &job->forward;
    long nq = fwd->nq, nk = fwd->nk, dk = fwd->dk, dv = fwd->dv, br = fwd->block_rows, bc = fwd->block_keys;
    long query_blocks = (nq + br - 1) / br, key_blocks = (nk + bc - 1) / bc;
    int own = uses_micro_kernel(dk, dv);
    long *windows = (long *)base;
    float *packed_kt = own ? base + at->packed_kt : NULL, *packed_vt = own ? base + at->packed_vt : NULL;
    float *packed_k = own ? base + at->packed_k : NULL, *packed_q = own ? base + at->packed_q : NULL;
    float *packed_do = own ? base + at->packed_do : NULL;
    float *s = base + at->p, *ds = base + at->ds, *d = base + at->d;
    const float *q = fwd->q + fwd->q_offsets[b], *k = fwd->k + fwd->k_offsets[b], *v = fwd->v + fwd->v_offsets[b];
    const float *o = fwd->out + fwd->out_offsets[b], *dout = job->dout + job->dout_offsets[b];
    const float *mask = fwd->mask ? fwd->mask + (fwd->mask_offsets ? fwd->mask_offsets[b] : 0) : NULL;
    float *dq = dq_base + b * nq * dk;
    float *dkb = job->dk + b * nk * dk, *dvb = job->dv + b * nk * dv;
    /* D = rowsum(dO * O), and the keys each query block sees. */
    for (long i = 0; i < nq; i++) {
        const float *x = o + i * fwd->ldout, *y = dout + i * job->lddout;
        float sum = 0;
        for (long c = 0; c < dv; c++) sum += x[c] * y[c];
        d[i] = sum;
    }
    for (long qb = 0; qb < query_blocks; qb++) {
        long i0 = qb * br, rows = nq - i0 < br ? nq - i0 : br;
        key_window(fwd, mask ? mask + i0 * fwd->mask_row_stride : NULL, i0, rows, &windows[2 * qb], &windows[2 * qb + 1]);
    }
    for (long kb = split; kb < key_blocks; kb += job->splits) {
        if (tx_interrupt_requested()) return 1;
        long k0 = kb * bc, keys = nk - k0 < bc ? nk - k0 : bc;
        const float *kj = k + k0 * fwd->ldk, *vj = v + k0 * fwd->ldv;
        float *dkj = dkb + k0 * dk, *dvj = dvb + k0 * dv;
        int packed = 0;
        for (long qb = 0; qb < query_blocks; qb++) {
            if (windows[2 * qb] >= k0 + keys || windows[2 * qb + 1] <= k0) continue;
            long i0 = qb * br, rows = nq - i0 < br ? nq - i0 : br;
            /* Keys past the query block's window (the causal cut, a padding mask's tail)
             * have weight 0 in all its rows: the products leave them out, but for dQ's,
             * whose inner size they are (their dS is 0). */
            long used = windows[2 * qb + 1] - k0 < keys ? windows[2 * qb + 1] - k0 : keys;
            const float *qi = q + i0 * fwd->ldq, *doi = dout + i0 * job->lddout;
#ifdef TX_GEMM_WIDTH
            if (own) {
                if (!packed) {
                    pack_transposed(kj, fwd->ldk, keys, dk, packed_kt);
                    pack_transposed(vj, fwd->ldv, keys, dv, packed_vt);
                    pack_rows(kj, fwd->ldk, keys, dk, packed_k);
                    packed = 1;
                }
                pack_rows(qi, fwd->ldq, rows, dk, packed_q);
                pack_rows(doi, job->lddout, rows, dv, packed_do);
            }
#endif
            (void)packed;
            /* S = scale Q_i K_j^T, P = exp(S + mask - L) */
            block_product(rows, used, dk, fwd->scale, qi, fwd->ldq, 0, packed_kt, kj, fwd->ldk, 1, s, bc, 0);
            /* dP = dO_i V_j^T */
            block_product(rows, used, dv, 1, doi, job->lddout, 0, packed_vt, vj, fwd->ldv, 1, ds, bc, 0);
            /* dS = P * (dP - D) */
            weights_and_score_gradients(job, b, i0, rows, k0, keys, used, d, s, ds, bc);
            /* dV_j += P^T dO_i */
            block_product(used, dv, rows, 1, s, bc, 1, packed_do, doi, job->lddout, 0, dvj, dv, 1);
            /* dQ_i += scale dS K_j */
            block_product(rows, dk, keys, fwd->scale, ds, bc, 0, packed_k, kj, fwd->ldk, 0, dq + i0 * dk, dk, 1);
            /* dK_j += scale dS^T Q_i */
            block_product(used, dk, rows, fwd->scale, ds, bc, 1, packed_q, qi, fwd->ldq, 0, dkj, dk, 1);
        }
    }
    return 0;
}

static void *attention_backward_worker(void *arg) {
    struct backward_worker *worker = arg;
    struct backward_shared *shared = worker->shared;
    const tx_attention_backward_job *job = shared->job;
    const tx_attention_job *fwd = &job->forward;
    float *dq = job->splits == 1 || worker->index == 0
                    ? job->dq
                    : job->dq_partials + (worker->index - 1) * fwd->batches * fwd->nq * fwd->dk;
    struct backward_scratch at = backward_layout(fwd->nq, fwd->dk, fwd->dv, fwd->block_rows, fwd->block_keys);
    float *base = aligned_alloc(64, (size_t)(at.floats * (long)sizeof(float) + 63) / 64 * 64);
    if (!base) {
        atomic_store(&shared->status, -1);
        return NULL;
    }
    long total = fwd->batches * job->splits;
    for (;;) {
        if (atomic_load(&shared->status) != 0) break;
        long item = atomic_fetch_add(&shared->next, 1);
        if (item >= total) break;
        if (attention_backward_item(job, item / job->splits, item % job->splits, dq, base, &at)) {
            atomic_store(&shared->status, 1);
            break;
        }
    }
    free(base);
    return NULL;
}

/* Thread t's share: its own dQ (see attention_backward_worker), the items it takes. */
static void attention_backward_share(void *workers, int t) {
    attention_backward_worker((struct backward_worker *)workers + t);
}

int TX_KERNEL(tx_attention_backward)(const tx_attention_backward_job *job) {
    const tx_attention_job *fwd = &job->forward;
    if (fwd->nq <= 0 || fwd->nk <= 0 || fwd->batches <= 0 || job->splits < 1 || fwd->block_rows < 1 || fwd->block_keys < 1)
        return 0;
    struct backward_shared shared;
    shared.job = job;
    atomic_init(&shared.next, 0);
    atomic_init(&shared.status, 0);
    int threads = fwd->threads < 1 ? 1 : (fwd->threads > TX_ATTENTION_MAX_THREADS ? TX_ATTENTION_MAX_THREADS : fwd->threads);
    long items = fwd->batches * job->splits;
    if (threads > items) threads = (int)items;
    struct backward_worker workers[TX_ATTENTION_MAX_THREADS];
    for (int t = 0; t < threads; t++) workers[t] = (struct backward_worker){&shared, t};
    tx_pool_run(threads, attention_backward_share, workers);
    int status = atomic_load(&shared.status);
    if (status != 0) return status;
    /* The threads' dQ, added up. */
    long count = fwd->batches * fwd->nq * fwd->dk;
    for (int t = 1; job->splits > 1 && t < threads; t++) {
        const float *partial = job->dq_partials + (t - 1) * count;
        for (long i = 0; i < count; i++) job->dq[i] += partial[i];
    }
    return 0;
}
