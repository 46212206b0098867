/* plan.c -- the compiled training step of a layer chain (see plan.h).
 *
 * Each stage below names the Python code it replaces; the kernel calls, their arguments and
 * their order are that code's, so the results are the same bits (tests/test_plan.py compares
 * weights, moving statistics, slots and History with AENN_PLAN=0 byte for byte).
 */
#include "plan.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "activation.h"
#include "convpool.h"
#include "dense.h"
#include "isa_builds.h"
#include "loss.h"
#include "mathfn.h"
#include "noise.h"
#include "norm.h"
#include "rng.h"

/* Index of the largest value of row[0..n), the first one on ties; a NaN counts as the largest
 * (the first NaN wins) -- what np.argmax returns, and what this scan computes. */
static int64_t argmax_scan(const float *row, int64_t n) {
    int64_t best = 0;
    if (isnan(row[0])) return 0;
    for (int64_t j = 1; j < n; j++) {
        if (isnan(row[j])) return j;
        if (row[j] > row[best]) best = j;
    }
    return best;
}

/* Float bits -> int32 in the floats' order (-0 just below +0): flip the magnitude bits of
 * negative numbers. The map is its own inverse. */
static inline int32_t order_key(uint32_t u) {
    return (int32_t)(u ^ ((uint32_t)((int32_t)u >> 31) & 0x7fffffffu));
}

/* argmax_scan's answer in two vectorisable passes: the largest key and whether a
 * NaN occurs; then the first index holding a NaN, or else the first holding a value equal to
 * the maximum (+0 and -0 are equal) -- the scan moves only to a strictly larger value, so it
 * stops at that one. Both passes are integer max / min reductions, which compilers vectorise
 * (a float max reduction they do not reorder); comparisons only, so every build agrees. */
static AENN_ALWAYS_INLINE int64_t argmax_row(const float *row, int64_t n) {
    if (n >= INT32_MAX) return argmax_scan(row, n);
    int32_t top = INT32_MIN;
    int nan = 0;
    for (int64_t j = 0; j < n; j++) {
        uint32_t u = aenn_float_to_bits(row[j]);
        nan |= (u & 0x7fffffffu) > 0x7f800000u;
        int32_t key = order_key(u);
        top = key > top ? key : top;
    }
    const float m = aenn_bits_to_float((uint32_t)order_key((uint32_t)top));
    const int32_t none = (int32_t)n;
    int32_t first = none;
    if (nan)
        for (int32_t j = 0; j < none; j++) {
            int32_t at = row[j] != row[j] ? j : none;
            first = at < first ? at : first;
        }
    else
        for (int32_t j = 0; j < none; j++) {
            int32_t at = row[j] == m ? j : none;
            first = at < first ? at : first;
        }
    return first;
}

/* Rows of the batch whose argmax matches the target's (the targets' argmax, or the sparse
 * label): what CategoricalAccuracy / SparseCategoricalAccuracy.update_state count. It runs on
 * the calling thread, not in the pool, because the pool's threads treat subnormal inputs as
 * zero (DAZ) and np.argmax, on the caller, does not. */
typedef struct {
    const float *yt, *y; /* (B, cols) targets (NULL: labels) and predictions */
    const int32_t *labels;
    int64_t cols, hits;
} count_ctx;

static AENN_ALWAYS_INLINE void count_hits_body(void *arg, int64_t begin, int64_t end) {
    count_ctx *c = arg;
    const int64_t C = c->cols;
    for (int64_t r = begin; r < end; r++) {
        int64_t want = c->yt != NULL ? argmax_row(c->yt + r * C, C) : (int64_t)c->labels[r];
        c->hits += want == argmax_row(c->y + r * C, C);
    }
}
AENN_ISA_BUILDS(count_hits)

/* np.take(x, idx, axis=0), and of the float targets: rows copied as they are, so the pool may
 * split them any way. */
#define GATHER_MIN_FLOATS 32768 /* per part of the gather: less is not worth waking a thread */

