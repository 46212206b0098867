/* pool.c -- max / average pooling forward and backward (NHWC, Keras 'valid' / 'same').
 *
 * Forward kernels are parallel over output rows (b, oh); backward kernels scatter into dinp and
 * are parallel over the batch, so that each sample's dinp is written by one thread in a fixed
 * order: results do not depend on the thread count.
 * The 2x2 / stride 2 max pooling (forward, and a backward that writes every cell once instead of
 * zeroing then scattering) is compiled for SSE2, AVX2 and AVX-512 (isa_builds.h) and gives the
 * general kernels' bits (aenn_pool_set_special_paths(0) turns it off for tests).
 */
#include "pool.h"

#include <string.h>

#include "isa_builds.h"
#include "mathfn_vec.h"

/* The real rows [*lo, *hi) covered by the window starting at o*s - pad (length k, axis n). */
static inline void window(int64_t o, int64_t s, int64_t pad, int64_t k, int64_t n, int64_t *lo,
                          int64_t *hi) {
    int64_t start = o * s - pad, end = start + k;
    *lo = start < 0 ? 0 : start;
    *hi = end > n ? n : end;
}

/* ---- max pooling -------------------------------------------------------------------------- */

typedef struct {
    float *out;
    int32_t *argmax;
    const float *inp;
    const aenn_pool_geom *g;
} maxpool_ctx;

static void maxpool_forward_rows(void *vctx, int64_t begin, int64_t end) {
    maxpool_ctx *ctx = vctx;
    const aenn_pool_geom *g = ctx->g;
    const int64_t C = g->C, W = g->W;
    for (int64_t row = begin; row < end; row++) {
        int64_t b = row / g->OH, oh = row % g->OH;
        int64_t h0, h1;
        window(oh, g->SH, g->PT, g->KH, g->H, &h0, &h1);
        const float *inp_b = ctx->inp + b * g->H * W * C;
        for (int64_t ow = 0; ow < g->OW; ow++) {
            int64_t w0, w1;
            window(ow, g->SW, g->PL, g->KW, W, &w0, &w1);
            float *restrict out_p = ctx->out + ((row * g->OW) + ow) * C;
            int32_t *restrict arg_p = ctx->argmax + ((row * g->OW) + ow) * C;
            /* channels innermost (contiguous, vectorised); the window is scanned in the same
             * order for every channel, so each channel's result is what a scalar scan gives */
            const int32_t first = (int32_t)(h0 * W + w0);
            const float *restrict src = inp_b + (int64_t)first * C;
            for (int64_t c = 0; c < C; c++) {
                out_p[c] = src[c];
                arg_p[c] = first;
            }
            for (int64_t h = h0; h < h1; h++) {
                for (int64_t w = (h == h0 ? w0 + 1 : w0); w < w1; w++) {
                    const int32_t idx = (int32_t)(h * W + w);
                    const float *restrict v_p = inp_b + (int64_t)idx * C;
                    for (int64_t c = 0; c < C; c++) {
                        float v = v_p[c], m = out_p[c];
                        /* the first maximum wins; NaN propagates */
                        int take = (v > m) | ((v != v) & (m == m));
                        out_p[c] = take ? v : m;
                        arg_p[c] = take ? idx : arg_p[c];
                    }
                }
            }
        }
    }
}

/* ---- 2x2 windows at stride 2, all inside the input (MaxPooling2D's default) -------------
 * The same scan as maxpool_forward_rows (cells (0,0), (0,1), (1,0), (1,1), the first maximum
 * wins, NaN propagates), written so that the channel loop vectorises. */
static int special_paths = 1; /* pool.h: aenn_pool_set_special_paths */

int aenn_pool_set_special_paths(int on) {
    int old = special_paths;
    special_paths = on != 0;
    return old;
}

static int pool2x2_applies(const aenn_pool_geom *g) {
    return special_paths && g->KH == 2 && g->KW == 2 && g->SH == 2 && g->SW == 2 && g->PT == 0 && g->PL == 0 &&
           2 * g->OH <= g->H && 2 * g->OW <= g->W;
}

