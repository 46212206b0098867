/* norm.c -- BatchNormalization forward (training / inference) and backward.
 *
 * Statistics are per channel over the N rows. Every sum over rows is cut into chunks of
 * AENN_CHUNK rows, each chunk summed in double into its own scratch row (parallel over chunks),
 * then the chunk partials are added in chunk order (parallel over channels): the result does
 * not depend on the thread count. Elementwise passes are parallel over rows.
 */
#include "norm.h"

#include <math.h>

#include "isa_builds.h"

typedef struct {
    float *out, *mean, *inv_std, *var, *dinp, *dgamma, *dbeta;
    const float *inp, *dout, *gamma, *beta, *cmean, *cinv_std, *cvar;
    double *scratch;
    int64_t N, C;
    float eps;
    int training;
} bn_ctx;

/* Speed: every loop below runs over the channels of one row with local restrict pointers and
 * no per-element test (gamma / beta / the inference branch are hoisted out), so it vectorises;
 * isa_builds.h compiles each range function for SSE2, AVX2 and AVX-512. Lanes hold channels,
 * each channel's sums keep their row order, so the bits are those of the scalar loops. */

/* pass 1: per-chunk sums of x. scratch[ch*C + c] = sum over the chunk's rows (ascending) */
static AENN_ALWAYS_INLINE void chunk_sum_body(void *vctx, int64_t begin, int64_t end) {
    const bn_ctx *k = vctx;
    const int64_t N = k->N, C = k->C;
    for (int64_t ch = begin; ch < end; ch++) {
        double *restrict acc = k->scratch + ch * C;
        int64_t r0 = ch * AENN_CHUNK, r1 = r0 + AENN_CHUNK < N ? r0 + AENN_CHUNK : N;
        for (int64_t c = 0; c < C; c++) acc[c] = 0.0;
        for (int64_t r = r0; r < r1; r++) {
            const float *restrict x = k->inp + r * C;
            for (int64_t c = 0; c < C; c++) acc[c] += (double)x[c];
        }
    }
}
AENN_ISA_BUILDS(chunk_sum)

/* pass 2: per-chunk sums of (x - mean)^2, mean from pass 1 (double, in scratch totals) */
static AENN_ALWAYS_INLINE void chunk_sqdev_body(void *vctx, int64_t begin, int64_t end) {
    const bn_ctx *k = vctx;
    const int64_t N = k->N, C = k->C;
    const double *restrict m = k->scratch + 2 * aenn_num_chunks(N) * C;
    for (int64_t ch = begin; ch < end; ch++) {
        double *restrict acc = k->scratch + ch * C;
        int64_t r0 = ch * AENN_CHUNK, r1 = r0 + AENN_CHUNK < N ? r0 + AENN_CHUNK : N;
        for (int64_t c = 0; c < C; c++) acc[c] = 0.0;
        for (int64_t r = r0; r < r1; r++) {
            const float *restrict x = k->inp + r * C;
            for (int64_t c = 0; c < C; c++) {
                double d = (double)x[c] - m[c];
                acc[c] += d * d;
            }
        }
    }
}
AENN_ISA_BUILDS(chunk_sqdev)

/* totals[c] = (0 + partial of chunk 0 + partial of chunk 1 + ...) / N, chunks in order; the
 * chunk loop is outside so that the channel loop vectorises (same order per channel). */
static AENN_ALWAYS_INLINE void combine_mean_body(void *vctx, int64_t begin, int64_t end) {
    const bn_ctx *k = vctx;
    const int64_t C = k->C, nch = aenn_num_chunks(k->N);
    double *restrict tot = k->scratch + 2 * nch * C;
    const double n = (double)k->N;
    for (int64_t c = begin; c < end; c++) tot[c] = 0.0;
    for (int64_t ch = 0; ch < nch; ch++) {
        const double *restrict part = k->scratch + ch * C;
        for (int64_t c = begin; c < end; c++) tot[c] += part[c];
    }
    for (int64_t c = begin; c < end; c++) tot[c] = tot[c] / n;
}
AENN_ISA_BUILDS(combine_mean)

/* var = (sum over chunks, in order) / N; mean, var and inv_std = 1/sqrt(var + eps) as floats.
 * The running sum lives in the second half of scratch (free during the forward pass). */
