/* conv.c -- direct 2-D convolution and transposed convolution, channels-last (see conv.h).
 *
 * Everything is built from three passes over a "convolution view" of the problem:
 *   x (B,H,W,M) --[kernel (KH,KW,M,N), strides, dilation, pad_top/pad_left]--> y (B,OH,OW,N)
 *   correlate : y  = corr(x, w) (+ bias)            parallel over (b, oh) rows of y
 *   gather    : dx = corr^T(dy, w) (+ bias)         parallel over (b, ih) rows of dx; each dx
 *                                                    pixel sums the y pixels that read it
 *   wgrad     : dw = sum over positions x (x) dy,   chunks of AENN_CHUNK (b, oh) rows into
 *               db = sum over positions dy          scratch, combined in chunk order
 * Conv2D uses them directly (x = inp, y = out). Conv2DTranspose is the adjoint: its output is
 * the view's x (M = OC), its input the view's y (N = C), its (KH,KW,OC,C) kernel is the view's
 * (KH,KW,M,N) kernel and its start crop is the view's start padding.
 * The innermost loop always runs over a contiguous channel axis (n or m) so gcc vectorises it;
 * the summation order of every output depends only on the shapes, never on the thread count.
 * Every product is accumulated with an explicit fused multiply-add, acc = fma(x, w, acc) (one
 * rounding, exactly specified by IEEE-754): an FMA instruction in the avx2 and avx512 builds,
 * fmaf per lane in the generic build, so every build gives the same bits (docs/determinism.md).
 * Sums of partials (the wgrad chunks, the bias gradient) are plain adds.
 *
 * Special paths (same order per output, so the same bits; aenn_conv_set_special_paths(0) turns
 * them off for tests): one input channel (M == 1) correlates a row at a time with row_m1 (lanes
 * over output channels, blocks of 8 pixels, no tap lists); one dy channel at stride 1 (the
 * backward-data of a one-output-channel conv) is row_m1 with a negative tap step; one output
 * channel (N == 1) forward puts pixels in lanes on transposed input rows (corr_n1); one dx
 * channel (M == 1) at stride 1, the forward of a one-output-channel transposed conv, is
 * corr_n1 with a negative tap step on transposed dy rows (gather_rows_m1); and the weight
 * gradient of M == 1 or N == 1 does all kernel columns of a kernel row in one pass
 * (wgrad_m1 / wgrad_n1); for M == 1 with a 3-wide kernel of <= 3 rows, wgrad_m1_chunk does a
 * whole chunk of rows in one call with all the partials in registers (9 fma chains).
 * Tiling (never changes an output's operations): correlate/gather runs of pixels and wgrad
 * runs of input channels are split into near-equal register tiles of every size up to the
 * register limit; wgrad keeps a tile's partial in registers across all the rows of a chunk.
 * A run of at most pair_max (6-8) pixels -- the interior of a 5-7 wide row -- has too few
 * independent fma chains to hide the fma latency, so two rows of a group (same kernel rows, so
 * same weights) run such a block together (corr_block_pair), each pixel with its own tap list.
 */
#include "conv.h"
#include "conv_internal.h"
#include "conv_ops.h"

#include <string.h>

#include "cpu.h"
#include "isa_builds.h"

typedef struct {
    int64_t B, H, W, M;  /* x */
    int64_t OH, OW, N;   /* y */
    int64_t KH, KW, SH, SW, DH, DW, PT, PL;
} view_t;

static view_t conv_view(const aenn_conv2d_geom *g) {
    view_t v = {g->B, g->H, g->W, g->C, g->OH, g->OW, g->OC,
                g->KH, g->KW, g->SH, g->SW, g->DH, g->DW, g->pad_top, g->pad_left};
    return v;
}

/* The transpose's output plays the view's x, its input the view's y. */
static view_t transpose_view(const aenn_conv2d_geom *g) {
    view_t v = {g->B, g->OH, g->OW, g->OC, g->H, g->W, g->C,
                g->KH, g->KW, g->SH, g->SW, g->DH, g->DW, g->pad_top, g->pad_left};
    return v;
}

/* Rows handed to one thread at least: about 64k multiply-adds per thread. */
static int64_t min_rows(int64_t work_per_row) {
    int64_t m = 65536 / (work_per_row > 0 ? work_per_row : 1);
    return m > 0 ? m : 1;
}

/* wt (KH,KW,N,M) = w (KH,KW,M,N) with the last two axes swapped. */
static void swap_last_axes(float *wt, const float *w, int64_t taps, int64_t M, int64_t N) {
    for (int64_t t = 0; t < taps; t++) {
        const float *src = w + t * M * N;
        float *dst = wt + t * M * N;
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) dst[n * M + m] = src[m * N + n];
    }
}

/* ---- the per-ISA inner kernels: conv_ops.h, conv_kernels.inc, conv_kernels_<isa>.c -- */

/* The function table of the ISA in force (cpu.h). */
static const conv_ops *ops(void) {
#if AENN_CONV_HAS_X86_OPS
    switch (aenn_isa()) {
    case AENN_ISA_AVX512: return &aenn_conv_ops_avx512;
    case AENN_ISA_AVX2: return &aenn_conv_ops_avx2;
    default: break;
    }
#endif
    return &aenn_conv_ops_generic;
}

/* 1: use the one-input/one-output-channel paths (conv.h: aenn_conv_set_special_paths). */
static int special_paths = 1;

int aenn_conv_set_special_paths(int on) {
    int old = special_paths;
    special_paths = on != 0;
    return old;
}

/* Taps handed to one kernel call at most; longer lists go in segments (same bits). */
#define TAPMAX 256

/* Output row (b, oh) of a one-input-channel convolution (M == 1, KH <= TAPMAX): y_row (OW,N),
 * lanes over output channels (row_m1), the kernel rows that fall inside x in ascending order. */
static void m1_row(const view_t *v, const conv_ops *o, float *y_row, const float *x,
                   const float *w, const float *bias, int64_t b, int64_t oh) {
    const float *src[TAPMAX], *wts[TAPMAX];
    int64_t nu = 0;
    for (int64_t u = 0; u < v->KH; u++) {
        int64_t ih = oh * v->SH + u * v->DH - v->PT;
        if (ih < 0 || ih >= v->H) continue;
        src[nu] = x + (b * v->H + ih) * v->W;
        wts[nu++] = w + u * v->KW * v->N;
    }
    o->row_m1(y_row, v->OW, v->N, src, wts, nu, v->KW, v->SW, v->DW, -v->PL, v->W, bias);
}

/* ---- correlate: y (B,OH,OW,N) = corr(x (B,H,W,M), w (KH,KW,M,N)) + bias (N) [or 0] ------
 * Every y element: acc = bias (or 0); then for u ascending, t ascending over the taps that
 * fall inside x, for m ascending: acc = fma(x, w, acc). */
