/* norm.h -- batch normalisation over the last axis of an (N, C) view (N = batch * spatial). */
#ifndef AENN_NORM_H
#define AENN_NORM_H

#include "aenn.h"

/* Doubles of scratch the kernels below need for N rows and C channels. */
static inline int64_t aenn_batchnorm_scratch_size(int64_t N, int64_t C) {
    return 2 * aenn_num_chunks(N) * C + 2 * C;
}

void aenn_batchnorm_forward_train(float *out, float *mean, float *inv_std, float *var,
                                  const float *inp, const float *gamma, const float *beta,
                                  double *scratch, int64_t N, int64_t C, float eps);
void aenn_batchnorm_forward_infer(float *out, const float *inp, const float *gamma,
                                  const float *beta, const float *moving_mean,
                                  const float *moving_var, int64_t N, int64_t C, float eps);
void aenn_batchnorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                             const float *inp, const float *mean, const float *inv_std,
                             const float *gamma, double *scratch, int64_t N, int64_t C,
                             int training);

#endif /* AENN_NORM_H */
