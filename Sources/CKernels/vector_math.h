/* Branch-free float32 functions for loops that clang vectorises (one clone per
 * instruction set, see isa.h). Each handles inf and NaN as the C library does.
 * Internal to CKernels. */
#ifndef TX_VECTOR_MATH_H
#define TX_VECTOR_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Helpers of cloned functions must be inlined into each clone to get its instruction
 * set. Being inlined, the vectors they take and return never cross a call, whose ABI
 * would differ between the clones. */
#define TX_INLINE static inline __attribute__((always_inline))
#pragma clang diagnostic ignored "-Wpsabi"

/* Below this exp_one is 0 (the subnormal results are flushed); above EXP_HI, the float
 * just above ln(FLT_MAX), it is inf. */
#define EXP_LO (-87.3365447505531f)
#define EXP_HI 88.72283935546875f

/* exp(x) = 2^k * exp(r), k = round(x / ln 2), r = x - k ln 2 in [-ln2/2, ln2/2];
 * exp(r) by a degree-6 polynomial (Cephes' expf coefficients). For x already clamped
 * to [EXP_LO, EXP_HI]: k into *k_out, and exp(r) returned; the callers make 2^k. */
TX_INLINE float exp_reduced(float clamped, float *k_out) {
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
    *k_out = k;
    return p * r * r + r + 1.0f;
}

TX_INLINE float exp_one(float x) {
    float clamped = x > EXP_HI ? EXP_HI : (x < EXP_LO ? EXP_LO : x);
    float k, p = exp_reduced(clamped, &k);
    /* 2^k in two halves, so that k = 128 (x near ln(FLT_MAX)) stays representable. */
    int32_t whole = (int32_t)k, half = whole >> 1;
    int32_t bits = (half + 127) << 23, rest = (whole - half + 127) << 23;
    float scale, scale2;
    memcpy(&scale, &bits, sizeof scale);
    memcpy(&scale2, &rest, sizeof scale2);
    float y = p * scale * scale2;
    y = x < EXP_LO ? 0.0f : y;
    y = x > EXP_HI ? INFINITY : y;
    return x != x ? x : y;
}

/* exp_one for x <= 0 or NaN (softmax's x - max), with the same result bit for bit and
 * fewer steps: 2^k for k in [-126, 0] is one normal float, so neither the upper clamp
 * nor the split of 2^k into halves is needed (p 2^k rounds once, into the subnormals,
 * exactly as p 2^h 2^(k-h) does). */