typedef struct {
    const view_t *v;
    float *y;
    const float *x, *w, *bias;
    const conv_ops *o;
} correlate_ctx;

/* Valid kernel columns [*lo, *hi) of output column ow: 0 <= ow*SW + t*DW - PL < W. */
static void corr_cols(const view_t *v, int64_t ow, int64_t *lo, int64_t *hi) {
    int64_t a = v->KW, b = 0;
    for (int64_t t = 0; t < v->KW; t++) {
        int64_t iw = ow * v->SW + t * v->DW - v->PL;
        if (iw >= 0 && iw < v->W) {
            if (t < a) a = t;
            b = t + 1;
        }
    }
    if (b == 0) a = 0;
    *lo = a;
    *hi = b;
}

/* One output channel, stride 1 along W: floats of the transposed input rows (see corr_n1). */
#define N1_BUF 12288
#define N1_VLMAX 16

static int64_t n1_wbuf(const view_t *v) {
    int64_t nvec = (v->OW + N1_VLMAX - 1) / N1_VLMAX;
    return nvec * N1_VLMAX + (v->KW - 1) * v->DW;
}

/* Slots of the row cache: enough for the input rows of two consecutive output rows. */
static int64_t n1_slots(const view_t *v) { return (v->KH - 1) * v->DH + 1 + v->SH; }

static int n1_applies(const view_t *v) {
    return v->N == 1 && v->SW == 1 && v->KH <= TAPMAX && n1_slots(v) <= 64 &&
           n1_slots(v) * v->M * n1_wbuf(v) <= N1_BUF && v->KW * n1_wbuf(v) <= N1_BUF;
}

/* Per-thread state of the one-output-channel path: a cache of transposed, zero-padded input
 * rows, buf[slot][m][j] = x[b, ih, j - PL, m] (0 outside the row), slot = ih % slots. */
typedef struct {
    float buf[N1_BUF];
    float tmp[N1_BUF];
    float tmp2[N1_BUF];
    int32_t valid[N1_BUF]; /* valid[t*Wbuf + j]: -1 if column j reads x through t (or j >= OW) */
    int64_t tag[64]; /* b * H + ih held by the slot, or -1 */
} n1_state;

static const float *n1_row(n1_state *st, const correlate_ctx *c, int64_t b, int64_t ih) {
    const view_t *v = c->v;
    const int64_t M = v->M, Wbuf = n1_wbuf(v), slot = ih % n1_slots(v);
    float *dst = st->buf + slot * M * Wbuf;
    if (st->tag[slot] == b * v->H + ih) return dst;
    st->tag[slot] = b * v->H + ih;
    const float *x = c->x + (b * v->H + ih) * v->W * M;
    /* the pad columns stay zero (zeroed once in correlate_rows); columns past Wbuf are
     * never read */
    int64_t wd = Wbuf - v->PL < v->W ? Wbuf - v->PL : v->W;
    if (wd > 0) c->o->transpose_row(dst, x, wd, M, v->PL, Wbuf);
    return dst;
}

/* y row (b, oh) for N == 1 from the pixel-lane kernel on the transposed rows: per output,
 * bias, then fma(x, w, acc) for u, t, m ascending over the taps inside x (border lanes keep
 * their value for the taps outside: a select, so exactly the skip of the general path). */
static void correlate_row_n1(n1_state *st, const correlate_ctx *c, int64_t b, int64_t oh) {
    const view_t *v = c->v;
    const int64_t M = v->M, Wbuf = n1_wbuf(v);
    const float *wr[TAPMAX], *rows[TAPMAX];
    int64_t nu = 0;
    float bias = c->bias ? c->bias[0] : 0.0f;
    for (int64_t u = 0; u < v->KH; u++) {
        int64_t ih = oh * v->SH + u * v->DH - v->PT;
        if (ih < 0 || ih >= v->H) continue;
        rows[nu] = n1_row(st, c, b, ih);
        wr[nu++] = c->w + u * v->KW * M;
    }
    int64_t vl = c->o->vl, nvec = (v->OW + vl - 1) / vl;
    float *y = c->y + (b * v->OH + oh) * v->OW;
    c->o->corr_n1(st->tmp, nvec, rows, nu, M, Wbuf, v->KW, v->DW, wr, bias, st->valid);
    memcpy(y, st->tmp, (size_t)v->OW * sizeof(float));
}

/* Bit u set: kernel row u reads inside x for output row oh (KH <= 64). */
static uint64_t corr_umask(const view_t *v, int64_t oh) {
    uint64_t m = 0;
    for (int64_t u = 0; u < v->KH && u < 64; u++) {
        int64_t ih = oh * v->SH + u * v->DH - v->PT;
        if (ih >= 0 && ih < v->H) m |= (uint64_t)1 << u;
    }
    return m;
}

/* Runs block k and the same block one output row further (out + row_step) with corr_block_pair:
 * the two rows' tap lists xs and xs1 (ntaps <= TAPMAX each) share the weights ws. */
static void run_block_pair(const conv_ops *o, corr_blk k, int64_t row_step, const float **xs,
                           const float **xs1, const float **ws, int64_t ntaps) {
    corr_blk k1 = k;
    k1.out += row_step;
    k.ntaps = k1.ntaps = (int)ntaps;
    k.xs = xs;
    k1.xs = xs1;
    k.ws = k1.ws = ws;
    o->corr_block_pair(&k, &k1);
}

/* The taps of output pixel (b, oh, ow) over kernel columns [lo, hi), kernel rows ascending,
 * then columns: those with index in [skip, skip + TAPMAX) go to xs/ws[index - skip]. Returns
 * the number of taps. */
static int64_t corr_tap_list(const correlate_ctx *c, int64_t b, int64_t oh, int64_t ow,
                             int64_t lo, int64_t hi, int64_t skip, const float **xs,
                             const float **ws) {
    const view_t *v = c->v;
    int64_t n = 0;
    for (int64_t u = 0; u < v->KH; u++) {
        int64_t ih = oh * v->SH + u * v->DH - v->PT;
        if (ih < 0 || ih >= v->H) continue;
        for (int64_t t = lo; t < hi; t++, n++) {
            if (n < skip || n >= skip + TAPMAX) continue;
            int64_t iw = ow * v->SW + t * v->DW - v->PL;
            xs[n - skip] = c->x + ((b * v->H + ih) * v->W + iw) * v->M;
            ws[n - skip] = c->w + (u * v->KW + t) * v->M * v->N;
        }
    }
    return n;
}

/* Runs the block k (its other pixels are at fixed steps from pixel (b, oh, ow)) on that pixel's
 * tap list, in segments of TAPMAX taps (a later segment adds to the first's outputs). */
