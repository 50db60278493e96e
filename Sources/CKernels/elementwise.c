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
