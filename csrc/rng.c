/* rng.c -- Philox4x32-10 and the float32 fills built on it (see rng.h for the counter layout). */
#include "rng.h"

#include "mathfn.h"

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

/* [0, 1) with 24 random bits; (0, 1] for the log of Box-Muller. */
static inline float u01(uint32_t x) { return (float)(x >> 8) * 0x1p-24f; }
static inline float u01_open0(uint32_t x) { return (float)((x >> 8) + 1u) * 0x1p-24f; }

/* Box-Muller on a pair of words: z0 = r cos(2 pi u2), z1 = r sin(2 pi u2). */
static inline void box_muller(uint32_t x0, uint32_t x1, float *z0, float *z1) {
    float r = aenn_sqrtf_exact(-2.0f * aenn_logf(u01_open0(x0)));
    float s, c;
    aenn_sincos_2pi(u01(x1), &s, &c);
    *z0 = r * c;
    *z1 = r * s;
}

typedef struct {
    float *out;
    int64_t n;
    uint32_t key[2];
    uint64_t counter;
    float a, b; /* minval/maxval, mean/stddev, keep_prob */
} fill_ctx;

#define BLOCKS_PER_TASK 256

static void uniform_range(void *vctx, int64_t b0, int64_t b1) {
    fill_ctx *c = vctx;
    for (int64_t b = b0; b < b1; b++) {
        uint32_t x[4];
        draw_block(x, c->key, c->counter, b, 0);
        for (int j = 0; j < 4 && 4 * b + j < c->n; j++)
            c->out[4 * b + j] = c->a + (c->b - c->a) * u01(x[j]);
    }
}

static void normal_range(void *vctx, int64_t b0, int64_t b1) {
    fill_ctx *c = vctx;
    for (int64_t b = b0; b < b1; b++) {
        uint32_t x[4];
        float z[4];
        draw_block(x, c->key, c->counter, b, 0);
        box_muller(x[0], x[1], &z[0], &z[1]);
        box_muller(x[2], x[3], &z[2], &z[3]);
        for (int j = 0; j < 4 && 4 * b + j < c->n; j++) c->out[4 * b + j] = c->a + c->b * z[j];
    }
}

static void truncated_normal_range(void *vctx, int64_t b0, int64_t b1) {
    fill_ctx *c = vctx;
    for (int64_t b = b0; b < b1; b++) {
        uint32_t x[4];
        float z[4];
        int done[4] = {0, 0, 0, 0};
        int left = (int)(c->n - 4 * b < 4 ? c->n - 4 * b : 4);
        int need = left;
        for (int j = 0; j < 4; j++) z[j] = 0.0f;
        for (uint32_t attempt = 0; attempt < 64 && need > 0; attempt++) {
            float t[4];
            draw_block(x, c->key, c->counter, b, attempt);
            box_muller(x[0], x[1], &t[0], &t[1]);
            box_muller(x[2], x[3], &t[2], &t[3]);
            for (int j = 0; j < left; j++) {
                if (!done[j] && t[j] >= -2.0f && t[j] <= 2.0f) {
                    z[j] = t[j];
                    done[j] = 1;
                    need--;
                }
            }
        }
        for (int j = 0; j < left; j++) c->out[4 * b + j] = c->a + c->b * z[j];
    }
}

static void bernoulli_range(void *vctx, int64_t b0, int64_t b1) {
    fill_ctx *c = vctx;
    for (int64_t b = b0; b < b1; b++) {
        uint32_t x[4];
        draw_block(x, c->key, c->counter, b, 0);
        for (int j = 0; j < 4 && 4 * b + j < c->n; j++)
            c->out[4 * b + j] = u01(x[j]) < c->a ? 1.0f : 0.0f;
    }
}

static void fill(aenn_range_fn fn, float *out, int64_t n, const uint32_t key[2],
                 uint64_t counter, float a, float b) {
    fill_ctx c = {out, n, {key[0], key[1]}, counter, a, b};
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