static void corr_taps(const correlate_ctx *c, corr_blk *k, int64_t b, int64_t oh, int64_t ow,
                      int64_t lo, int64_t hi, const float **xs, const float **ws) {
    const int64_t total = corr_tap_list(c, b, oh, ow, lo, hi, 0, xs, ws);
    for (int64_t s0 = 0;; s0 += TAPMAX) {
        if (s0 > 0) corr_tap_list(c, b, oh, ow, lo, hi, s0, xs, ws);
        k->xs = xs; k->ws = ws; k->accumulate = s0 > 0;
        k->ntaps = (int)(total - s0 < TAPMAX ? total - s0 : TAPMAX);
        c->o->corr_block(k);
        if (s0 + TAPMAX >= total) break;
    }
}

/* Output rows oh and oh + 1 (same kernel rows inside x) for N == 1, two at once. */
static void correlate_2rows_n1(n1_state *st, const correlate_ctx *c, int64_t b, int64_t oh) {
    const view_t *v = c->v;
    const int64_t M = v->M, Wbuf = n1_wbuf(v);
    const float *wr[TAPMAX], *rows[TAPMAX], *rows2[TAPMAX];
    int64_t nu = 0;
    float bias = c->bias ? c->bias[0] : 0.0f;
    for (int64_t u = 0; u < v->KH; u++) {
        int64_t ih = oh * v->SH + u * v->DH - v->PT;
        if (ih < 0 || ih >= v->H) continue;
        rows[nu] = n1_row(st, c, b, ih);
        rows2[nu] = n1_row(st, c, b, ih + v->SH);
        wr[nu++] = c->w + u * v->KW * M;
    }
    int64_t vl = c->o->vl, nvec = (v->OW + vl - 1) / vl;
    float *y = c->y + (b * v->OH + oh) * v->OW;
    c->o->corr_n1_2rows(st->tmp, st->tmp2, nvec, rows, rows2, nu, M, Wbuf, v->KW, v->DW, wr,
                        bias, st->valid);
    memcpy(y, st->tmp, (size_t)v->OW * sizeof(float));
    memcpy(y + v->OW, st->tmp2, (size_t)v->OW * sizeof(float));
}

static void correlate_rows(void *arg, int64_t begin, int64_t end) {
    const correlate_ctx *c = arg;
    const view_t *v = c->v;
    const int64_t M = v->M, N = v->N;
    const float *xs[TAPMAX], *ws[TAPMAX];
    if (special_paths && n1_applies(v)) {
        n1_state st;
        for (int i = 0; i < 64; i++) st.tag[i] = -1;
        const int64_t Wbuf = n1_wbuf(v);
        /* zero pad columns for every cached row (n1_row only writes the data columns) */
        memset(st.buf, 0, (size_t)(n1_slots(v) * M * Wbuf) * sizeof(float));
        for (int64_t t = 0; t < v->KW; t++)
            for (int64_t j = 0; j < Wbuf; j++) {
                int64_t iw = j + t * v->DW - v->PL;
                st.valid[t * Wbuf + j] = (j >= v->OW || (iw >= 0 && iw < v->W)) ? -1 : 0;
            }
        for (int64_t row = begin; row < end;) {
            int64_t b = row / v->OH, oh = row % v->OH;
            if (row + 1 < end && oh + 1 < v->OH && v->KH <= 64 &&
                corr_umask(v, oh) == corr_umask(v, oh + 1)) {
                correlate_2rows_n1(&st, c, b, oh);
                row += 2;
            } else {
                correlate_row_n1(&st, c, b, oh);
                row += 1;
            }
        }
        return;
    }
    if (special_paths && v->M == 1 && v->KH <= TAPMAX) { /* one input channel: lanes over output channels */
        for (int64_t row = begin; row < end; row++)
            m1_row(v, c->o, c->y + row * v->OW * N, c->x, c->w, c->bias, row / v->OH, row % v->OH);
        return;
    }
    for (int64_t row = begin; row < end;) {
        int64_t b = row / v->OH, oh = row % v->OH;
        /* rows of the same image reading the same kernel rows form a group */
        uint64_t mask = corr_umask(v, oh);
        int64_t row2 = row + 1;
        if (v->KH <= 64)
            while (row2 < end && row2 / v->OH == b && corr_umask(v, row2 % v->OH) == mask) row2++;
        int64_t G = row2 - row;
        int64_t ow = 0;
        while (ow < v->OW) {
            int64_t lo, hi, lo2, hi2, ow2 = ow + 1;
            corr_cols(v, ow, &lo, &hi);
            while (ow2 < v->OW) {
                corr_cols(v, ow2, &lo2, &hi2);
                if (lo2 != lo || hi2 != hi) break;
                ow2++;
            }
            if (ow2 - ow >= 4 || G == 1) { /* blocks of pixels along the row, row by row */
                /* short blocks two rows at a time (the group's rows read the same kernel rows,
                 * so the same weights): corr_block_pair */
                const int pairs = ow2 - ow <= c->o->pair_max && N % c->o->vl == 0;
                for (int64_t r = 0; r < G; r++) {
                    corr_blk k = {NULL, NULL, 0, 0, v->SW * M, M, N,
                                  c->y + ((b * v->OH + oh + r) * v->OW + ow) * N, N, ow2 - ow,
                                  c->bias};
                    if (pairs && r + 1 < G) {
                        const float *xs1[TAPMAX];
                        int64_t n0 = corr_tap_list(c, b, oh + r, ow, lo, hi, 0, xs, ws);
                        if (n0 <= TAPMAX) { /* one segment: the same taps for both rows */
                            corr_tap_list(c, b, oh + r + 1, ow, lo, hi, 0, xs1, ws);
                            run_block_pair(c->o, k, v->OW * N, xs, xs1, ws, n0);
                            r++;
                            continue;
                        }
                    }
                    corr_taps(c, &k, b, oh + r, ow, lo, hi, xs, ws);
                }
            } else { /* a few columns (the borders): blocks of pixels down the column */
                for (int64_t col = ow; col < ow2; col++) {
                    corr_blk k = {NULL, NULL, 0, 0, v->SH * v->W * M, M, N,
                                  c->y + ((b * v->OH + oh) * v->OW + col) * N, v->OW * N, G,
                                  c->bias};
                    corr_taps(c, &k, b, oh, col, lo, hi, xs, ws);
                }
            }
            ow = ow2;
        }
        row = row2;
    }
}

static void correlate(float *y, const float *x, const float *w, const float *bias,
                      const view_t *v) {
    correlate_ctx c = {v, y, x, w, bias, ops()};
    aenn_parallel_for(v->B * v->OH, min_rows(v->OW * v->KH * v->KW * v->M * v->N),
                      correlate_rows, &c);
}