typedef struct {
    float *x, *yt; /* (B, xcols), (B, ycols); yt NULL: sparse labels, converted apart */
    const float *x_all, *y_all;
    const int64_t *idx;
    int64_t xcols, ycols;
} gather_ctx;

static void gather_rows(void *arg, int64_t begin, int64_t end) {
    const gather_ctx *c = arg;
    const size_t xbytes = (size_t)c->xcols * sizeof(float);
    const size_t ybytes = (size_t)c->ycols * sizeof(float);
    for (int64_t r = begin; r < end; r++) {
        memcpy(c->x + r * c->xcols, c->x_all + c->idx[r] * c->xcols, xbytes);
        if (c->yt != NULL) memcpy(c->yt + r * c->ycols, c->y_all + c->idx[r] * c->ycols, ybytes);
    }
}

/* BatchNormalization.forward's moving averages, in NumPy's float32 arithmetic:
 *   moving = moving * m + stat * (float32(1) - m)
 * Serial, on the calling thread like the NumPy expression (no flush-to-zero). */
static void moving_average(float *moving, const float *stat, int64_t C, float momentum) {
    const float m = momentum, one_m = 1.0f - m;
    for (int64_t c = 0; c < C; c++) moving[c] = moving[c] * m + stat[c] * one_m;
}

/* y = act(z) of a Dense or conv layer on B rows (nothing when linear: y is z); a softmax is
 * over the rows of a Dense layer's output (conv layers have none). */
static void activation_forward(const aenn_plan_layer *d, int64_t B) {
    if (d->act == AENN_PLAN_SOFTMAX)
        aenn_softmax_forward(d->y, d->z, B, d->out);
    else if (d->act != AENN_ACT_LINEAR)
        aenn_activation_forward(d->y, d->z, B * d->out, d->act, d->alpha);
}

/* dloss/dz of a Dense or conv layer: its activation's backward into d->dz, or d->dy itself
 * when that is skipped (linear, or the loss read the logits: d->dz is NULL then). */
static const float *activation_backward(const aenn_plan_layer *d, int64_t B) {
    if (d->dz == NULL) return d->dy;
    if (d->act == AENN_PLAN_SOFTMAX)
        aenn_softmax_backward(d->dz, d->dy, d->y, B, d->out);
    else
        aenn_activation_backward(d->dz, d->dy, d->z, d->y, B * d->out, d->act, d->alpha);
    return d->dz;
}

