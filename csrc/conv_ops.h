/* conv_ops.h -- the per-ISA inner kernels of the convolution passes (conv.c), as one function
 * table per instruction set. conv_kernels.inc holds the kernels; each conv_kernels_<isa>.c
 * compiles it once for its ISA (separate files so that a build compiles them in parallel) and
 * defines that ISA's table. Every table gives the same bits (conv_kernels.inc).
 */
#ifndef AENN_CONV_OPS_H
#define AENN_CONV_OPS_H

#include <stdint.h>

/* A block of P output pixels that read the same list of taps. Pixel p of the block writes
 * out + p*out_step (N channels) and reads, for tap j, xs[j] + p*x_step (M channels) against
 * the (M, N) weight matrix ws[j]. */
typedef struct {
    const float *const *xs;
    const float *const *ws;
    int ntaps;
    int accumulate;        /* 1: start from the values in out (a later segment of taps) */
    int64_t x_step, M, N;
    float *out;
    int64_t out_step, P;
    const float *bias;     /* N floats or NULL (used when !accumulate) */
} corr_blk;

typedef struct {
    void (*corr_block)(const corr_blk *k);
    /* two blocks with the same weights at once (conv_kernels.inc: corr_block_pair) */
    void (*corr_block_pair)(const corr_blk *k0, const corr_blk *k1);
    void (*wgrad_run)(float *p, const float *const *x0s, const float *const *dy0s,
                      const int64_t *counts, int64_t nseg, int64_t xs, int64_t ds, int64_t M,
                      int64_t N);
    void (*corr_n1)(float *tmp, int64_t nvec, const float *const *xt, int64_t nu, int64_t M,
                    int64_t Wbuf, int64_t KW, int64_t DW, const float *const *wr, float bias,
                    const int32_t *valid);
    void (*corr_n1_2rows)(float *tmp, float *tmp2, int64_t nvec, const float *const *xt,
                          const float *const *xt2, int64_t nu, int64_t M, int64_t Wbuf,
                          int64_t KW, int64_t DW, const float *const *wr, float bias,
                          const int32_t *valid);
    void (*wgrad_m1)(float *p, const float *x, const float *dy, const int64_t *lo,
                     const int64_t *hi, int64_t KW, int64_t SW, int64_t DW, int64_t PL,
                     int64_t N);
    void (*wgrad_m1_chunk)(float *p, const float *const *xr, const float *const *dyr,
                           int64_t nrows, int64_t KH, const int64_t *lo, const int64_t *hi,
                           int64_t SW, int64_t DW, int64_t PL, int64_t N);
    void (*wgrad_n1)(float *p, const float *x, const float *dy, const int64_t *lo,
                     const int64_t *hi, int64_t KW, int64_t SW, int64_t DW, int64_t PL,
                     int64_t M);
    void (*row_m1)(float *out, int64_t OWn, int64_t N, const float *const *src,
                   const float *const *wts, int64_t nu, int64_t KW, int64_t S, int64_t TD,
                   int64_t C0, int64_t Win, const float *bias);
    void (*row_m1_2rows)(float *out0, float *out1, int64_t OWn, int64_t N,
                         const float *const *src, const float *w, int64_t KH, int64_t KW,
                         int64_t C0, int64_t Win, const float *bias);
    void (*transpose_row)(float *dst, const float *x, int64_t W, int64_t M, int64_t PL,
                          int64_t Wbuf);
    void (*upconv_n1_x8)(float *out, int64_t ostride, int64_t nvec, const float *const *rows,
                         const int *ok, const float *weff, const int32_t *const *cm, int64_t M,
                         int64_t Wbuf, float bias);
    void (*upconv_n1_wgrad_row)(float *part, const float *const *xr, const float *const *dyr,
                                int64_t W, int64_t M);
    void (*upconv_n1_dx_row)(float *out, int64_t OWn, int64_t N, const float *const (*src)[2],
                             const float *const (*wts)[2], const int64_t *nu, const int64_t *C0,
                             int64_t Win);
    int vl;       /* floats per vector */
    int pair_max; /* corr_block_pair takes blocks of at most this many pixels */
    int64_t wg_bytes; /* wgrad: bytes of dy and x rows per pass over the taps (0: a chunk) */
} conv_ops;

/* The tables: generic everywhere; AVX2 and AVX-512 on x86-64 with GCC or Clang. */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define AENN_CONV_HAS_X86_OPS 1
#else
#define AENN_CONV_HAS_X86_OPS 0
#endif
extern const conv_ops aenn_conv_ops_generic;
#if AENN_CONV_HAS_X86_OPS
extern const conv_ops aenn_conv_ops_avx2;
extern const conv_ops aenn_conv_ops_avx512;
#endif

#endif /* AENN_CONV_OPS_H */