/* ---- gather: dx (B,H,W,M) = corr^T(dy (B,OH,OW,N), wt (KH,KW,N,M)) + bias (M) [or 0] ----
 * dx[b,ih,iw,m] sums dy[b,oh,ow,n] * w[u,t,m,n] over every (oh,u,ow,t,n) with
 * oh*SH + u*DH - PT = ih and ow*SW + t*DW - PL = iw; wt holds w with its last axes swapped.
 * Order per element: bias (or 0), then u ascending, t ascending, n ascending.
 * Columns iw = r, r + SW, r + 2*SW, ... (one residue r) read consecutive ow for a given t, so
 * they are blocked together when they read the same kernel columns. */
typedef struct {
    const view_t *v;
    float *dx;
    const float *dy, *wt, *bias;
    const conv_ops *o;
} gather_ctx;

/* ow read by column iw through kernel column t, or -1. */
static int64_t gather_ow(const view_t *v, int64_t iw, int64_t t) {
    int64_t pw = iw + v->PL - t * v->DW;
    if (pw < 0 || pw % v->SW) return -1;
    int64_t ow = pw / v->SW;
    return ow < v->OW ? ow : -1;
}

/* The first and last kernel column column iw reads (-1, -1 if none). Within one residue
 * class of iw mod SW the pair determines the whole set. */
static void gather_cols(const view_t *v, int64_t iw, int64_t *first, int64_t *last) {
    *first = *last = -1;
    for (int64_t t = 0; t < v->KW; t++)
        if (gather_ow(v, iw, t) >= 0) {
            if (*first < 0) *first = t;
            *last = t;
        }
}

/* Bit u set: kernel row u reaches dx row ih (KH <= 64). */
static uint64_t gather_umask(const view_t *v, int64_t ih) {
    uint64_t m = 0;
    for (int64_t u = 0; u < v->KH && u < 64; u++) {
        int64_t ph = ih + v->PT - u * v->DH;
        if (ph >= 0 && ph % v->SH == 0 && ph / v->SH < v->OH) m |= (uint64_t)1 << u;
    }
    return m;
}

/* The taps of dx pixel (b, ih, iw), kernel columns first..last (gather_cols), kernel rows
 * ascending, then columns: those with index in [skip, skip + TAPMAX) go to
 * xs/ws[index - skip]. Returns the number of taps. */
static int64_t gather_tap_list(const gather_ctx *c, int64_t b, int64_t ih, int64_t iw, int64_t f,
                               int64_t l, int64_t skip, const float **xs, const float **ws) {
    const view_t *v = c->v;
    int64_t n = 0;
    for (int64_t u = 0; u < v->KH; u++) {
        int64_t ph = ih + v->PT - u * v->DH; /* = oh * SH */
        if (ph < 0 || ph % v->SH) continue;
        int64_t oh = ph / v->SH;
        if (oh >= v->OH) continue;
        for (int64_t t = (f < 0 ? v->KW : f); t <= l; t++) {
            int64_t ow = gather_ow(v, iw, t);
            if (ow < 0) continue;
            if (n >= skip && n < skip + TAPMAX) {
                xs[n - skip] = c->dy + ((b * v->OH + oh) * v->OW + ow) * v->N;
                ws[n - skip] = c->wt + (u * v->KW + t) * v->N * v->M;
            }
            n++;
        }
    }
    return n;
}

/* Runs the block k on the tap list of dx pixel (b, ih, iw), in segments of TAPMAX taps. */
static void gather_taps(const gather_ctx *c, corr_blk *k, int64_t b, int64_t ih, int64_t iw,
                        int64_t f, int64_t l, const float **xs, const float **ws) {
    const int64_t total = gather_tap_list(c, b, ih, iw, f, l, 0, xs, ws);
    for (int64_t s0 = 0;; s0 += TAPMAX) {
        if (s0 > 0) gather_tap_list(c, b, ih, iw, f, l, s0, xs, ws);
        k->xs = xs; k->ws = ws; k->accumulate = s0 > 0;
        k->ntaps = (int)(total - s0 < TAPMAX ? total - s0 : TAPMAX);
        c->o->corr_block(k);
        if (s0 + TAPMAX >= total) break;
    }
}

/* One dx channel (M == 1) at stride 1 (the forward of a one-output-channel transposed conv):
 * pixels in lanes, as corr_n1. dx column iw reads dy column iw + PL - t*DW through kernel
 * column t, so the dy rows are cached transposed with LP zero columns on the left and
 * corr_n1 runs with tap step -DW from column PL + LP; per dx element: bias, then u, t, n
 * ascending over the taps inside dy (others masked), exactly gather_taps's order. */
static int64_t g1_lp(const view_t *v) {
    int64_t lp = (v->KW - 1) * v->DW - v->PL;
    return lp > 0 ? lp : 0;
}
static int64_t g1_wbuf(const view_t *v) {
    int64_t nvec = (v->W + N1_VLMAX - 1) / N1_VLMAX;
    return nvec * N1_VLMAX + (v->PL > 0 ? v->PL : 0) + g1_lp(v);
}
/* Slots of the dy row cache: the rows one dx row reads (ih + PT - u*DH, u < KH) are
 * (KH-1)*DH + 1 consecutive rows at most, so they never share a slot (slot = oh % slots). */
static int64_t g1_slots(const view_t *v) { return (v->KH - 1) * v->DH + 1; }

static int g1_applies(const view_t *v) {
    return v->M == 1 && v->N > 1 && v->SH == 1 && v->SW == 1 && v->PL >= 0 &&
           v->KH <= TAPMAX && g1_slots(v) <= 64 &&
           g1_slots(v) * v->N * g1_wbuf(v) <= N1_BUF && v->KW * g1_wbuf(v) <= N1_BUF;
}

