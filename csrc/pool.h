/* pool.h -- max / average pooling on NHWC tensors (1-D pooling is H = 1). */
#ifndef AENN_POOL_H
#define AENN_POOL_H

#include <string.h>

#include "aenn.h"
#include "mathfn_vec.h"

/* Geometry of one pooling call. Input (B, H, W, C), output (B, OH, OW, C).
 * Window (KH, KW), strides (SH, SW); PT / PL = padding rows before (top) / columns before
 * (left). Padded cells never take part: max ignores them, average divides by the number of
 * real cells in the window (Keras / TF 'same', count_include_pad=False). */
typedef struct {
    int64_t B, H, W, C;
    int64_t OH, OW;
    int64_t KH, KW, SH, SW;
    int64_t PT, PL;
} aenn_pool_geom;

void aenn_maxpool2d_forward(float *out, int32_t *argmax, const float *inp, const aenn_pool_geom *g);
void aenn_maxpool2d_backward(float *dinp, const float *dout, const int32_t *argmax,
                             const aenn_pool_geom *g);
void aenn_avgpool2d_forward(float *out, const float *inp, const aenn_pool_geom *g);
void aenn_avgpool2d_backward(float *dinp, const float *dout, const aenn_pool_geom *g);

/* The 2x2 / stride 2 max-pooling paths (forward and backward) are on by default; 0 turns it off (tests compare it with
 * the general kernels). Returns the previous setting. */
int aenn_pool_set_special_paths(int on);

/* One step of a max-pool window scan: (m, k) becomes (v, kv) when v > m or v is the first NaN
 * (the first maximum wins, NaN propagates). Selects on the bits (no branches) so that a loop
 * over channels vectorises. The 2x2 pooling paths and the fused conv + pool (convpool.c) scan
 * a window with it. */
static inline void aenn_maxpool_step(float *m, int32_t *k, float v, int32_t kv) {
    int32_t take = -(int32_t)((v > *m) | ((v != v) & (*m == *m)));
    uint32_t mb, vb;
    memcpy(&mb, m, 4);
    memcpy(&vb, &v, 4);
    mb = (vb & (uint32_t)take) | (mb & ~(uint32_t)take);
    memcpy(m, &mb, 4);
    *k = (kv & take) | (*k & ~take);
}

/* ---- MaxPooling2D((2, 2)) at stride 2 over relu(pre), relu(pre) never written ---------------
 * The pool after a Conv2D(activation="relu") (csrc/convpool.c, and the graph fusion of
 * aenn/models/fusion.py): forward reads the conv's pre-activation, backward writes its gradient,
 * with the bits of the ReLU and pooling kernels run one after the other (see the helpers). */

/* out, argmax (B, H/2, W/2, C) from pre (B, H, W, C), H >= 2, W >= 2 (an odd last row / column
 * is in no window); argmax as aenn_maxpool2d_forward gives for relu(pre). */
void aenn_relu_maxpool2x2_forward(float *out, int32_t *argmax, const float *pre, int64_t B,
                                  int64_t H, int64_t W, int64_t C);

/* dpre (B, H, W, C) = the gradient of pre from dout, out and argmax (B, H/2, W/2, C). */
void aenn_relu_maxpool2x2_backward(float *dpre, const float *dout, const float *out,
                                   const int32_t *argmax, int64_t B, int64_t H, int64_t W,
                                   int64_t C);

/* One step of that scan on relu values: relu(pre) is never NaN (NaN > 0 is false, so it
 * becomes 0), so aenn_maxpool_step's NaN rule never fires and take = v > m is all that is left.
 * Same bits, about half the instructions. */
static inline void aenn_relu_maxpool_step(float *m, int32_t *k, float v, int32_t kv) {
    const int take = v > *m;
    *m = aenn_vsel(take, v, *m);
    *k = take ? kv : *k;
}

/* One pooled row: out, argmax (PW, C) from the pre rows p0, p1 (W, C) of a sample, p0 being its
 * row h0 (row_start = h0 * W). Each window scans (0,0), (0,1), (1,0), (1,1) of
 * relu(pre) = pre > 0 ? pre : 0 (activation.c's ReLU), as aenn_maxpool_step would.
 * (aenn_relu_maxpool2x2_row below picks the build of it.) */
