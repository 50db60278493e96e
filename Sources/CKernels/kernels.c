#include "tx_kernels.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "tx_blas.h"
#include "vector_math.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

TX_CLONES
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

TX_CLONES
static float exp_shift_sum(float *x, long n, float shift) {
    for (long i = 0; i < n; i++) x[i] = exp_one(x[i] - shift);
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

TX_CLONES
static void scale_row(float *x, long n, float factor) {
    for (long i = 0; i < n; i++) x[i] *= factor;
}

TX_CLONES
static void add_row(float *x, const float *mask, long n, long stride) {
    if (stride == 1) {
        for (long i = 0; i < n; i++) x[i] += mask[i];
    } else if (stride == 0) {
        float m = mask[0];
        for (long i = 0; i < n; i++) x[i] += m;
    } else {
        for (long i = 0; i < n; i++) x[i] += mask[i * stride];
    }
}

/* How many of n keys a row sees: all, or with the causal cut keys j <= last. */
static long visible_keys(int causal, long n, long last) {
    if (!causal) return n;
    long visible = last + 1 < n ? last + 1 : n;
    return visible < 0 ? 0 : visible;
}

/* Zeroes the entries past `visible` and adds the mask (NULL for none) to the rest. */
static void mask_row(float *row, long n, long visible, const float *mask, long mask_stride) {
    if (visible < n) memset(row + visible, 0, (size_t)(n - visible) * sizeof(float));
    if (mask && visible > 0) add_row(row, mask, visible, mask_stride);
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

/* The shared step of softmax and attention: the first `visible` entries become
 * exp(x - row max), and their sum is returned. A row with NaN or +inf (inf - inf)
 * has a NaN sum: it becomes all NaN and returns NaN (as in PyTorch). A row whose
 * entries are all -inf becomes 0 and returns 0. The NaN check is one comparison per
 * row (row_max skips NaN, so a NaN shows up in the sum), plus a scan of the rare rows
 * whose maximum is -inf. */
static float exp_row(float *row, long visible) {
    if (visible <= 0) return 0;
    float m = row_max(row, visible);
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

void tx_softmax_rows(float *x, long rows, long n, long stride) {
    for (long r = 0; r < rows; r++) {
        float *row = x + r * stride;
        float sum = exp_row(row, n);
        if (sum > 0) scale_row(row, n, 1.0f / sum);
    }
}

/* Ctrl-C */

static atomic_int interrupt_flag;

void tx_interrupt_request(void) { atomic_store_explicit(&interrupt_flag, 1, memory_order_relaxed); }
void tx_interrupt_clear(void) { atomic_store_explicit(&interrupt_flag, 0, memory_order_relaxed); }
int tx_interrupt_requested(void) { return atomic_load_explicit(&interrupt_flag, memory_order_relaxed); }

/* Attention */

struct attention_shared {
    const tx_attention_job *job;
    atomic_long next;          /* next work item: batch * blocks + block */
    long blocks;               /* row blocks per batch item */
    atomic_int status;
};

static void attention_block(const tx_attention_job *j, long b, long row0, float *scores, float *sums) {
    long rows = j->nq - row0 < j->block_rows ? j->nq - row0 : j->block_rows;
    long keys = j->causal ? (j->nk < row0 + rows ? j->nk : row0 + rows) : j->nk;
    const float *q = j->q + j->q_offsets[b] + row0 * j->ldq;
    const float *k = j->k + j->k_offsets[b];
    float *s = scores;
    long ld = keys > 0 ? keys : 1;
    if (j->weights) {
        s = j->weights + (b * j->nq + row0) * j->nk;
        ld = j->nk;
    }
    if (keys > 0) {
        if (j->dk > 0)
            tx_sgemm(0, 1, (int)rows, (int)keys, (int)j->dk, j->scale, q, (int)(j->ldq > 0 ? j->ldq : 1),
                     k, (int)(j->ldk > 0 ? j->ldk : 1), 0, s, (int)ld);
        else
            for (long r = 0; r < rows; r++) memset(s + r * ld, 0, (size_t)keys * sizeof(float));
    }
    const float *mask = j->mask ? j->mask + (j->mask_offsets ? j->mask_offsets[b] : 0) + row0 * j->mask_row_stride : NULL;
    for (long r = 0; r < rows; r++) {
        float *row = s + r * ld;
        long visible = visible_keys(j->causal, keys, row0 + r);
        mask_row(row, keys, visible, mask ? mask + r * j->mask_row_stride : NULL, j->mask_col_stride);
        sums[r] = exp_row(row, visible);
    }
    if (j->weights) {
        for (long r = 0; r < rows; r++) {
            float *row = s + r * ld;
            if (sums[r] != sums[r]) {
                fill_row(row, j->nk, NAN);   /* a NaN row is NaN at the blocked keys too */
                continue;
            }
            if (keys < j->nk) memset(row + keys, 0, (size_t)(j->nk - keys) * sizeof(float));
            if (sums[r] > 0) scale_row(row, keys, 1.0f / sums[r]);
        }
        return;
    }
    float *out = j->out + j->out_offsets[b] + row0 * j->ldout;
    if (keys > 0 && j->dv > 0)
        tx_sgemm(0, 0, (int)rows, (int)j->dv, (int)keys, 1, s, (int)ld, j->v + j->v_offsets[b],
                 (int)(j->ldv > 0 ? j->ldv : 1), 0, out, (int)(j->ldout > 0 ? j->ldout : 1));
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
long tx_attention_key_block(void) {
    static long cached;
    if (!cached) {
        const char *text = getenv("TX_ATTENTION_KEYS");
        long n = text ? atol(text) : 0;
        cached = n > 0 ? n : 512;
    }
    return cached;
}

static void attention_block_tiled(const tx_attention_job *j, long b, long row0, float *scores, float *sums,
                                  float *maxima) {
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
    long key_end = j->causal ? (j->nk < row0 + rows ? j->nk : row0 + rows) : j->nk;
    for (long k0 = 0; k0 < key_end; k0 += kb_size) {
        long keys = key_end - k0 < kb_size ? key_end - k0 : kb_size;
        float *s = scores;
        long ld = keys;
        if (j->dk > 0)
            tx_sgemm(0, 1, (int)rows, (int)keys, (int)j->dk, j->scale, q, (int)(j->ldq > 0 ? j->ldq : 1),
                     j->k + j->k_offsets[b] + k0 * j->ldk, (int)(j->ldk > 0 ? j->ldk : 1), 0, s, (int)ld);
        else
            memset(s, 0, (size_t)(rows * keys) * sizeof(float));
        int any = 0;
        for (long r = 0; r < rows; r++) {
            float *row = s + r * ld;
            long visible = visible_keys(j->causal, keys, row0 + r - k0);   /* keys k0 + j, j <= row0 + r - k0 */
            mask_row(row, keys, visible, mask_base ? mask_base + r * j->mask_row_stride + k0 * j->mask_col_stride : NULL,
                     j->mask_col_stride);
            if (visible == 0) continue;
            float m = row_max(row, visible);
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
        if (any && j->dv > 0)
            tx_sgemm(0, 0, (int)rows, (int)j->dv, (int)keys, 1, s, (int)ld, j->v + j->v_offsets[b] + k0 * j->ldv,
                     (int)(j->ldv > 0 ? j->ldv : 1), 1, out, (int)(j->ldout > 0 ? j->ldout : 1));
    }
    for (long r = 0; r < rows; r++) {
        float *row = out + r * j->ldout;
        if (sums[r] != sums[r]) fill_row(row, j->dv, NAN);
        else if (sums[r] > 0) scale_row(row, j->dv, 1.0f / sums[r]);
        else memset(row, 0, (size_t)j->dv * sizeof(float));
    }
}

static void *attention_worker(void *arg) {
    struct attention_shared *shared = arg;
    const tx_attention_job *j = shared->job;
    int tiled = !j->weights && j->nk > 2 * tx_attention_key_block();
    long width = tiled ? tx_attention_key_block() : (j->nk > 0 ? j->nk : 1);
    float *scores = j->weights ? NULL : malloc((size_t)(j->block_rows * width) * sizeof(float));
    float *sums = malloc((size_t)j->block_rows * sizeof(float));
    float *maxima = malloc((size_t)j->block_rows * sizeof(float));
    if ((!j->weights && !scores) || !sums || !maxima) {
        atomic_store(&shared->status, -1);
        free(scores);
        free(sums);
        free(maxima);
        return NULL;
    }
    long total = j->batches * shared->blocks;
    for (;;) {
        if (atomic_load(&shared->status) != 0) break;
        if (tx_interrupt_requested()) {
            atomic_store(&shared->status, 1);
            break;
        }
        long item = atomic_fetch_add(&shared->next, 1);
        if (item >= total) break;
        long b = item / shared->blocks, row0 = (item % shared->blocks) * j->block_rows;
        if (tiled)
            attention_block_tiled(j, b, row0, scores, sums, maxima);
        else
            attention_block(j, b, row0, scores, sums);
    }
    free(scores);
    free(sums);
    free(maxima);
    return NULL;
}

int tx_attention(const tx_attention_job *job) {
    if (job->nq <= 0 || job->batches <= 0) return 0;
    struct attention_shared shared;
    shared.job = job;
    shared.blocks = (job->nq + job->block_rows - 1) / job->block_rows;
    atomic_init(&shared.next, 0);
    atomic_init(&shared.status, 0);
    int threads = job->threads < 1 ? 1 : (job->threads > 8 ? 8 : job->threads);
    long items = job->batches * shared.blocks;
    if (threads > items) threads = (int)items;
    /* Each worker runs single-threaded BLAS calls on its own blocks. */
    if (threads > 1) tx_blas_serial_begin();
    pthread_t ids[8];
    int started[8] = {0};
    for (int t = 1; t < threads; t++)
        started[t] = pthread_create(&ids[t], NULL, attention_worker, &shared) == 0;
    attention_worker(&shared);
    for (int t = 1; t < threads; t++)
        if (started[t]) pthread_join(ids[t], NULL);
    if (threads > 1) tx_blas_serial_end();
    return atomic_load(&shared.status);
}
