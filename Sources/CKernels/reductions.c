/* Reductions over float32 data: along contiguous segments (the last axis), and down
 * the columns of a row-major matrix (any other axis), which is done by accumulating
 * whole rows so that memory is read in order. Sums accumulate in double precision.
 * Compiled once per instruction set, see isa.h. */
#include "isa.h"

#include "vector_math.h"

/* Columns are taken in blocks of this many, so that a block's running results stay in
 * the L1 cache while the rows stream past. */
enum { COLUMN_BLOCK = 1024 };

/* Whether to stop at row r of a column block: Ctrl-C, polled every 4096 rows (at most
 * TX_CHUNK floats). */
TX_INLINE int stop_at_row(long r) { return (r & 4095) == 0 && tx_interrupt_requested(); }

/* The end of the chunk of a segment of n floats that begins at `start`. Segments are
 * read in chunks of TX_CHUNK (a multiple of every loop's step, so that the arithmetic
 * is the same as in one pass), with a check for Ctrl-C before each. */
TX_INLINE long chunk_end(long start, long n) { return n - start < TX_CHUNK ? n : start + TX_CHUNK; }

/* Segments */

/* The sum of x[i] or, when `squared`, of (x[i] - mean)^2, in double precision in two
 * vectors of lanes; 0 once Ctrl-C stops it (polled every TX_CHUNK floats). */
TX_INLINE double sum_in_double(const float *x, long n, double mean, int squared) {
    v8d a = 0, b = 0;
    long i = 0;
    for (long start = 0; start + 16 <= n; start += TX_CHUNK) {
        if (tx_interrupt_requested()) return 0;
        for (long end = chunk_end(start, n); i + 16 <= end; i += 16) {
            v8 u, v;
            memcpy(&u, x + i, sizeof u);
            memcpy(&v, x + i + 8, sizeof v);
            v8d du = __builtin_convertvector(u, v8d), dv = __builtin_convertvector(v, v8d);
            if (squared) {
                du -= mean;
                dv -= mean;
                a += du * du;
                b += dv * dv;
            } else {
                a += du;
                b += dv;
            }
        }
    }
    a += b;
    double sum = 0;
    for (int j = 0; j < 8; j++) sum += a[j];
    for (; i < n; i++) {
        double d = x[i];
        if (squared) {
            d -= mean;
            d *= d;
        }
        sum += d;
    }
    return sum;
}

double TX_KERNEL(tx_sum)(const float *x, long n) { return sum_in_double(x, n, 0, 0); }

double TX_KERNEL(tx_sum_squared_deviations)(const float *x, long n, double mean) {
    return sum_in_double(x, n, mean, 1);
}

/* The larger (or smaller) of m and v, NaN once either is NaN. */
TX_INLINE float extreme(float m, float v, int largest) {
    return ((largest ? v > m : v < m) | (v != v)) ? v : m;
}

/* The lanewise extreme of two vectors, NaN in a lane once either is NaN there. */
TX_INLINE v16 extreme16(v16 m, v16 v, int largest) {
    return ((largest ? v > m : v < m) | (v != v)) ? v : m;
}

/* Four vectors of running results, so that the comparisons do not wait on each other;
 * they are then folded into one, and its lanes halved down to one. */
TX_INLINE float segment_extreme(const float *x, long n, int largest) {
    v16 m[4] = {x[0], x[0], x[0], x[0]};
    long i = 0;
    for (long start = 0; start + 64 <= n; start += TX_CHUNK) {
        if (tx_interrupt_requested()) return x[0];
        for (long end = chunk_end(start, n); i + 64 <= end; i += 64) {
            for (int k = 0; k < 4; k++) {
                v16 v;
                memcpy(&v, x + i + 16 * k, sizeof v);
                m[k] = extreme16(m[k], v, largest);
            }
        }
    }
    v16 a = extreme16(extreme16(m[0], m[1], largest), extreme16(m[2], m[3], largest), largest);
    v8 b = __builtin_shufflevector(a, a, 0, 1, 2, 3, 4, 5, 6, 7), c = __builtin_shufflevector(a, a, 8, 9, 10, 11, 12, 13, 14, 15);
    b = ((largest ? c > b : c < b) | (c != c)) ? c : b;
    float result = x[0];
    for (int j = 0; j < 8; j++) result = extreme(result, b[j], largest);
    for (; i < n; i++) result = extreme(result, x[i], largest);
    return result;
}