static AENN_ALWAYS_INLINE void maxpool2x2_forward_rows_body(void *vctx, int64_t begin,
                                                            int64_t end) {
    maxpool_ctx *ctx = vctx;
    const aenn_pool_geom *g = ctx->g;
    const int64_t C = g->C, W = g->W;
    for (int64_t row = begin; row < end; row++) {
        int64_t b = row / g->OH, oh = row % g->OH;
        const float *in0 = ctx->inp + (b * g->H + 2 * oh) * W * C, *in1 = in0 + W * C;
        for (int64_t ow = 0; ow < g->OW; ow++) {
            const float *restrict p00 = in0 + 2 * ow * C, *restrict p01 = p00 + C;
            const float *restrict p10 = in1 + 2 * ow * C, *restrict p11 = p10 + C;
            float *restrict o = ctx->out + (row * g->OW + ow) * C;
            int32_t *restrict a = ctx->argmax + (row * g->OW + ow) * C;
            const int32_t i00 = (int32_t)(2 * oh * W + 2 * ow);
            for (int64_t c = 0; c < C; c++) {
                float m = p00[c];
                int32_t k = i00;
                aenn_maxpool_step(&m, &k, p01[c], i00 + 1);
                aenn_maxpool_step(&m, &k, p10[c], i00 + (int32_t)W);
                aenn_maxpool_step(&m, &k, p11[c], i00 + (int32_t)W + 1);
                o[c] = m;
                a[c] = k;
            }
        }
    }
}

/* compiled for SSE2, AVX2 and AVX-512 (integer selects and compares: the same bits) */
AENN_ISA_BUILDS(maxpool2x2_forward_rows)

/* inp (B, H, W, C) -> out (B, OH, OW, C); argmax (B, OH, OW, C) int32 caches the spatial index
 * h*W + w (within the sample) of the maximum of each window, for backward. */
void aenn_maxpool2d_forward(float *out, int32_t *argmax, const float *inp, const aenn_pool_geom *g) {
    maxpool_ctx ctx = {out, argmax, inp, g};
    if (pool2x2_applies(g)) {
        aenn_parallel_for(g->B * g->OH, 1 + 4096 / (g->OW * g->C + 1), maxpool2x2_forward_rows,
                          &ctx);
        return;
    }
    aenn_parallel_for(g->B * g->OH, 1, maxpool_forward_rows, &ctx);
}

typedef struct {
    float *dinp;
    const float *dout;
    const int32_t *argmax;
    const aenn_pool_geom *g;
} maxpool_bwd_ctx;

static void maxpool_backward_samples(void *vctx, int64_t begin, int64_t end) {
    maxpool_bwd_ctx *ctx = vctx;
    const aenn_pool_geom *g = ctx->g;
    const int64_t C = g->C, in_size = g->H * g->W * C, npix = g->OH * g->OW,
                  out_size = npix * C;
    for (int64_t b = begin; b < end; b++) {
        float *dinp_b = ctx->dinp + b * in_size;
        const float *dout_b = ctx->dout + b * out_size;
        const int32_t *arg_b = ctx->argmax + b * out_size;
        memset(dinp_b, 0, (size_t)in_size * sizeof(float));
        /* same order of additions as a flat scan over (pixel, channel) */
        for (int64_t p = 0; p < npix; p++) {
            const float *d = dout_b + p * C;
            const int32_t *a = arg_b + p * C;
            for (int64_t c = 0; c < C; c++) dinp_b[(int64_t)a[c] * C + c] += d[c];
        }
    }
}

/* 2x2 windows at stride 2 (pool2x2_applies): the windows do not overlap, so each dinp cell
 * gets at most one term and the scatter's result is 0.0f + dout at the cell argmax names and
 * 0.0f elsewhere (0.0f + -0.0f is +0.0f, as in the scatter). Written in one pass, every cell
 * once, with branch-free selects. Returns 0 if some argmax of sample b is not in its own window
 * (argmax made by hand): the caller then runs the general scatter for that sample. */
