/* rng.c -- Philox4x32-10 and the float32 fills built on it (see rng.h for the counter layout). */
#include "rng.h"

#include <string.h>

#include "isa_builds.h"
#include "mathfn_vec.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u /* golden ratio */
#define PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

static inline void mulhilo32(uint32_t a, uint32_t b, uint32_t *hi, uint32_t *lo) {
    uint64_t p = (uint64_t)a * (uint64_t)b;
    *hi = (uint32_t)(p >> 32);
    *lo = (uint32_t)p;
}

void aenn_philox4x32_10(uint32_t out[4], const uint32_t ctr[4], const uint32_t key[2]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        if (r > 0) { k0 += PHILOX_W0; k1 += PHILOX_W1; }
        uint32_t hi0, lo0, hi1, lo1;
        mulhilo32(PHILOX_M0, c0, &hi0, &lo0);
        mulhilo32(PHILOX_M1, c2, &hi1, &lo1);
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/* The block of element-group b (attempt a) of a draw. */
static inline void draw_block(uint32_t out[4], const uint32_t key[2], uint64_t counter,
                              int64_t b, uint32_t attempt) {
    uint32_t ctr[4] = {(uint32_t)b, attempt, (uint32_t)counter, (uint32_t)(counter >> 32)};
    aenn_philox4x32_10(out, ctr, key);
}

/* ---- LANES blocks at a time ----
 * The fills run Philox on LANES consecutive blocks at once, laid out as structure of arrays
 * (word j of block b0 + l in x[j][l]): a 32x32 -> 64-bit product per lane, xors and key adds
 * on whole vectors. Integer arithmetic is exact, so every version gives the bits of
 * aenn_philox4x32_10 (the known-answer tests check that function; the fill tests check the
 * fills of every ISA against the generic build and the NumPy twin). */
#define LANES 32 /* a multiple of 16 */

/* x[.][l] = philox((ctr0[l], ctr1[l], counter_lo, counter_hi), key) for l < LANES */
typedef void (*philox_lanes_fn)(uint32_t x[4][LANES], const uint32_t key[2], uint64_t counter,
                                const uint32_t ctr0[LANES], const uint32_t ctr1[LANES]);

/* Generic: plain C, one lane after the other. */
static void philox_lanes_generic(uint32_t x[4][LANES], const uint32_t key[2], uint64_t counter,
                                 const uint32_t ctr0[LANES], const uint32_t ctr1[LANES]) {
    for (int l = 0; l < LANES; l++) {
        uint32_t ctr[4] = {ctr0[l], ctr1[l], (uint32_t)counter, (uint32_t)(counter >> 32)};
        uint32_t w[4];
        aenn_philox4x32_10(w, ctr, key);
        x[0][l] = w[0]; x[1][l] = w[1]; x[2][l] = w[2]; x[3][l] = w[3];
    }
}

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#include <immintrin.h>

/* One Philox round on NV vectors of 16 lanes. vpmuludq multiplies the even 32-bit lanes (the
 * low halves of the 64-bit lanes) into 64-bit products; the odd lanes are shifted down and
 * multiplied the same way; blends put each product's high and low words back in place. The
 * NV independent vectors hide the latency of the multiplies. */
#define NV512 (LANES / 16)
__attribute__((target("avx512f"))) static void
philox_lanes_avx512(uint32_t x[4][LANES], const uint32_t key[2], uint64_t counter,
                    const uint32_t ctr0[LANES], const uint32_t ctr1[LANES]) {
    const __m512i m0 = _mm512_set1_epi32((int)PHILOX_M0), m1 = _mm512_set1_epi32((int)PHILOX_M1);
    const __mmask16 odd = 0xAAAA;
    __m512i c0[NV512], c1[NV512], c2[NV512], c3[NV512];
    for (int v = 0; v < NV512; v++) {
        c0[v] = _mm512_loadu_si512((const void *)(ctr0 + 16 * v));
        c1[v] = _mm512_loadu_si512((const void *)(ctr1 + 16 * v));
        c2[v] = _mm512_set1_epi32((int)(uint32_t)counter);
        c3[v] = _mm512_set1_epi32((int)(uint32_t)(counter >> 32));
    }
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        if (r > 0) { k0 += PHILOX_W0; k1 += PHILOX_W1; }
        const __m512i vk0 = _mm512_set1_epi32((int)k0), vk1 = _mm512_set1_epi32((int)k1);
        for (int v = 0; v < NV512; v++) {
            __m512i e0 = _mm512_mul_epu32(m0, c0[v]);
            __m512i o0 = _mm512_mul_epu32(m0, _mm512_srli_epi64(c0[v], 32));
            __m512i e1 = _mm512_mul_epu32(m1, c2[v]);
            __m512i o1 = _mm512_mul_epu32(m1, _mm512_srli_epi64(c2[v], 32));
            __m512i hi0 = _mm512_mask_blend_epi32(odd, _mm512_srli_epi64(e0, 32), o0);
            __m512i lo0 = _mm512_mask_blend_epi32(odd, e0, _mm512_slli_epi64(o0, 32));
            __m512i hi1 = _mm512_mask_blend_epi32(odd, _mm512_srli_epi64(e1, 32), o1);
            __m512i lo1 = _mm512_mask_blend_epi32(odd, e1, _mm512_slli_epi64(o1, 32));
            /* 0x96: a ^ b ^ c */
            c0[v] = _mm512_ternarylogic_epi32(hi1, c1[v], vk0, 0x96);
            c2[v] = _mm512_ternarylogic_epi32(hi0, c3[v], vk1, 0x96);
            c1[v] = lo1;
            c3[v] = lo0;
        }
    }
    for (int v = 0; v < NV512; v++) {
        _mm512_storeu_si512((void *)(x[0] + 16 * v), c0[v]);
        _mm512_storeu_si512((void *)(x[1] + 16 * v), c1[v]);
        _mm512_storeu_si512((void *)(x[2] + 16 * v), c2[v]);
        _mm512_storeu_si512((void *)(x[3] + 16 * v), c3[v]);
    }
}

