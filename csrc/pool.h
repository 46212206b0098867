/* pool.h -- max / average pooling on NHWC tensors (1-D pooling is H = 1). */
#ifndef AENN_POOL_H
#define AENN_POOL_H

#include <string.h>

#include "aenn.h"

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

#endif /* AENN_POOL_H */
