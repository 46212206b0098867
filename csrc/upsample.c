/* upsample.c -- UpSampling2D: nearest (repeat) and bilinear (half-pixel centres, edge clamp:
 * tf.image.resize 'bilinear', antialias=False; torch interpolate align_corners=False).
 *
 * Forward kernels and the nearest backward (a gather) are parallel over rows of what they write;
 * the bilinear backward scatters and is parallel over the batch (one thread per sample's dinp).
 */
#include "upsample.h"

#include <string.h>

/* Source taps of output index j for factor s on an axis of length n: rows lo, hi and weight t of
 * hi. src = (j + 0.5) / s - 0.5 clamped at 0; hi = min(lo + 1, n - 1). */
static inline void taps(int64_t j, int64_t s, int64_t n, int64_t *lo, int64_t *hi, float *t) {
    double src = ((double)j + 0.5) / (double)s - 0.5;
    if (src < 0.0) src = 0.0;
    int64_t l = (int64_t)src;
    if (l > n - 1) l = n - 1;
    *lo = l;
    *hi = l + 1 < n ? l + 1 : n - 1;
    *t = (float)(src - (double)l);
}

typedef struct {
    float *out;
    const float *inp;
    const aenn_upsample_geom *g;
} up_ctx;

/* ---- nearest ------------------------------------------------------------------------------ */

static void nearest_forward_rows(void *vctx, int64_t begin, int64_t end) {
    up_ctx *ctx = vctx;
    const aenn_upsample_geom *g = ctx->g;
    const int64_t C = g->C, OH = g->H * g->SH, OW = g->W * g->SW;
    for (int64_t row = begin; row < end; row++) {
        int64_t b = row / OH, oh = row % OH, h = oh / g->SH;
        const float *src = ctx->inp + ((b * g->H + h) * g->W) * C;
        float *dst = ctx->out + row * OW * C;
        if (oh % g->SH != 0 && row > begin) { /* same as the row above, written by us */
            memcpy(dst, dst - OW * C, (size_t)(OW * C) * sizeof(float));
            continue;
        }
        /* an inline copy loop: a libc memcpy call per C floats costs more than the copy */
        for (int64_t w = 0; w < g->W; w++) {
            const float *restrict s = src + w * C;
            for (int64_t j = 0; j < g->SW; j++) {
                float *restrict d = dst + (w * g->SW + j) * C;
                for (int64_t c = 0; c < C; c++) d[c] = s[c];
            }
        }
    }
}

/* inp (B, H, W, C) -> out (B, H*SH, W*SW, C): each pixel repeated SH x SW times. */
void aenn_upsample_nearest_forward(float *out, const float *inp, const aenn_upsample_geom *g) {
    up_ctx ctx = {out, inp, g};
    aenn_parallel_for(g->B * g->H * g->SH, 1, nearest_forward_rows, &ctx);
}

static void nearest_backward_rows(void *vctx, int64_t begin, int64_t end) {
    up_ctx *ctx = vctx; /* out = dinp, inp = dout */
    const aenn_upsample_geom *g = ctx->g;
    const int64_t C = g->C, OW = g->W * g->SW;
    for (int64_t row = begin; row < end; row++) { /* row = b*H + h */
        float *dinp = ctx->out + row * g->W * C;
        memset(dinp, 0, (size_t)(g->W * C) * sizeof(float));
        for (int64_t i = 0; i < g->SH; i++) {
            const float *dout = ctx->inp + (row * g->SH + i) * OW * C;
            for (int64_t w = 0; w < g->W; w++)
                for (int64_t j = 0; j < g->SW; j++)
                    for (int64_t c = 0; c < C; c++)
                        dinp[w * C + c] += dout[(w * g->SW + j) * C + c];
        }
    }
}

/* dout (B, H*SH, W*SW, C) -> dinp (B, H, W, C): sum over each SH x SW block. */
void aenn_upsample_nearest_backward(float *dinp, const float *dout, const aenn_upsample_geom *g) {
    up_ctx ctx = {dinp, dout, g};
    aenn_parallel_for(g->B * g->H, 1, nearest_backward_rows, &ctx);
}

/* ---- bilinear ----------------------------------------------------------------------------- */

static void bilinear_forward_rows(void *vctx, int64_t begin, int64_t end) {
    up_ctx *ctx = vctx;
    const aenn_upsample_geom *g = ctx->g;
    const int64_t C = g->C, OH = g->H * g->SH, OW = g->W * g->SW;
    for (int64_t row = begin; row < end; row++) {
        int64_t b = row / OH, oh = row % OH, h0, h1, w0, w1;
        float th, tw;
        taps(oh, g->SH, g->H, &h0, &h1, &th);
        const float *r0 = ctx->inp + ((b * g->H + h0) * g->W) * C;
        const float *r1 = ctx->inp + ((b * g->H + h1) * g->W) * C;
        float *dst = ctx->out + row * OW * C;
        for (int64_t ow = 0; ow < OW; ow++) {
            taps(ow, g->SW, g->W, &w0, &w1, &tw);
            for (int64_t c = 0; c < C; c++) {
                float top = (1.0f - tw) * r0[w0 * C + c] + tw * r0[w1 * C + c];
                float bot = (1.0f - tw) * r1[w0 * C + c] + tw * r1[w1 * C + c];
                dst[ow * C + c] = (1.0f - th) * top + th * bot;
            }
        }
    }
}

/* inp (B, H, W, C) -> out (B, H*SH, W*SW, C), bilinear with half-pixel centres. */
void aenn_upsample_bilinear_forward(float *out, const float *inp, const aenn_upsample_geom *g) {
    up_ctx ctx = {out, inp, g};
    aenn_parallel_for(g->B * g->H * g->SH, 1, bilinear_forward_rows, &ctx);
}

static void bilinear_backward_samples(void *vctx, int64_t begin, int64_t end) {
    up_ctx *ctx = vctx; /* out = dinp, inp = dout */
    const aenn_upsample_geom *g = ctx->g;
    const int64_t C = g->C, OH = g->H * g->SH, OW = g->W * g->SW;
    for (int64_t b = begin; b < end; b++) {
        float *dinp = ctx->out + b * g->H * g->W * C;
        memset(dinp, 0, (size_t)(g->H * g->W * C) * sizeof(float));
        for (int64_t oh = 0; oh < OH; oh++) {
            int64_t h0, h1, w0, w1;
            float th, tw;
            taps(oh, g->SH, g->H, &h0, &h1, &th);
            float *r0 = dinp + h0 * g->W * C, *r1 = dinp + h1 * g->W * C;
            const float *src = ctx->inp + (b * OH + oh) * OW * C;
            for (int64_t ow = 0; ow < OW; ow++) {
                taps(ow, g->SW, g->W, &w0, &w1, &tw);
                for (int64_t c = 0; c < C; c++) {
                    float d = src[ow * C + c];
                    float top = (1.0f - th) * d, bot = th * d;
                    r0[w0 * C + c] += (1.0f - tw) * top;
                    r0[w1 * C + c] += tw * top;
                    r1[w0 * C + c] += (1.0f - tw) * bot;
                    r1[w1 * C + c] += tw * bot;
                }
            }
        }
    }
}

/* dout (B, H*SH, W*SW, C) -> dinp (B, H, W, C): the adjoint of the bilinear forward. */
void aenn_upsample_bilinear_backward(float *dinp, const float *dout, const aenn_upsample_geom *g) {
    up_ctx ctx = {dinp, dout, g};
    aenn_parallel_for(g->B, 1, bilinear_backward_samples, &ctx);
}