static void gather_rows_m1(const gather_ctx *c, int64_t begin, int64_t end) {
    const view_t *v = c->v;
    const int64_t N = v->N, Wbuf = g1_wbuf(v), LP = g1_lp(v), slots = g1_slots(v);
    n1_state st;
    for (int i = 0; i < 64; i++) st.tag[i] = -1;
    memset(st.buf, 0, (size_t)(slots * N * Wbuf) * sizeof(float));
    for (int64_t t = 0; t < v->KW; t++)
        for (int64_t j = 0; j < Wbuf; j++) {
            int64_t ow = j + v->PL - t * v->DW;
            st.valid[t * Wbuf + j] = (j >= v->W || (ow >= 0 && ow < v->OW)) ? -1 : 0;
        }
    const float *rows[TAPMAX], *wr[TAPMAX];
    float bias = c->bias ? c->bias[0] : 0.0f;
    int64_t vl = c->o->vl, nvec = (v->W + vl - 1) / vl;
    for (int64_t row = begin; row < end; row++) {
        int64_t b = row / v->H, ih = row % v->H, nu = 0;
        for (int64_t u = 0; u < v->KH; u++) {
            int64_t oh = ih + v->PT - u * v->DH;
            if (oh < 0 || oh >= v->OH) continue;
            int64_t slot = oh % slots;
            float *dst = st.buf + slot * N * Wbuf;
            if (st.tag[slot] != b * v->OH + oh) {
                st.tag[slot] = b * v->OH + oh;
                int64_t wd = Wbuf - LP < v->OW ? Wbuf - LP : v->OW;
                if (wd > 0)
                    c->o->transpose_row(dst, c->dy + (b * v->OH + oh) * v->OW * N, wd, N, LP,
                                        Wbuf);
            }
            rows[nu] = dst + v->PL + LP;
            wr[nu++] = c->wt + u * v->KW * N;
        }
        c->o->corr_n1(st.tmp, nvec, rows, nu, N, Wbuf, v->KW, -v->DW, wr, bias, st.valid);
        memcpy(c->dx + row * v->W, st.tmp, (size_t)v->W * sizeof(float));
    }
}

static void gather_rows(void *arg, int64_t begin, int64_t end) {
    const gather_ctx *c = arg;
    const view_t *v = c->v;
    const int64_t M = v->M, N = v->N;
    const float *xs[TAPMAX], *ws[TAPMAX];
    if (special_paths && g1_applies(v)) {
        gather_rows_m1(c, begin, end);
        return;
    }
    if (special_paths && N == 1 && v->SH == 1 && v->SW == 1 && v->KH <= TAPMAX) {
        /* one dy channel, stride 1: dx column iw reads dy column iw + PL - t*DW through
         * kernel column t, so this is row_m1 with a negative tap step */
        for (int64_t row = begin; row < end; row++) {
            int64_t b = row / v->H, ih = row % v->H, nu = 0;
            for (int64_t u = 0; u < v->KH; u++) {
                int64_t oh = ih + v->PT - u * v->DH;
                if (oh < 0 || oh >= v->OH) continue;
                xs[nu] = c->dy + (b * v->OH + oh) * v->OW;
                ws[nu++] = c->wt + u * v->KW * M;
            }
            c->o->row_m1(c->dx + row * v->W * M, v->W, M, xs, ws, nu, v->KW, 1, -v->DW, v->PL,
                         v->OW, c->bias);
        }
        return;
    }
    for (int64_t row = begin; row < end;) {
        int64_t b = row / v->H, ih = row % v->H;
        /* with SH == 1, rows of the same image reading the same kernel rows form a group */
        uint64_t mask = gather_umask(v, ih);
        int64_t row2 = row + 1;
        if (v->SH == 1 && v->KH <= 64)
            while (row2 < end && row2 / v->H == b && gather_umask(v, row2 % v->H) == mask) row2++;
        int64_t G = row2 - row;
        for (int64_t r = 0; r < v->SW && r < v->W; r++) {
            int64_t iw = r;
            while (iw < v->W) {
                int64_t f, l, f2, l2, iw2 = iw + v->SW;
                gather_cols(v, iw, &f, &l);
                while (iw2 < v->W) {
                    gather_cols(v, iw2, &f2, &l2);
                    if (f2 != f || l2 != l) break;
                    iw2 += v->SW;
                }
                int64_t P = (iw2 - iw) / v->SW;
                if (P >= 4 || G == 1) { /* blocks along the row, row by row */
                    /* short blocks two rows at a time (a group's rows read the same kernel
                     * rows, so the same weights): corr_block_pair */
                    const int pairs = P <= c->o->pair_max && M % c->o->vl == 0;
                    for (int64_t g = 0; g < G; g++) {
                        corr_blk k = {NULL, NULL, 0, 0, N, N, M,
                                      c->dx + ((b * v->H + ih + g) * v->W + iw) * M, v->SW * M, P,
                                      c->bias};
                        if (pairs && g + 1 < G) {
                            const float *xs1[TAPMAX];
                            int64_t n0 = gather_tap_list(c, b, ih + g, iw, f, l, 0, xs, ws);
                            if (n0 <= TAPMAX) { /* one segment: the same taps for both rows */
                                gather_tap_list(c, b, ih + g + 1, iw, f, l, 0, xs1, ws);
                                run_block_pair(c->o, k, v->W * M, xs, xs1, ws, n0);
                                g++;
                                continue;
                            }
                        }
                        gather_taps(c, &k, b, ih + g, iw, f, l, xs, ws);
                    }
                } else { /* border columns: blocks down the column (SH == 1: oh + 1 per row) */
                    for (int64_t j = 0; j < P; j++) {
                        int64_t col = iw + j * v->SW;
                        corr_blk k = {NULL, NULL, 0, 0, v->OW * N, N, M,
                                      c->dx + ((b * v->H + ih) * v->W + col) * M, v->W * M, G,
                                      c->bias};
                        gather_taps(c, &k, b, ih, col, f, l, xs, ws);
                    }
                }
                iw = iw2;
            }
        }
        row = row2;
    }
}

static void gather(float *dx, const float *dy, const float *wt, const float *bias,
                   const view_t *v) {
    gather_ctx c = {v, dx, dy, wt, bias, ops()};
    aenn_parallel_for(v->B * v->H, min_rows(v->W * v->KH * v->KW * v->M * v->N), gather_rows,
                      &c);
}

/* ---- wgrad: dw (KH,KW,M,N) = sum over (b,oh,ow) of x (x) dy -----------------------------
 * Chunk k covers the (b,oh) rows [k*AENN_CHUNK, (k+1)*AENN_CHUNK) of dy and writes its partial
 * sums to part + k*(KH*KW*M*N); the partials are then added in chunk order. Within a chunk
 * every element adds its products for rows ascending, ow ascending. */
typedef struct {
    const view_t *v;
    float *part, *dw;
    const float *x, *dy;
    int64_t chunks;
    const conv_ops *o;
} wgrad_ctx;

/* Per kernel column t < KW (<= 8): the output columns [lo[t], hi[t]) that read inside x. */
static void wgrad_cols(const view_t *v, int64_t *lo, int64_t *hi) {
    for (int64_t t = 0; t < v->KW; t++) {
        int64_t off = t * v->DW - v->PL;
        lo[t] = off < 0 ? (-off + v->SW - 1) / v->SW : 0;
        hi[t] = v->W - off <= 0 ? 0 : (v->W - off + v->SW - 1) / v->SW;
        /* [lo, hi) within [0, OW]: an empty range must not point past the row either (the
         * kernels take min lo .. max hi as the ow span) */
        if (lo[t] > v->OW) lo[t] = v->OW;
        if (hi[t] > v->OW) hi[t] = v->OW;
        if (hi[t] < lo[t]) hi[t] = lo[t];
    }
}

