/* conv_internal.h -- pieces of conv.c that the fused conv + ReLU + max-pool op (convpool.c)
 * reuses, so that it computes every value with the very code of the unfused convolution.
 * Not part of the kernel API: serial helpers, no argument checks.
 */
#ifndef AENN_CONV_INTERNAL_H
#define AENN_CONV_INTERNAL_H

#include "conv.h"

/* Output row (b, oh) of a one-input-channel convolution (g->C == 1, g->KH <= 256):
 * y_row (OW, OC) = conv(inp (B,H,W,1), weight (KH,KW,1,OC)) + bias (OC) [or NULL]. The same
 * operations as aenn_conv2d_forward gives that row. */
void aenn_conv2d_m1_row(float *y_row, const float *inp, const float *weight, const float *bias,
                        const aenn_conv2d_geom *g, int64_t b, int64_t oh);

/* Chunk k (rows [k*AENN_CHUNK, (k+1)*AENN_CHUNK) of the B*OH output rows) of the weight
 * gradient of a one-input-channel convolution with a 3-wide kernel of <= 3 rows
 * (g->C == 1, g->KW == 3, g->KH <= 3): part (KH,3,1,OC) is overwritten with the chunk's partial
 * sums, exactly as aenn_conv2d_backward computes them. dyr[i] points at the dout row (OW, OC)
 * of the chunk's i-th row. */
void aenn_conv2d_m1_wgrad_chunk(float *part, const float *inp, const float *const *dyr,
                                const aenn_conv2d_geom *g, int64_t k);

/* The bias gradient's chunk partials of d (R, N): part + j*N = sum of rows
 * [j*AENN_CHUNK, (j+1)*AENN_CHUNK) of d, rows ascending, for every chunk j. Serial. */
void aenn_rowsum_chunks(float *part, const float *d, int64_t R, int64_t N);

/* dst[i] = sum over k of part[k*size + i], chunks in order (parallel over i). */
void aenn_combine_chunks(float *dst, const float *part, int64_t size, int64_t chunks);

#endif /* AENN_CONV_INTERNAL_H */
