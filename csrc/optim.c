/* optim.c -- fused, element-wise optimizer updates (Keras 3 formulas, float32). */
#include "optim.h"

#include "isa_builds.h"
#include "mathfn.h"
#include "mathfn_vec.h"

int aenn_optim_num_slots(int kind, const float *h) {
    switch (kind) {
    case AENN_OPT_SGD: return h[1] > 0.0f ? 1 : 0;
    case AENN_OPT_ADAM: return h[4] != 0.0f ? 3 : 2;
    case AENN_OPT_RMSPROP: return 1 + (h[4] > 0.0f) + (h[5] != 0.0f);
    case AENN_OPT_ADAGRAD: return 1;
    case AENN_OPT_ADADELTA: return 2;
    case AENN_OPT_NADAM: return 2;
    default: return -1;
    }
}

/* Each rule updates n elements: w (param), g (grad), s[] (its slots).
 *
 * Speed: the rules are branch-free per element (options such as amsgrad, momentum, centered
 * are tested once, outside the loops; maxima are selects), with restrict pointers, so the loops
 * vectorise; update_range is compiled for SSE2, AVX2 and AVX-512 (isa_builds.h). Every element
 * still does exactly the operations, in the order, that the formulas below state. */

#define RULE static AENN_ALWAYS_INLINE void

/* SGD: momentum 0: w -= lr*g. Else m = mu*m - lr*g; w += m, or (Nesterov) w += mu*m - lr*g. */
RULE sgd(float *restrict w, const float *restrict g, float *const *s, int64_t n, const float *h) {
    const float lr = h[0], mu = h[1];
    if (!(mu > 0.0f)) {
        for (int64_t i = 0; i < n; i++) w[i] -= g[i] * lr;
        return;
    }
    float *restrict m = s[0];
    if (h[2] != 0.0f) {
        for (int64_t i = 0; i < n; i++) {
            m[i] = m[i] * mu - g[i] * lr;
            w[i] += m[i] * mu - g[i] * lr;
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            m[i] = m[i] * mu - g[i] * lr;
            w[i] += m[i];
        }
    }
}

/* Adam: m += (g-m)(1-b1); v += (g^2-v)(1-b2); [vhat = max(vhat, v)]; w -= m*alpha/(sqrt(v)+eps)
 * with alpha = lr*sqrt(1-b2^t)/(1-b1^t) (bias correction folded into the step). */
RULE adam(float *restrict w, const float *restrict g, float *const *s, int64_t n, const float *h) {
    const float alpha = h[0], c1 = h[1], c2 = h[2], eps = h[3];
    float *restrict m = s[0], *restrict v = s[1];
    if (h[4] != 0.0f) {
        float *restrict vhat = s[2];
        for (int64_t i = 0; i < n; i++) {
            m[i] += (g[i] - m[i]) * c1;
            v[i] += (g[i] * g[i] - v[i]) * c2;
            /* vhat = v if v > vhat else vhat (NaN v keeps vhat) */
            float vv = aenn_vsel(v[i] > vhat[i], v[i], vhat[i]);
            vhat[i] = vv;
            w[i] -= (m[i] * alpha) / (aenn_sqrtf_exact(vv) + eps);
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            m[i] += (g[i] - m[i]) * c1;
            v[i] += (g[i] * g[i] - v[i]) * c2;
            w[i] -= (m[i] * alpha) / (aenn_sqrtf_exact(v[i]) + eps);
        }
    }
}

/* RMSprop: v = rho v + (1-rho) g^2; centered: a = rho a + (1-rho) g, den = v - a^2 + eps, else
 * den = v + eps; inc = lr g / sqrt(den); momentum: mom = mu mom + inc, w -= mom; else w -= inc.
 * The four option pairs are four loops of one inline body (the flags are constants in each). */
static AENN_ALWAYS_INLINE void rmsprop_loop(float *restrict w, const float *restrict g,
                                            float *restrict v, float *restrict mom,
                                            float *restrict avg, int64_t n, const float *h,
                                            const int has_mom, const int centered) {
    const float lr = h[0], rho = h[1], c = h[2], eps = h[3], mu = h[4];
    for (int64_t i = 0; i < n; i++) {
        v[i] = rho * v[i] + c * (g[i] * g[i]);
        float den;
        if (centered) {
            avg[i] = rho * avg[i] + c * g[i];
            den = v[i] - avg[i] * avg[i] + eps;
        } else {
            den = v[i] + eps;
        }
        float inc = (lr * g[i]) / aenn_sqrtf_exact(den);
        if (has_mom) {
            mom[i] = mu * mom[i] + inc;
            w[i] -= mom[i];
        } else {
            w[i] -= inc;
        }
    }
}

