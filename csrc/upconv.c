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

#include <string.h>

#include "conv.h"
#include "conv_internal.h"

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

/* ---- one output channel: the four parity rows of two low-res rows in one pass -----------
 * The parity convolutions of a one-output-channel pair go through conv.c's one-output-channel
 * path (corr_n1): pixels in vector lanes, one fma chain per output vector, each parity conv
 * loading its own input vectors and weights. Here the eight rows
 * (2 low-res rows i, i+1 x 4 parities) that read low-res rows i-1..i+2 run as eight chains in
 * lockstep (aenn_conv_upconv_n1_x8), each with corr_n1's operations: bias, then taps (u, t)
 * ascending, channels ascending, the taps outside the input skipped (masked lanes, or a whole
 * tap with an all-clear mask for a row outside). So the bits are those of the parity path. The
 * eight chains read 6 distinct input vectors and 4 distinct weights per channel step; the
 * kernel loads each once. */
#define UP1_VLMAX 16
#define UP1_BUF 8192 /* floats of transposed rows per thread (4 slots) */

static int64_t up1_wbuf(const aenn_upconv_geom *g) {
    /* lanes of every ISA's vectors, plus the pad column on each side */
    return (g->W + UP1_VLMAX - 1) / UP1_VLMAX * UP1_VLMAX + 2;
}

static int up1_applies(const aenn_upconv_geom *g) {
    return g->OC == 1 && aenn_conv_special_paths_on() && 4 * g->C * up1_wbuf(g) <= UP1_BUF;
}

typedef struct {
    float *out;
    const float *inp, *weff;
    float bias;
    const aenn_upconv_geom *g;
} up1_ctx;

/* Items [begin, end): item = b * ceil(H/2) + i/2, low-res rows i and i + 1 of image b. */
static void up1_rows(void *vctx, int64_t begin, int64_t end) {
    up1_ctx *c = vctx;
    const aenn_upconv_geom *g = c->g;
    const int64_t H = g->H, W = g->W, C = g->C, Wbuf = up1_wbuf(g), pairs = (H + 1) / 2;
    const int64_t vl = aenn_conv_vector_floats(), nvec = (W + vl - 1) / vl, ostride = Wbuf;
    float buf[UP1_BUF];      /* slot s = ih & 3: xt[m][1 + j] = x[b, ih, j, m], pads 0 */
    float tmp[8 * (UP1_BUF / 4)];
    int32_t mask[4][UP1_BUF / 4]; /* [b' * 2 + t]: lane j reads column j + t - 1 + b' */
    int64_t tag[4] = {-1, -1, -1, -1};
    memset(buf, 0, (size_t)(4 * C * Wbuf) * sizeof(float));
    for (int bt = 0; bt < 4; bt++)
        for (int64_t j = 0; j < Wbuf; j++) {
            int64_t iw = j + (bt & 1) - 1 + (bt >> 1);
            mask[bt][j] = (j >= W || (iw >= 0 && iw < W)) ? -1 : 0;
        }
    for (int64_t item = begin; item < end; item++) {
        const int64_t b = item / pairs, i = (item % pairs) * 2;
        const float *row[4]; /* low-res rows i-1 .. i+2, NULL outside */
        for (int r = 0; r < 4; r++) {
            int64_t ih = i - 1 + r;
            if (ih < 0 || ih >= H) {
                row[r] = NULL;
                continue;
            }
            float *slot = buf + (ih & 3) * C * Wbuf;
            if (tag[ih & 3] != b * H + ih) {
                aenn_conv_transpose_row(slot, c->inp + (b * H + ih) * W * C, W, C, 1, Wbuf);
                tag[ih & 3] = b * H + ih;
            }
            row[r] = slot;
        }
        /* chain k = (r, a, b'): full-res row 2(i+r)+a, columns 2j+b'; tap (u, t) reads low-res
         * row i+r+u-(1-a), i.e. row[r+u+a], column j+t-(1-b') (buffer column j+t+b'); a tap
         * outside the input (no row, or the odd last row's missing pair) is skipped */
        const float *rows[4];
        int ok[8];
        for (int r = 0; r < 4; r++) rows[r] = row[r] ? row[r] : buf;
        for (int r = 0; r < 2; r++)
            for (int R = 0; R < 4; R++) ok[r * 4 + R] = row[R] != NULL && i + r < H;
        const int32_t *cm[4] = {mask[0], mask[1], mask[2], mask[3]};
        aenn_conv_upconv_n1_x8(tmp, ostride, nvec, rows, ok, c->weff, cm, C, Wbuf, c->bias);
        for (int r = 0; r < 2 && i + r < H; r++)
            for (int a = 0; a < 2; a++) {
                float *o = c->out + (b * 2 * H + 2 * (i + r) + a) * 2 * W;
                const float *t0 = tmp + (r * 4 + a * 2) * ostride, *t1 = t0 + ostride;
                for (int64_t j = 0; j < W; j++) {
                    o[2 * j] = t0[j];
                    o[2 * j + 1] = t1[j];
                }
            }
    }
}