/* AVX2: the same on NV2 ymm vectors of 8 lanes (no ternary logic: two xors). */
#define NV2 (LANES / 8)
__attribute__((target("avx2"))) static void
philox_lanes_avx2(uint32_t x[4][LANES], const uint32_t key[2], uint64_t counter,
                  const uint32_t ctr0[LANES], const uint32_t ctr1[LANES]) {
    const __m256i m0 = _mm256_set1_epi32((int)PHILOX_M0), m1 = _mm256_set1_epi32((int)PHILOX_M1);
    __m256i c0[NV2], c1[NV2], c2[NV2], c3[NV2];
    for (int v = 0; v < NV2; v++) {
        c0[v] = _mm256_loadu_si256((const __m256i *)(ctr0 + 8 * v));
        c1[v] = _mm256_loadu_si256((const __m256i *)(ctr1 + 8 * v));
        c2[v] = _mm256_set1_epi32((int)(uint32_t)counter);
        c3[v] = _mm256_set1_epi32((int)(uint32_t)(counter >> 32));
    }
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        if (r > 0) { k0 += PHILOX_W0; k1 += PHILOX_W1; }
        const __m256i vk0 = _mm256_set1_epi32((int)k0), vk1 = _mm256_set1_epi32((int)k1);
        for (int v = 0; v < NV2; v++) {
            __m256i e0 = _mm256_mul_epu32(m0, c0[v]);
            __m256i o0 = _mm256_mul_epu32(m0, _mm256_srli_epi64(c0[v], 32));
            __m256i e1 = _mm256_mul_epu32(m1, c2[v]);
            __m256i o1 = _mm256_mul_epu32(m1, _mm256_srli_epi64(c2[v], 32));
            __m256i hi0 = _mm256_blend_epi32(_mm256_srli_epi64(e0, 32), o0, 0xAA);
            __m256i lo0 = _mm256_blend_epi32(e0, _mm256_slli_epi64(o0, 32), 0xAA);
            __m256i hi1 = _mm256_blend_epi32(_mm256_srli_epi64(e1, 32), o1, 0xAA);
            __m256i lo1 = _mm256_blend_epi32(e1, _mm256_slli_epi64(o1, 32), 0xAA);
            c0[v] = _mm256_xor_si256(_mm256_xor_si256(hi1, c1[v]), vk0);
            c2[v] = _mm256_xor_si256(_mm256_xor_si256(hi0, c3[v]), vk1);
            c1[v] = lo1;
            c3[v] = lo0;
        }
    }
    for (int v = 0; v < NV2; v++) {
        _mm256_storeu_si256((__m256i *)(x[0] + 8 * v), c0[v]);
        _mm256_storeu_si256((__m256i *)(x[1] + 8 * v), c1[v]);
        _mm256_storeu_si256((__m256i *)(x[2] + 8 * v), c2[v]);
        _mm256_storeu_si256((__m256i *)(x[3] + 8 * v), c3[v]);
    }
}
#endif

