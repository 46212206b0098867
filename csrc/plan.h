/* plan.h -- a compiled training step for a chain of layers (DESIGN.md decision 6).
 *
 * When Python overhead is a large share of a step (the MLP benchmark at batch 32: ~35%; the
 * dense DAE: ~2 ms of a ~18 ms step; the NAB Conv1D autoencoder: ~10% of a ~5 ms step), the
 * whole step -- gather the batch, forward, loss and its gradient, backward, the fused optimizer
 * update, the accuracy count -- runs here in one call. The chain holds Dense,
 * BatchNormalization (training mode), Dropout (training mode), elementwise activation layers
 * (Activation, LeakyReLU, ELU, Softmax, ReLU) and convolutions (Conv1D/2D and their
 * transposes), with the graph fusions of aenn/models/fusion.py: Conv2D(relu) + MaxPooling2D(2)
 * and UpSampling2D(2) + Conv2D(3x3 same) run as one layer of the chain each. The step calls
 * EXACTLY the kernels the Python path calls (aenn/models/training.py, aenn/models/functional.py,
 * the layers' forward/backward in aenn/layers/, aenn/losses.py, aenn/optimizers.py), with the
 * same arguments in the same order, so the weights, the moving statistics, the optimizer slots
 * and the logged loss are bit-identical to the Python path.
 *
 * The plan owns nothing: every buffer and weight is a caller array (see csrc/py/bind_plan.c and
 * aenn/models/plan.py), and the random draws of the Dropout layers are addressed by the caller
 * (the layers' seed generators) each step. Buffers hold `cap` rows (the batch size); a smaller
 * batch (the last partial one) uses their first B rows, which are contiguous (B, n) arrays.
 */
#ifndef AENN_PLAN_H
#define AENN_PLAN_H

#include "aenn.h"
#include "conv.h"
#include "optim.h"
#include "pool.h"
#include "upconv.h"
#include "upsample.h"

#define AENN_PLAN_SOFTMAX (-1)     /* activation kind of a softmax (AENN_ACT_* otherwise) */
#define AENN_PLAN_LOSS_SPARSE (-1) /* loss kind: sparse categorical crossentropy */

enum {
    AENN_PLAN_METRIC_NONE = 0,
    AENN_PLAN_METRIC_CATEGORICAL = 1, /* argmax(y_true) == argmax(y_pred) */
    AENN_PLAN_METRIC_SPARSE = 2,      /* label == argmax(y_pred) */
};

/* Layer kinds of the chain. */
enum {
    AENN_PLAN_DENSE = 0,      /* y = act(x @ kernel + bias) */
    AENN_PLAN_BATCHNORM = 1,  /* batch statistics, moving averages updated */
    AENN_PLAN_DROPOUT = 2,    /* y = x * mask * scale, mask ~ Bernoulli(keep) */
    AENN_PLAN_ACTIVATION = 3, /* y = act(x): Activation, LeakyReLU, ELU, Softmax layers */
    AENN_PLAN_RELU = 4,       /* the Keras ReLU layer (negative_slope, max_value, threshold) */
    AENN_PLAN_CONV = 5,       /* y = act(conv(x) + bias): Conv1D/2D, Conv1D/2DTranspose */
    AENN_PLAN_CONVPOOL = 6,   /* y = maxpool2x2(relu(conv(x) + bias)): Conv2D(relu) + its pool */
    AENN_PLAN_UPCONV = 7,     /* y = act(conv3x3(upsample2x(x)) + bias): UpSampling2D + Conv2D */
    AENN_PLAN_POOL = 8,       /* Max/AveragePooling1D/2D on their own */
    AENN_PLAN_UPSAMPLE = 9,   /* UpSampling1D/2D on their own (nearest or bilinear) */
    AENN_PLAN_KINDS = 10,
};

/* One layer. x is the previous layer's y (or the gathered batch); every buffer is (cap, out)
 * unless noted: a sample's values in C order (a conv layer's (OH, OW, OC) image is one row of
 * OH*OW*OC floats; Flatten and Reshape are therefore no layers of the chain). Only the fields
 * of the layer's kind are set, the others are 0 / NULL. */