static AENN_ALWAYS_INLINE void combine_var_body(void *vctx, int64_t begin, int64_t end) {
    const bn_ctx *k = vctx;
    const int64_t C = k->C, nch = aenn_num_chunks(k->N);
    const double *restrict m = k->scratch + 2 * nch * C;
    double *restrict s = k->scratch + nch * C; /* chunk partials live in [0, nch*C) */
    float *restrict mean = k->mean, *restrict var = k->var, *restrict inv_std = k->inv_std;
    const double n = (double)k->N, eps = (double)k->eps;
    for (int64_t c = begin; c < end; c++) s[c] = 0.0;
    for (int64_t ch = 0; ch < nch; ch++) {
        const double *restrict part = k->scratch + ch * C;
        for (int64_t c = begin; c < end; c++) s[c] += part[c];
    }
    for (int64_t c = begin; c < end; c++) {
        double v = s[c] / n;
        mean[c] = (float)m[c];
        var[c] = (float)v;
        inv_std[c] = (float)(1.0 / sqrt(v + eps));
    }
}
AENN_ISA_BUILDS(combine_var)

/* out = gamma * ((x - mean) * inv_std) + beta, gamma / beta left out when NULL; inv_std from
 * cinv_std, or 1/sqrt(cvar + eps) if cvar is set (inference). One pass per term over the row
 * (it stays in L1): the same float operations as one expression. */
static AENN_ALWAYS_INLINE void normalize_rows_body(void *vctx, int64_t begin, int64_t end) {
    const bn_ctx *k = vctx;
    const int64_t C = k->C;
    const float *restrict mean = k->cmean, *restrict inv = k->cinv_std, *restrict cvar = k->cvar;
    const float *restrict gamma = k->gamma, *restrict beta = k->beta;
    const float eps = k->eps;
    for (int64_t r = begin; r < end; r++) {
        const float *restrict x = k->inp + r * C;
        float *restrict y = k->out + r * C;
        if (cvar)
            for (int64_t c = 0; c < C; c++) y[c] = (x[c] - mean[c]) * (1.0f / sqrtf(cvar[c] + eps));
        else
            for (int64_t c = 0; c < C; c++) y[c] = (x[c] - mean[c]) * inv[c];
        if (gamma)
            for (int64_t c = 0; c < C; c++) y[c] = gamma[c] * y[c];
        if (beta)
            for (int64_t c = 0; c < C; c++) y[c] = y[c] + beta[c];
    }
}
AENN_ISA_BUILDS(normalize_rows)

/* inp (N, C) -> out (N, C) normalised with the batch statistics; saves mean (C,), inv_std (C,)
 * = 1/sqrt(var + eps) for backward and var (C,) (biased) for the moving-average update.
 * gamma / beta (C,) may be NULL (scale=False / center=False). scratch: see norm.h. */
void aenn_batchnorm_forward_train(float *out, float *mean, float *inv_std, float *var,
                                  const float *inp, const float *gamma, const float *beta,
                                  double *scratch, int64_t N, int64_t C, float eps) {
    bn_ctx k = {0};
    k.out = out; k.mean = mean; k.inv_std = inv_std; k.var = var;
    k.inp = inp; k.gamma = gamma; k.beta = beta; k.scratch = scratch;
    k.N = N; k.C = C; k.eps = eps;
    int64_t nch = aenn_num_chunks(N);
    aenn_parallel_for(nch, 1, chunk_sum, &k);
    aenn_parallel_for(C, 64, combine_mean, &k);
    aenn_parallel_for(nch, 1, chunk_sqdev, &k);
    aenn_parallel_for(C, 64, combine_var, &k);
    k.cmean = mean; k.cinv_std = inv_std;
    aenn_parallel_for(N, 16, normalize_rows, &k);
}

/* inference: out = gamma * (x - moving_mean) / sqrt(moving_var + eps) + beta. */
void aenn_batchnorm_forward_infer(float *out, const float *inp, const float *gamma,
                                  const float *beta, const float *moving_mean,
                                  const float *moving_var, int64_t N, int64_t C, float eps) {
    /* 1/sqrt(var + eps) is recomputed per row from moving_var: no scratch needed */
    bn_ctx k = {0};
    k.out = out; k.inp = inp; k.gamma = gamma; k.beta = beta; k.N = N; k.C = C; k.eps = eps;
    k.cmean = moving_mean; k.cvar = moving_var;
    aenn_parallel_for(N, 16, normalize_rows, &k);
}