/* The Philox version of the ISA in force. */
static philox_lanes_fn philox_lanes_for_isa(void) {
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
    int isa = aenn_isa();
    if (isa == AENN_ISA_AVX512) return philox_lanes_avx512;
    if (isa == AENN_ISA_AVX2) return philox_lanes_avx2;
#endif
    return philox_lanes_generic;
}

/* [0, 1) with 24 random bits; (0, 1] for the log of Box-Muller. x >> 8 < 2^24 converts
 * exactly, and the scale is a power of two, so both are exact. */
static AENN_ALWAYS_INLINE float u01(uint32_t x) { return (float)(int32_t)(x >> 8) * 0x1p-24f; }
static AENN_ALWAYS_INLINE float u01_open0(uint32_t x) { return (float)(int32_t)((x >> 8) + 1u) * 0x1p-24f; }

/* Box-Muller on a pair of words: z0 = r cos(2 pi u2), z1 = r sin(2 pi u2). aenn_logf_v is
 * aenn_logf without branches (same bits); its argument is in [2^-24, 1]. */
static AENN_ALWAYS_INLINE void box_muller(uint32_t x0, uint32_t x1, float *z0, float *z1) {
    float r = aenn_sqrtf_exact(-2.0f * aenn_logf_v(u01_open0(x0)));
    float s, c;
    aenn_sincos_2pi_v(u01(x1), &s, &c);
    *z0 = r * c;
    *z1 = r * s;
}

typedef struct {
    float *out;
    int64_t n;
    uint32_t key[2];
    uint64_t counter;
    float a, b; /* minval/maxval, mean/stddev, keep_prob */
    philox_lanes_fn philox;
} fill_ctx;

/* at least 16384 elements per thread: a part takes ~10 us, more than waking a thread */
#define BLOCKS_PER_TASK 4096

/* The words of blocks b .. b+LANES-1 at attempt 0 (the first counter word is (uint32_t)(b + l),
 * as in draw_block). */
static AENN_ALWAYS_INLINE void draw_lanes(uint32_t x[4][LANES], const fill_ctx *c, int64_t b) {
    uint32_t ctr0[LANES], ctr1[LANES];
    for (int l = 0; l < LANES; l++) {
        ctr0[l] = (uint32_t)b + (uint32_t)l;
        ctr1[l] = 0;
    }
    c->philox(x, c->key, c->counter, ctr0, ctr1);
}

/* Stores the 4*LANES values v (in element order) of blocks b .. b+LANES-1, or the part of them
 * before element n. */
static AENN_ALWAYS_INLINE void store_lanes(float *out, int64_t n, int64_t b,
                                           const float v[4 * LANES]) {
    int64_t i0 = 4 * b, m = n - i0 < 4 * LANES ? n - i0 : 4 * LANES;
    memcpy(out + i0, v, (size_t)m * sizeof(float));
}

/* Each range body below runs [b0, b1) in groups of LANES blocks; the last group may reach past
 * b1 (its extra lanes are computed and dropped), so every element gets its value from its own
 * block only, whatever the split into ranges. */

/* out[4b + j] = a + (b - a) * u01(word j of block b) */
static AENN_ALWAYS_INLINE void uniform_range_body(void *vctx, int64_t b0, int64_t b1) {
    fill_ctx *c = vctx;
    float lo = c->a, hi = c->b;
    for (int64_t b = b0; b < b1; b += LANES) {
        uint32_t x[4][LANES];
        float v[4 * LANES];
        draw_lanes(x, c, b);
        for (int l = 0; l < LANES; l++)
            for (int j = 0; j < 4; j++) v[4 * l + j] = lo + (hi - lo) * u01(x[j][l]);
        int64_t end = b + LANES < b1 ? b + LANES : b1;
        store_lanes(c->out, 4 * end < c->n ? 4 * end : c->n, b, v);
    }
}
AENN_ISA_BUILDS(uniform_range)

