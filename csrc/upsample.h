/* upsample.h -- integer-factor upsampling of NHWC tensors: nearest and bilinear. */
#ifndef AENN_UPSAMPLE_H
#define AENN_UPSAMPLE_H

#include "aenn.h"

/* Input (B, H, W, C), output (B, H*SH, W*SW, C). */
typedef struct {
    int64_t B, H, W, C, SH, SW;
} aenn_upsample_geom;

void aenn_upsample_nearest_forward(float *out, const float *inp, const aenn_upsample_geom *g);
void aenn_upsample_nearest_backward(float *dinp, const float *dout, const aenn_upsample_geom *g);
void aenn_upsample_bilinear_forward(float *out, const float *inp, const aenn_upsample_geom *g);
void aenn_upsample_bilinear_backward(float *dinp, const float *dout, const aenn_upsample_geom *g);

#endif /* AENN_UPSAMPLE_H */
