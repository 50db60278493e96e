#include "tx_kernels.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__clang__)
#define TX_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TX_CLONES
#endif

/* exp(x) = 2^k * exp(r), k = round(x / ln 2), r = x - k ln 2 in [-ln2/2, ln2/2];
 * exp(r) by a degree-6 polynomial (Cephes' expf coefficients). Branch-free, so the
 * loop vectorises. */
static inline float exp_one(float x) {
    const float hi = 88.3762626647949f, lo = -87.3365447505531f;
    float clamped = x > hi ? hi : (x < lo ? lo : x);
    /* Round to nearest by adding and subtracting 1.5 * 2^23 (exact for |v| < 2^22). */
    float k = (clamped * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = clamped - k * 0.693359375f;
    r = r - k * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    float y = p * scale;
    y = x < lo ? 0.0f : y;
    y = x > hi ? INFINITY : y;
    return x != x ? x : y;
}

TX_CLONES
void tx_exp(const float *x, float *y, long n) {
    for (long i = 0; i < n; i++) y[i] = exp_one(x[i]);
}

/* Reductions keep 16 partial results in a vector, so that they vectorise without
 * -ffast-math (which would also drop the inf and NaN handling above). */
typedef float v16 __attribute__((ext_vector_type(16)));

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

void tx_softmax_rows(float *x, long rows, long n, long stride) {
    for (long r = 0; r < rows; r++) {
        float *row = x + r * stride;
        float m = row_max(row, n);
        if (m == -INFINITY) {
            memset(row, 0, (size_t)n * sizeof(float));
            continue;
        }
        float sum = exp_shift_sum(row, n, m);
        scale_row(row, n, 1.0f / sum);
    }
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

struct exp_rows_job {
    float *s;
    long rows, n, ld;
    const float *mask;
    long mask_row_stride, mask_col_stride;
    int causal;
    long first_row;
    float *sums;
};

static void exp_rows(const struct exp_rows_job *job, long begin, long end) {
    for (long r = begin; r < end; r++) {
        float *row = job->s + r * job->ld;
        long visible = job->n;
        if (job->causal) {
            long last = job->first_row + r;          /* keys j <= last are visible */
            visible = last + 1 < job->n ? last + 1 : job->n;
            if (visible < 0) visible = 0;
            for (long j = visible; j < job->n; j++) row[j] = 0;
        }
        if (job->mask) add_row(row, job->mask + r * job->mask_row_stride, visible, job->mask_col_stride);
        float m = row_max(row, visible);
        if (m == -INFINITY || visible == 0) {
            memset(row, 0, (size_t)visible * sizeof(float));
            job->sums[r] = 0;
            continue;
        }
        job->sums[r] = exp_shift_sum(row, visible, m);
    }
}

struct exp_rows_part {
    const struct exp_rows_job *job;
    long begin, end;
};

static void *exp_rows_thread(void *arg) {
    const struct exp_rows_part *part = arg;
    exp_rows(part->job, part->begin, part->end);
    return NULL;
}

void tx_attention_exp_rows(float *s, long rows, long n, long ld,
                           const float *mask, long mask_row_stride, long mask_col_stride,
                           int causal, long first_row, float *sums, int threads) {
    struct exp_rows_job job = {s, rows, n, ld, mask, mask_row_stride, mask_col_stride, causal, first_row, sums};
    if (threads > 8) threads = 8;
    if (threads <= 1 || rows < 2 || rows * n < 65536) {
        exp_rows(&job, 0, rows);
        return;
    }
    pthread_t ids[8];
    struct exp_rows_part parts[8];
    int started = 0;
    long per = (rows + threads - 1) / threads;
    for (int t = 1; t < threads; t++) {
        long begin = t * per, end = begin + per < rows ? begin + per : rows;
        if (begin >= end) break;
        parts[t] = (struct exp_rows_part){&job, begin, end};
        if (pthread_create(&ids[t], NULL, exp_rows_thread, &parts[t]) != 0) {
            exp_rows(&job, begin, end);
            continue;
        }
        started |= 1 << t;
    }
    exp_rows(&job, 0, per < rows ? per : rows);
    for (int t = 1; t < threads; t++)
        if (started & (1 << t)) pthread_join(ids[t], NULL);
}