/* One layer's forward pass on B rows of x (B, in) into d->y. */
static void layer_forward(const aenn_plan *p, const aenn_plan_layer *d, const float *x, int64_t B,
                          const aenn_plan_draw **draw) {
    const int64_t n = B * d->out;
    switch (d->kind) {
    case AENN_PLAN_DENSE: /* Dense.forward: dense_forward into z, then _act_forward into y */
        aenn_dense_forward(d->z, x, d->kernel, d->bias, B, d->in, d->out);
        activation_forward(d, B);
        break;
    case AENN_PLAN_BATCHNORM: /* BatchNormalization.forward, training and trainable */
        aenn_batchnorm_forward_train(d->y, d->mean, d->inv_std, d->var, x, d->gamma, d->beta,
                                     p->bn_scratch, B, d->out, d->eps);
        moving_average(d->moving_mean, d->mean, d->out, d->momentum);
        moving_average(d->moving_var, d->var, d->out, d->momentum);
        break;
    case AENN_PLAN_DROPOUT: /* Dropout.forward: bernoulli_mask (one draw), then _mask_mul */
        if (d->keep > 0.0f) {
            aenn_rng_bernoulli(d->mask, n, (*draw)->key, (*draw)->counter, d->keep);
            (*draw)++;
        } else {
            memset(d->mask, 0, (size_t)n * sizeof(float)); /* np.zeros: rate 1 draws nothing */
        }
        aenn_mask_mul(d->y, x, d->mask, d->scale, B, 1, d->out, 1);
        break;
    case AENN_PLAN_ACTIVATION: /* _ElementwiseActivationLayer.forward: Activation.forward */
        if (d->act == AENN_PLAN_SOFTMAX)
            aenn_softmax_forward(d->y, x, B, d->out);
        else
            aenn_activation_forward(d->y, x, n, d->act, d->alpha);
        break;
    case AENN_PLAN_RELU: /* ReLU.forward */
        aenn_relu_forward(d->y, x, n, d->slope, d->max_value, d->threshold);
        break;
    case AENN_PLAN_CONV: { /* BaseConv.forward: the conv into z, then Activation.forward */
        aenn_conv2d_geom g = d->conv;
        g.B = B;
        if (d->transpose)
            aenn_conv2d_transpose_forward(d->z, x, d->kernel, d->bias, &g, p->conv_scratch);
        else
            aenn_conv2d_forward(d->z, x, d->kernel, d->bias, &g);
        activation_forward(d, B);
        break;
    }
    case AENN_PLAN_CONVPOOL: { /* fusion.convpool_forward: one op, or conv then ReLU + pool */
        aenn_conv2d_geom g = d->conv;
        g.B = B;
        if (d->pool_m1) {
            aenn_convpool_forward(d->y, d->argmax, x, d->kernel, d->bias, &g);
        } else {
            aenn_conv2d_forward(d->z, x, d->kernel, d->bias, &g);
            aenn_relu_maxpool2x2_forward(d->y, d->argmax, d->z, B, g.OH, g.OW, g.OC);
        }
        break;
    }
    case AENN_PLAN_UPCONV: { /* fusion.forward: upconv into z, then Activation.forward */
        aenn_upconv_geom g = d->up;
        g.B = B;
        aenn_upconv_forward(d->z, x, d->kernel, d->bias, &g, p->conv_scratch);
        activation_forward(d, B);
        break;
    }
    case AENN_PLAN_POOL: { /* _Pooling.forward */
        aenn_pool_geom g = d->pool;
        g.B = B;
        if (d->argmax != NULL)
            aenn_maxpool2d_forward(d->y, d->argmax, x, &g);
        else
            aenn_avgpool2d_forward(d->y, x, &g);
        break;
    }
    case AENN_PLAN_UPSAMPLE: { /* UpSampling2D / UpSampling1D.forward */
        aenn_upsample_geom g = d->ups;
        g.B = B;
        if (d->bilinear)
            aenn_upsample_bilinear_forward(d->y, x, &g);
        else
            aenn_upsample_nearest_forward(d->y, x, &g);
        break;
    }
    }
}

/* The convpool backward's work parts: twice the threads, as its Python binding splits it (the
 * result does not depend on it), at most what the plan's scratch holds. */
static int64_t convpool_groups(const aenn_plan *p) {
    int64_t groups = 2 * (int64_t)aenn_get_num_threads();
    return groups < p->convpool_groups ? groups : p->convpool_groups;
}

/* One layer's backward pass: d->dy -> dinp (the previous layer's dy, or NULL) and the weight
 * gradients. x is the layer's forward input. */
