/* noise.c -- out = inp * mask * scale with a mask broadcast over the middle axis.
 *
 * Dropout forward and backward are the same kernel (dinp = dout * mask * scale). Parallel over
 * rows (b, s).
 */
#include "noise.h"

#include "isa_builds.h"

typedef struct {
    float *out;
    const float *inp, *mask;
    float scale;
    int64_t S, C, mask_S;
} mask_ctx;

/* y = (x * m) * scale over the row; locals and restrict so that scale is not reloaded per
 * element and the loop vectorises (isa_builds.h: SSE2, AVX2 and AVX-512 builds). */
static AENN_ALWAYS_INLINE void mask_rows_body(void *vctx, int64_t begin, int64_t end) {
    const mask_ctx *k = vctx;
    const int64_t S = k->S, C = k->C, mask_S = k->mask_S;
    const float scale = k->scale;
    for (int64_t row = begin; row < end; row++) {
        int64_t b = row / S, s = row % S;
        const float *restrict m = k->mask + (b * mask_S + (mask_S == 1 ? 0 : s)) * C;
        const float *restrict x = k->inp + row * C;
        float *restrict y = k->out + row * C;
        for (int64_t c = 0; c < C; c++) y[c] = x[c] * m[c] * scale;
    }
}
AENN_ISA_BUILDS(mask_rows)

/* inp (B, S, C), mask (B, mask_S, C) with mask_S = S or 1 (one mask per (b, c), spatial
 * dropout) -> out (B, S, C) = inp * mask * scale. */
void aenn_mask_mul(float *out, const float *inp, const float *mask, float scale, int64_t B,
                   int64_t S, int64_t C, int64_t mask_S) {
    mask_ctx k = {out, inp, mask, scale, S, C, mask_S};
    aenn_parallel_for(B * S, 16, mask_rows, &k);
}
