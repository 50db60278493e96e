/* Softmax rows and attention (compiled once per instruction set, see isa.h). */
#include "isa.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "tx_blas.h"
#include "vector_math.h"

#include <math.h>
#include <pthread.h>
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

/* C (m x n, row stride ldc) = alpha A B (+ C when accumulate), A m x inner (row stride
 * lda), B packed by pack_transposed or pack_rows. */
static void gemm_packed(long m, long n, long inner, float alpha, const float *a, long lda, const float *packed,
                        float *c, long ldc, int accumulate) {
    for (long c0 = 0; c0 < n; c0 += GEMM_COLUMNS) {
        const float *panel = packed + c0 * inner;
        long cols = n - c0 < GEMM_COLUMNS ? n - c0 : GEMM_COLUMNS;
        for (long r0 = 0; r0 < m; r0 += TX_GEMM_ROWS) {
            long rows = m - r0 < TX_GEMM_ROWS ? m - r0 : TX_GEMM_ROWS;
            /* A short last tile repeats its last row; the repeats are not stored. */
            const float *row[TX_GEMM_ROWS];
            for (int i = 0; i < TX_GEMM_ROWS; i++) row[i] = a + (r0 + (i < rows ? i : rows - 1)) * lda;
            gemm_vec acc[TX_GEMM_ROWS][2];
            for (int i = 0; i < TX_GEMM_ROWS; i++) acc[i][0] = acc[i][1] = (gemm_vec){0};
            for (long k = 0; k < inner; k++) {
                gemm_vec b0, b1;
                memcpy(&b0, panel + k * GEMM_COLUMNS, sizeof b0);
                memcpy(&b1, panel + k * GEMM_COLUMNS + TX_GEMM_WIDTH, sizeof b1);
#pragma clang loop unroll(full)
                for (int i = 0; i < TX_GEMM_ROWS; i++) {
                    float x = row[i][k];
                    acc[i][0] += b0 * x;
                    acc[i][1] += b1 * x;
                }
            }
            float *out = c + r0 * ldc + c0;
            if (cols == GEMM_COLUMNS) {
                for (long i = 0; i < rows; i++) {
                    gemm_vec_unaligned *o = (gemm_vec_unaligned *)(out + i * ldc);
                    gemm_vec v0 = acc[i][0] * alpha, v1 = acc[i][1] * alpha;
                    if (accumulate) {
                        v0 += o[0];
                        v1 += o[1];
                    }
                    o[0] = v0;
                    o[1] = v1;
                }
            } else {
                for (long i = 0; i < rows; i++) {
                    float tile[GEMM_COLUMNS];
                    memcpy(tile, &acc[i][0], sizeof acc[i][0]);
                    memcpy(tile + TX_GEMM_WIDTH, &acc[i][1], sizeof acc[i][1]);
                    for (long j = 0; j < cols; j++)
                        out[i * ldc + j] = alpha * tile[j] + (accumulate ? out[i * ldc + j] : 0);
                }
            }
        }
    }
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
static int own_products(long dk, long dv) { return dk <= GEMM_LARGEST && dv <= GEMM_LARGEST; }

/* Floats of packing space one thread needs for blocks of up to `keys` keys. */
static long pack_floats(long keys, long dk, long dv) {
    if (!own_products(dk, dv)) return 0;
    long for_keys = packed_floats(dk, keys), for_values = packed_floats(keys, dv);
    return for_keys > for_values ? for_keys : for_values;
}

/* S (rows x keys, row stride lds) = scale Q K^T for `rows` rows of Q and `keys` rows of K. */
static void scores_product(const tx_attention_job *j, long rows, long keys, const float *q, const float *k, float *s,
                           long lds, float *pack) {
    if (j->dk == 0) {
        for (long r = 0; r < rows; r++) memset(s + r * lds, 0, (size_t)keys * sizeof(float));
        return;
    }
#ifdef TX_GEMM_WIDTH
    if (own_products(j->dk, j->dv)) {
        pack_transposed(k, j->ldk, keys, j->dk, pack);
        gemm_packed(rows, keys, j->dk, j->scale, q, j->ldq, pack, s, lds, 0);
        return;
    }
#endif
    (void)pack;
    tx_sgemm(0, 1, (int)rows, (int)keys, (int)j->dk, j->scale, q, (int)(j->ldq > 0 ? j->ldq : 1), k,
             (int)(j->ldk > 0 ? j->ldk : 1), 0, s, (int)lds);
}

/* O (rows x dv, row stride ldout) = P V (+ O when accumulate) for `keys` rows of V. */
static void values_product(const tx_attention_job *j, long rows, long keys, const float *p, long ldp, const float *v,
                           float *out, int accumulate, float *pack) {
#ifdef TX_GEMM_WIDTH
    if (own_products(j->dk, j->dv)) {
        pack_rows(v, j->ldv, keys, j->dv, pack);
        gemm_packed(rows, j->dv, keys, 1, p, ldp, pack, out, j->ldout, accumulate);
        return;
    }
#endif
    (void)pack;
    tx_sgemm(0, 0, (int)rows, (int)j->dv, (int)keys, 1, p, (int)ldp, v, (int)(j->ldv > 0 ? j->ldv : 1),
             accumulate ? 1 : 0, out, (int)(j->ldout > 0 ? j->ldout : 1));
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
static void key_window(const tx_attention_job *j, const float *mask, long row0, long rows, long *lo, long *hi) {
    long end = j->causal ? (j->nk < row0 + rows ? j->nk : row0 + rows) : j->nk;
    *lo = 0;
    *hi = end > 0 ? end : 0;
    if (!mask || end <= 0) return;
    long first = end, last = 0, stride = j->mask_col_stride;
    long mask_rows = j->mask_row_stride == 0 ? 1 : rows;
    for (long r = 0; r < mask_rows && (first > 0 || last < end); r++) {
        const float *m = mask + r * j->mask_row_stride;
        long row_end = mask_rows > 1 ? visible_keys(j->causal, end, row0 + r) : end;
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

static void attention_block(const tx_attention_job *j, long b, long row0, float *scores, float *sums, float *pack) {
    long rows = j->nq - row0 < j->block_rows ? j->nq - row0 : j->block_rows;
    const float *mask = j->mask ? j->mask + (j->mask_offsets ? j->mask_offsets[b] : 0) + row0 * j->mask_row_stride : NULL;
    long lo, hi;
    key_window(j, mask, row0, rows, &lo, &hi);
    long keys = hi - lo;
    const float *q = j->q + j->q_offsets[b] + row0 * j->ldq;
    const float *k = j->k + j->k_offsets[b] + lo * j->ldk;
    float *s = scores;
    long ld = keys > 0 ? keys : 1;
    if (j->weights) {
        s = j->weights + (b * j->nq + row0) * j->nk + lo;
        ld = j->nk;
    }
    if (keys > 0) scores_product(j, rows, keys, q, k, s, ld, pack);
    for (long r = 0; r < rows; r++) {
        float *row = s + r * ld;
        long visible = visible_keys(j->causal, keys, row0 + r - lo);   /* keys lo + i, i <= row0 + r - lo */
        float m = mask_row_max(row, keys, visible, mask ? mask + r * j->mask_row_stride + lo * j->mask_col_stride : NULL,
                               j->mask_col_stride);
        sums[r] = exp_row(row, visible, m);
    }
    if (j->weights) {
        for (long r = 0; r < rows; r++) {
            float *row = j->weights + (b * j->nq + row0 + r) * j->nk;
            if (sums[r] != sums[r]) {
                fill_row(row, j->nk, NAN);   /* a NaN row is NaN at the blocked keys too */
                continue;
            }
            memset(row, 0, (size_t)lo * sizeof(float));
            memset(row + hi, 0, (size_t)(j->nk - hi) * sizeof(float));
            if (sums[r] > 0) scale_row(row + lo, keys, 1.0f / sums[r]);
        }
        return;
    }
    float *out = j->out + j->out_offsets[b] + row0 * j->ldout;
    if (keys > 0 && j->dv > 0) values_product(j, rows, keys, s, ld, j->v + j->v_offsets[b] + lo * j->ldv, out, 0, pack);
    for (long r = 0; r < rows; r++) {
        float *row = out + r * j->ldout;
        if (sums[r] != sums[r]) fill_row(row, j->dv, NAN);
        else if (sums[r] > 0 && keys > 0) scale_row(row, j->dv, 1.0f / sums[r]);
        else memset(row, 0, (size_t)j->dv * sizeof(float));
    }
}

/* Long key sequences: the keys are taken in blocks of `key_block`, with an online
 * softmax (a running row maximum m and sum l; the output rows are rescaled by
 * exp(m_old - m_new) when the maximum grows), so that a block's scores stay in the
 * cache instead of streaming n_k floats per row through memory three times. */

static void attention_block_tiled(const tx_attention_job *j, long b, long row0, float *scores, float *sums,
                                  float *maxima, float *pack) {
    long rows = j->nq - row0 < j->block_rows ? j->nq - row0 : j->block_rows;
    long kb_size = tx_attention_key_block();
    const float *q = j->q + j->q_offsets[b] + row0 * j->ldq;
    float *out = j->out + j->out_offsets[b] + row0 * j->ldout;
    const float *mask_base = j->mask ? j->mask + (j->mask_offsets ? j->mask_offsets[b] : 0) + row0 * j->mask_row_stride : NULL;
    for (long r = 0; r < rows; r++) {
        maxima[r] = -INFINITY;
        sums[r] = 0;
        memset(out + r * j->ldout, 0, (size_t)j->dv * sizeof(float));
    }
    long lo, key_end;
    key_window(j, mask_base, row0, rows, &lo, &key_end);
    for (long k0 = lo; k0 < key_end; k0 += kb_size) {
        long keys = key_end - k0 < kb_size ? key_end - k0 : kb_size;
        float *s = scores;
        long ld = keys;
        scores_product(j, rows, keys, q, j->k + j->k_offsets[b] + k0 * j->ldk, s, ld, pack);
        int any = 0;
        for (long r = 0; r < rows; r++) {
            float *row = s + r * ld;
            long visible = visible_keys(j->causal, keys, row0 + r - k0);   /* keys k0 + j, j <= row0 + r - k0 */
            float m = mask_row_max(row, keys, visible,
                                   mask_base ? mask_base + r * j->mask_row_stride + k0 * j->mask_col_stride : NULL,
                                   j->mask_col_stride);
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
                scale_row(out + r * j->ldout, j->dv, factor);
            }
            maxima[r] = next;
            sums[r] += exp_shift_sum(row, visible, next);
            any = 1;
        }
        if (any && j->dv > 0) values_product(j, rows, keys, s, ld, j->v + j->v_offsets[b] + k0 * j->ldv, out, 1, pack);
    }
    for (long r = 0; r < rows; r++) {
        float *row = out + r * j->ldout;
        if (sums[r] != sums[r]) fill_row(row, j->dv, NAN);
        else if (sums[r] > 0) scale_row(row, j->dv, 1.0f / sums[r]);
        else memset(row, 0, (size_t)j->dv * sizeof(float));
    }
}

/* The most keys a block of a job takes at once: all of them, or with long key sequences
 * (when the weights are not the output) a key block of tx_attention_key_block(). */
static long block_keys(long nk, int weights) {
    if (!weights && nk > 2 * tx_attention_key_block()) return tx_attention_key_block();
    return nk > 0 ? nk : 1;
}

/* A thread's scratch, one allocation of tx_attention_scratch's size: the packing space
 * first (a multiple of 16 floats, so the panels start on cache lines), a block of
 * scores (none when the weights are the output), and a row sum and maximum per row. */
struct attention_scratch {
    long scores, sums, maxima, floats;   /* offsets in floats, and the size */
};

static struct attention_scratch scratch_layout(long nk, long dk, long dv, long block_rows, int weights) {
    long keys = block_keys(nk, weights);
    struct attention_scratch at;
    at.scores = pack_floats(keys, dk, dv);
    at.sums = at.scores + (weights ? 0 : block_rows * keys);
    at.maxima = at.sums + block_rows;
    at.floats = at.maxima + block_rows;
    return at;
}

static void *attention_worker(void *arg) {
    struct attention_shared *shared = arg;
    const tx_attention_job *j = shared->job;
    int tiled = block_keys(j->nk, j->weights != NULL) < j->nk;
    struct attention_scratch at = scratch_layout(j->nk, j->dk, j->dv, j->block_rows, j->weights != NULL);
    float *base = aligned_alloc(64, (size_t)(at.floats * (long)sizeof(float) + 63) / 64 * 64);
    if (!base) {
        atomic_store(&shared->status, -1);
        return NULL;
    }
    float *pack = base, *scores = j->weights ? NULL : base + at.scores, *sums = base + at.sums,
          *maxima = base + at.maxima;
    long total = j->batches * shared->blocks;
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
        if (j->causal) block = shared->blocks - 1 - block;
        long b = item / shared->blocks, row0 = block * j->block_rows;
        if (tiled)
            attention_block_tiled(j, b, row0, scores, sums, maxima, pack);
        else
            attention_block(j, b, row0, scores, sums, pack);
    }
    free(base);
    return NULL;
}

long TX_KERNEL(tx_attention_scratch)(long nk, long dk, long dv, long block_rows, int weights) {
    return scratch_layout(nk, dk, dv, block_rows, weights).floats * (long)sizeof(float);
}

int TX_KERNEL(tx_attention)(const tx_attention_job *job) {
    if (job->nq <= 0 || job->batches <= 0) return 0;
    struct attention_shared shared;
    shared.job = job;
    shared.blocks = (job->nq + job->block_rows - 1) / job->block_rows;
    atomic_init(&shared.next, 0);
    atomic_init(&shared.status, 0);
    int threads = job->threads < 1 ? 1 : (job->threads > 8 ? 8 : job->threads);
    long items = job->batches * shared.blocks;
    if (threads > items) threads = (int)items;
    /* Workers that call sgemm run it single-threaded on their own blocks. On tx's own
     * micro-kernel they call no BLAS, and OpenBLAS's process-wide thread count stays as
     * it is (a product elsewhere keeps the same split, and so the same bits). */
    int serial = threads > 1 && !own_products(job->dk, job->dv);
    if (serial) tx_blas_serial_begin();
    pthread_t ids[8];
    int started[8] = {0};
    for (int t = 1; t < threads; t++)
        started[t] = pthread_create(&ids[t], NULL, attention_worker, &shared) == 0;
    attention_worker(&shared);
    for (int t = 1; t < threads; t++)
        if (started[t]) pthread_join(ids[t], NULL);
    if (serial) tx_blas_serial_end();
    return atomic_load(&shared.status);
}
