/* upconv.c -- fused nearest 2x upsample + 3x3 'same' conv (see upconv.h for the math).
 *
 * Forward: fold the 3x3 weights into four 2x2 kernels (one per output parity), run the four
 * 2x2 convolutions of csrc/conv.h on the low-res input into four parity planes, then interleave
 * the planes into the (B,2H,2W,OC) output in one pass over what it writes.
 * Backward: de-interleave dout into four parity planes, run the four 2x2 conv backwards (each
 * gives a low-res dinp part, a 2x2 weight gradient and a bias gradient), then sum the dinp parts
 * and bias parts in parity order and unfold the 2x2 weight gradients onto the 3x3 taps.
 *
 * Every sum has one order fixed by the shapes (parity order (0,0), (0,1), (1,0), (1,1); taps
 * ascending), and the conv kernels are thread- and ISA-independent, so the results are too.
 */
#include "upconv.h"

#include "conv.h"

/* Low-res row (or column) that 3x3 tap u reads for output parity a: the 2x2 kernel index. */
static inline int tap_to_k2(int a, int u) { return a == 0 ? (u < 1 ? u : 1) : u / 2; }

/* The 2x2 conv of parity (a, b): low-res input -> low-res parity plane (B,H,W,OC). */
static aenn_conv2d_geom parity_geom(const aenn_upconv_geom *g, int a, int b) {
    return (aenn_conv2d_geom){g->B, g->H, g->W, g->C, g->H, g->W, g->OC, 2, 2, 1, 1,
                              1, 1, 1 - a, 1 - b};
}

/* weff (4 parities, 2, 2, C, OC) from weight (3, 3, C, OC). Each element sums its taps with u
 * ascending, then v ascending (the first term is taken as is, so -0 stays -0). */
static void fold_weights(float *weff, const float *weight, int64_t C, int64_t OC) {
    const int64_t n = C * OC;
    for (int par = 0; par < 4; par++) {
        int a = par >> 1, b = par & 1;
        for (int p = 0; p < 2; p++)
            for (int q = 0; q < 2; q++) {
                float *dst = weff + ((par * 2 + p) * 2 + q) * n;
                int first = 1;
                for (int u = 0; u < 3; u++) {
                    if (tap_to_k2(a, u) != p) continue;
                    for (int v = 0; v < 3; v++) {
                        if (tap_to_k2(b, v) != q) continue;
                        const float *src = weight + (u * 3 + v) * n;
                        if (first)
                            for (int64_t k = 0; k < n; k++) dst[k] = src[k];
                        else
                            for (int64_t k = 0; k < n; k++) dst[k] = dst[k] + src[k];
                        first = 0;
                    }
                }
            }
    }
}

/* dweight (3, 3, C, OC) from dweff (4 parities, 2, 2, C, OC): tap (u, v) adds the entry it was
 * folded into, parities in order. */
static void unfold_weight_grads(float *dweight, const float *dweff, int64_t C, int64_t OC) {
    const int64_t n = C * OC;
    for (int u = 0; u < 3; u++)
        for (int v = 0; v < 3; v++) {
            float *dst = dweight + (u * 3 + v) * n;
            for (int par = 0; par < 4; par++) {
                int a = par >> 1, b = par & 1;
                const float *src = dweff + ((par * 2 + tap_to_k2(a, u)) * 2 + tap_to_k2(b, v)) * n;
                if (par == 0)
                    for (int64_t k = 0; k < n; k++) dst[k] = src[k];
                else
                    for (int64_t k = 0; k < n; k++) dst[k] = dst[k] + src[k];
            }
        }
}

/* ---- interleave / de-interleave: planes (4, B, H, W, OC) <-> full (B, 2H, 2W, OC) ---------- */
typedef struct {
    float *full;        /* interleave writes it */
    float *planes;      /* de-interleave writes them */
    const aenn_upconv_geom *g;
} il_ctx;

/* Rows [begin, end) of the full tensor (row = b*2H + oh) from the planes of parity oh & 1. */
static void interleave_rows(void *vctx, int64_t begin, int64_t end) {
    il_ctx *ctx = vctx;
    const aenn_upconv_geom *g = ctx->g;
    const int64_t H = g->H, W = g->W, OC = g->OC, plane = g->B * H * W * OC;
    for (int64_t row = begin; row < end; row++) {
        int64_t bi = row / (2 * H), oh = row % (2 * H), a = oh & 1, i = oh >> 1;
        const float *restrict s0 = ctx->planes + (a * 2) * plane + (bi * H + i) * W * OC;
        const float *restrict s1 = s0 + plane;
        float *restrict d = ctx->full + row * 2 * W * OC;
        if (OC == 1) {
            for (int64_t j = 0; j < W; j++) {
                d[2 * j] = s0[j];
                d[2 * j + 1] = s1[j];
            }
            continue;
        }
        for (int64_t j = 0; j < W; j++) {
            for (int64_t o = 0; o < OC; o++) d[(2 * j) * OC + o] = s0[j * OC + o];
            for (int64_t o = 0; o < OC; o++) d[(2 * j + 1) * OC + o] = s1[j * OC + o];
        }
    }
}