/* Backward, one output channel, per chunk of AENN_CHUNK low-res rows (the parity convs' wgrad
 * chunks: their dout rows are the low-res rows (b, i)), with the parity path's operations:
 *  - bias: pixel chunks of the parity planes (AENN_CHUNK pixels: W of them per row chunk),
 *    each parity summed from 0 in pixel order, as rowsum_chunks does;
 *  - weight gradient: the 16 (parity, u, t) taps' partials, zeroed per chunk, one fma chain
 *    each over rows ascending, columns ascending (aenn_conv_upconv_n1_wgrad_row), as wgrad does;
 *  - dinp rows: per parity a chain over taps (u, t) ascending from +0, channels in lanes, on
 *    the parity's dout rows (de-interleaved per row), as row_m1 does for the parity's
 *    backward-data; the four chains of a pixel are summed ((p0 + p1) + p2) + p3 in registers,
 *    as sum_parts does (aenn_conv_upconv_n1_dx_row). dout is read in place (stride 2). */
typedef struct {
    float *dinp, *wpart, *bpart;
    const float *dout, *inp, *weff;
    const aenn_upconv_geom *g;
} up1b_ctx;

#define UP1B_OSMAX 512 /* floats of a de-interleaved dout row at most */

/* Floats between the de-interleaved dout rows of a dinp row (W rounded up). */
static int64_t up1b_ostride(const aenn_upconv_geom *g) {
    return (g->W + UP1_VLMAX - 1) / UP1_VLMAX * UP1_VLMAX;
}

static int up1b_applies(const aenn_upconv_geom *g) {
    return g->OC == 1 && aenn_conv_special_paths_on() && up1b_ostride(g) <= UP1B_OSMAX;
}

/* Low-res row (b, ih) of dinp (W, C): each parity's backward-data chain (row_m1's
 * operations on the parity's dout rows), summed ((p0 + p1) + p2) + p3 -- in one kernel. */
static void up1b_dinp_row(const up1b_ctx *c, int64_t b, int64_t ih, float *dyrow) {
    const aenn_upconv_geom *g = c->g;
    const int64_t H = g->H, W = g->W, C = g->C, os = up1b_ostride(g);
    const float *src[4][2], *wts[4][2];
    int64_t nu[4], C0[4];
    for (int par = 0; par < 4; par++) {
        int a = par >> 1, bp = par & 1;
        nu[par] = 0;
        C0[par] = 1 - bp; /* dinp column iw reads dout column iw + (1 - b') - t */
        for (int u = 0; u < 2; u++) {
            int64_t oh = ih + 1 - a - u; /* the parity's dout row that tap row u reads */
            if (oh < 0 || oh >= H) continue;
            float *d = dyrow + (par * 2 + u) * os;
            const float *s = c->dout + (b * 2 * H + 2 * oh + a) * 2 * W + bp;
            for (int64_t ow = 0; ow < W; ow++) d[ow] = s[2 * ow];
            src[par][nu[par]] = d;
            wts[par][nu[par]++] = c->weff + (par * 2 + u) * 2 * C;
        }
    }
    aenn_conv_upconv_n1_dx_row(c->dinp + (b * H + ih) * W * C, W, C, src, wts, nu, C0, W);
}