RULE rmsprop(float *w, const float *g, float *const *s, int64_t n, const float *h) {
    int has_mom = h[4] > 0.0f, centered = h[5] != 0.0f;
    float *v = s[0], *mom = has_mom ? s[1] : NULL, *avg = centered ? s[1 + has_mom] : NULL;
    if (has_mom && centered) rmsprop_loop(w, g, v, mom, avg, n, h, 1, 1);
    else if (has_mom) rmsprop_loop(w, g, v, mom, NULL, n, h, 1, 0);
    else if (centered) rmsprop_loop(w, g, v, NULL, avg, n, h, 0, 1);
    else rmsprop_loop(w, g, v, NULL, NULL, n, h, 0, 0);
}

/* Adagrad: acc += g^2; w -= lr g / sqrt(acc + eps). */
RULE adagrad(float *restrict w, const float *restrict g, float *const *s, int64_t n,
             const float *h) {
    const float lr = h[0], eps = h[1];
    float *restrict acc = s[0];
    for (int64_t i = 0; i < n; i++) {
        acc[i] += g[i] * g[i];
        w[i] -= (lr * g[i]) / aenn_sqrtf_exact(acc[i] + eps);
    }
}

/* Adadelta: ag = rho ag + (1-rho) g^2; d = -sqrt(ad+eps) g / sqrt(ag+eps);
 * ad = rho ad + (1-rho) d^2; w += lr d. */
RULE adadelta(float *restrict w, const float *restrict g, float *const *s, int64_t n,
              const float *h) {
    const float lr = h[0], rho = h[1], c = h[2], eps = h[3];
    float *restrict ag = s[0], *restrict ad = s[1];
    for (int64_t i = 0; i < n; i++) {
        ag[i] = rho * ag[i] + c * (g[i] * g[i]);
        float d = -((aenn_sqrtf_exact(ad[i] + eps) * g[i]) / aenn_sqrtf_exact(ag[i] + eps));
        ad[i] = rho * ad[i] + c * (d * d);
        w[i] += lr * d;
    }
}

/* Nadam (Keras 3): m += (g-m)(1-b1); v += (g^2-v)(1-b2);
 * m_hat = u_next m / (1-u_prod_next) + (1-u_t) g / (1-u_prod_t); v_hat = v / (1-b2^t);
 * w -= m_hat lr / (sqrt(v_hat) + eps). */
RULE nadam(float *restrict w, const float *restrict g, float *const *s, int64_t n,
           const float *h) {
    const float lr = h[0], c1 = h[1], c2 = h[2], eps = h[3];
    const float u_next = h[4], d_next = h[5], one_minus_u = h[6], d_t = h[7], bv = h[8];
    float *restrict m = s[0], *restrict v = s[1];
    for (int64_t i = 0; i < n; i++) {
        m[i] += (g[i] - m[i]) * c1;
        v[i] += (g[i] * g[i] - v[i]) * c2;
        float m_hat = (u_next * m[i]) / d_next + (one_minus_u * g[i]) / d_t;
        float v_hat = v[i] / bv;
        w[i] -= (m_hat * lr) / (aenn_sqrtf_exact(v_hat) + eps);
    }
}

typedef struct {
    const aenn_optim_tensors *t;
    int kind;
    const float *h;
} update_ctx;

/* Items are the elements of the concatenated tensors; [begin, end) may span several tensors. */
static AENN_ALWAYS_INLINE void update_range_body(void *vctx, int64_t begin, int64_t end) {
    update_ctx *c = vctx;
    const aenn_optim_tensors *t = c->t;
    int64_t lo = 0, hi = t->count - 1; /* the tensor holding `begin`: offsets[k] <= begin */
    while (lo < hi) {
        int64_t mid = (lo + hi + 1) / 2;
        if (t->offsets[mid] <= begin) lo = mid; else hi = mid - 1;
    }
    for (int64_t k = lo; k < t->count && t->offsets[k] < end; k++) {
        int64_t a = begin > t->offsets[k] ? begin : t->offsets[k];
        int64_t b = end < t->offsets[k + 1] ? end : t->offsets[k + 1];
        if (b <= a) continue;
        int64_t off = a - t->offsets[k];
        float *s[AENN_OPT_MAX_SLOTS];
        for (int j = 0; j < t->nslots; j++) s[j] = t->slots[k * t->nslots + j] + off;
        float *w = t->params[k] + off;
        const float *g = t->grads[k] + off;
        switch (c->kind) {
        case AENN_OPT_SGD: sgd(w, g, s, b - a, c->h); break;
        case AENN_OPT_ADAM: adam(w, g, s, b - a, c->h); break;
        case AENN_OPT_RMSPROP: rmsprop(w, g, s, b - a, c->h); break;
        case AENN_OPT_ADAGRAD: adagrad(w, g, s, b - a, c->h); break;
        case AENN_OPT_ADADELTA: adadelta(w, g, s, b - a, c->h); break;
        default: nadam(w, g, s, b - a, c->h); break;
        }
    }
}
AENN_ISA_BUILDS(update_range)

void aenn_optim_update(const aenn_optim_tensors *t, int kind, const float *h) {
    if (kind < 0 || kind > AENN_OPT_NADAM || t->count < 1) return;
    update_ctx c = {t, kind, h};
    aenn_parallel_for(t->offsets[t->count], 16384, update_range, &c);
}