float TX_KERNEL(tx_max)(const float *x, long n) { return segment_extreme(x, n, 1); }

float TX_KERNEL(tx_min)(const float *x, long n) { return segment_extreme(x, n, 0); }

typedef int v16i __attribute__((ext_vector_type(16)));

/* Lanewise: whether candidates (v, i) beat (best, at) for argmax (largest) or argmin: a
 * better value, or the first NaN, or the same value (or NaN) earlier. */
TX_INLINE v16i beats16(v16 v, v16i i, v16 best, v16i at, int largest) {
    v16i better = (largest ? v > best : v < best) | ((v != v) & (best == best));
    v16i same = (v == best) | ((v != v) & (best != best));
    return better | (same & (i < at));
}

/* Lanewise: (best, at) becomes (v, i) where that beats it. */
TX_INLINE void keep_better(v16 *best, v16i *at, v16 v, v16i i, int largest) {
    v16i wins = beats16(v, i, *best, *at, largest);
    *best = wins ? v : *best;
    *at = wins ? i : *at;
}

TX_INLINE int beats(float v, long i, float best, long at, int largest) {
    int better = (largest ? v > best : v < best) | ((v != v) & (best == best));
    int same = (v == best) | ((v != v) & (best != best));
    return better | (same & (i < at));
}

/* Index blocks of TX_CHUNK: lane indices fit an int, and Ctrl-C is polled between
 * blocks. */
enum { ARG_BLOCK = TX_CHUNK };

/* One pass: each of 2 x 16 lanes keeps its best value and where it was (a later element
 * wins only when strictly better, or as the first NaN); then the lanes are compared,
 * halving their number each step. */
TX_INLINE long segment_arg_extreme(const float *x, long n, int largest) {
    float best = x[0];
    long at = 0;
    for (long b0 = 0; b0 < n; b0 += ARG_BLOCK) {
        if (tx_interrupt_requested()) return at;
        const float *p = x + b0;
        long length = n - b0 < ARG_BLOCK ? n - b0 : ARG_BLOCK;
        v16 value[2] = {p[0], p[0]};
        v16i index[2] = {0, 0};
        const v16i lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
        long i = 0;
        for (; i + 32 <= length; i += 32) {
            for (int k = 0; k < 2; k++) {
                v16 v;
                memcpy(&v, p + i + 16 * k, sizeof v);
                v16i wins = (largest ? v > value[k] : v < value[k]) | ((v != v) & (value[k] == value[k]));
                value[k] = wins ? v : value[k];
                index[k] = wins ? lane + (int)(i + 16 * k) : index[k];
            }
        }
        keep_better(&value[0], &index[0], value[1], index[1], largest);
        /* Halving: lanes 8-15 against 0-7, then 4-7 against 0-3, ..., down to lane 0. */
        v16 v = value[0];
        v16i w = index[0];
        keep_better(&v, &w, __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15),
                    __builtin_shufflevector(w, w, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15), largest);
        keep_better(&v, &w, __builtin_shufflevector(v, v, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7),
                    __builtin_shufflevector(w, w, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7), largest);
        keep_better(&v, &w, __builtin_shufflevector(v, v, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3),
                    __builtin_shufflevector(w, w, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3), largest);
        keep_better(&v, &w, __builtin_shufflevector(v, v, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),
                    __builtin_shufflevector(w, w, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1), largest);
        if (beats(v[0], b0 + w[0], best, at, largest)) {
            best = v[0];
            at = b0 + w[0];
        }
        for (; i < length; i++)
            if (beats(p[i], b0 + i, best, at, largest)) {
                best = p[i];
                at = b0 + i;
            }
    }
    return at;
}

long TX_KERNEL(tx_argmax)(const float *x, long n) { return segment_arg_extreme(x, n, 1); }

