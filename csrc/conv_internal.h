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

/* Output rows oh and oh + 1 of a one-input-channel convolution at stride 1 and dilation 1
 * (g->C == 1, g->KH <= AENN_M1X2_KHMAX, oh + 1 < g->OH): y0, y1 (OW, OC) as aenn_conv2d_m1_row
 * gives them, computed together (each broadcast input value feeds both rows). */
#define AENN_M1X2_KHMAX 8
void aenn_conv2d_m1_2rows(float *y0, float *y1, const float *inp, const float *weight,
                          const float *bias, const aenn_conv2d_geom *g, int64_t b, int64_t oh);

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

/* 1 while the special paths are on (aenn_conv_set_special_paths); the fused ops that mirror a
 * special path follow the same switch, so tests can compare them with the general path. */
int aenn_conv_special_paths_on(void);

/* Floats per vector of the ISA in force (1, 4, 8 or 16). */
int64_t aenn_conv_vector_floats(void);

/* dst[m*Wbuf + PL + j] = x[j*M + m] for j < min(W, Wbuf - PL): one input row (W, M) transposed
 * to channel-major (the one-output-channel path's row layout); other columns untouched. */
void aenn_conv_transpose_row(float *dst, const float *x, int64_t W, int64_t M, int64_t PL,
                             int64_t Wbuf);

/* The one-output-channel upconv's eight chains with shared loads (upconv_n1_x8 in
 * conv_kernels.inc): chain k = r*4 + a*2 + b' does corr_n1's operations (bias, then one fma per
 * tap and channel; a skipped tap keeps the lane) for the taps (u, t) in order, reading rows[r+u+a]
 * (4 transposed rows, M x Wbuf) at column offset t + b' with weights
 * weff[(((a*2+b')*2+u)*2+t)*M + m], on the lanes of cm[b'*2 + t] when ok[r*4 + r+u+a]. */
void aenn_conv_upconv_n1_x8(float *out, int64_t ostride, int64_t nvec, const float *const *rows,
                            const int *ok, const float *weff, const int32_t *const *cm, int64_t M,
                            int64_t Wbuf, float bias);

/* The one-output-channel upconv's 16 weight-gradient chains for one low-res row, in place
 * (upconv_n1_wgrad_row in conv_kernels.inc): chain q = (par*2 + u)*2 + t, par = a*2 + b', adds
 * for ow ascending fma(xr[u+a][(ow + t + b' - 1)*M + m], dyr[par][2*ow], part[q*M + m]) where
 * that column lies in [0, W) and xr[u+a] is not NULL -- wgrad_n1's operations. */
void aenn_conv_upconv_n1_wgrad_row(float *part, const float *const *xr, const float *const *dyr,
                                   int64_t W, int64_t M);


/* The backward-data row of the one-output-channel upconv (upconv_n1_dx_row in
 * conv_kernels.inc): out (OWn, N) = ((acc_0 + acc_1) + acc_2) + acc_3, acc_g the row_m1 chain of
 * parity g (from 0; kernel rows r < nu[g] reading src[g][r], weights wts[g][r] (2, N); tap
 * column t reads dout column o + C0[g] - t when it lies in [0, Win)). */
void aenn_conv_upconv_n1_dx_row(float *out, int64_t OWn, int64_t N, const float *const (*src)[2],
                                const float *const (*wts)[2], const int64_t *nu,
                                const int64_t *C0, int64_t Win);

#endif /* AENN_CONV_INTERNAL_H */