/* Chunk k of the weight gradient of a one-input-channel convolution with a 3-wide kernel of
 * <= 3 rows (M == 1, KW == 3, KH <= 3): adds the chunk's products into part (KH,3,1,N), rows
 * ascending, ow ascending, in one call with all KH*3 partials in registers. dyr[i] is the dy
 * row (OW,N) of the chunk's i-th (b,oh) row. */
static void m1_wgrad_chunk(const view_t *v, const conv_ops *o, float *part, const float *x,
                           const float *const *dyr, int64_t k) {
    const float *xr[AENN_CHUNK * 3];
    int64_t lo[3], hi[3];
    wgrad_cols(v, lo, hi);
    const int64_t rows = v->B * v->OH;
    const int64_t r1 = (k + 1) * AENN_CHUNK < rows ? (k + 1) * AENN_CHUNK : rows;
    int64_t nrows = 0;
    for (int64_t row = k * AENN_CHUNK; row < r1; row++, nrows++) {
        int64_t b = row / v->OH, oh = row % v->OH;
        for (int64_t u = 0; u < 3; u++) {
            int64_t ih = oh * v->SH + u * v->DH - v->PT;
            xr[nrows * 3 + u] = (u < v->KH && ih >= 0 && ih < v->H)
                                    ? x + (b * v->H + ih) * v->W
                                    : NULL;
        }
    }
    o->wgrad_m1_chunk(part, xr, dyr, nrows, v->KH, lo, hi, v->SW, v->DW, v->PL, v->N);
}

static void wgrad_chunks(void *arg, int64_t begin, int64_t end) {
    const wgrad_ctx *c = arg;
    const view_t *v = c->v;
    const int64_t M = v->M, N = v->N, wsize = v->KH * v->KW * M * N;
    const int64_t rows = v->B * v->OH;
    const int special = special_paths && (M == 1 || N == 1) && v->KW <= 8;
    for (int64_t k = begin; k < end; k++) {
        float *part = c->part + k * wsize;
        memset(part, 0, (size_t)wsize * sizeof(float));
        int64_t r1 = (k + 1) * AENN_CHUNK < rows ? (k + 1) * AENN_CHUNK : rows;
        if (!special) {
            /* per kernel tap, the chunk's rows as segments of one run: every element adds
             * rows ascending, ow ascending, with its partial kept in registers throughout */
            const float *x0s[AENN_CHUNK], *dy0s[AENN_CHUNK];
            int64_t counts[AENN_CHUNK];
            /* the chunk's rows in blocks of rb (all taps for one block, then the next): with
             * o->wg_bytes set, a block's dy and x rows stay in L1 while every tap's tiles
             * read them; each element still adds rows ascending (blocks in order) */
            int64_t rb = AENN_CHUNK;
            if (c->o->wg_bytes > 0) {
                rb = c->o->wg_bytes / (v->OW * (M + N) * (int64_t)sizeof(float));
                if (rb < 1) rb = 1;
            }
            for (int64_t q0 = k * AENN_CHUNK; q0 < r1; q0 += rb) {
                const int64_t q1 = q0 + rb < r1 ? q0 + rb : r1;
                for (int64_t u = 0; u < v->KH; u++)
                    for (int64_t t = 0; t < v->KW; t++) {
                        /* ow with 0 <= ow*SW + t*DW - PL < W */
                        int64_t off = t * v->DW - v->PL, lo = 0, hi;
                        if (off < 0) lo = (-off + v->SW - 1) / v->SW;
                        hi = v->W - off <= 0 ? 0 : (v->W - off + v->SW - 1) / v->SW;
                        if (hi > v->OW) hi = v->OW;
                        if (hi <= lo) continue;
                        int64_t nseg = 0;
                        for (int64_t row = q0; row < q1; row++) {
                            int64_t b = row / v->OH, oh = row % v->OH;
                            int64_t ih = oh * v->SH + u * v->DH - v->PT;
                            if (ih < 0 || ih >= v->H) continue;
                            x0s[nseg] = c->x + ((b * v->H + ih) * v->W + lo * v->SW + off) * M;
                            dy0s[nseg] = c->dy + (row * v->OW + lo) * N;
                            counts[nseg++] = hi - lo;
                        }
                        if (nseg > 0)
                            c->o->wgrad_run(part + (u * v->KW + t) * M * N, x0s, dy0s, counts,
                                            nseg, v->SW * M, N, M, N);
                    }
            }
            continue;
        }
        if (M == 1 && v->KW == 3 && v->KH <= 3) {
            const float *dyr[AENN_CHUNK];
            for (int64_t row = k * AENN_CHUNK; row < r1; row++)
                dyr[row - k * AENN_CHUNK] = c->dy + row * v->OW * N;
            m1_wgrad_chunk(v, c->o, part, c->x, dyr, k);
            continue;
        }
        for (int64_t row = k * AENN_CHUNK; row < r1; row++) {
            int64_t b = row / v->OH, oh = row % v->OH;
            const float *dy = c->dy + (b * v->OH + oh) * v->OW * N;
            for (int64_t u = 0; u < v->KH; u++) {
                int64_t ih = oh * v->SH + u * v->DH - v->PT;
                if (ih < 0 || ih >= v->H) continue;
                const float *xrow = c->x + (b * v->H + ih) * v->W * M;
                /* one input or output channel: all kernel columns at once */
                int64_t lo[8], hi[8];
                wgrad_cols(v, lo, hi);
                if (M == 1)
                    c->o->wgrad_m1(part + u * v->KW * N, xrow, dy, lo, hi, v->KW, v->SW, v->DW,
                                   v->PL, N);
                else
                    c->o->wgrad_n1(part + u * v->KW * M, xrow, dy, lo, hi, v->KW, v->SW, v->DW,
                                   v->PL, M);
            }
        }
    }
}

/* dst[i] = sum_k part[k*size + i] in chunk order, i in [begin, end). */
typedef struct {
    float *dst;
    const float *part;
    int64_t size, chunks;
} combine_ctx;

/* Per element: s = 0, then s += part of chunk 0, 1, 2, ... Blocks of 64 elements keep 64
 * independent sums and add one chunk's contiguous row at a time (vector adds), where one
 * element at a time would wait on each add's latency. */
