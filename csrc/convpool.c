/* convpool.c -- Conv2D (one input channel) + ReLU + 2x2/stride-2 max pooling as one op
 * (convpool.h).
 *
 * Forward, per pooled row (b, ph), parallel over rows:
 *   pre rows 2ph, 2ph+1 (OW, N) = the conv's row code for two rows (aenn_conv2d_m1_2rows: the
 *     operations of aenn_conv2d_m1_row, each input value broadcast once for both), on the stack
 *   y = relu(pre) = pre > 0 ? pre : 0                          (activation.c, AENN_ACT_RELU)
 *   out, argmax = the window scan (0,0), (0,1), (1,0), (1,1)   (pool.h, aenn_maxpool_step)
 * Backward, per chunk of AENN_CHUNK conv rows (the chunks of the conv's weight gradient),
 * parallel over groups of consecutive chunks, each group with its own tile buffer:
 *   dy (the gradient of pre) for the chunk's rows, into the tile:
 *     the pool's backward puts v = 0.0f + dout at the argmax cell, 0.0f elsewhere (pool.c);
 *     ReLU's backward keeps v where pre > 0 and makes it v * 0.0f elsewhere (activation.c,
 *     masked_grad). Off the argmax v is +0.0f either way; at the argmax, pre > 0 exactly when
 *     the pooled output (relu(pre) there) is > 0, so out decides it and pre is not needed;
 *   dweight chunk partial = the conv's own chunk code (aenn_conv2d_m1_wgrad_chunk) on the tile;
 *   dbias chunk partials  = the conv's own row sums (aenn_rowsum_chunks): a tile starts at
 *     pixel k*AENN_CHUNK*OW, a multiple of AENN_CHUNK, so its bias chunks are the global ones;
 * then the partials are added in chunk order (aenn_combine_chunks), as the conv does.
 * Every value is therefore computed by the unfused layers' operations in their order: the
 * fused op gives their bits (tests/kernels/test_convpool.py checks it on every ISA).
 */
#include "convpool.h"

#include <string.h>

#include "conv_internal.h"
#include "isa_builds.h"
#include "mathfn_vec.h"
#include "pool.h"

/* ---- forward ------------------------------------------------------------------------------ */

typedef struct {
    float *out;
    int32_t *argmax;
    const float *inp, *weight, *bias;
    const aenn_conv2d_geom *g;
} fwd_ctx;

static AENN_ALWAYS_INLINE void convpool_forward_rows_body(void *vctx, int64_t begin,
                                                          int64_t end) {
    const fwd_ctx *c = vctx;
    const aenn_conv2d_geom *g = c->g;
    const int64_t N = g->OC, OW = g->OW, PH = g->OH / 2, PW = g->OW / 2;
    float pre[2 * AENN_CONVPOOL_ROW_MAX]; /* conv rows 2ph and 2ph+1 */
    for (int64_t row = begin; row < end; row++) {
        const int64_t b = row / PH, ph = row % PH;
        aenn_conv2d_m1_2rows(pre, pre + OW * N, c->inp, c->weight, c->bias, g, b, 2 * ph);
        aenn_relu_maxpool2x2_row(c->out + row * PW * N, c->argmax + row * PW * N, pre,
                                 pre + OW * N, PW, N, (int32_t)(2 * ph * OW), (int32_t)OW);
    }
}

AENN_ISA_BUILDS(convpool_forward_rows)

void aenn_convpool_forward(float *out, int32_t *argmax, const float *inp, const float *weight,
                           const float *bias, const aenn_conv2d_geom *g) {
    fwd_ctx c = {out, argmax, inp, weight, bias, g};
    const int64_t per_row = 2 * g->OW * g->OC * g->KH * g->KW; /* multiply-adds */
    aenn_parallel_for(g->B * (g->OH / 2), 1 + 65536 / (per_row + 1), convpool_forward_rows, &c);
}

/* ---- backward ----------------------------------------------------------------------------- */

typedef struct {
    float *wpart, *bpart, *tiles;
    const float *dout, *out, *inp;
    const int32_t *argmax;
    const aenn_conv2d_geom *g;
    int64_t chunks, groups;
} bwd_ctx;

static AENN_ALWAYS_INLINE void convpool_backward_groups_body(void *vctx, int64_t begin,
                                                             int64_t end) {
    const bwd_ctx *c = vctx;
    const aenn_conv2d_geom *g = c->g;
    const int64_t rows = g->B * g->OH, row_len = g->OW * g->OC;
    const int64_t wsize = g->KH * g->KW * g->OC;
    for (int64_t grp = begin; grp < end; grp++) {
        float *tile = c->tiles + grp * AENN_CHUNK * row_len;
        const int64_t k0 = grp * c->chunks / c->groups, k1 = (grp + 1) * c->chunks / c->groups;
        for (int64_t k = k0; k < k1; k++) {
            const float *dyr[AENN_CHUNK];
            const int64_t r0 = k * AENN_CHUNK, r1 = r0 + AENN_CHUNK < rows ? r0 + AENN_CHUNK : rows;
            for (int64_t row = r0; row < r1; row++) {
                float *d = tile + (row - r0) * row_len;
                aenn_relu_maxpool2x2_grad_row(d, c->dout, c->out, c->argmax, row / g->OH,
                                              row % g->OH, g->OH, g->OW, g->OC);
                dyr[row - r0] = d;
            }
            aenn_conv2d_m1_wgrad_chunk(c->wpart + k * wsize, c->inp, dyr, g, k);
            if (c->bpart)
                aenn_rowsum_chunks(c->bpart + k * g->OW * g->OC, tile, (r1 - r0) * g->OW, g->OC);
        }
    }
}

AENN_ISA_BUILDS(convpool_backward_groups)

static int64_t clamp_groups(const aenn_conv2d_geom *g, int64_t groups) {
    int64_t chunks = aenn_num_chunks(g->B * g->OH);
    if (groups > chunks) groups = chunks;
    return groups < 1 ? 1 : groups;
}

/* scratch: [dweight chunk partials] [dbias chunk partials] [one tile per group] */
int64_t aenn_convpool_backward_scratch_size(const aenn_conv2d_geom *g, int64_t groups) {
    return aenn_num_chunks(g->B * g->OH) * g->KH * g->KW * g->OC +
           aenn_num_chunks(g->B * g->OH * g->OW) * g->OC +
           clamp_groups(g, groups) * AENN_CHUNK * g->OW * g->OC;
}

void aenn_convpool_backward(float *dweight, float *dbias, const float *dout, const float *out,
                            const int32_t *argmax, const float *inp, const aenn_conv2d_geom *g,
                            int64_t groups, float *scratch) {
    const int64_t chunks = aenn_num_chunks(g->B * g->OH), wsize = g->KH * g->KW * g->OC;
    const int64_t bchunks = aenn_num_chunks(g->B * g->OH * g->OW);
    groups = clamp_groups(g, groups);
    float *wpart = scratch, *bpart = wpart + chunks * wsize, *tiles = bpart + bchunks * g->OC;
    bwd_ctx c = {wpart, dbias ? bpart : NULL, tiles, dout, out, inp, argmax, g, chunks, groups};
    aenn_parallel_for(groups, 1, convpool_backward_groups, &c);
    aenn_combine_chunks(dweight, wpart, wsize, chunks);
    if (dbias) aenn_combine_chunks(dbias, bpart, g->OC, bchunks);
}
