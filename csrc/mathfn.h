/* mathfn.h -- aenn's own float32 exp, log, tanh, log1p, expm1, erf, sin/cos.
 *
 * Written with plain float operations only (no libm, no FMA contraction: the build uses
 * -ffp-contract=off), so every IEEE-754 machine gives the same bits whatever its C library.
 * Accuracy is a few ulp, checked against float64 NumPy in tests/kernels/test_mathfn.py.
 */
#ifndef AENN_MATHFN_H
#define AENN_MATHFN_H

#include <stdint.h>
#include <string.h>

static inline float aenn_bits_to_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t aenn_float_to_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/* e^x. Cody-Waite reduction x = n*ln2 + r, |r| <= ln2/2, degree-7 Taylor polynomial of e^r,
 * then scaling by 2^n through the exponent bits (two steps, so subnormal results are exact). */
static inline float aenn_expf(float x) {
    if (x != x) return x;
    if (x > 88.7228394f) return aenn_bits_to_float(0x7f800000u); /* +inf */
    if (x < -103.972076f) return 0.0f;
    const float ln2_hi = 0.693145751953125f, ln2_lo = 1.428606765330187e-06f;
    float nf = x * 1.44269504088896341f;
    nf = (float)(int32_t)(nf + (nf >= 0.0f ? 0.5f : -0.5f));
    float r = (x - nf * ln2_hi) - nf * ln2_lo;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t n = (int32_t)nf;
    /* 2^n = 2^n1 * 2^n2 with both factors normal */
    int32_t n1 = n / 2, n2 = n - n1;
    p *= aenn_bits_to_float((uint32_t)(n1 + 127) << 23);
    p *= aenn_bits_to_float((uint32_t)(n2 + 127) << 23);
    return p;
}

/* ln x. x = m * 2^e with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(s), s = (m-1)/(m+1),
 * odd series in s up to s^11 (|s| <= 0.1716). */
static inline float aenn_logf(float x) {
    uint32_t u = aenn_float_to_bits(x);
    if (x != x) return x;
    if (x < 0.0f) return aenn_bits_to_float(0x7fc00000u); /* NaN */
    if (x == 0.0f) return aenn_bits_to_float(0xff800000u); /* -inf */
    if (u == 0x7f800000u) return x; /* +inf */
    int32_t e = 0;
    if (u < 0x00800000u) { /* subnormal: scale by 2^25 */
        x *= 33554432.0f;
        u = aenn_float_to_bits(x);
        e = -25;
    }
    e += (int32_t)(u >> 23) - 127;
    float m = aenn_bits_to_float((u & 0x007fffffu) | 0x3f800000u); /* [1, 2) */
    if (m > 1.41421356f) { m *= 0.5f; e += 1; }
    float f = m - 1.0f;
    float s = f / (2.0f + f);
    float z = s * s;
    float p = 2.0f / 11.0f;
    p = p * z + 2.0f / 9.0f;
    p = p * z + 2.0f / 7.0f;
    p = p * z + 2.0f / 5.0f;
    p = p * z + 2.0f / 3.0f;
    float log_m = 2.0f * s + s * z * p;
    /* stay accurate near 1: ln m = f - f*f/2 + ... is recovered by 2s + s z p */
    const float ln2_hi = 0.693145751953125f, ln2_lo = 1.428606765330187e-06f;
    float ef = (float)e;
    return (ef * ln2_lo + log_m) + ef * ln2_hi;
}

/* e^x - 1, accurate for small |x|. */
static inline float aenn_expm1f(float x) {
    if (x > -0.5f && x < 0.5f) {
        float p = 1.0f / 40320.0f;
        p = p * x + 1.0f / 5040.0f;
        p = p * x + 1.0f / 720.0f;
        p = p * x + 1.0f / 120.0f;
        p = p * x + 1.0f / 24.0f;
        p = p * x + 1.0f / 6.0f;
        p = p * x + 0.5f;
        return x + x * x * p;
    }
    return aenn_expf(x) - 1.0f;
}