static void up1_backward_chunks(void *vctx, int64_t begin, int64_t end) {
    const up1b_ctx *c = vctx;
    const aenn_upconv_geom *g = c->g;
    const int64_t H = g->H, W = g->W, C = g->C, rows = g->B * H;
    float dyrow[8 * UP1B_OSMAX];
    for (int64_t k = begin; k < end; k++) {
        const int64_t r0 = k * AENN_CHUNK, r1 = r0 + AENN_CHUNK < rows ? r0 + AENN_CHUNK : rows;
        /* bias: pixel chunks [r0*W/AENN_CHUNK, r1*W/AENN_CHUNK rounded up) */
        if (c->bpart) {
            const int64_t npix = rows * W, q0 = r0 * W / AENN_CHUNK;
            const int64_t q1 = (r1 * W + AENN_CHUNK - 1) / AENN_CHUNK;
            for (int64_t q = q0; q < q1; q++) {
                float sum[4] = {0.0f, 0.0f, 0.0f, 0.0f};
                int64_t p1 = (q + 1) * AENN_CHUNK < npix ? (q + 1) * AENN_CHUNK : npix;
                /* pixel pix = bi*W + j is the 2x2 block at full-res row 2*bi (b*2H + 2i = 2*bi),
                 * column 2j; (bi, j) advance with pix instead of a division per pixel */
                int64_t bi = q * AENN_CHUNK / W, j = q * AENN_CHUNK % W;
                for (int64_t pix = q * AENN_CHUNK; pix < p1; pix++) {
                    const float *d = c->dout + 2 * bi * 2 * W + 2 * j;
                    sum[0] += d[0];
                    sum[1] += d[1];
                    sum[2] += d[2 * W];
                    sum[3] += d[2 * W + 1];
                    if (++j == W) {
                        j = 0;
                        bi++;
                    }
                }
                for (int par = 0; par < 4; par++) c->bpart[q * 4 + par] = sum[par];
            }
        }
        /* weight gradient: the chunk's partials [par][u][t][m] */
        float *part = c->wpart + k * 16 * C;
        memset(part, 0, (size_t)(16 * C) * sizeof(float));
        for (int64_t row = r0; row < r1; row++) {
            const int64_t b = row / H, i = row % H;
            /* tap (par, u, t) reads low-res row i + u - (1 - a) (xr[u + a], NULL outside) at
             * column ow + t - (1 - b') against dout row 2i + a, column 2 ow + b' */
            const float *xr[3], *dyr[4];
            for (int R = 0; R < 3; R++) {
                const int64_t ih = i - 1 + R;
                xr[R] = ih >= 0 && ih < H ? c->inp + (b * H + ih) * W * C : NULL;
            }
            for (int par = 0; par < 4; par++)
                dyr[par] = c->dout + (b * 2 * H + 2 * i + (par >> 1)) * 2 * W + (par & 1);
            aenn_conv_upconv_n1_wgrad_row(part, xr, dyr, W, C);
        }
        if (c->dinp)
            for (int64_t row = r0; row < r1; row++)
                up1b_dinp_row(c, row / H, row % H, dyrow);
    }
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
    int64_t parity_path = 32 * g->C * g->OC + 4 * g->OC + 4 * pix * g->OC + 3 * pix * g->C +
                          conv_scratch_size(g);
    /* the one-channel path: [weff][dweff][dbias parts][weight chunk partials][bias partials] */
    int64_t one_channel = 32 * g->C * g->OC + 4 * g->OC +
                          aenn_num_chunks(g->B * g->H) * 16 * g->C + aenn_num_chunks(pix) * 4;
    return parity_path > one_channel ? parity_path : one_channel;
}

void aenn_upconv_forward(float *out, const float *inp, const float *weight, const float *bias,
                         const aenn_upconv_geom *g, float *scratch) {
    const int64_t plane = g->B * g->H * g->W * g->OC;
    float *weff = scratch, *planes = weff + 16 * g->C * g->OC;
    fold_weights(weff, weight, g->C, g->OC);
    if (up1_applies(g)) {
        up1_ctx c = {out, inp, weff, bias ? bias[0] : 0.0f, g};
        int64_t per_item = 8 * 4 * g->C * up1_wbuf(g); /* multiply-adds, about */
        aenn_parallel_for(g->B * ((g->H + 1) / 2), 65536 / per_item + 1, up1_rows, &c);
        return;
    }
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
    if (up1b_applies(g)) {
        const int64_t chunks = aenn_num_chunks(g->B * g->H);
        const int64_t pchunks = aenn_num_chunks(pix);
        float *wpart = planes, *bpart = wpart + chunks * 16 * g->C; /* fits: see scratch size */
        up1b_ctx c = {dinp, wpart, dbias ? bpart : NULL, dout, inp, weff, g};
        aenn_parallel_for(chunks, 1, up1_backward_chunks, &c);
        aenn_combine_chunks(dweff, wpart, 16 * g->C, chunks);
        unfold_weight_grads(dweight, dweff, g->C, g->OC);
        if (dbias) {
            float db[4];
            for (int par = 0; par < 4; par++) {
                float sum = 0.0f;
                for (int64_t q = 0; q < pchunks; q++) sum += bpart[q * 4 + par];
                db[par] = sum;
            }
            dbias[0] = ((db[0] + db[1]) + db[2]) + db[3];
        }
        return;
    }
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