static AENN_ALWAYS_INLINE void combine_range_body(void *arg, int64_t begin, int64_t end) {
    const combine_ctx *c = arg;
    float s[64];
    for (int64_t i0 = begin; i0 < end; i0 += 64) {
        const int64_t n = end - i0 < 64 ? end - i0 : 64;
        for (int64_t i = 0; i < n; i++) s[i] = 0.0f;
        for (int64_t k = 0; k < c->chunks; k++) {
            const float *p = c->part + k * c->size + i0;
            for (int64_t i = 0; i < n; i++) s[i] += p[i];
        }
        memcpy(c->dst + i0, s, (size_t)n * sizeof(float));
    }
}
AENN_ISA_BUILDS(combine_range)

static int64_t wgrad_scratch_size(const view_t *v) {
    return aenn_num_chunks(v->B * v->OH) * v->KH * v->KW * v->M * v->N;
}

static void wgrad(float *dw, const float *x, const float *dy, const view_t *v, float *scratch) {
    int64_t chunks = aenn_num_chunks(v->B * v->OH);
    int64_t wsize = v->KH * v->KW * v->M * v->N;
    wgrad_ctx c = {v, scratch, dw, x, dy, chunks, ops()};
    int64_t per_chunk = AENN_CHUNK * v->OW * wsize;
    aenn_parallel_for(chunks, per_chunk >= 65536 ? 1 : 65536 / (per_chunk + 1) + 1, wgrad_chunks,
                      &c);
    combine_ctx cc = {dw, scratch, wsize, chunks};
    aenn_parallel_for(wsize, 4096, combine_range, &cc);
}

/* ---- bias gradient: db (N) = sum over the R rows of d (R,N) --------------------------------
 * Chunk k sums rows [k*AENN_CHUNK, (k+1)*AENN_CHUNK) into part + k*N; chunks added in order. */
typedef struct {
    float *part;
    const float *d;
    int64_t R, N;
} rowsum_ctx;

/* Full chunks, QB at a time: row i of each of the QB chunks before row i + 1, so that the
 * QB * N sums form independent add chains (one chunk alone is one chain of AENN_CHUNK adds per
 * element, latency-bound); every element still adds its chunk's rows in ascending order. */
#define ROWSUM_QB 8
#define ROWSUM_NB 16 /* channels summed in registers at once (one AVX-512 vector) */
static AENN_ALWAYS_INLINE void rowsum_full_chunks(const rowsum_ctx *c, int64_t k0) {
    const int64_t N = c->N;
    float *p = c->part + k0 * N; /* the QB partials are consecutive */
    int64_t n0 = 0;
    /* blocks of ROWSUM_NB channels: the QB x NB sums stay in registers for all the rows (a
     * vector type where the compiler has one: GCC keeps a float array of them on the stack,
     * each add then waits on a store and a reload) */
    for (; n0 + ROWSUM_NB <= N; n0 += ROWSUM_NB) {
#if defined(__GNUC__) || defined(__clang__)
        typedef float rowsum_vec __attribute__((vector_size(ROWSUM_NB * sizeof(float))));
        rowsum_vec acc[ROWSUM_QB];
        memset(acc, 0, sizeof acc);
        for (int64_t i = 0; i < AENN_CHUNK; i++)
            for (int q = 0; q < ROWSUM_QB; q++) {
                rowsum_vec d;
                memcpy(&d, c->d + ((k0 + q) * AENN_CHUNK + i) * N + n0, sizeof d);
                acc[q] += d;
            }
        for (int q = 0; q < ROWSUM_QB; q++) memcpy(p + q * N + n0, &acc[q], sizeof acc[q]);
#else
        float acc[ROWSUM_QB][ROWSUM_NB] = {{0.0f}};
        for (int64_t i = 0; i < AENN_CHUNK; i++)
            for (int q = 0; q < ROWSUM_QB; q++) {
                const float *restrict d = c->d + ((k0 + q) * AENN_CHUNK + i) * N + n0;
                for (int j = 0; j < ROWSUM_NB; j++) acc[q][j] += d[j];
            }
        for (int q = 0; q < ROWSUM_QB; q++)
            for (int j = 0; j < ROWSUM_NB; j++) p[q * N + n0 + j] = acc[q][j];
#endif
    }
    if (n0 == N) return;
    for (int q = 0; q < ROWSUM_QB; q++) memset(p + q * N + n0, 0, (size_t)(N - n0) * sizeof(float));
    for (int64_t i = 0; i < AENN_CHUNK; i++)
        for (int64_t q = 0; q < ROWSUM_QB; q++) {
            float *restrict pq = p + q * N;
            const float *restrict d = c->d + ((k0 + q) * AENN_CHUNK + i) * N;
            for (int64_t n = n0; n < N; n++) pq[n] += d[n];
        }
}

static AENN_ALWAYS_INLINE void rowsum_chunks_body(void *arg, int64_t begin, int64_t end) {
    const rowsum_ctx *c = arg;
    int64_t full = c->R / AENN_CHUNK; /* chunks [0, full) have AENN_CHUNK rows */
    for (; begin + ROWSUM_QB <= end && begin + ROWSUM_QB <= full; begin += ROWSUM_QB)
        rowsum_full_chunks(c, begin);
    for (int64_t k = begin; k < end; k++) { /* the rest one chunk at a time */
        float *p = c->part + k * c->N;
        int64_t r1 = (k + 1) * AENN_CHUNK < c->R ? (k + 1) * AENN_CHUNK : c->R, n0 = 0;
#if defined(__GNUC__) || defined(__clang__)
        typedef float rowsum_vec __attribute__((vector_size(ROWSUM_NB * sizeof(float))));
        for (; n0 + ROWSUM_NB <= c->N; n0 += ROWSUM_NB) { /* the sum in a register */
            rowsum_vec acc;
            memset(&acc, 0, sizeof acc);
            for (int64_t r = k * AENN_CHUNK; r < r1; r++) {
                rowsum_vec d;
                memcpy(&d, c->d + r * c->N + n0, sizeof d);
                acc += d;
            }
            memcpy(p + n0, &acc, sizeof acc);
        }
#endif
        memset(p + n0, 0, (size_t)(c->N - n0) * sizeof(float));
        for (int64_t r = k * AENN_CHUNK; r < r1; r++) {
            const float *d = c->d + r * c->N;
            for (int64_t n = n0; n < c->N; n++) p[n] += d[n];
        }
    }
}
/* compiled for each ISA: plain adds in lanes over n, so every build gives the same bits */
AENN_ISA_BUILDS(rowsum_chunks)

static void bias_grad(float *db, const float *d, int64_t R, int64_t N, float *scratch) {
    int64_t chunks = aenn_num_chunks(R);
    rowsum_ctx c = {scratch, d, R, N};
    aenn_parallel_for(chunks, 1 + 16384 / (AENN_CHUNK * N), rowsum_chunks, &c);
    combine_ctx cc = {db, scratch, N, chunks};
    combine_range(&cc, 0, N);
}

