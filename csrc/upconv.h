/* upconv.h -- UpSampling2D(2, nearest) followed by a 3x3 'same' Conv2D (stride 1, dilation 1),
 * fused, NHWC. The upsampled tensor (B,2H,2W,C) is never built.
 *
 * Parity decomposition: output pixel (2i+a, 2j+b), a,b in {0,1}, of the 3x3 'same' conv of the
 * nearest-upsampled input reads low-res rows {i-1, i} when a = 0 (tap row u = 0 -> i-1,
 * u = 1, 2 -> i) and {i, i+1} when a = 1 (u = 0, 1 -> i, u = 2 -> i+1); columns likewise. So the
 * outputs of parity (a,b) are a 2x2 convolution of the low-res input with zero padding
 * (pad_top = 1-a, pad_left = 1-b) and folded weights
 *   weff[a][b][p][q][c][o] = sum of weight[u][v][c][o] over the taps u with row(a,u) = p and
 *                            v with col(b,v) = q   (row(0,u) = min(u,1), row(1,u) = u/2).
 * 16 taps instead of 36 per output pixel group: 2.25x fewer multiply-adds.
 *
 * Folding the weights first changes the rounding against the unfused pair (a few ulps); every
 * result still has one summation order fixed by the shapes, so the bits do not depend on the
 * thread count or the ISA (the parity convolutions are csrc/conv.h's kernels).
 */
#ifndef AENN_UPCONV_H
#define AENN_UPCONV_H

#include "aenn.h"

/* Input (B,H,W,C) -> output (B,2H,2W,OC); weight (3,3,C,OC). */
typedef struct {
    int64_t B, H, W, C, OC;
} aenn_upconv_geom;

/* Scratch floats that the forward / backward need. */
int64_t aenn_upconv_forward_scratch_size(const aenn_upconv_geom *g);
int64_t aenn_upconv_backward_scratch_size(const aenn_upconv_geom *g);

/* out (B,2H,2W,OC) = conv3x3_same(upsample2x_nearest(inp (B,H,W,C)), weight (3,3,C,OC))
 *                    + bias (OC) [bias may be NULL].
 * scratch: aenn_upconv_forward_scratch_size(g) floats. */
void aenn_upconv_forward(float *out, const float *inp, const float *weight, const float *bias,
                         const aenn_upconv_geom *g, float *scratch);

/* dinp (B,H,W,C) [may be NULL], dweight (3,3,C,OC), dbias (OC) [may be NULL] from
 * dout (B,2H,2W,OC), inp (B,H,W,C), weight (3,3,C,OC); gradients are overwritten.
 * scratch: aenn_upconv_backward_scratch_size(g) floats. */
void aenn_upconv_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                          const float *inp, const float *weight, const aenn_upconv_geom *g,
                          float *scratch);

#endif /* AENN_UPCONV_H */