static inline __attribute__((always_inline)) void
aenn_relu_maxpool2x2_cells(float *restrict out, int32_t *restrict argmax, const float *restrict p0,
                           const float *restrict p1, int64_t PW, int64_t C, int32_t row_start,
                           int32_t W) {
    for (int64_t pw = 0; pw < PW; pw++) {
        const float *a0 = p0 + 2 * pw * C, *a1 = a0 + C, *b0 = p1 + 2 * pw * C, *b1 = b0 + C;
        float *o = out + pw * C;
        int32_t *k = argmax + pw * C;
        const int32_t i00 = row_start + (int32_t)(2 * pw);
        for (int64_t c = 0; c < C; c++) {
            float m = aenn_vsel(a0[c] > 0.0f, a0[c], 0.0f);
            int32_t km = i00;
            aenn_relu_maxpool_step(&m, &km, aenn_vsel(a1[c] > 0.0f, a1[c], 0.0f), i00 + 1);
            aenn_relu_maxpool_step(&m, &km, aenn_vsel(b0[c] > 0.0f, b0[c], 0.0f), i00 + W);
            aenn_relu_maxpool_step(&m, &km, aenn_vsel(b1[c] > 0.0f, b1[c], 0.0f), i00 + W + 1);
            o[c] = m;
            k[c] = km;
        }
    }
}

static inline void aenn_relu_maxpool2x2_row(float *restrict out, int32_t *restrict argmax,
                                            const float *restrict p0, const float *restrict p1,
                                            int64_t PW, int64_t C, int32_t row_start,
                                            int32_t W) {
    /* a constant C = 16 (one AVX-512 vector) lets the compiler drop the loop's vector set-up */
    if (C == 16)
        aenn_relu_maxpool2x2_cells(out, argmax, p0, p1, PW, 16, row_start, W);
    else
        aenn_relu_maxpool2x2_cells(out, argmax, p0, p1, PW, C, row_start, W);
}

/* The cells of one conv row under the pooled row dout, out, argmax (PW, C): column 2pw and
 * 2pw + 1 of d from cell pw; i0 = the index of the row's column 0. */
static inline __attribute__((always_inline)) void
aenn_relu_maxpool2x2_grad_cells(float *restrict d, const float *restrict dout,
                                const float *restrict out, const int32_t *restrict argmax,
                                int64_t PW, int64_t C, int32_t i0) {
    for (int64_t pw = 0; pw < PW; pw++) {
        float *restrict d0 = d + 2 * pw * C, *restrict d1 = d0 + C;
        const float *dp = dout + pw * C, *mp = out + pw * C;
        const int32_t *ap = argmax + pw * C;
        const int32_t idx0 = i0 + (int32_t)(2 * pw), idx1 = idx0 + 1;
        for (int64_t c = 0; c < C; c++) {
            float v = 0.0f + dp[c];
            float r = aenn_vsel(mp[c] > 0.0f, v, v * 0.0f);
            d0[c] = aenn_vsel(ap[c] == idx0, r, 0.0f);
            d1[c] = aenn_vsel(ap[c] == idx1, r, 0.0f);
        }
    }
}

/* Row h of sample b's pre gradient, d (W, C), from the pooled dout, out and argmax
 * (B, H/2, W/2, C) of a pre of height H. What the pool's backward and then the ReLU's backward
 * write: the pool puts v = 0.0f + dout at the window's argmax cell and 0.0f elsewhere (pool.c);
 * the ReLU keeps v where pre > 0 and makes it v * 0.0f elsewhere (activation.c, masked_grad).
 * Off the argmax v is +0.0f either way; at it, pre > 0 exactly when the pooled output
 * relu(pre) is > 0, so out decides and pre is not needed. An odd last row or column is in no
 * window: zeros. */
static inline void aenn_relu_maxpool2x2_grad_row(float *restrict d, const float *restrict dout,
                                                 const float *restrict out,
                                                 const int32_t *restrict argmax, int64_t b,
                                                 int64_t h, int64_t H, int64_t W, int64_t C) {
    const int64_t PH = H / 2, PW = W / 2, ph = h / 2;
    if (ph >= PH) {
        memset(d, 0, (size_t)(W * C) * sizeof(float));
        return;
    }
    const int64_t at = (b * PH + ph) * PW * C; /* the pooled row */
    const int32_t i0 = (int32_t)(h * W);           /* index of column 0 of this row */
    /* per pooled cell: the window's gradient r once, then its two columns of this row; a
     * constant C = 16 (one AVX-512 vector) lets the compiler drop the loop's vector set-up */
    if (C == 16)
        aenn_relu_maxpool2x2_grad_cells(d, dout + at, out + at, argmax + at, PW, 16, i0);
    else
        aenn_relu_maxpool2x2_grad_cells(d, dout + at, out + at, argmax + at, PW, C, i0);
    if (W > 2 * PW) /* an odd last column */
        memset(d + 2 * PW * C, 0, (size_t)C * sizeof(float));
}

#endif /* AENN_POOL_H */
