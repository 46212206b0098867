/* plan.h -- a compiled training step for a chain of Dense layers (DESIGN.md decision 6).
 *
 * When Python overhead is a large share of a step (the MLP benchmark at batch 32: ~35%), the
 * whole step -- gather the batch, forward, loss and its gradient, backward, the fused optimizer
 * update, the accuracy count -- runs here in one call. It calls EXACTLY the kernels the Python
 * path calls (aenn/models/training.py, aenn/layers/core.py Dense, aenn/losses.py,
 * aenn/optimizers.py), with the same arguments in the same order, so the weights, the optimizer
 * slots and the logged loss are bit-identical to the Python path.
 *
 * The plan owns nothing: every buffer and weight is a caller array (see csrc/py/bind_plan.c and
 * aenn/models/plan.py). Buffers hold `cap` rows (the batch size); a smaller batch (the last
 * partial one) uses their first B rows, which are contiguous (B, n) arrays.
 */
#ifndef AENN_PLAN_H
#define AENN_PLAN_H

#include "aenn.h"
#include "optim.h"

#define AENN_PLAN_SOFTMAX (-1)     /* activation kind of a softmax layer (AENN_ACT_* otherwise) */
#define AENN_PLAN_LOSS_SPARSE (-1) /* loss kind: sparse categorical crossentropy */

enum {
    AENN_PLAN_METRIC_NONE = 0,
    AENN_PLAN_METRIC_CATEGORICAL = 1, /* argmax(y_true) == argmax(y_pred) */
    AENN_PLAN_METRIC_SPARSE = 2,      /* label == argmax(y_pred) */
};

/* One Dense layer: y = act(x @ kernel + bias); x is the previous layer's y (or the batch). */
typedef struct {
    int64_t in, out;
    float *kernel;  /* (in, out), the model's weight (updated in place by the optimizer) */
    float *bias;    /* (out,) or NULL (use_bias=False) */
    int act;        /* AENN_ACT_* or AENN_PLAN_SOFTMAX */
    float alpha;
    float *z;       /* (cap, out) pre-activation */
    float *y;       /* (cap, out) activation output; == z when linear */
    float *dy;      /* (cap, out) dloss/dy (last layer: dloss/d of what the loss reads) */
    float *dz;      /* (cap, out) dloss/dz, or NULL when the activation backward is skipped */
    float *dkernel; /* (in, out) */
    float *dbias;   /* (out,) or NULL */
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
    int on_logits;     /* the loss reads z of the last layer, whose activation backward is skipped */
    float *values;     /* (cap,) per-sample losses */
    double *scratch;   /* (aenn_num_chunks(cap),) */
    int metric;        /* AENN_PLAN_METRIC_* */
    int opt_kind;      /* AENN_OPT_* */
    aenn_optim_tensors opt; /* params = the weights, grads = the dkernel/dbias buffers */
    int64_t *iterations;    /* the optimizer's step count, +1 after each update */
} aenn_plan;

/* One training step on the B rows idx[0..B) of x_all (n, layers[0].in) and y_all (n, ycols);
 * h: the optimizer hyper-parameters of this step. Writes the batch loss (the double the
 * Python path logs) and, for a metric, the number of correct argmax predictions.
 * Returns AENN_ERR_VALUE (having changed nothing) if a sparse label is not an integer in
 * [0, classes), AENN_ERR_SHAPE if B is not in [1, cap]. */
int aenn_plan_step(const aenn_plan *p, const float *x_all, const float *y_all, int64_t ycols,
                   const int64_t *idx, int64_t B, const float *h, double *loss, int64_t *hits);

#endif /* AENN_PLAN_H */
