/* convpool.h -- Conv2D with one input channel + ReLU + 2x2 max pooling, fused into one op.
 *
 * The first layers of the coursework's MNIST models: Conv2D(N, 3x3, activation="relu") on a
 * (B,H,W,1) image followed by MaxPooling2D((2,2)). Unfused, the conv writes a (B,OH,OW,N)
 * pre-activation, ReLU another, and the pool reads it; backward writes two more of that size
 * (the pool's input gradient and the ReLU's). Fused, none of them reaches memory: the forward
 * computes two conv rows at a time on the stack, the backward rebuilds one chunk of the conv's
 * output gradient at a time in a small buffer. The results are the unfused layers' bits
 * (convpool.c says why), on every thread count and ISA.
 *
 * Geometry: g is the convolution's (inp (B,H,W,1) -> pre (B,OH,OW,OC), kernel (KH,KW)), with
 * C == 1, KW == 3, KH <= 3, strides 1, dilation 1, any padding, OH >= 2, OW >= 2 and
 * OW * OC <= AENN_CONVPOOL_ROW_MAX. The pool's output is (B, OH/2, OW/2, OC) (windows at
 * stride 2 from the top-left corner; an odd last row / column of pre is in no window).
 */
#ifndef AENN_CONVPOOL_H
#define AENN_CONVPOOL_H

#include "conv.h"

#define AENN_CONVPOOL_ROW_MAX 4096 /* floats of one conv output row (OW * OC) at most */

/* out (B,OH/2,OW/2,OC) = maxpool2x2(relu(conv(inp, weight) + bias)); argmax (same shape, int32)
 * caches oh*OW + ow, the position in the conv output of each window's first maximum (as
 * aenn_maxpool2d_forward does). inp (B,H,W,1), weight (KH,KW,1,OC), bias (OC) or NULL. */
void aenn_convpool_forward(float *out, int32_t *argmax, const float *inp, const float *weight,
                           const float *bias, const aenn_conv2d_geom *g);

/* Scratch floats aenn_convpool_backward needs when its work is split into `groups` parts. */
int64_t aenn_convpool_backward_scratch_size(const aenn_conv2d_geom *g, int64_t groups);

/* dweight (KH,KW,1,OC) and dbias (OC) [or NULL] from dout (B,OH/2,OW/2,OC), the forward's
 * out and argmax, and inp (B,H,W,1); overwritten. groups >= 1 parts of work (each with its own
 * buffer in scratch; the result does not depend on it). No input gradient: the fused op is
 * used where the image needs none (the Python layer falls back to the unfused kernels else). */
void aenn_convpool_backward(float *dweight, float *dbias, const float *dout, const float *out,
                            const int32_t *argmax, const float *inp, const aenn_conv2d_geom *g,
                            int64_t groups, float *scratch);

#endif /* AENN_CONVPOOL_H */