long TX_KERNEL(tx_argmin)(const float *x, long n) { return segment_arg_extreme(x, n, 0); }

/* The sum of exp(x[i] - shift), each term and the sum in double precision. */
TX_INLINE double sum_exp_shifted(const float *x, long n, float shift) {
    v8d a = 0, b = 0;
    long i = 0;
    for (long start = 0; start + 16 <= n; start += TX_CHUNK) {
        if (tx_interrupt_requested()) return 0;
        for (long end = chunk_end(start, n); i + 16 <= end; i += 16) {
            double e[16];
            for (int j = 0; j < 16; j++) e[j] = exp_double_one((double)(x[i + j] - shift));
            v8d u, v;
            memcpy(&u, e, sizeof u);
            memcpy(&v, e + 8, sizeof v);
            a += u;
            b += v;
        }
    }
    a += b;
    double sum = 0;
    for (int j = 0; j < 8; j++) sum += a[j];
    for (; i < n; i++) sum += exp_double_one((double)(x[i] - shift));
    return sum;
}

/* The shift is the maximum as a running comparison from x[0] finds it (a NaN at x[0]
 * stays, later NaNs are skipped); with a finite shift any NaN makes the sum NaN. */
float TX_KERNEL(tx_logsumexp)(const float *x, long n) {
    /* NaN anywhere gives NaN (the maximum propagates it); an infinite maximum is the
     * result itself. */
    float m = segment_extreme(x, n, 1);
    if (!isfinite(m)) return m;
    return m + (float)log(sum_exp_shifted(x, n, m));
}

/* Columns */

static void sum_column_block(const float *x, long rows, long stride, long width, double *sums) {
    for (long j = 0; j < width; j++) sums[j] = 0;
    for (long r = 0; r < rows; r++) {
        if (stop_at_row(r)) return;
        const float *row = x + r * stride;
        for (long j = 0; j < width; j++) sums[j] += row[j];
    }
}

void TX_KERNEL(tx_sum_columns)(const float *x, long rows, long n, double *sums) {
    for (long j0 = 0; j0 < n; j0 += COLUMN_BLOCK)
        sum_column_block(x + j0, rows, n, n - j0 < COLUMN_BLOCK ? n - j0 : COLUMN_BLOCK, sums + j0);
}

static void squared_deviation_block(const float *x, long rows, long stride, long width, const double *means,
                                    double *sums) {
    for (long j = 0; j < width; j++) sums[j] = 0;
    for (long r = 0; r < rows; r++) {
        if (stop_at_row(r)) return;
        const float *row = x + r * stride;
        for (long j = 0; j < width; j++) {
            double d = row[j] - means[j];
            sums[j] += d * d;
        }
    }
}

void TX_KERNEL(tx_sum_squared_deviations_columns)(const float *x, long rows, long n, const double *means, double *sums) {
    for (long j0 = 0; j0 < n; j0 += COLUMN_BLOCK)
        squared_deviation_block(x + j0, rows, n, n - j0 < COLUMN_BLOCK ? n - j0 : COLUMN_BLOCK, means + j0, sums + j0);
}

TX_INLINE void extreme_column_block(const float *x, long rows, long stride, long width, float *out, int largest) {
    for (long j = 0; j < width; j++) out[j] = x[j];
    for (long r = 1; r < rows; r++) {
        if (stop_at_row(r)) return;
        const float *row = x + r * stride;
        for (long j = 0; j < width; j++) out[j] = extreme(out[j], row[j], largest);
    }
}

static void max_column_block(const float *x, long rows, long stride, long width, float *out) {
    extreme_column_block(x, rows, stride, width, out, 1);
}

static void min_column_block(const float *x, long rows, long stride, long width, float *out) {
    extreme_column_block(x, rows, stride, width, out, 0);
}

void TX_KERNEL(tx_max_columns)(const float *x, long rows, long n, float *out) {
    for (long j0 = 0; j0 < n; j0 += COLUMN_BLOCK)
        max_column_block(x + j0, rows, n, n - j0 < COLUMN_BLOCK ? n - j0 : COLUMN_BLOCK, out + j0);
}

