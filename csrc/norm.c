/* norm.c -- BatchNormalization forward (training / inference) and backward.
 *
 * Statistics are per channel over the N rows. Every sum over rows is cut into chunks of
 * AENN_CHUNK rows, each chunk summed in double into its own scratch row (parallel over chunks),
 * then the chunk partials are added in chunk order (parallel over channels): the result does
 * not depend on the thread count. Elementwise passes are parallel over rows.
 */
#include "norm.h"

#include <math.h>

typedef struct {
    float *out, *mean, *inv_std, *var, *dinp, *dgamma, *dbeta;
    const float *inp, *dout, *gamma, *beta, *cmean, *cinv_std, *cvar;
    double *scratch;
    int64_t N, C;
    float eps;
    int training;
} bn_ctx;

/* pass 1: per-chunk sums of x */
static void chunk_sum(void *vctx, int64_t begin, int64_t end) {
    bn_ctx *k = vctx;
    for (int64_t ch = begin; ch < end; ch++) {
        double *acc = k->scratch + ch * k->C;
        int64_t r0 = ch * AENN_CHUNK, r1 = r0 + AENN_CHUNK < k->N ? r0 + AENN_CHUNK : k->N;
        for (int64_t c = 0; c < k->C; c++) acc[c] = 0.0;
        for (int64_t r = r0; r < r1; r++) {
            const float *x = k->inp + r * k->C;
            for (int64_t c = 0; c < k->C; c++) acc[c] += (double)x[c];
        }
    }
}

/* pass 2: per-chunk sums of (x - mean)^2, mean from pass 1 (double, in scratch totals) */
static void chunk_sqdev(void *vctx, int64_t begin, int64_t end) {
    bn_ctx *k = vctx;
    const double *m = k->scratch + 2 * aenn_num_chunks(k->N) * k->C;
    for (int64_t ch = begin; ch < end; ch++) {
        double *acc = k->scratch + ch * k->C;
        int64_t r0 = ch * AENN_CHUNK, r1 = r0 + AENN_CHUNK < k->N ? r0 + AENN_CHUNK : k->N;
        for (int64_t c = 0; c < k->C; c++) acc[c] = 0.0;
        for (int64_t r = r0; r < r1; r++) {
            const float *x = k->inp + r * k->C;
            for (int64_t c = 0; c < k->C; c++) {
                double d = (double)x[c] - m[c];
                acc[c] += d * d;
            }
        }
    }
}

/* totals[c] = sum over chunks (in order) of partials[ch*C + c] / N */
static void combine_mean(void *vctx, int64_t begin, int64_t end) {
    bn_ctx *k = vctx;
    int64_t nch = aenn_num_chunks(k->N);
    double *tot = k->scratch + 2 * nch * k->C;
    for (int64_t c = begin; c < end; c++) {
        double s = 0.0;
        for (int64_t ch = 0; ch < nch; ch++) s += k->scratch[ch * k->C + c];
        tot[c] = s / (double)k->N;
    }
}

static void combine_var(void *vctx, int64_t begin, int64_t end) {
    bn_ctx *k = vctx;
    int64_t nch = aenn_num_chunks(k->N);
    const double *m = k->scratch + 2 * nch * k->C;
    for (int64_t c = begin; c < end; c++) {
        double s = 0.0;
        for (int64_t ch = 0; ch < nch; ch++) s += k->scratch[ch * k->C + c];
        double v = s / (double)k->N;
        k->mean[c] = (float)m[c];
        k->var[c] = (float)v;
        k->inv_std[c] = (float)(1.0 / sqrt(v + (double)k->eps));
    }
}

/* out = gamma * (x - mean) * inv_std + beta; inv_std from cinv_std, or from cvar if set */
static void normalize_rows(void *vctx, int64_t begin, int64_t end) {
    bn_ctx *k = vctx;
    for (int64_t r = begin; r < end; r++) {
        const float *x = k->inp + r * k->C;
        float *y = k->out + r * k->C;
        for (int64_t c = 0; c < k->C; c++) {
            float inv = k->cvar ? 1.0f / sqrtf(k->cvar[c] + k->eps) : k->cinv_std[c];
            float v = (x[c] - k->cmean[c]) * inv;
            if (k->gamma) v = k->gamma[c] * v;
            if (k->beta) v = v + k->beta[c];
            y[c] = v;
        }
    }
}

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
static void chunk_grad_sums(void *vctx, int64_t begin, int64_t end) {
    bn_ctx *k = vctx;
    int64_t nch = aenn_num_chunks(k->N);
    for (int64_t ch = begin; ch < end; ch++) {
        double *sb = k->scratch + ch * k->C, *sg = k->scratch + (nch + ch) * k->C;
        int64_t r0 = ch * AENN_CHUNK, r1 = r0 + AENN_CHUNK < k->N ? r0 + AENN_CHUNK : k->N;
        for (int64_t c = 0; c < k->C; c++) sb[c] = sg[c] = 0.0;
        for (int64_t r = r0; r < r1; r++) {
            const float *x = k->inp + r * k->C, *d = k->dout + r * k->C;
            for (int64_t c = 0; c < k->C; c++) {
                float xhat = (x[c] - k->cmean[c]) * k->cinv_std[c];
                sb[c] += (double)d[c];
                sg[c] += (double)d[c] * (double)xhat;
            }
        }
    }
}

static void combine_grads(void *vctx, int64_t begin, int64_t end) {
    bn_ctx *k = vctx;
    int64_t nch = aenn_num_chunks(k->N);
    double *tb = k->scratch + 2 * nch * k->C, *tg = tb + k->C;
    for (int64_t c = begin; c < end; c++) {
        double sb = 0.0, sg = 0.0;
        for (int64_t ch = 0; ch < nch; ch++) {
            sb += k->scratch[ch * k->C + c];
            sg += k->scratch[(nch + ch) * k->C + c];
        }
        tb[c] = sb;
        tg[c] = sg;
        if (k->dbeta) k->dbeta[c] = (float)sb;
        if (k->dgamma) k->dgamma[c] = (float)sg;
    }
}

/* training: dinp = gamma*inv_std/N * (N*dout - sum(dout) - xhat*sum(dout*xhat));
 * inference: dinp = gamma*inv_std*dout */
static void dinp_rows(void *vctx, int64_t begin, int64_t end) {
    bn_ctx *k = vctx;
    int64_t nch = aenn_num_chunks(k->N);
    const double *tb = k->scratch + 2 * nch * k->C, *tg = tb + k->C;
    const float n = (float)k->N;
    for (int64_t r = begin; r < end; r++) {
        const float *x = k->inp + r * k->C, *d = k->dout + r * k->C;
        float *dx = k->dinp + r * k->C;
        for (int64_t c = 0; c < k->C; c++) {
            float g = k->gamma ? k->gamma[c] : 1.0f;
            float s = g * k->cinv_std[c];
            if (k->training) {
                float xhat = (x[c] - k->cmean[c]) * k->cinv_std[c];
                dx[c] = s / n * (n * d[c] - (float)tb[c] - xhat * (float)tg[c]);
            } else {
                dx[c] = s * d[c];
            }
        }
    }
}

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