/* standard normals of LANES blocks, in element order */
static AENN_ALWAYS_INLINE void normals_lanes(float z[4 * LANES], const uint32_t x[4][LANES]) {
    for (int l = 0; l < LANES; l++) {
        box_muller(x[0][l], x[1][l], &z[4 * l + 0], &z[4 * l + 1]);
        box_muller(x[2][l], x[3][l], &z[4 * l + 2], &z[4 * l + 3]);
    }
}

static AENN_ALWAYS_INLINE void normal_range_body(void *vctx, int64_t b0, int64_t b1) {
    fill_ctx *c = vctx;
    float mean = c->a, sd = c->b;
    for (int64_t b = b0; b < b1; b += LANES) {
        uint32_t x[4][LANES];
        float z[4 * LANES];
        draw_lanes(x, c, b);
        normals_lanes(z, x);
        for (int i = 0; i < 4 * LANES; i++) z[i] = mean + sd * z[i];
        int64_t end = b + LANES < b1 ? b + LANES : b1;
        store_lanes(c->out, 4 * end < c->n ? 4 * end : c->n, b, z);
    }
}
AENN_ISA_BUILDS(normal_range)

/* Attempt 0 for LANES blocks at once. The elements outside [-2, 2] (4.6% of them) are listed
 * and re-drawn together, LANES at a time: element i at attempt a reads block (b + i/4, a) and
 * keeps the Box-Muller output of its own word pair, exactly as the scalar definition in rng.h
 * (each element takes its first attempt inside [-2, 2], else 0 after 64 attempts). */
static AENN_ALWAYS_INLINE void truncated_normal_range_body(void *vctx, int64_t b0, int64_t b1) {
    fill_ctx *c = vctx;
    float mean = c->a, sd = c->b;
    for (int64_t b = b0; b < b1; b += LANES) {
        uint32_t x[4][LANES];
        float z[4 * LANES];
        int pend[4 * LANES], m = 0; /* elements (index in the group) still outside [-2, 2] */
        draw_lanes(x, c, b);
        normals_lanes(z, x);
        for (int i = 0; i < 4 * LANES; i++) {
            pend[m] = i;
            m += !(z[i] >= -2.0f && z[i] <= 2.0f);
        }
        for (uint32_t attempt = 1; attempt < 64 && m > 0; attempt++) {
            int kept = 0;
            for (int s = 0; s < m; s += LANES) {
                int cnt = m - s < LANES ? m - s : LANES;
                uint32_t ctr0[LANES], ctr1[LANES], w[4][LANES];
                int el[LANES];
                float t[LANES];
                for (int k = 0; k < LANES; k++) {
                    el[k] = pend[s + (k < cnt ? k : cnt - 1)]; /* pad with the last one */
                    ctr0[k] = (uint32_t)b + (uint32_t)(el[k] >> 2);
                    ctr1[k] = attempt;
                }
                c->philox(w, c->key, c->counter, ctr0, ctr1);
                for (int k = 0; k < LANES; k++) {
                    int hi_pair = (el[k] >> 1) & 1, odd = el[k] & 1; /* words 2,3; output z1 */
                    uint32_t m0 = (uint32_t)(-hi_pair);
                    uint32_t w0 = (w[2][k] & m0) | (w[0][k] & ~m0);
                    uint32_t w1 = (w[3][k] & m0) | (w[1][k] & ~m0);
                    float p0, p1;
                    box_muller(w0, w1, &p0, &p1);
                    t[k] = aenn_vsel(odd, p1, p0);
                }
                for (int k = 0; k < cnt; k++) {
                    if (t[k] >= -2.0f && t[k] <= 2.0f) z[el[k]] = t[k];
                    else pend[kept++] = el[k]; /* kept <= s + k: never overwrites unread ones */
                }
            }
            m = kept;
        }
        for (int k = 0; k < m; k++) z[pend[k]] = 0.0f; /* 64 attempts failed */
        for (int i = 0; i < 4 * LANES; i++) z[i] = mean + sd * z[i];
        int64_t end = b + LANES < b1 ? b + LANES : b1;
        store_lanes(c->out, 4 * end < c->n ? 4 * end : c->n, b, z);
    }
}
AENN_ISA_BUILDS(truncated_normal_range)