/* ln(1 + x), accurate for small |x| (the ratio trick: u = 1 + x rounded, log(u) * x / (u - 1)). */
static inline float aenn_log1pf(float x) {
    float u = 1.0f + x;
    if (u == 1.0f) return x;
    if (u == aenn_bits_to_float(0x7f800000u)) return u;
    return aenn_logf(u) * (x / (u - 1.0f));
}

/* tanh x = t / (t + 2) with t = expm1(2|x|); saturates to +-1 beyond |x| = 9. */
static inline float aenn_tanhf(float x) {
    if (x != x) return x;
    float a = x < 0.0f ? -x : x;
    float r;
    if (a > 9.0f) r = 1.0f;
    else {
        float t = aenn_expm1f(2.0f * a);
        r = t / (t + 2.0f);
    }
    return x < 0.0f ? -r : r;
}

/* Logistic sigmoid 1 / (1 + e^-x), computed without overflow. */
static inline float aenn_sigmoidf(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + aenn_expf(-x));
    float e = aenn_expf(x);
    return e / (1.0f + e);
}

/* erf x: Maclaurin series for |x| < 0.5; Abramowitz & Stegun 7.1.26 otherwise (|error| < 1.5e-7). */
static inline float aenn_erff(float x) {
    if (x != x) return x;
    float a = x < 0.0f ? -x : x;
    float r;
    if (a < 0.5f) {
        float z = a * a;
        float p = -1.0f / 1320.0f;
        p = p * z + 1.0f / 216.0f;
        p = p * z - 1.0f / 42.0f;
        p = p * z + 1.0f / 10.0f;
        p = p * z - 1.0f / 3.0f;
        p = p * z + 1.0f;
        r = 1.12837916709551257f * a * p;
    } else if (a > 4.0f) {
        r = 1.0f;
    } else {
        float t = 1.0f / (1.0f + 0.3275911f * a);
        float p = 1.061405429f;
        p = p * t - 1.453152027f;
        p = p * t + 1.421413741f;
        p = p * t - 0.284496736f;
        p = p * t + 0.254829592f;
        r = 1.0f - p * t * aenn_expf(-a * a);
    }
    return x < 0.0f ? -r : r;
}

/* sin and cos of 2*pi*v for v in [0, 1): the reduction is done on v (exact in float), so the
 * polynomial argument stays in [-pi/4, pi/4]. Used by the Box-Muller transform.
 * aenn_sincos_2pi_quarter gives the polynomials' (sin, cos) of the remainder and returns the
 * quarter turn k (0..3); aenn_sincos_2pi picks and negates them with a switch, its branch-free
 * twin aenn_sincos_2pi_v (mathfn_vec.h) with selects -- the same bits. */
static inline int aenn_sincos_2pi_quarter(float v, float *sn, float *cs) {
    float q = (float)(int32_t)(v * 4.0f + 0.5f); /* nearest quarter turn, 0..4 */
    float x = (v - q * 0.25f) * 6.28318530717958648f;
    float z = x * x;
    float sp = 1.0f / 362880.0f;
    sp = sp * z - 1.0f / 5040.0f;
    sp = sp * z + 1.0f / 120.0f;
    sp = sp * z - 1.0f / 6.0f;
    *sn = x + x * z * sp;
    float cp = 1.0f / 40320.0f;
    cp = cp * z - 1.0f / 720.0f;
    cp = cp * z + 1.0f / 24.0f;
    cp = cp * z - 0.5f;
    *cs = 1.0f + z * cp;
    return (int32_t)q & 3;
}

static inline void aenn_sincos_2pi(float v, float *s, float *c) {
    float sn, cs;
    switch (aenn_sincos_2pi_quarter(v, &sn, &cs)) {
    case 0: *s = sn; *c = cs; break;
    case 1: *s = cs; *c = -sn; break;
    case 2: *s = -sn; *c = -cs; break;
    default: *s = -cs; *c = sn; break;
    }
}

static inline float aenn_sqrtf_exact(float x); /* IEEE sqrt is correctly rounded everywhere */
#include <math.h>
static inline float aenn_sqrtf_exact(float x) { return sqrtf(x); }

#endif /* AENN_MATHFN_H */
