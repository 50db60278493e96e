/* Elementwise functions over float32 arrays, the transpose behind contiguous copies of
 * transposed views, and the compression behind boolean masks (compiled once per
 * instruction set, see isa.h). */
#include "isa.h"

#include "vector_math.h"

void TX_KERNEL(tx_exp)(const float *x, float *y, long n) {
    /* In place, one pointer: with two equal pointers the vectorised loop's overlap
     * check would fail and the scalar loop run instead. */
    if (x == y) {
        for (long i = 0; i < n; i++) y[i] = exp_one(y[i]);
        return;
    }
    for (long i = 0; i < n; i++) y[i] = exp_one(x[i]);
}

void TX_KERNEL(tx_sqrt)(const float *x, float *y, long n) {
    for (long i = 0; i < n; i++) y[i] = __builtin_sqrtf(x[i]);
}

void TX_KERNEL(tx_log)(const float *x, float *y, long n) {
    for (long i = 0; i < n; i++) y[i] = log_one(x[i]);
}

void TX_KERNEL(tx_tanh)(const float *x, float *y, long n) {
    for (long i = 0; i < n; i++) y[i] = tanh_one(x[i]);
}

void TX_KERNEL(tx_sigmoid)(const float *x, float *y, long n) {
    /* e = exp(-|v|) never overflows; the sign picks the matching form. */
    int tiny = 0;
    for (long i = 0; i < n; i++) {
        float v = x[i];
        float e = exp_one(-fabsf(v));
        y[i] = (v >= 0 ? 1.0f : e) / (1.0f + e);
        tiny |= v < EXP_LO;
    }
    /* exp_one flushes below e^-87.3 to 0: there sigmoid(v) = e^v / (1 + e^v) is the
     * subnormal e^v, taken from the C library. */
    if (tiny)
        for (long i = 0; i < n; i++)
            if (x[i] < EXP_LO) y[i] = expf(x[i]);
}

TX_INLINE float gelu_one(float v) { return 0.5f * v * (1.0f + erf_one(v * 0.70710678118654752f)); }

void TX_KERNEL(tx_gelu)(const float *x, float *y, long n) {
    /* In place (the feed-forward network's hidden layer), one pointer, as in tx_exp. */
    if (x == y) {
        for (long i = 0; i < n; i++) y[i] = gelu_one(y[i]);
        return;
    }
    for (long i = 0; i < n; i++) y[i] = gelu_one(x[i]);
}

/* gelu'(v) = Phi(v) + v phi(v), phi the standard normal density: the backward pass of
 * the exact GELU. */
void TX_KERNEL(tx_gelu_slope)(const float *x, float *y, long n) {
    for (long i = 0; i < n; i++) {
        float v = x[i];
        float cdf = 0.5f * (1.0f + erf_one(v * 0.70710678118654752f));
        y[i] = cdf + v * (exp_one(-0.5f * v * v) * 0.39894228040143268f);
    }
}

/* Rows [begin, end) of tx_activation_rows. */
void TX_KERNEL(tx_activation_rows_range)(float *c, long ldc, long n, int activation, long begin, long end) {
    for (long r = begin; r < end; r++) {
        float *y = c + r * ldc;
        if (activation == TX_ACTIVATION_RELU)
            /* A select, as the relu builtin: NaN stays NaN. */
            for (long j = 0; j < n; j++) y[j] = y[j] < 0 ? 0 : y[j];
        else if (activation == TX_ACTIVATION_GELU)
            for (long j = 0; j < n; j++) y[j] = gelu_one(y[j]);
    }
}

/* Sixteen rows of sixteen floats, transposed in registers: the off-diagonal blocks of
 * size 8, 4, 2 and 1 swap in turn. Each row is then read and written once, whole, so
 * that the copy never depends on cache lines staying resident: with power-of-two
 * strides all the rows of a tile fall into one cache set. */
TX_INLINE void swap8(v16 *a, v16 *b) {
    v16 t = __builtin_shufflevector(*a, *b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
    *b = __builtin_shufflevector(*a, *b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
    *a = t;
}

TX_INLINE void swap4(v16 *a, v16 *b) {
    v16 t = __builtin_shufflevector(*a, *b, 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
    *b = __builtin_shufflevector(*a, *b, 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
    *a = t;
}

TX_INLINE void swap2(v16 *a, v16 *b) {
    v16 t = __builtin_shufflevector(*a, *b, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
    *b = __builtin_shufflevector(*a, *b, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
    *a = t;
}

TX_INLINE void swap1(v16 *a, v16 *b) {
    v16 t = __builtin_shufflevector(*a, *b, 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
    *b = __builtin_shufflevector(*a, *b, 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
    *a = t;
}

TX_INLINE void transpose16(v16 *r) {
    for (int p = 0; p < 16; p++)
        if (!(p & 8)) swap8(&r[p], &r[p + 8]);
    for (int p = 0; p < 16; p++)
        if (!(p & 4)) swap4(&r[p], &r[p + 4]);
    for (int p = 0; p < 16; p++)
        if (!(p & 2)) swap2(&r[p], &r[p + 2]);
    for (int p = 0; p < 16; p++)
        if (!(p & 1)) swap1(&r[p], &r[p + 1]);
}

/* In blocks of 16 x 16, with a plain loop for the edges. */
void TX_KERNEL(tx_transpose)(const float *src, long src_col_stride, float *dst, long dst_row_stride, long rows, long cols) {
    long full_rows = rows & ~15L, full_cols = cols & ~15L;
    for (long i0 = 0; i0 < full_rows; i0 += 16) {
        for (long j0 = 0; j0 < full_cols; j0 += 16) {
            v16 r[16];
            for (int j = 0; j < 16; j++) memcpy(&r[j], src + i0 + (j0 + j) * src_col_stride, sizeof r[j]);
            transpose16(r);
            for (int i = 0; i < 16; i++) memcpy(dst + (i0 + i) * dst_row_stride + j0, &r[i], sizeof r[i]);
        }
        for (long i = i0; i < i0 + 16; i++)
            for (long j = full_cols; j < cols; j++) dst[i * dst_row_stride + j] = src[i + j * src_col_stride];
    }
    for (long i = full_rows; i < rows; i++)
        for (long j = 0; j < cols; j++) dst[i * dst_row_stride + j] = src[i + j * src_col_stride];
}

long TX_KERNEL(tx_compress)(const float *x, const float *mask, long n, float *out) {
    long last = n - 1;
    while (last >= 0 && mask[last] == 0) last--;
    long k = 0;
    for (long i = 0; i <= last; i++) {
        out[k] = x[i];
        k += mask[i] != 0;
    }
    return k;
}