static AENN_ALWAYS_INLINE void bernoulli_range_body(void *vctx, int64_t b0, int64_t b1) {
    fill_ctx *c = vctx;
    float keep = c->a;
    for (int64_t b = b0; b < b1; b += LANES) {
        uint32_t x[4][LANES];
        float v[4 * LANES];
        draw_lanes(x, c, b);
        for (int l = 0; l < LANES; l++)
            for (int j = 0; j < 4; j++) v[4 * l + j] = u01(x[j][l]) < keep ? 1.0f : 0.0f;
        int64_t end = b + LANES < b1 ? b + LANES : b1;
        store_lanes(c->out, 4 * end < c->n ? 4 * end : c->n, b, v);
    }
}
AENN_ISA_BUILDS(bernoulli_range)

static void fill(aenn_range_fn fn, float *out, int64_t n, const uint32_t key[2],
                 uint64_t counter, float a, float b) {
    fill_ctx c = {out, n, {key[0], key[1]}, counter, a, b, philox_lanes_for_isa()};
    aenn_parallel_for((n + 3) / 4, BLOCKS_PER_TASK, fn, &c);
}

void aenn_rng_uniform(float *out, int64_t n, const uint32_t key[2], uint64_t counter,
                      float minval, float maxval) {
    fill(uniform_range, out, n, key, counter, minval, maxval);
}

void aenn_rng_normal(float *out, int64_t n, const uint32_t key[2], uint64_t counter, float mean,
                     float stddev) {
    fill(normal_range, out, n, key, counter, mean, stddev);
}

void aenn_rng_truncated_normal(float *out, int64_t n, const uint32_t key[2], uint64_t counter,
                               float mean, float stddev) {
    fill(truncated_normal_range, out, n, key, counter, mean, stddev);
}

void aenn_rng_bernoulli(float *out, int64_t n, const uint32_t key[2], uint64_t counter,
                        float keep_prob) {
    fill(bernoulli_range, out, n, key, counter, keep_prob, 0.0f);
}

/* ---- permutation: random 64-bit sort keys, then an in-place heapsort of the indices ---- */

typedef struct {
    uint64_t *keys;
    int64_t n;
    uint32_t key[2];
    uint64_t counter;
} perm_ctx;

static void perm_keys_range(void *vctx, int64_t b0, int64_t b1) {
    perm_ctx *c = vctx;
    for (int64_t b = b0; b < b1; b++) {
        uint32_t x[4];
        draw_block(x, c->key, c->counter, b, 0);
        for (int j = 0; j < 2 && 2 * b + j < c->n; j++)
            c->keys[2 * b + j] = ((uint64_t)x[2 * j] << 32) | x[2 * j + 1];
    }
}

/* order by (keys[i], i) */
static inline int perm_less(const uint64_t *keys, int64_t i, int64_t j) {
    return keys[i] < keys[j] || (keys[i] == keys[j] && i < j);
}

static void sift_down(int64_t *a, const uint64_t *keys, int64_t root, int64_t n) {
    for (;;) {
        int64_t child = 2 * root + 1;
        if (child >= n) return;
        if (child + 1 < n && perm_less(keys, a[child], a[child + 1])) child++;
        if (!perm_less(keys, a[root], a[child])) return;
        int64_t t = a[root]; a[root] = a[child]; a[child] = t;
        root = child;
    }
}

void aenn_rng_permutation(int64_t *out, uint64_t *scratch, int64_t n, const uint32_t key[2],
                          uint64_t counter) {
    perm_ctx c = {scratch, n, {key[0], key[1]}, counter};
    aenn_parallel_for((n + 1) / 2, BLOCKS_PER_TASK, perm_keys_range, &c);
    for (int64_t i = 0; i < n; i++) out[i] = i;
    for (int64_t i = n / 2 - 1; i >= 0; i--) sift_down(out, scratch, i, n);
    for (int64_t end = n - 1; end > 0; end--) {
        int64_t t = out[0]; out[0] = out[end]; out[end] = t;
        sift_down(out, scratch, 0, end);
    }
}