void TX_KERNEL(tx_min_columns)(const float *x, long rows, long n, float *out) {
    for (long j0 = 0; j0 < n; j0 += COLUMN_BLOCK)
        min_column_block(x + j0, rows, n, n - j0 < COLUMN_BLOCK ? n - j0 : COLUMN_BLOCK, out + j0);
}

/* The running best value and its row: a later row wins when strictly better, or when
 * it is the first NaN. */
TX_INLINE void arg_column_block(const float *x, long rows, long stride, long width, float *out, int largest) {
    float best[COLUMN_BLOCK];
    for (long j = 0; j < width; j++) {
        best[j] = x[j];
        out[j] = 0;
    }
    for (long r = 1; r < rows; r++) {
        if (stop_at_row(r)) return;
        const float *row = x + r * stride;
        float index = (float)r;
        for (long j = 0; j < width; j++) {
            float v = row[j], b = best[j];
            int wins = (largest ? v > b : v < b) | ((v != v) & (b == b));
            best[j] = wins ? v : b;
            out[j] = wins ? index : out[j];
        }
    }
}

static void argmax_column_block(const float *x, long rows, long stride, long width, float *out) {
    arg_column_block(x, rows, stride, width, out, 1);
}

static void argmin_column_block(const float *x, long rows, long stride, long width, float *out) {
    arg_column_block(x, rows, stride, width, out, 0);
}

void TX_KERNEL(tx_argmax_columns)(const float *x, long rows, long n, float *out) {
    for (long j0 = 0; j0 < n; j0 += COLUMN_BLOCK)
        argmax_column_block(x + j0, rows, n, n - j0 < COLUMN_BLOCK ? n - j0 : COLUMN_BLOCK, out + j0);
}

void TX_KERNEL(tx_argmin_columns)(const float *x, long rows, long n, float *out) {
    for (long j0 = 0; j0 < n; j0 += COLUMN_BLOCK)
        argmin_column_block(x + j0, rows, n, n - j0 < COLUMN_BLOCK ? n - j0 : COLUMN_BLOCK, out + j0);
}

/* logsumexp down the columns, with the shift found as in tx_logsumexp. */
static void logsumexp_column_block(const float *x, long rows, long stride, long width, float *out) {
    float shift[COLUMN_BLOCK];
    double sums[COLUMN_BLOCK];
    for (long j = 0; j < width; j++) {
        shift[j] = x[j];
        sums[j] = 0;
    }
    for (long r = 1; r < rows; r++) {
        if (stop_at_row(r)) return;
        const float *row = x + r * stride;
        /* The maximum propagates NaN, as in tx_logsumexp. */
        for (long j = 0; j < width; j++) shift[j] = extreme(shift[j], row[j], 1);
    }
    for (long r = 0; r < rows; r++) {
        if (stop_at_row(r)) return;
        const float *row = x + r * stride;
        for (long j = 0; j < width; j++) sums[j] += exp_double_one((double)(row[j] - shift[j]));
    }
    for (long j = 0; j < width; j++) {
        float m = shift[j];
        out[j] = isfinite(m) ? m + (float)log(sums[j]) : m;
    }
}

void TX_KERNEL(tx_logsumexp_columns)(const float *x, long rows, long n, float *out) {
    for (long j0 = 0; j0 < n; j0 += COLUMN_BLOCK)
        logsumexp_column_block(x + j0, rows, n, n - j0 < COLUMN_BLOCK ? n - j0 : COLUMN_BLOCK, out + j0);
}

/* Softmax down the columns, with the rules of tx_softmax_rows: the maximum skips NaN;
 * a column whose maximum is -inf is shifted by 0, so that its -inf entries give 0 and a
 * NaN among them makes the sum NaN; a NaN sum makes the whole column NaN (through the
 * factor), a zero sum leaves zeros. */
