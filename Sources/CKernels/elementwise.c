/* Elementwise functions over float32 arrays. */
#include "tx_kernels.h"

#include "vector_math.h"

TX_CLONES
void tx_exp(const float *x, float *y, long n) {
    /* In place, one pointer: with two equal pointers the vectorised loop's overlap
     * check would fail and the scalar loop run instead. */
    if (x == y) {
        for (long i = 0; i < n; i++) y[i] = exp_one(y[i]);
        return;
    }
    for (long i = 0; i < n; i++) y[i] = exp_one(x[i]);
}

TX_CLONES
void tx_sqrt(const float *x, float *y, long n) {
    for (long i = 0; i < n; i++) y[i] = __builtin_sqrtf(x[i]);
}

TX_CLONES
void tx_tanh(const float *x, float *y, long n) {
    for (long i = 0; i < n; i++) y[i] = tanh_one(x[i]);
}

TX_CLONES
void tx_sigmoid(const float *x, float *y, long n) {
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

TX_CLONES
void tx_gelu(const float *x, float *y, long n) {
    for (long i = 0; i < n; i++) {
        float v = x[i];
        y[i] = 0.5f * v * (1.0f + erf_one(v * 0.70710678118654752f));
    }
}