static void layer_backward(const aenn_plan *p, const aenn_plan_layer *d, const float *x,
                           float *dinp, int64_t B) {
    const int64_t n = B * d->out;
    switch (d->kind) {
    case AENN_PLAN_DENSE: /* Dense.backward: _act_backward unless linear or on logits */
        aenn_dense_backward(dinp, d->dkernel, d->dbias, activation_backward(d, B), x, d->kernel,
                            B, d->in, d->out);
        break;
    case AENN_PLAN_BATCHNORM: /* BatchNormalization.backward, training statistics */
        aenn_batchnorm_backward(dinp, d->dgamma, d->dbeta, d->dy, x, d->mean, d->inv_std,
                                d->gamma, p->bn_scratch, B, d->out, 1);
        break;
    case AENN_PLAN_DROPOUT: /* Dropout.backward: _mask_mul(dout, mask, scale) */
        aenn_mask_mul(dinp, d->dy, d->mask, d->scale, B, 1, d->out, 1);
        break;
    case AENN_PLAN_ACTIVATION: /* Activation.backward(dout, x, y) */
        if (d->act == AENN_PLAN_SOFTMAX)
            aenn_softmax_backward(dinp, d->dy, d->y, B, d->out);
        else
            aenn_activation_backward(dinp, d->dy, x, d->y, n, d->act, d->alpha);
        break;
    case AENN_PLAN_RELU: /* ReLU.backward */
        aenn_relu_backward(dinp, d->dy, x, n, d->slope, d->max_value, d->threshold);
        break;
    case AENN_PLAN_CONV: { /* BaseConv.backward: Activation.backward unless linear / logits */
        const float *dz = activation_backward(d, B);
        aenn_conv2d_geom g = d->conv;
        g.B = B;
        if (d->transpose)
            aenn_conv2d_transpose_backward(dinp, d->dkernel, d->dbias, dz, x, d->kernel, &g,
                                           p->conv_scratch);
        else
            aenn_conv2d_backward(dinp, d->dkernel, d->dbias, dz, x, d->kernel, &g,
                                 p->conv_scratch);
        break;
    }
    case AENN_PLAN_CONVPOOL: { /* fusion.convpool_backward */
        aenn_conv2d_geom g = d->conv;
        g.B = B;
        if (d->pool_m1 && dinp == NULL) {
            aenn_convpool_backward(d->dkernel, d->dbias, d->dy, d->y, d->argmax, x, &g,
                                   convpool_groups(p), p->conv_scratch);
        } else { /* the conv output's gradient through pool and ReLU, then the conv's backward */
            aenn_relu_maxpool2x2_backward(d->dz, d->dy, d->y, d->argmax, B, g.OH, g.OW, g.OC);
            aenn_conv2d_backward(dinp, d->dkernel, d->dbias, d->dz, x, d->kernel, &g,
                                 p->conv_scratch);
        }
        break;
    }
    case AENN_PLAN_UPCONV: { /* fusion.backward: Activation.backward unless linear / logits */
        const float *dz = activation_backward(d, B);
        aenn_upconv_geom g = d->up;
        g.B = B;
        aenn_upconv_backward(dinp, d->dkernel, d->dbias, dz, x, d->kernel, &g, p->conv_scratch);
        break;
    }
    case AENN_PLAN_POOL: { /* _Pooling.backward (runs only when its input needs a gradient) */
        aenn_pool_geom g = d->pool;
        g.B = B;
        if (dinp == NULL) break;
        if (d->argmax != NULL)
            aenn_maxpool2d_backward(dinp, d->dy, d->argmax, &g);
        else
            aenn_avgpool2d_backward(dinp, d->dy, &g);
        break;
    }
    case AENN_PLAN_UPSAMPLE: { /* UpSampling2D / UpSampling1D.backward */
        aenn_upsample_geom g = d->ups;
        g.B = B;
        if (dinp == NULL) break;
        if (d->bilinear)
            aenn_upsample_bilinear_backward(dinp, d->dy, &g);
        else
            aenn_upsample_nearest_backward(dinp, d->dy, &g);
        break;
    }
    }
}

