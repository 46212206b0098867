/* plan.c -- the compiled training step of a Dense chain (see plan.h).
 *
 * Each stage below names the Python code it replaces; the kernel calls, their arguments and
 * their order are that code's, so the results are the same bits (tests/test_plan.py compares
 * weights, slots and History with AENN_PLAN=0 byte for byte).
 */
#include "plan.h"

#include <math.h>
#include <string.h>

#include "activation.h"
#include "dense.h"
#include "loss.h"

/* Index of the largest value of row[0..n), the first one on ties; a NaN counts as the largest
 * (the first NaN wins) -- what np.argmax returns. */
static int64_t argmax_row(const float *row, int64_t n) {
    int64_t best = 0;
    if (isnan(row[0])) return 0;
    for (int64_t j = 1; j < n; j++) {
        if (isnan(row[j])) return j;
        if (row[j] > row[best]) best = j;
    }
    return best;
}

int aenn_plan_step(const aenn_plan *p, const float *x_all, const float *y_all, int64_t ycols,
                   const int64_t *idx, int64_t B, const float *h, double *loss, int64_t *hits) {
    if (B < 1 || B > p->cap) return AENN_ERR_SHAPE;
    const int64_t L = p->nlayers;
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
    } else {
        for (int64_t r = 0; r < B; r++)
            memcpy(p->yt + r * ycols, y_all + idx[r] * ycols, (size_t)ycols * sizeof(float));
    }
    const int64_t in0 = p->layers[0].in;
    for (int64_t r = 0; r < B; r++)
        memcpy(p->x + r * in0, x_all + idx[r] * in0, (size_t)in0 * sizeof(float));

    /* Forward: Dense.forward -- dense_forward into z, then _act_forward into y. */
    const float *xin = p->x;
    for (int64_t l = 0; l < L; l++) {
        const aenn_plan_layer *d = &p->layers[l];
        aenn_dense_forward(d->z, xin, d->kernel, d->bias, B, d->in, d->out);
        if (d->act == AENN_PLAN_SOFTMAX)
            aenn_softmax_forward(d->y, d->z, B, d->out);
        else if (d->act != AENN_ACT_LINEAR)
            aenn_activation_forward(d->y, d->z, B * d->out, d->act, d->alpha);
        xin = d->y;
    }

    /* Loss and its gradient: Loss.value_and_grad (_run), on the logits z when the Python path
     * passes logits= (Trainer._compute_loss), else on y. */
    const float *target = p->on_logits ? last->z : last->y;
    if (p->loss_kind == AENN_PLAN_LOSS_SPARSE) {
        aenn_sparse_cce_forward(p->values, loss, p->scratch, p->labels, target, B, cols,
                                p->from_logits);
        aenn_sparse_cce_backward(last->dy, p->labels, target, B, cols, p->from_logits);
    } else {
        aenn_loss_forward(p->values, loss, p->scratch, p->yt, target, B, cols, p->loss_kind,
                          p->loss_param);
        aenn_loss_backward(last->dy, p->yt, target, B, cols, p->loss_kind, p->loss_param);
    }

    /* Backward in reverse order: Dense.backward -- _act_backward unless linear or from logits,
     * then dense_backward; the first layer computes no input gradient (need_dinputs=False). */
    for (int64_t l = L - 1; l >= 0; l--) {
        const aenn_plan_layer *d = &p->layers[l];
        const float *dz = d->dy;
        if (d->dz != NULL) {
            if (d->act == AENN_PLAN_SOFTMAX)
                aenn_softmax_backward(d->dz, d->dy, d->y, B, d->out);
            else
                aenn_activation_backward(d->dz, d->dy, d->z, d->y, B * d->out, d->act, d->alpha);
            dz = d->dz;
        }
        const float *x = l > 0 ? p->layers[l - 1].y : p->x;
        float *dinp = l > 0 ? p->layers[l - 1].dy : NULL;
        aenn_dense_backward(dinp, d->dkernel, d->dbias, dz, x, d->kernel, B, d->in, d->out);
    }

    /* Optimizer.apply: one fused update of every weight. */
    aenn_optim_update(&p->opt, p->opt_kind, h);
    *p->iterations += 1;

    /* Accuracy: CategoricalAccuracy / SparseCategoricalAccuracy.update_state count these. */
    int64_t n = 0;
    if (p->metric == AENN_PLAN_METRIC_CATEGORICAL) {
        for (int64_t r = 0; r < B; r++)
            n += argmax_row(p->yt + r * cols, cols) == argmax_row(last->y + r * cols, cols);
    } else if (p->metric == AENN_PLAN_METRIC_SPARSE) {
        for (int64_t r = 0; r < B; r++)
            n += (int64_t)p->labels[r] == argmax_row(last->y + r * cols, cols);
    }
    *hits = n;
    return AENN_OK;
}
