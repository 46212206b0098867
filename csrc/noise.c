/* noise.c -- out = inp * mask * scale with a mask broadcast over the middle axis.
 *
 * Dropout forward and backward are the same kernel (dinp = dout * mask * scale). Parallel over
 * rows (b, s).
 */
#include "noise.h"

typedef struct {
    float *out;
    const float *inp, *mask;
    float scale;
    int64_t S, C, mask_S;
} mask_ctx;

static void mask_rows(void *vctx, int64_t begin, int64_t end) {
    mask_ctx *k = vctx;
    for (int64_t row = begin; row < end; row++) {
        int64_t b = row / k->S, s = row % k->S;
        const float *m = k->mask + (b * k->mask_S + (k->mask_S == 1 ? 0 : s)) * k->C;
        const float *x = k->inp + row * k->C;
        float *y = k->out + row * k->C;
        for (int64_t c = 0; c < k->C; c++) y[c] = x[c] * m[c] * k->scale;
    }
}

/* inp (B, S, C), mask (B, mask_S, C) with mask_S = S or 1 (one mask per (b, c), spatial
 * dropout) -> out (B, S, C) = inp * mask * scale. */
void aenn_mask_mul(float *out, const float *inp, const float *mask, float scale, int64_t B,
                   int64_t S, int64_t C, int64_t mask_S) {
    mask_ctx k = {out, inp, mask, scale, S, C, mask_S};
    aenn_parallel_for(B * S, 16, mask_rows, &k);
}
