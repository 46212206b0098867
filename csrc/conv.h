/* conv.h -- 2-D convolution and transposed convolution on channels-last (NHWC) tensors.
 *
 * Conv1D and Conv1DTranspose are the 2-D kernels with H = 1 (and kh = 1).
 *
 * Convolution (Keras Conv2D, cross-correlation, no flip):
 *   out[b,oh,ow,o] = bias[o] + sum_{u,v,c} inp[b, oh*sh + u*dh - pad_top, ow*sw + v*dw - pad_left, c]
 *                                          * weight[u,v,c,o]
 *   (positions outside the input read zeros; the bottom/right padding is implied by OH/OW).
 *
 * Transposed convolution (Keras Conv2DTranspose, KERAS.md 2.4): input (B,H,W,C), weight
 * (kh,kw,OC,C); every input pixel scatters inp[b,i,j,c] * weight[u,v,o,c] to the full output
 * position (i*sh + u*dh, j*sw + v*dw); the full output is cropped by (crop_top, crop_left) at
 * the start and to (OH, OW) at the end, positions beyond the full output (zeros appended at the
 * end) receive only the bias. It is the exact adjoint of the convolution whose input is the
 * transpose's output (OH,OW,OC), whose output is the transpose's input (H,W,C), with
 * pad_top = crop_top and pad_left = crop_left.
 */
#ifndef AENN_CONV_H
#define AENN_CONV_H

#include "aenn.h"

/* Geometry of a convolution: input (B,H,W,C) -> output (B,OH,OW,OC), kernel (KH,KW).
 * For the transposed convolution the same struct describes the transpose's own shapes:
 * input (B,H,W,C) -> output (B,OH,OW,OC), and pad_top/pad_left hold crop_top/crop_left. */
typedef struct {
    int64_t B, H, W, C;       /* input */
    int64_t OH, OW, OC;       /* output */
    int64_t KH, KW;           /* kernel size */
    int64_t SH, SW;           /* strides */
    int64_t DH, DW;           /* dilation */
    int64_t pad_top, pad_left; /* zeros before the input (conv) / crop at the start (transpose) */
} aenn_conv2d_geom;

/* Scratch floats that aenn_conv2d_backward / aenn_conv2d_transpose_backward need. */
int64_t aenn_conv2d_backward_scratch_size(const aenn_conv2d_geom *g);
int64_t aenn_conv2d_transpose_backward_scratch_size(const aenn_conv2d_geom *g);
/* Scratch floats that aenn_conv2d_transpose_forward needs (a transposed copy of the kernel). */
int64_t aenn_conv2d_transpose_forward_scratch_size(const aenn_conv2d_geom *g);

/* out (B,OH,OW,OC) = conv(inp (B,H,W,C), weight (KH,KW,C,OC)) + bias (OC) [bias may be NULL] */
void aenn_conv2d_forward(float *out, const float *inp, const float *weight, const float *bias,
                         const aenn_conv2d_geom *g);

/* dinp (B,H,W,C) [may be NULL], dweight (KH,KW,C,OC), dbias (OC) [may be NULL] from
 * dout (B,OH,OW,OC), inp (B,H,W,C), weight (KH,KW,C,OC); gradients are overwritten.
 * scratch: aenn_conv2d_backward_scratch_size(g) floats. */
void aenn_conv2d_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                          const float *inp, const float *weight, const aenn_conv2d_geom *g,
                          float *scratch);

/* out (B,OH,OW,OC) = conv_transpose(inp (B,H,W,C), weight (KH,KW,OC,C)) + bias (OC) [or NULL].
 * scratch: aenn_conv2d_transpose_forward_scratch_size(g) floats. */
void aenn_conv2d_transpose_forward(float *out, const float *inp, const float *weight,
                                   const float *bias, const aenn_conv2d_geom *g, float *scratch);

/* dinp (B,H,W,C) [may be NULL], dweight (KH,KW,OC,C), dbias (OC) [may be NULL] from
 * dout (B,OH,OW,OC), inp (B,H,W,C), weight (KH,KW,OC,C).
 * scratch: aenn_conv2d_transpose_backward_scratch_size(g) floats. */
void aenn_conv2d_transpose_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                                    const float *inp, const float *weight,
                                    const aenn_conv2d_geom *g, float *scratch);

/* The special paths (one input channel, one output channel: forward, backward-data and
 * weight gradient) are on by default; 0 turns them off so that tests can check that they give
 * the same bits as the general kernels. Returns the previous setting. Not thread-safe against
 * running kernels. */
int aenn_conv_set_special_paths(int on);

#endif /* AENN_CONV_H */
