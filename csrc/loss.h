/* loss.h -- Keras losses: per-sample values, their "sum_over_batch_size" mean, and the gradient
 * of that mean with respect to y_pred (or the logits).
 *
 * A loss sees y_pred as (rows, cols): cols is Keras's "last axis" (classes, pixels, channels),
 * rows is everything before it. values[r] is Keras's per-sample value (the mean or sum over the
 * last axis, see below); the reduced loss is sum(values) / rows, summed over fixed chunks of
 * AENN_CHUNK rows (in double) combined in chunk order, so it does not depend on the thread count.
 * The gradient is that of the reduced loss (it includes the 1/rows factor).
 */
#ifndef AENN_LOSS_H
#define AENN_LOSS_H

#include "aenn.h"

#define AENN_LOSS_EPS 1e-7f /* keras.config.epsilon() */

/* Loss kinds taking a float y_true of y_pred's shape. eps = 1e-7, clip(p) = clip(p, eps, 1-eps). */
enum {
    AENN_LOSS_BCE = 0,         /* mean_c -[y log clip(p) + (1-y) log(1 - clip(p))] */
    AENN_LOSS_BCE_LOGITS = 1,  /* mean_c  max(z,0) - z y + log1p(e^-|z|) */
    AENN_LOSS_CCE = 2,         /* q = p / sum_c p; sum_c -y log clip(q) */
    AENN_LOSS_CCE_LOGITS = 3,  /* sum_c y (logsumexp(z) - z) */
    AENN_LOSS_MSE = 4,         /* mean_c (y - p)^2 */
    AENN_LOSS_MAE = 5,         /* mean_c |y - p| */
    AENN_LOSS_KLD = 6,         /* sum_c y' log(y'/p'), y' = clip(y, eps, 1), p' = clip(p, eps, 1) */
    AENN_LOSS_HUBER = 7,       /* mean_c (|e| <= d ? e^2/2 : d|e| - d^2/2), e = p - y, d = param */
    AENN_LOSS_COUNT = 8,
};

/* values: (rows,) per-sample losses (out); *loss: sum(values)/rows (out);
 * scratch: (aenn_num_chunks(rows),) doubles; y_true, y_pred: (rows, cols); param: Huber delta. */
void aenn_loss_forward(float *values, double *loss, double *scratch, const float *y_true,
                       const float *y_pred, int64_t rows, int64_t cols, int kind, float param);
/* dpred: (rows, cols) = d(sum(values)/rows) / d y_pred. */
void aenn_loss_backward(float *dpred, const float *y_true, const float *y_pred, int64_t rows,
                        int64_t cols, int kind, float param);

/* Sparse categorical cross-entropy. labels: (rows,) int32 in [0, cols); y_pred: (rows, cols).
 * Probabilities (TensorFlow's form): log(sum_c clip(p)) - log clip(p)[label];
 * from_logits: logsumexp(z) - z[label]. Returns AENN_ERR_VALUE (writing nothing) if a label
 * is out of range. */
int aenn_sparse_cce_forward(float *values, double *loss, double *scratch, const int32_t *labels,
                            const float *y_pred, int64_t rows, int64_t cols, int from_logits);
int aenn_sparse_cce_backward(float *dpred, const int32_t *labels, const float *y_pred,
                             int64_t rows, int64_t cols, int from_logits);

#endif /* AENN_LOSS_H */