typedef struct {
    int kind;
    int64_t in, out;  /* features in and out (equal but for Dense) */
    float *y;         /* output; == z for a linear Dense */
    float *dy;        /* dloss/dy, written by the next layer's backward or by the loss */
    int backward;     /* 0: skipped in backward (Python skips a layer with no trainable weights
                         whose input needs no gradient, and the activation layer the loss
                         reads the logits of: then dy IS the previous layer's dy) */
    int need_dx;      /* backward writes dloss/dx into the previous layer's dy */
    /* Dense, convolutions and activation layers */
    int act;          /* AENN_ACT_* or AENN_PLAN_SOFTMAX (not for convolutions) */
    float alpha;
    /* Dense and convolutions */
    float *kernel;    /* (in, out) or the conv's kernel, the model's weight (updated in place by
                         the optimizer) */
    float *bias;      /* (out,) / (OC,) or NULL (use_bias=False) */
    float *z;         /* pre-activation (ConvPool: the conv's output, NULL in the one-op mode) */
    float *dz;        /* dloss/dz, or NULL when the activation backward is skipped (ConvPool:
                         the conv output's gradient, NULL when the one-op backward needs none) */
    float *dkernel;   /* the kernel's shape */
    float *dbias;     /* (out,) / (OC,) or NULL */
    /* Convolutions: the kernel geometry (B is the step's batch); Conv1D is H = KH = 1 */
    aenn_conv2d_geom conv;  /* Conv, ConvPool (the conv's own output (OH, OW, OC)) */
    int transpose;          /* Conv: a transposed convolution (conv.pad_* hold the crops) */
    int pool_m1;            /* ConvPool: conv + ReLU + pool as one op (csrc/convpool.c: one
                               input channel); else the conv, then ReLU + pool (pool.h) */
    int32_t *argmax;        /* ConvPool, max Pool: (cap, out) window positions of the maxima
                               (NULL: an average pool) */
    aenn_upconv_geom up;    /* UpConv: the low-res input (H, W, C) -> (2H, 2W, OC) */
    aenn_pool_geom pool;    /* Pool (B is the step's batch); 1-D pooling is H = 1 */
    aenn_upsample_geom ups; /* UpSample; UpSampling1D is H = 1, SH = 1 */
    int bilinear;           /* UpSample: bilinear, else nearest */
    /* BatchNormalization: (out,) each; gamma / beta (and their gradients) NULL when
     * scale / center is False */
    float *gamma, *beta, *moving_mean, *moving_var, *mean, *inv_std, *var, *dgamma, *dbeta;
    float momentum, eps;
    /* Dropout */
    float *mask;      /* the Bernoulli mask of this step */
    float keep;       /* 1 - rate: 0 draws nothing (the mask is all zeros, as in Python) */
    float scale;      /* 1 / keep, 0 when keep is 0 */
    /* ReLU layer */
    float slope, max_value, threshold;
} aenn_plan_layer;

typedef struct {
    int64_t nlayers, cap;
    aenn_plan_layer *layers;
    float *x;          /* (cap, layers[0].in) gathered batch */
    float *yt;         /* (cap, cols) gathered float targets, NULL for sparse labels */
    int32_t *labels;   /* (cap,) sparse labels, NULL otherwise */
    int loss_kind;     /* AENN_LOSS_* or AENN_PLAN_LOSS_SPARSE */
    float loss_param;  /* Huber delta */
    int from_logits;   /* sparse kernel flag */
    int on_logits;     /* the loss reads the last layer's pre-activation (Dense: z; activation
                          layer: its input) and its activation backward is skipped */
    float *values;     /* (cap * out / loss_cols,) per-sample(-position) losses */
    double *scratch;   /* (aenn_num_chunks(cap * out / loss_cols),) */
    double *bn_scratch; /* aenn_batchnorm_scratch_size(cap, C) doubles for the widest BN layer */
    int metric;        /* AENN_PLAN_METRIC_* */
    int opt_kind;      /* AENN_OPT_* */
    aenn_optim_tensors opt; /* params = the trainable weights in layer order (Dense: kernel,
                               bias; BN: gamma, beta), grads = their gradient buffers */
    int64_t *iterations;    /* the optimizer's step count, +1 after each update */
    int64_t ndraws;    /* Dropout layers with keep > 0: one random draw each per step */
    int64_t loss_cols; /* the loss's last axis: rows = B * out / loss_cols (Loss._run reshapes
                          the prediction to (-1, last axis)); == out for a 2-D output */
    float *conv_scratch;   /* the convolutions' scratch, sized for cap rows (owned by the
                              binding, like the Python bindings' per-call scratch) */
    int64_t convpool_groups; /* work parts the convpool backward's scratch holds */
} aenn_plan;

/* One random draw: the seed generator's key and the draw counter (aenn/random.py). */
typedef struct {
    uint32_t key[2];
    uint64_t counter;
} aenn_plan_draw;

/* The profile of a step (`times`, AENN_PLAN_TIMES(L) doubles): seconds added to each part. */
#define AENN_PLAN_TIMES(L) (4 + 2 * (L))
#define AENN_PLAN_TIME_GATHER 0
#define AENN_PLAN_TIME_FORWARD(l) (1 + (l))
#define AENN_PLAN_TIME_LOSS(L) (1 + (L))
#define AENN_PLAN_TIME_BACKWARD(L, l) (2 + (L) + (l))
#define AENN_PLAN_TIME_OPTIMIZER(L) (2 + 2 * (L))
#define AENN_PLAN_TIME_METRIC(L) (3 + 2 * (L))

/* One training step on the B rows idx[0..B) of x_all (n, layers[0].in) and y_all (n, ycols);
 * h: the optimizer hyper-parameters of this step; draws[p->ndraws]: the draw of each Dropout
 * layer with keep > 0, in layer order. Writes the batch loss (the double the Python path logs)
 * and, for a metric, the number of correct argmax predictions. times: NULL, or
 * AENN_PLAN_TIMES(nlayers) doubles to which the seconds of each part of the step are added
 * (fit(profile=True); the timing changes no result).
 * Returns AENN_ERR_VALUE (having changed nothing) if a sparse label is not an integer in
 * [0, classes), AENN_ERR_SHAPE if B is not in [1, cap]. */
int aenn_plan_step(const aenn_plan *p, const float *x_all, const float *y_all, int64_t ycols,
                   const int64_t *idx, int64_t B, const float *h, const aenn_plan_draw *draws,
                   double *loss, int64_t *hits, double *times);

#endif /* AENN_PLAN_H */
