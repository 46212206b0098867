/* noise.h -- multiplicative masks (dropout, Gaussian dropout, spatial dropout). */
#ifndef AENN_NOISE_H
#define AENN_NOISE_H

#include "aenn.h"

void aenn_mask_mul(float *out, const float *inp, const float *mask, float scale, int64_t B,
                   int64_t S, int64_t C, int64_t mask_S);

#endif /* AENN_NOISE_H */
