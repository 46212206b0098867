/* dense.h -- the fully connected layer, Keras layout: weight (C, OC), bias (OC). */
#ifndef AENN_DENSE_H
#define AENN_DENSE_H

#include "aenn.h"

void aenn_dense_forward(float *out, const float *inp, const float *weight, const float *bias,
                        int64_t B, int64_t C, int64_t OC);

void aenn_dense_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                         const float *inp, const float *weight, int64_t B, int64_t C, int64_t OC);

#endif /* AENN_DENSE_H */