TX_INLINE float exp_nonpositive(float x) {
    float clamped = x < EXP_LO ? EXP_LO : x;
    float k, p = exp_reduced(clamped, &k);
    int32_t bits = ((int32_t)k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    float y = x < EXP_LO ? 0.0f : p * scale;
    return x != x ? x : y;
}

/* tanh(x) = sign(x) tanh(|x|): below |x| = 0.625 the odd series a + a^3 P(a^2) (P fitted
 * to the relative error, 4e-9 before rounding); above it 1 - 2 / (exp(2a) + 1). */
TX_INLINE float tanh_one(float x) {
    float a = fabsf(x);
    float s = a * a;
    float p = -0x1.75e134p-8f;
    p = p * s + 0x1.522676p-6f;
    p = p * s - 0x1.b83c54p-5f;
    p = p * s + 0x1.110726p-3f;
    p = p * s - 0x1.555532p-2f;
    float small = a + a * s * p;
    float large = 1.0f - 2.0f / (exp_one(a + a) + 1.0f);
    return copysignf(a < 0.625f ? small : large, x);
}

/* erf(x): below |x| = 0.875 the odd series x + x Q(x^2); above it 1 - exp(P(|x|)) with P
 * fitted to log(erfc) on [0.875, 4] (1.2e-8 before rounding; erf is 1 in float32 from
 * about 3.92 on, so |x| is capped at 4). Both fits minimise the relative error. */
TX_INLINE float erf_one(float x) {
    float a = fabsf(x);
    float s = x * x;
    float q = -0x1.453a9ap-11f;
    q = q * s + 0x1.49c9fap-8f;
    q = q * s - 0x1.b6f38ap-6f;
    q = q * s + 0x1.ce211ep-4f;
    q = q * s - 0x1.81270cp-2f;
    q = q * s + 0x1.06eba6p-3f;
    float small = x + x * q;
    float t = a < 4.0f ? a : 4.0f;
    float p = 0x1.ae2a8ep-20f;
    p = p * t - 0x1.7c7666p-15f;
    p = p * t + 0x1.35b48cp-11f;
    p = p * t - 0x1.360104p-8f;
    p = p * t + 0x1.af7b4cp-6f;
    p = p * t - 0x1.c240eep-4f;
    p = p * t - 0x1.4394e4p-1f;
    p = p * t - 0x1.21504cp+0f;
    p = p * t + 0x1.34929cp-12f;
    float large = copysignf(1.0f - exp_one(p), x);
    return a < 0.875f ? small : (x != x ? x : large);
}

/* log(x), computed in double precision and rounded once (within 0.5 ulp; glibc's logf
 * 0.82): x = m 2^e with m in [sqrt(1/2), sqrt(2)) read from the bits of x as a double
 * (which has no subnormals for float values), log(m) = 2 atanh(s), s = (m - 1) / (m + 1)
 * and |s| <= 0.172, by its series to s^17. */
TX_INLINE float log_one(float x) {
    double d = x;
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    double e = (double)(int32_t)(bits >> 52) - 1023.0;
    uint64_t mantissa = (bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull;
    double m;
    memcpy(&m, &mantissa, sizeof m);
    int big = m > 1.4142135623730951;
    m = big ? m * 0.5 : m;
    e = big ? e + 1.0 : e;
    double s = (m - 1.0) / (m + 1.0), s2 = s * s;
    double p = 1.0 / 17;
    p = p * s2 + 1.0 / 15;
    p = p * s2 + 1.0 / 13;
    p = p * s2 + 1.0 / 11;
    p = p * s2 + 1.0 / 9;
    p = p * s2 + 1.0 / 7;
    p = p * s2 + 1.0 / 5;
    p = p * s2 + 1.0 / 3;
    float y = (float)(e * 0.69314718055994530942 + (2.0 * s + 2.0 * s * s2 * p));
    y = x == 0 ? -INFINITY : y;
    y = x < 0 ? NAN : y;
    y = x == INFINITY ? INFINITY : y;
    return x != x ? x : y;
}

/* exp(x) in double precision for x <= 0 (a value minus its row's maximum), for sums
 * whose terms must be as accurate as a double: 2^k exp(r), |r| <= ln2 / 2, with the
 * Taylor series of exp(r) to degree 12 (truncation error below 2e-16). Exactly 0 below
 * -708, where a term cannot change a sum that holds exp(0) = 1; NaN stays NaN. */
TX_INLINE double exp_double_one(double x) {
    double clamped = x < -708.0 ? -708.0 : x;
    double k = __builtin_rint(clamped * 1.4426950408889634);
    double r = clamped - k * 6.93147180369123816490e-01;   /* ln 2, high part (exact product) */
    r = r - k * 1.90821492927058770002e-10;                /* ln 2, low part */
    double p = 1.0 / 479001600.0;                          /* 1/12! */
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    int64_t bits = ((int64_t)k + 1023) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    double y = p * scale;
    y = x < -708.0 ? 0.0 : y;
    return x != x ? x : y;
}

/* Sixteen float lanes: reductions keep partial results in one, so that they vectorise
 * without -ffast-math (which would also drop the inf and NaN handling). */
typedef float v16 __attribute__((ext_vector_type(16)));
typedef double v8d __attribute__((ext_vector_type(8)));
typedef float v8 __attribute__((ext_vector_type(8)));

#endif