static AENN_ALWAYS_INLINE int maxpool2x2_backward_sample(const maxpool_bwd_ctx *ctx,
                                                         int64_t b) {
    const aenn_pool_geom *g = ctx->g;
    const int64_t C = g->C, W = g->W, OW = g->OW;
    float *dinp_b = ctx->dinp + b * g->H * W * C;
    int32_t miss = 0;
    for (int64_t oh = 0; oh < g->OH; oh++) {
        float *r0 = dinp_b + 2 * oh * W * C, *r1 = r0 + W * C;
        const float *d_row = ctx->dout + (b * g->OH + oh) * OW * C;
        const int32_t *a_row = ctx->argmax + (b * g->OH + oh) * OW * C;
        for (int64_t ow = 0; ow < OW; ow++) {
            float *restrict q00 = r0 + 2 * ow * C, *restrict q01 = q00 + C;
            float *restrict q10 = r1 + 2 * ow * C, *restrict q11 = q10 + C;
            const float *restrict d = d_row + ow * C;
            const int32_t *restrict a = a_row + ow * C;
            const int32_t i00 = (int32_t)(2 * oh * W + 2 * ow);
            for (int64_t c = 0; c < C; c++) {
                float v = 0.0f + d[c];
                int32_t k = a[c];
                int e00 = k == i00, e01 = k == i00 + 1, e10 = k == i00 + (int32_t)W,
                    e11 = k == i00 + (int32_t)W + 1;
                miss |= (e00 | e01 | e10 | e11) ^ 1;
                q00[c] = aenn_vsel(e00, v, 0.0f);
                q01[c] = aenn_vsel(e01, v, 0.0f);
                q10[c] = aenn_vsel(e10, v, 0.0f);
                q11[c] = aenn_vsel(e11, v, 0.0f);
            }
        }
        /* an odd last column: no window covers it */
        if (2 * OW < W) {
            memset(r0 + 2 * OW * C, 0, (size_t)((W - 2 * OW) * C) * sizeof(float));
            memset(r1 + 2 * OW * C, 0, (size_t)((W - 2 * OW) * C) * sizeof(float));
        }
    }
    /* odd last rows */
    if (2 * g->OH < g->H)
        memset(dinp_b + 2 * g->OH * W * C, 0, (size_t)((g->H - 2 * g->OH) * W * C) * sizeof(float));
    return miss == 0;
}

static AENN_ALWAYS_INLINE void maxpool2x2_backward_samples_body(void *vctx, int64_t begin,
                                                                int64_t end) {
    maxpool_bwd_ctx *ctx = vctx;
    for (int64_t b = begin; b < end; b++)
        if (!maxpool2x2_backward_sample(ctx, b)) maxpool_backward_samples(vctx, b, b + 1);
}
AENN_ISA_BUILDS(maxpool2x2_backward_samples)

/* dout (B, OH, OW, C), argmax from forward -> dinp (B, H, W, C): each dout goes to its window's
 * maximum (overlapping windows add up). */
void aenn_maxpool2d_backward(float *dinp, const float *dout, const int32_t *argmax,
                             const aenn_pool_geom *g) {
    maxpool_bwd_ctx ctx = {dinp, dout, argmax, g};
    if (pool2x2_applies(g)) {
        aenn_parallel_for(g->B, 1, maxpool2x2_backward_samples, &ctx);
        return;
    }
    aenn_parallel_for(g->B, 1, maxpool_backward_samples, &ctx);
}

/* ---- 2x2 max pooling over relu(pre) (pool.h) --------------------------------------------- */

typedef struct {
    float *out, *dpre;
    int32_t *argmax;
    const float *pre, *dout, *pooled;
    const int32_t *pooled_argmax;
    int64_t B, H, W, C;
} relu_pool_ctx;

/* pooled rows [begin, end), row = b*(H/2) + ph */
static AENN_ALWAYS_INLINE void relu_maxpool2x2_forward_rows_body(void *vctx, int64_t begin,
                                                                 int64_t end) {
    const relu_pool_ctx *c = vctx;
    const int64_t H = c->H, W = c->W, C = c->C, PH = H / 2, PW = W / 2;
    for (int64_t row = begin; row < end; row++) {
        const int64_t b = row / PH, ph = row % PH;
        const float *p0 = c->pre + (b * H + 2 * ph) * W * C;
        aenn_relu_maxpool2x2_row(c->out + row * PW * C, c->argmax + row * PW * C, p0, p0 + W * C,
                                 PW, C, (int32_t)(2 * ph * W), (int32_t)W);
    }
}
AENN_ISA_BUILDS(relu_maxpool2x2_forward_rows)

void aenn_relu_maxpool2x2_forward(float *out, int32_t *argmax, const float *pre, int64_t B,
                                  int64_t H, int64_t W, int64_t C) {
    relu_pool_ctx c = {out, NULL, argmax, pre, NULL, NULL, NULL, B, H, W, C};
    aenn_parallel_for(B * (H / 2), 1 + 4096 / ((W / 2) * C + 1), relu_maxpool2x2_forward_rows, &c);
}

