/* mathfn_vec.h -- branch-free twins of aenn_expf, aenn_logf, aenn_log1pf and aenn_sigmoidf (mathfn.h).
 *
 * Same per-element float arithmetic as the originals, with the special cases (NaN, overflow,
 * underflow, zero, negative, subnormal, inf) handled by selects after the main path instead of
 * early returns, so that loops calling them vectorise. They return the same bits as the
 * originals for every float input (checked exhaustively over all 2^32 inputs, with and without
 * flush-to-zero / denormals-are-zero, when they were written).
 */
#ifndef AENN_MATHFN_VEC_H
#define AENN_MATHFN_VEC_H

#include "mathfn.h"

/* c ? a : b on the bits (both sides already computed), so compilers keep it branch-free even
 * with trapping math. c must be 0 or 1. */
static inline float aenn_vsel(int c, float a, float b) {
    uint32_t m = (uint32_t)(-(int32_t)c);
    return aenn_bits_to_float((aenn_float_to_bits(a) & m) | (aenn_float_to_bits(b) & ~m));
}

static inline float aenn_expf_v(float x) {
    const float hi = 88.7228394f, lo = -103.972076f;
    /* the main path runs on a clamped, non-NaN copy; the specials are selected at the end */
    float xc = aenn_vsel(x > hi, hi, x);
    xc = aenn_vsel(xc < lo, lo, xc);
    xc = aenn_vsel(x == x, xc, 0.0f);
    const float ln2_hi = 0.693145751953125f, ln2_lo = 1.428606765330187e-06f;
    float nf = xc * 1.44269504088896341f;
    nf = (float)(int32_t)(nf + aenn_vsel(nf >= 0.0f, 0.5f, -0.5f));
    float r = (xc - nf * ln2_hi) - nf * ln2_lo;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t n = (int32_t)nf;
    int32_t n1 = n / 2, n2 = n - n1;
    p *= aenn_bits_to_float((uint32_t)(n1 + 127) << 23);
    p *= aenn_bits_to_float((uint32_t)(n2 + 127) << 23);
    p = aenn_vsel(x > hi, aenn_bits_to_float(0x7f800000u), p);
    p = aenn_vsel(x < lo, 0.0f, p);
    return aenn_vsel(x == x, p, x);
}

static inline float aenn_logf_v(float x) {
    uint32_t u0 = aenn_float_to_bits(x);
    /* subnormal: scale by 2^25 (the select keeps the other lanes unscaled) */
    int sub = u0 < 0x00800000u;
    float xs = aenn_vsel(sub, x * 33554432.0f, x);
    uint32_t u = aenn_float_to_bits(xs);
    int32_t e = -25 * sub + (int32_t)((u >> 23) & 0xffu) - 127;
    float m = aenn_bits_to_float((u & 0x007fffffu) | 0x3f800000u); /* [1, 2) */
    int big = m > 1.41421356f;
    m = aenn_vsel(big, m * 0.5f, m);
    e += big;
    float f = m - 1.0f;
    float s = f / (2.0f + f);
    float z = s * s;
    float p = 2.0f / 11.0f;
    p = p * z + 2.0f / 9.0f;
    p = p * z + 2.0f / 7.0f;
    p = p * z + 2.0f / 5.0f;
    p = p * z + 2.0f / 3.0f;
    float log_m = 2.0f * s + s * z * p;
    const float ln2_hi = 0.693145751953125f, ln2_lo = 1.428606765330187e-06f;
    float ef = (float)e;
    float r = (ef * ln2_lo + log_m) + ef * ln2_hi;
    r = aenn_vsel(u0 == 0x7f800000u, x, r);                                  /* +inf */
    r = aenn_vsel(x == 0.0f, aenn_bits_to_float(0xff800000u), r);            /* -inf */
    r = aenn_vsel(x < 0.0f, aenn_bits_to_float(0x7fc00000u), r);             /* NaN */
    return aenn_vsel(x == x, r, x);
}

static inline float aenn_log1pf_v(float x) {
    float u = 1.0f + x;
    float r = aenn_logf_v(u) * (x / (u - 1.0f));
    r = aenn_vsel(u == aenn_bits_to_float(0x7f800000u), u, r);
    return aenn_vsel(u == 1.0f, x, r);
}

static inline float aenn_sigmoidf_v(float x) {
    int pos = x >= 0.0f;
    float e = aenn_expf_v(aenn_vsel(pos, -x, x));
    float a = 1.0f / (1.0f + e), b = e / (1.0f + e);
    return aenn_vsel(pos, a, b);
}

/* aenn_sincos_2pi with the quarter-turn switch written as selects (same bits). */
static inline void aenn_sincos_2pi_v(float v, float *s, float *c) {
    float sn, cs;
    int k = aenn_sincos_2pi_quarter(v, &sn, &cs);
    /* quarter k: (s, c) = (sn, cs), (cs, -sn), (-sn, -cs), (-cs, sn) */
    float s1 = aenn_vsel(k & 1, cs, sn), c1 = aenn_vsel(k & 1, sn, cs);
    *s = aenn_vsel((k >> 1) & 1, -s1, s1);
    *c = aenn_vsel(((k + 1) >> 1) & 1, -c1, c1);
}

#endif /* AENN_MATHFN_VEC_H */
