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
 */
#include "conv.h"

#include <string.h>

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

/* y[0:n] += a * x[0:n] */
static inline void axpy(float *restrict y, float a, const float *restrict x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

/* sum_i a[i] * b[i], in index order */
static inline float dot(const float *restrict a, const float *restrict b, int64_t n) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
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

/* ---- correlate: y (B,OH,OW,N) = corr(x (B,H,W,M), w (KH,KW,M,N)) + bias (N) [or 0] ------ */
typedef struct {
    const view_t *v;
    float *y;
    const float *x, *w, *bias;
} correlate_ctx;

static void correlate_rows(void *arg, int64_t begin, int64_t end) {
    const correlate_ctx *c = arg;
    const view_t *v = c->v;
    const int64_t M = v->M, N = v->N;
    for (int64_t row = begin; row < end; row++) {
        int64_t b = row / v->OH, oh = row % v->OH;
        for (int64_t ow = 0; ow < v->OW; ow++) {
            float *y = c->y + ((b * v->OH + oh) * v->OW + ow) * N;
            if (c->bias) memcpy(y, c->bias, (size_t)N * sizeof(float));
            else memset(y, 0, (size_t)N * sizeof(float));
            for (int64_t u = 0; u < v->KH; u++) {
                int64_t ih = oh * v->SH + u * v->DH - v->PT;
                if (ih < 0) continue;
                if (ih >= v->H) break;
                for (int64_t t = 0; t < v->KW; t++) {
                    int64_t iw = ow * v->SW + t * v->DW - v->PL;
                    if (iw < 0) continue;
                    if (iw >= v->W) break;
                    const float *x = c->x + ((b * v->H + ih) * v->W + iw) * M;
                    const float *w = c->w + (u * v->KW + t) * M * N;
                    if (N == 1) y[0] += dot(x, w, M); /* single output channel */
                    else
                        for (int64_t m = 0; m < M; m++) axpy(y, x[m], w + m * N, N);
                }
            }
        }
    }
}

static void correlate(float *y, const float *x, const float *w, const float *bias,
                      const view_t *v) {
    correlate_ctx c = {v, y, x, w, bias};
    aenn_parallel_for(v->B * v->OH, min_rows(v->OW * v->KH * v->KW * v->M * v->N),
                      correlate_rows, &c);
}

/* ---- gather: dx (B,H,W,M) = corr^T(dy (B,OH,OW,N), wt (KH,KW,N,M)) + bias (M) [or 0] ----
 * dx[b,ih,iw,m] sums dy[b,oh,ow,n] * w[u,t,m,n] over every (oh,u,ow,t,n) with
 * oh*SH + u*DH - PT = ih and ow*SW + t*DW - PL = iw; wt holds w with its last axes swapped. */
typedef struct {
    const view_t *v;
    float *dx;
    const float *dy, *wt, *bias;
} gather_ctx;

static void gather_rows(void *arg, int64_t begin, int64_t end) {
    const gather_ctx *c = arg;
    const view_t *v = c->v;
    const int64_t M = v->M, N = v->N;
    for (int64_t row = begin; row < end; row++) {
        int64_t b = row / v->H, ih = row % v->H;
        for (int64_t iw = 0; iw < v->W; iw++) {
            float *dx = c->dx + ((b * v->H + ih) * v->W + iw) * M;
            if (c->bias) memcpy(dx, c->bias, (size_t)M * sizeof(float));
            else memset(dx, 0, (size_t)M * sizeof(float));
            for (int64_t u = 0; u < v->KH; u++) {
                int64_t ph = ih + v->PT - u * v->DH; /* = oh * SH */
                if (ph < 0) break;
                if (ph % v->SH) continue;
                int64_t oh = ph / v->SH;
                if (oh >= v->OH) continue;
                for (int64_t t = 0; t < v->KW; t++) {
                    int64_t pw = iw + v->PL - t * v->DW;
                    if (pw < 0) break;
                    if (pw % v->SW) continue;
                    int64_t ow = pw / v->SW;
                    if (ow >= v->OW) continue;
                    const float *dy = c->dy + ((b * v->OH + oh) * v->OW + ow) * N;
                    const float *wt = c->wt + (u * v->KW + t) * N * M;
                    if (M == 1) dx[0] += dot(dy, wt, N); /* single input channel */
                    else
                        for (int64_t n = 0; n < N; n++) axpy(dx, dy[n], wt + n * M, M);
                }
            }
        }
    }
}

static void gather(float *dx, const float *dy, const float *wt, const float *bias,
                   const view_t *v) {
    gather_ctx c = {v, dx, dy, wt, bias};
    aenn_parallel_for(v->B * v->H, min_rows(v->W * v->KH * v->KW * v->M * v->N), gather_rows,
                      &c);
}

/* ---- wgrad: dw (KH,KW,M,N) = sum over (b,oh,ow) of x (x) dy -----------------------------
 * Chunk k covers the (b,oh) rows [k*AENN_CHUNK, (k+1)*AENN_CHUNK) of dy and writes its partial
 * sums to part + k*(KH*KW*M*N); the partials are then added in chunk order. */
typedef struct {
    const view_t *v;
    float *part, *dw;
    const float *x, *dy;
    int64_t chunks;
} wgrad_ctx;

static void wgrad_chunks(void *arg, int64_t begin, int64_t end) {
    const wgrad_ctx *c = arg;
    const view_t *v = c->v;
    const int64_t M = v->M, N = v->N, wsize = v->KH * v->KW * M * N;
    const int64_t rows = v->B * v->OH;
    for (int64_t k = begin; k < end; k++) {
        float *part = c->part + k * wsize;
        memset(part, 0, (size_t)wsize * sizeof(float));
        int64_t r1 = (k + 1) * AENN_CHUNK < rows ? (k + 1) * AENN_CHUNK : rows;
        for (int64_t row = k * AENN_CHUNK; row < r1; row++) {
            int64_t b = row / v->OH, oh = row % v->OH;
            for (int64_t ow = 0; ow < v->OW; ow++) {
                const float *dy = c->dy + ((b * v->OH + oh) * v->OW + ow) * N;
                for (int64_t u = 0; u < v->KH; u++) {
                    int64_t ih = oh * v->SH + u * v->DH - v->PT;
                    if (ih < 0) continue;
                    if (ih >= v->H) break;
                    for (int64_t t = 0; t < v->KW; t++) {
                        int64_t iw = ow * v->SW + t * v->DW - v->PL;
                        if (iw < 0) continue;
                        if (iw >= v->W) break;
                        const float *x = c->x + ((b * v->H + ih) * v->W + iw) * M;
                        float *p = part + (u * v->KW + t) * M * N;
                        if (N == 1) axpy(p, dy[0], x, M); /* p is (M,1): contiguous in m */
                        else
                            for (int64_t m = 0; m < M; m++) axpy(p + m * N, x[m], dy, N);
                    }
                }
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

static void combine_range(void *arg, int64_t begin, int64_t end) {
    const combine_ctx *c = arg;
    for (int64_t i = begin; i < end; i++) {
        float s = 0.0f;
        for (int64_t k = 0; k < c->chunks; k++) s += c->part[k * c->size + i];
        c->dst[i] = s;
    }
}

static int64_t wgrad_scratch_size(const view_t *v) {
    return aenn_num_chunks(v->B * v->OH) * v->KH * v->KW * v->M * v->N;
}

static void wgrad(float *dw, const float *x, const float *dy, const view_t *v, float *scratch) {
    int64_t chunks = aenn_num_chunks(v->B * v->OH);
    int64_t wsize = v->KH * v->KW * v->M * v->N;
    wgrad_ctx c = {v, scratch, dw, x, dy, chunks};
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

static void rowsum_chunks(void *arg, int64_t begin, int64_t end) {
    const rowsum_ctx *c = arg;
    for (int64_t k = begin; k < end; k++) {
        float *p = c->part + k * c->N;
        memset(p, 0, (size_t)c->N * sizeof(float));
        int64_t r1 = (k + 1) * AENN_CHUNK < c->R ? (k + 1) * AENN_CHUNK : c->R;
        for (int64_t r = k * AENN_CHUNK; r < r1; r++) {
            const float *d = c->d + r * c->N;
            for (int64_t n = 0; n < c->N; n++) p[n] += d[n];
        }
    }
}

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