/* The reverse: rows [begin, end) of the full tensor scattered into the planes. */
static void deinterleave_rows(void *vctx, int64_t begin, int64_t end) {
    il_ctx *ctx = vctx;
    const aenn_upconv_geom *g = ctx->g;
    const int64_t H = g->H, W = g->W, OC = g->OC, plane = g->B * H * W * OC;
    for (int64_t row = begin; row < end; row++) {
        int64_t bi = row / (2 * H), oh = row % (2 * H), a = oh & 1, i = oh >> 1;
        float *restrict d0 = ctx->planes + (a * 2) * plane + (bi * H + i) * W * OC;
        float *restrict d1 = d0 + plane;
        const float *restrict s = ctx->full + row * 2 * W * OC;
        if (OC == 1) {
            for (int64_t j = 0; j < W; j++) {
                d0[j] = s[2 * j];
                d1[j] = s[2 * j + 1];
            }
            continue;
        }
        for (int64_t j = 0; j < W; j++) {
            for (int64_t o = 0; o < OC; o++) d0[j * OC + o] = s[(2 * j) * OC + o];
            for (int64_t o = 0; o < OC; o++) d1[j * OC + o] = s[(2 * j + 1) * OC + o];
        }
    }
}

/* ---- dinp = ((part0 + part1) + part2) + part3, part0 already in dinp ----------------------- */
typedef struct {
    float *dinp;
    const float *parts; /* 3 planes of n floats: parities 1, 2, 3 */
    int64_t n;
} sum_ctx;

static void sum_parts(void *vctx, int64_t begin, int64_t end) {
    sum_ctx *ctx = vctx;
    float *restrict d = ctx->dinp;
    const float *restrict p1 = ctx->parts, *restrict p2 = p1 + ctx->n, *restrict p3 = p2 + ctx->n;
    for (int64_t k = begin; k < end; k++) d[k] = ((d[k] + p1[k]) + p2[k]) + p3[k];
}

/* ---- public kernels ---------------------------------------------------------------------- */

/* scratch: [weff 16*C*OC] [planes 4*B*H*W*OC] */
int64_t aenn_upconv_forward_scratch_size(const aenn_upconv_geom *g) {
    return 16 * g->C * g->OC + 4 * g->B * g->H * g->W * g->OC;
}

static int64_t conv_scratch_size(const aenn_upconv_geom *g) {
    int64_t m = 0;
    for (int par = 0; par < 4; par++) {
        aenn_conv2d_geom cg = parity_geom(g, par >> 1, par & 1);
        int64_t s = aenn_conv2d_backward_scratch_size(&cg);
        if (s > m) m = s;
    }
    return m;
}

/* scratch: [weff 16*C*OC] [dweff 16*C*OC] [dbias parts 4*OC] [dout planes 4*B*H*W*OC]
 *          [dinp parts 3*B*H*W*C] [conv backward scratch] */
int64_t aenn_upconv_backward_scratch_size(const aenn_upconv_geom *g) {
    int64_t pix = g->B * g->H * g->W;
    return 32 * g->C * g->OC + 4 * g->OC + 4 * pix * g->OC + 3 * pix * g->C +
           conv_scratch_size(g);
}

void aenn_upconv_forward(float *out, const float *inp, const float *weight, const float *bias,
                         const aenn_upconv_geom *g, float *scratch) {
    const int64_t plane = g->B * g->H * g->W * g->OC;
    float *weff = scratch, *planes = weff + 16 * g->C * g->OC;
    fold_weights(weff, weight, g->C, g->OC);
    for (int par = 0; par < 4; par++) {
        aenn_conv2d_geom cg = parity_geom(g, par >> 1, par & 1);
        aenn_conv2d_forward(planes + par * plane, inp, weff + par * 4 * g->C * g->OC, bias, &cg);
    }
    il_ctx ctx = {out, planes, g};
    int64_t row_floats = 2 * g->W * g->OC;
    aenn_parallel_for(g->B * 2 * g->H, 4096 / (row_floats + 1) + 1, interleave_rows, &ctx);
}

void aenn_upconv_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                          const float *inp, const float *weight, const aenn_upconv_geom *g,
                          float *scratch) {
    const int64_t pix = g->B * g->H * g->W, n2 = 4 * g->C * g->OC;
    float *weff = scratch, *dweff = weff + 4 * n2, *dbp = dweff + 4 * n2;
    float *planes = dbp + 4 * g->OC, *parts = planes + 4 * pix * g->OC;
    float *cscratch = parts + 3 * pix * g->C;
    fold_weights(weff, weight, g->C, g->OC);
    il_ctx ctx = {(float *)dout, planes, g};
    int64_t row_floats = 2 * g->W * g->OC;
    aenn_parallel_for(g->B * 2 * g->H, 4096 / (row_floats + 1) + 1, deinterleave_rows, &ctx);
    for (int par = 0; par < 4; par++) {
        aenn_conv2d_geom cg = parity_geom(g, par >> 1, par & 1);
        float *dpart = dinp == NULL ? NULL : par == 0 ? dinp : parts + (par - 1) * pix * g->C;
        aenn_conv2d_backward(dpart, dweff + par * n2, dbias ? dbp + par * g->OC : NULL,
                             planes + par * pix * g->OC, inp, weff + par * n2, &cg, cscratch);
    }
    if (dinp) {
        sum_ctx sc = {dinp, parts, pix * g->C};
        aenn_parallel_for(pix * g->C, 16384, sum_parts, &sc);
    }
    unfold_weight_grads(dweight, dweff, g->C, g->OC);
    if (dbias)
        for (int64_t o = 0; o < g->OC; o++)
            dbias[o] = ((dbp[o] + dbp[g->OC + o]) + dbp[2 * g->OC + o]) + dbp[3 * g->OC + o];
}
