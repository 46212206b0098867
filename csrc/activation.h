/* activation.h -- elementwise activations, the parametrised ReLU, softmax over the last axis,
 * and a raw entry point to the mathfn.h functions (for their accuracy tests). */
#ifndef AENN_ACTIVATION_H
#define AENN_ACTIVATION_H

#include "aenn.h"

/* Elementwise activation kinds (the Keras names). `alpha` is the slope of leaky_relu and the
 * alpha of elu; the other kinds ignore it. */
enum {
    AENN_ACT_LINEAR = 0,
    AENN_ACT_RELU = 1,
    AENN_ACT_SIGMOID = 2,
    AENN_ACT_TANH = 3,
    AENN_ACT_LEAKY_RELU = 4,   /* x >= 0 ? x : alpha*x */
    AENN_ACT_ELU = 5,          /* x > 0 ? x : alpha*(e^x - 1) */
    AENN_ACT_SELU = 6,         /* scale * elu(x, 1.6732632...) */
    AENN_ACT_SOFTPLUS = 7,     /* log(1 + e^x) */
    AENN_ACT_SOFTSIGN = 8,     /* x / (1 + |x|) */
    AENN_ACT_HARD_SIGMOID = 9, /* Keras 3: clip(x/6 + 0.5, 0, 1) */
    AENN_ACT_GELU = 10,        /* exact: x/2 * (1 + erf(x/sqrt 2)) */
    AENN_ACT_SILU = 11,        /* x * sigmoid(x) (= swish) */
    AENN_ACT_EXPONENTIAL = 12, /* e^x */
    AENN_ACT_RELU6 = 13,       /* min(max(x, 0), 6) */
    AENN_ACT_COUNT = 14,
};

/* 1 if aenn_activation_backward of `kind` reads the forward output `out`, else 0 (then out
 * may be NULL). */
int aenn_activation_needs_out(int kind);

/* out, inp: (n,) any layout, elementwise. out = act(inp). */
void aenn_activation_forward(float *out, const float *inp, int64_t n, int kind, float alpha);
/* dinp, dout, inp, out: (n,). dinp = dout * act'(inp); `out` is the forward output (read by
 * sigmoid, tanh, exponential). */
void aenn_activation_backward(float *dinp, const float *dout, const float *inp, const float *out,
                              int64_t n, int kind, float alpha);

/* The Keras ReLU layer: out = min(x, max_value) if x > threshold,
 * negative_slope * (x - threshold) if x < threshold, 0 at x == threshold.
 * max_value = +inf for "no maximum". out, inp: (n,). */
void aenn_relu_forward(float *out, const float *inp, int64_t n, float negative_slope,
                       float max_value, float threshold);
/* dinp = dout * (1 if threshold < x < max_value; negative_slope if x < threshold; else 0). */
void aenn_relu_backward(float *dinp, const float *dout, const float *inp, int64_t n,
                        float negative_slope, float max_value, float threshold);

/* Softmax over the last axis. out, inp: (rows, cols). out[r] = exp(inp[r] - max) / sum. */
void aenn_softmax_forward(float *out, const float *inp, int64_t rows, int64_t cols);
/* dinp, dout, out: (rows, cols); out is the forward output.
 * dinp[r,c] = out[r,c] * (dout[r,c] - sum_k dout[r,k] * out[r,k]). */
void aenn_softmax_backward(float *dinp, const float *dout, const float *out, int64_t rows,
                           int64_t cols);

/* mathfn.h functions, applied serially (no thread pool, so no flush-to-zero): for tests. */
enum {
    AENN_FN_EXP = 0, AENN_FN_LOG = 1, AENN_FN_TANH = 2, AENN_FN_LOG1P = 3, AENN_FN_EXPM1 = 4,
    AENN_FN_SIGMOID = 5, AENN_FN_ERF = 6, AENN_FN_COUNT = 7,
};
void aenn_mathfn_apply(float *out, const float *inp, int64_t n, int fn);

#endif /* AENN_ACTIVATION_H */