/* ---- public kernels ------------------------------------------------------------------- */

/* scratch: [weight transposed] [wgrad partials] [bias partials] */
int64_t aenn_conv2d_backward_scratch_size(const aenn_conv2d_geom *g) {
    view_t v = conv_view(g);
    return v.KH * v.KW * v.M * v.N + wgrad_scratch_size(&v) +
           aenn_num_chunks(g->B * g->OH * g->OW) * g->OC;
}

int64_t aenn_conv2d_transpose_forward_scratch_size(const aenn_conv2d_geom *g) {
    return g->KH * g->KW * g->C * g->OC;
}

/* scratch: [wgrad partials] [bias partials] */
int64_t aenn_conv2d_transpose_backward_scratch_size(const aenn_conv2d_geom *g) {
    view_t v = transpose_view(g);
    return wgrad_scratch_size(&v) + aenn_num_chunks(g->B * g->OH * g->OW) * g->OC;
}

/* out (B,OH,OW,OC), inp (B,H,W,C), weight (KH,KW,C,OC), bias (OC) or NULL */
void aenn_conv2d_forward(float *out, const float *inp, const float *weight, const float *bias,
                         const aenn_conv2d_geom *g) {
    view_t v = conv_view(g);
    correlate(out, inp, weight, bias, &v);
}

/* dinp (B,H,W,C) or NULL, dweight (KH,KW,C,OC), dbias (OC) or NULL,
 * dout (B,OH,OW,OC), inp (B,H,W,C), weight (KH,KW,C,OC), scratch as sized above */
void aenn_conv2d_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                          const float *inp, const float *weight, const aenn_conv2d_geom *g,
                          float *scratch) {
    view_t v = conv_view(g);
    float *wt = scratch, *wpart = wt + v.KH * v.KW * v.M * v.N;
    float *bpart = wpart + wgrad_scratch_size(&v);
    wgrad(dweight, inp, dout, &v, wpart);
    if (dbias) bias_grad(dbias, dout, g->B * g->OH * g->OW, g->OC, bpart);
    if (dinp) {
        swap_last_axes(wt, weight, v.KH * v.KW, v.M, v.N);
        gather(dinp, dout, wt, NULL, &v);
    }
}

/* out (B,OH,OW,OC), inp (B,H,W,C), weight (KH,KW,OC,C), bias (OC) or NULL,
 * scratch: weight transposed (KH,KW,C,OC) */
void aenn_conv2d_transpose_forward(float *out, const float *inp, const float *weight,
                                   const float *bias, const aenn_conv2d_geom *g, float *scratch) {
    view_t v = transpose_view(g);
    swap_last_axes(scratch, weight, v.KH * v.KW, v.M, v.N);
    gather(out, inp, scratch, bias, &v);
}

/* dinp (B,H,W,C) or NULL, dweight (KH,KW,OC,C), dbias (OC) or NULL,
 * dout (B,OH,OW,OC), inp (B,H,W,C), weight (KH,KW,OC,C), scratch as sized above.
 * dbias sums dout over every output pixel (appended pixels got the bias too). */
void aenn_conv2d_transpose_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                                    const float *inp, const float *weight,
                                    const aenn_conv2d_geom *g, float *scratch) {
    view_t v = transpose_view(g);
    float *bpart = scratch + wgrad_scratch_size(&v);
    wgrad(dweight, dout, inp, &v, scratch);
    if (dbias) bias_grad(dbias, dout, g->B * g->OH * g->OW, g->OC, bpart);
    if (dinp) correlate(dinp, dout, weight, NULL, &v);
}

/* ---- internals shared with the fused conv + ReLU + max-pool op (conv_internal.h) ---------- */

void aenn_conv2d_m1_row(float *y_row, const float *inp, const float *weight, const float *bias,
                        const aenn_conv2d_geom *g, int64_t b, int64_t oh) {
    view_t v = conv_view(g);
    m1_row(&v, ops(), y_row, inp, weight, bias, b, oh);
}

void aenn_conv2d_m1_2rows(float *y0, float *y1, const float *inp, const float *weight,
                          const float *bias, const aenn_conv2d_geom *g, int64_t b, int64_t oh) {
    const float *src[AENN_M1X2_KHMAX + 1];
    for (int64_t s = 0; s <= g->KH; s++) {
        int64_t ih = oh + s - g->pad_top;
        src[s] = ih >= 0 && ih < g->H ? inp + (b * g->H + ih) * g->W : NULL;
    }
    ops()->row_m1_2rows(y0, y1, g->OW, g->OC, src, weight, g->KH, g->KW, -g->pad_left, g->W, bias);
}

void aenn_conv2d_m1_wgrad_chunk(float *part, const float *inp, const float *const *dyr,
                                const aenn_conv2d_geom *g, int64_t k) {
    view_t v = conv_view(g);
    memset(part, 0, (size_t)(v.KH * v.KW * v.N) * sizeof(float));
    m1_wgrad_chunk(&v, ops(), part, inp, dyr, k);
}

void aenn_rowsum_chunks(float *part, const float *d, int64_t R, int64_t N) {
    rowsum_ctx c = {part, d, R, N};
    rowsum_chunks(&c, 0, aenn_num_chunks(R));
}

void aenn_combine_chunks(float *dst, const float *part, int64_t size, int64_t chunks) {
    combine_ctx cc = {dst, part, size, chunks};
    aenn_parallel_for(size, 4096, combine_range, &cc);
}

int aenn_conv_special_paths_on(void) { return special_paths; }

int64_t aenn_conv_vector_floats(void) { return ops()->vl; }

void aenn_conv_transpose_row(float *dst, const float *x, int64_t W, int64_t M, int64_t PL,
                             int64_t Wbuf) {
    ops()->transpose_row(dst, x, W, M, PL, Wbuf);
}

void aenn_conv_upconv_n1_x8(float *out, int64_t ostride, int64_t nvec, const float *const *rows,
                            const int *ok, const float *weff, const int32_t *const *cm, int64_t M,
                            int64_t Wbuf, float bias) {
    ops()->upconv_n1_x8(out, ostride, nvec, rows, ok, weff, cm, M, Wbuf, bias);
}

void aenn_conv_upconv_n1_wgrad_row(float *part, const float *const *xr, const float *const *dyr,
                                   int64_t W, int64_t M) {
    ops()->upconv_n1_wgrad_row(part, xr, dyr, W, M);
}


void aenn_conv_upconv_n1_dx_row(float *out, int64_t OWn, int64_t N, const float *const (*src)[2],
                                const float *const (*wts)[2], const int64_t *nu,
                                const int64_t *C0, int64_t Win) {
    ops()->upconv_n1_dx_row(out, OWn, N, src, wts, nu, C0, Win);
}