/* rows [begin, end) of dpre, row = b*H + h */
static AENN_ALWAYS_INLINE void relu_maxpool2x2_backward_rows_body(void *vctx, int64_t begin,
                                                                  int64_t end) {
    const relu_pool_ctx *c = vctx;
    for (int64_t row = begin; row < end; row++)
        aenn_relu_maxpool2x2_grad_row(c->dpre + row * c->W * c->C, c->dout, c->pooled,
                                      c->pooled_argmax, row / c->H, row % c->H, c->H, c->W, c->C);
}
AENN_ISA_BUILDS(relu_maxpool2x2_backward_rows)

void aenn_relu_maxpool2x2_backward(float *dpre, const float *dout, const float *out,
                                   const int32_t *argmax, int64_t B, int64_t H, int64_t W,
                                   int64_t C) {
    relu_pool_ctx c = {NULL, dpre, NULL, NULL, dout, out, argmax, B, H, W, C};
    aenn_parallel_for(B * H, 1 + 8192 / (W * C + 1), relu_maxpool2x2_backward_rows, &c);
}

/* ---- average pooling ---------------------------------------------------------------------- */

typedef struct {
    float *out;
    const float *inp;
    const aenn_pool_geom *g;
} avgpool_ctx;

static void avgpool_forward_rows(void *vctx, int64_t begin, int64_t end) {
    avgpool_ctx *ctx = vctx;
    const aenn_pool_geom *g = ctx->g;
    const int64_t C = g->C;
    for (int64_t row = begin; row < end; row++) {
        int64_t b = row / g->OH, oh = row % g->OH;
        int64_t h0, h1;
        window(oh, g->SH, g->PT, g->KH, g->H, &h0, &h1);
        const float *inp_b = ctx->inp + b * g->H * g->W * C;
        for (int64_t ow = 0; ow < g->OW; ow++) {
            int64_t w0, w1;
            window(ow, g->SW, g->PL, g->KW, g->W, &w0, &w1);
            float count = (float)((h1 - h0) * (w1 - w0));
            float *out_p = ctx->out + ((row * g->OW) + ow) * C;
            for (int64_t c = 0; c < C; c++) {
                float s = 0.0f;
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++) s += inp_b[(h * g->W + w) * C + c];
                out_p[c] = s / count;
            }
        }
    }
}

/* inp (B, H, W, C) -> out (B, OH, OW, C): mean of the real cells of each window. */
void aenn_avgpool2d_forward(float *out, const float *inp, const aenn_pool_geom *g) {
    avgpool_ctx ctx = {out, inp, g};
    aenn_parallel_for(g->B * g->OH, 1, avgpool_forward_rows, &ctx);
}

typedef struct {
    float *dinp;
    const float *dout;
    const aenn_pool_geom *g;
} avgpool_bwd_ctx;

static void avgpool_backward_samples(void *vctx, int64_t begin, int64_t end) {
    avgpool_bwd_ctx *ctx = vctx;
    const aenn_pool_geom *g = ctx->g;
    const int64_t C = g->C, in_size = g->H * g->W * C;
    for (int64_t b = begin; b < end; b++) {
        float *dinp_b = ctx->dinp + b * in_size;
        memset(dinp_b, 0, (size_t)in_size * sizeof(float));
        for (int64_t oh = 0; oh < g->OH; oh++) {
            int64_t h0, h1;
            window(oh, g->SH, g->PT, g->KH, g->H, &h0, &h1);
            for (int64_t ow = 0; ow < g->OW; ow++) {
                int64_t w0, w1;
                window(ow, g->SW, g->PL, g->KW, g->W, &w0, &w1);
                float count = (float)((h1 - h0) * (w1 - w0));
                const float *dout_p = ctx->dout + (((b * g->OH + oh) * g->OW) + ow) * C;
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++) {
                        float *d = dinp_b + (h * g->W + w) * C;
                        for (int64_t c = 0; c < C; c++) d[c] += dout_p[c] / count;
                    }
            }
        }
    }
}

/* dout (B, OH, OW, C) -> dinp (B, H, W, C): each window's dout / count spread over its real
 * cells. */
void aenn_avgpool2d_backward(float *dinp, const float *dout, const aenn_pool_geom *g) {
    avgpool_bwd_ctx ctx = {dinp, dout, g};
    aenn_parallel_for(g->B, 1, avgpool_backward_samples, &ctx);
}