/* Seconds on a clock for the profile (C11's timespec_get: glibc, macOS, MSVC alike). */
static double now_seconds(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Adds the seconds since *t to *slot and restarts *t; nothing when not profiling. */
static void lap(double *times, int64_t slot, double *t) {
    if (times == NULL) return;
    double now = now_seconds();
    times[slot] += now - *t;
    *t = now;
}

int aenn_plan_step(const aenn_plan *p, const float *x_all, const float *y_all, int64_t ycols,
                   const int64_t *idx, int64_t B, const float *h, const aenn_plan_draw *draws,
                   double *loss, int64_t *hits, double *times) {
    if (B < 1 || B > p->cap) return AENN_ERR_SHAPE;
    const int64_t L = p->nlayers;
    double t = times != NULL ? now_seconds() : 0.0;
    const aenn_plan_layer *last = &p->layers[L - 1];
    const int64_t cols = last->out;

    /* The batch: np.take(x, idx, axis=0) / np.take(y, idx, axis=0) in _fit_epochs. Sparse
     * labels first, converted as SparseCategoricalCrossentropy._prepare does (integral floats
     * in [0, classes) to int32); a bad one returns before anything is written but labels. */
    if (p->labels != NULL) {
        for (int64_t r = 0; r < B; r++) {
            float v = y_all[idx[r] * ycols];
            if (!(v >= 0.0f && v < (float)cols) || v != floorf(v)) return AENN_ERR_VALUE;
            p->labels[r] = (int32_t)v;
        }
    }
    const int64_t in0 = p->layers[0].in;
    gather_ctx gc = {p->x, p->yt, x_all, y_all, idx, in0, ycols};
    aenn_parallel_for(B, GATHER_MIN_FLOATS / (in0 + ycols) + 1, gather_rows, &gc);
    lap(times, AENN_PLAN_TIME_GATHER, &t);

    /* Forward: Functional.forward, the layers in order in training mode. */
    const aenn_plan_draw *draw = draws;
    for (int64_t l = 0; l < L; l++) {
        layer_forward(p, &p->layers[l], l > 0 ? p->layers[l - 1].y : p->x, B, &draw);
        lap(times, AENN_PLAN_TIME_FORWARD(l), &t);
    }

    /* Accuracy: CategoricalAccuracy / SparseCategoricalAccuracy.update_state count these. Here
     * rather than after the update, where Python counts them: the predictions do not change
     * in between and are still in cache. */
    *hits = 0;
    if (p->metric != AENN_PLAN_METRIC_NONE) {
        count_ctx cc = {p->yt, last->y, p->labels, cols, 0}; /* yt NULL: sparse labels */
        count_hits(&cc, 0, B);
        *hits = cc.hits;
    }
    lap(times, AENN_PLAN_TIME_METRIC(L), &t);

    /* Loss and its gradient: Loss.value_and_grad (_run), on the logits when the Python path
     * passes logits= (Trainer._compute_loss): a Dense layer's z, an activation layer's input. */
    const float *target = last->y;
    if (p->on_logits)
        target = last->kind == AENN_PLAN_ACTIVATION ? (L > 1 ? p->layers[L - 2].y : p->x)
                                                    : last->z; /* Dense, Conv, UpConv */
    if (p->loss_kind == AENN_PLAN_LOSS_SPARSE) {
        aenn_sparse_cce_forward(p->values, loss, p->scratch, p->labels, target, B, cols,
                                p->from_logits);
        aenn_sparse_cce_backward(last->dy, p->labels, target, B, cols, p->from_logits);
    } else { /* on (B * positions, last axis) rows, as Loss._run reshapes the prediction */
        const int64_t lc = p->loss_cols, rows = B * (cols / lc);
        aenn_loss_forward(p->values, loss, p->scratch, p->yt, target, rows, lc, p->loss_kind,
                          p->loss_param);
        aenn_loss_backward(last->dy, p->yt, target, rows, lc, p->loss_kind, p->loss_param);
    }
    lap(times, AENN_PLAN_TIME_LOSS(L), &t);

    /* Backward in reverse order: Functional._backward_by_id. A layer runs when it has trainable
     * weights or its input needs a gradient, and computes dinp only in the latter case. */
    for (int64_t l = L - 1; l >= 0; l--) {
        const aenn_plan_layer *d = &p->layers[l];
        if (!d->backward) continue;
        const float *x = l > 0 ? p->layers[l - 1].y : p->x;
        float *dinp = d->need_dx && l > 0 ? p->layers[l - 1].dy : NULL;
        layer_backward(p, d, x, dinp, B);
        lap(times, AENN_PLAN_TIME_BACKWARD(L, l), &t);
    }

    /* Optimizer.apply: one fused update of every weight. */
    aenn_optim_update(&p->opt, p->opt_kind, h);
    *p->iterations += 1;
    lap(times, AENN_PLAN_TIME_OPTIMIZER(L), &t);

    return AENN_OK;
}