/* backward pass 1: per-chunk sums of dout (-> dbeta) and dout * xhat (-> dgamma) */
static AENN_ALWAYS_INLINE void chunk_grad_sums_body(void *vctx, int64_t begin, int64_t end) {
    const bn_ctx *k = vctx;
    const int64_t N = k->N, C = k->C, nch = aenn_num_chunks(N);
    const float *restrict mean = k->cmean, *restrict inv = k->cinv_std;
    for (int64_t ch = begin; ch < end; ch++) {
        double *restrict sb = k->scratch + ch * C, *restrict sg = k->scratch + (nch + ch) * C;
        int64_t r0 = ch * AENN_CHUNK, r1 = r0 + AENN_CHUNK < N ? r0 + AENN_CHUNK : N;
        for (int64_t c = 0; c < C; c++) sb[c] = sg[c] = 0.0;
        for (int64_t r = r0; r < r1; r++) {
            const float *restrict x = k->inp + r * C, *restrict d = k->dout + r * C;
            for (int64_t c = 0; c < C; c++) {
                float xhat = (x[c] - mean[c]) * inv[c];
                sb[c] += (double)d[c];
                sg[c] += (double)d[c] * (double)xhat;
            }
        }
    }
}
AENN_ISA_BUILDS(chunk_grad_sums)

/* totals of both sums over the chunks, in chunk order (channel loop inside: vectorises) */
static AENN_ALWAYS_INLINE void combine_grads_body(void *vctx, int64_t begin, int64_t end) {
    const bn_ctx *k = vctx;
    const int64_t C = k->C, nch = aenn_num_chunks(k->N);
    double *restrict tb = k->scratch + 2 * nch * C, *restrict tg = tb + C;
    for (int64_t c = begin; c < end; c++) tb[c] = tg[c] = 0.0;
    for (int64_t ch = 0; ch < nch; ch++) {
        const double *restrict pb = k->scratch + ch * C, *restrict pg = k->scratch + (nch + ch) * C;
        for (int64_t c = begin; c < end; c++) {
            tb[c] += pb[c];
            tg[c] += pg[c];
        }
    }
    if (k->dbeta)
        for (int64_t c = begin; c < end; c++) k->dbeta[c] = (float)tb[c];
    if (k->dgamma)
        for (int64_t c = begin; c < end; c++) k->dgamma[c] = (float)tg[c];
}
AENN_ISA_BUILDS(combine_grads)

/* training: dinp = gamma*inv_std/N * (N*dout - sum(dout) - xhat*sum(dout*xhat));
 * inference: dinp = gamma*inv_std*dout (gamma read as 1 when NULL) */
static AENN_ALWAYS_INLINE void dinp_rows_body(void *vctx, int64_t begin, int64_t end) {
    const bn_ctx *k = vctx;
    const int64_t C = k->C, nch = aenn_num_chunks(k->N);
    const double *restrict tb = k->scratch + 2 * nch * C, *restrict tg = tb + C;
    const float *restrict mean = k->cmean, *restrict inv = k->cinv_std, *restrict gamma = k->gamma;
    const float n = (float)k->N;
    for (int64_t r = begin; r < end; r++) {
        const float *restrict x = k->inp + r * C, *restrict d = k->dout + r * C;
        float *restrict dx = k->dinp + r * C;
        /* dx first holds s = g * inv_std (g = gamma or 1), then the gradient */
        if (gamma)
            for (int64_t c = 0; c < C; c++) dx[c] = gamma[c] * inv[c];
        else
            for (int64_t c = 0; c < C; c++) dx[c] = 1.0f * inv[c];
        if (k->training) {
            for (int64_t c = 0; c < C; c++) {
                float xhat = (x[c] - mean[c]) * inv[c];
                dx[c] = dx[c] / n * (n * d[c] - (float)tb[c] - xhat * (float)tg[c]);
            }
        } else {
            for (int64_t c = 0; c < C; c++) dx[c] = dx[c] * d[c];
        }
    }
}
AENN_ISA_BUILDS(dinp_rows)

/* dout, inp (N, C); mean, inv_std (C,) the statistics the forward used (batch statistics when
 * training, else moving_mean and 1/sqrt(moving_var + eps)); gamma (C,) or NULL.
 * -> dinp (N, C) (may be NULL), dgamma, dbeta (C,) (each may be NULL). */
void aenn_batchnorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                             const float *inp, const float *mean, const float *inv_std,
                             const float *gamma, double *scratch, int64_t N, int64_t C,
                             int training) {
    bn_ctx k = {0};
    k.dinp = dinp; k.dgamma = dgamma; k.dbeta = dbeta; k.dout = dout; k.inp = inp;
    k.cmean = mean; k.cinv_std = inv_std; k.gamma = gamma; k.scratch = scratch;
    k.N = N; k.C = C; k.training = training;
    aenn_parallel_for(aenn_num_chunks(N), 1, chunk_grad_sums, &k);
    aenn_parallel_for(C, 64, combine_grads, &k);
    if (dinp) aenn_parallel_for(N, 16, dinp_rows, &k);
}