static void softmax_column_block(const float *x, float *y, long rows, long stride, long width) {
    float shift[COLUMN_BLOCK], factor[COLUMN_BLOCK];
    double sums[COLUMN_BLOCK];
    for (long j = 0; j < width; j++) {
        shift[j] = -INFINITY;
        sums[j] = 0;
    }
    for (long r = 0; r < rows; r++) {
        if (stop_at_row(r)) return;
        const float *row = x + r * stride;
        for (long j = 0; j < width; j++) shift[j] = row[j] > shift[j] ? row[j] : shift[j];
    }
    for (long j = 0; j < width; j++) shift[j] = shift[j] == -INFINITY ? 0 : shift[j];
    for (long r = 0; r < rows; r++) {
        if (stop_at_row(r)) return;
        const float *row = x + r * stride;
        float *out = y + r * stride;
        for (long j = 0; j < width; j++) {
            float e = exp_one(row[j] - shift[j]);
            out[j] = e;
            sums[j] += e;
        }
    }
    for (long j = 0; j < width; j++) {
        double s = sums[j];
        factor[j] = s > 0 ? (float)(1.0 / s) : (s == 0 ? 1.0f : NAN);
    }
    for (long r = 0; r < rows; r++) {
        if (stop_at_row(r)) return;
        float *out = y + r * stride;
        for (long j = 0; j < width; j++) out[j] *= factor[j];
    }
}

void TX_KERNEL(tx_softmax_columns)(const float *x, float *y, long rows, long n) {
    for (long j0 = 0; j0 < n; j0 += COLUMN_BLOCK)
        softmax_column_block(x + j0, y + j0, rows, n, n - j0 < COLUMN_BLOCK ? n - j0 : COLUMN_BLOCK);
}

/* Layer normalisation */

/* Rows begin..<end of tx_layernorm_rows. */
void TX_KERNEL(tx_layernorm_rows_range)(const float *x, float *y, long n, const float *gamma, const float *beta,
                                        float eps, long begin, long end) {
    for (long r = begin; r < end; r++) {
        const float *row = x + r * n;
        float *out = y + r * n;
        double mean = TX_KERNEL(tx_sum)(row, n) / (double)n;
        double variance = TX_KERNEL(tx_sum_squared_deviations)(row, n, mean) / (double)n;
        float inverse = (float)(1 / sqrt(variance + (double)eps)), m = (float)mean;
        for (long i = 0; i < n; i++) out[i] = (row[i] - m) * inverse * gamma[i] + beta[i];
    }
}

/* Rows begin..<end of tx_layernorm_backward_rows: per row, with xhat = (x - mean) * rstd
 * and dxhat = g * gamma, the row means a of dxhat and b of dxhat * xhat in one pass
 * (which also writes g * xhat), then dx = rstd * (dxhat - a - xhat * b) in a second. */
void TX_KERNEL(tx_layernorm_backward_rows_range)(const float *x, const float *g, float *dx, float *gxhat, long n,
                                                 const float *gamma, const float *mean, const float *rstd,
                                                 long begin, long end) {
    for (long r = begin; r < end; r++) {
        const float *xr = x + r * n, *gr = g + r * n;
        float *out = dx + r * n, *gh = gxhat + r * n;
        float m = mean[r], s = rstd[r];
        v8 va = 0, vb = 0;
        long i = 0;
        for (; i + 8 <= n; i += 8) {
            v8 xv, gv, wv;
            memcpy(&xv, xr + i, sizeof xv);
            memcpy(&gv, gr + i, sizeof gv);
            memcpy(&wv, gamma + i, sizeof wv);
            v8 xh = (xv - m) * s, d = gv * wv, p = gv * xh;
            va += d;
            vb += d * xh;
            memcpy(gh + i, &p, sizeof p);
        }
        float a = 0, b = 0;
        for (int k = 0; k < 8; k++) {
            a += va[k];
            b += vb[k];
        }
        for (; i < n; i++) {
            float xh = (xr[i] - m) * s, d = gr[i] * gamma[i];
            a += d;
            b += d * xh;
            gh[i] = gr[i] * xh;
        }
        a /= (float)n;
        b /= (float)n;
        for (i = 0; i < n; i++) out[i] = s * (gr[i] * gamma[i] - a - (xr[i] - m) * s * b);
    }
}
