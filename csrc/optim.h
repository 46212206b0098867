/* optim.h -- fused optimizer updates: ONE call updates every parameter tensor of a model.
 *
 * The tensors are described by pointer tables (filled by the binding); the update is
 * element-wise, split over the concatenation of all tensors, so any thread count gives the
 * same bits. Formulas are Keras 3's (see each kernel); per-step scalars (bias corrections, the
 * learning rate in force) are computed once per step by the caller and passed in `h`.
 */
#ifndef AENN_OPTIM_H
#define AENN_OPTIM_H

#include "aenn.h"

enum {
    AENN_OPT_SGD = 0,      /* h = {lr, momentum, nesterov}; slots: [m] if momentum > 0 */
    AENN_OPT_ADAM = 1,     /* h = {alpha_t, 1-beta_1, 1-beta_2, epsilon, amsgrad}; slots m, v[, vhat] */
    AENN_OPT_RMSPROP = 2,  /* h = {lr, rho, 1-rho, epsilon, momentum, centered};
                              slots v[, mom if momentum > 0][, avg if centered] */
    AENN_OPT_ADAGRAD = 3,  /* h = {lr, epsilon}; slots acc */
    AENN_OPT_ADADELTA = 4, /* h = {lr, rho, 1-rho, epsilon}; slots acc_g, acc_delta */
    AENN_OPT_NADAM = 5,    /* h = {lr, 1-beta_1, 1-beta_2, epsilon, u_next, 1-u_prod_next,
                              1-u_t, 1-u_prod_t, 1-beta_2^t}; slots m, v */
};
#define AENN_OPT_MAX_H 12
#define AENN_OPT_MAX_SLOTS 3

/* The tensors of one update: tensor k has offsets[k+1]-offsets[k] elements at params[k]
 * (updated in place), its gradient grads[k] and slots slots[k*nslots + s]. */
typedef struct {
    int64_t count;
    const int64_t *offsets; /* (count+1,) prefix sums of the tensor sizes */
    float *const *params;   /* (count,) */
    const float *const *grads;  /* (count,) */
    float *const *slots;    /* (count*nslots,) interleaved per tensor */
    int nslots;
} aenn_optim_tensors;

/* Number of slot tensors per parameter for `kind` and its hyper-parameters h (-1: bad kind). */
int aenn_optim_num_slots(int kind, const float *h);

/* Updates every tensor of t with the rule `kind`. */
void aenn_optim_update(const aenn_optim_tensors *t, int kind, const float *h);

#endif /* AENN_OPTIM_H */
