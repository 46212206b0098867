/* optim.c -- fused, element-wise optimizer updates (Keras 3 formulas, float32). */
#include "optim.h"

#include "mathfn.h"

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

/* Each rule updates n elements: w (param), g (grad), s[] (its slots). */

/* SGD: momentum 0: w -= lr*g. Else m = mu*m - lr*g; w += m, or (Nesterov) w += mu*m - lr*g. */
static void sgd(float *w, const float *g, float *const *s, int64_t n, const float *h) {
    float lr = h[0], mu = h[1];
    if (!(mu > 0.0f)) {
        for (int64_t i = 0; i < n; i++) w[i] -= g[i] * lr;
        return;
    }
    float *m = s[0];
    for (int64_t i = 0; i < n; i++) {
        m[i] = m[i] * mu - g[i] * lr;
        w[i] += h[2] != 0.0f ? m[i] * mu - g[i] * lr : m[i];
    }
}

/* Adam: m += (g-m)(1-b1); v += (g^2-v)(1-b2); [vhat = max(vhat, v)]; w -= m*alpha/(sqrt(v)+eps)
 * with alpha = lr*sqrt(1-b2^t)/(1-b1^t) (bias correction folded into the step). */
static void adam(float *w, const float *g, float *const *s, int64_t n, const float *h) {
    float alpha = h[0], c1 = h[1], c2 = h[2], eps = h[3];
    float *m = s[0], *v = s[1], *vhat = h[4] != 0.0f ? s[2] : NULL;
    for (int64_t i = 0; i < n; i++) {
        m[i] += (g[i] - m[i]) * c1;
        v[i] += (g[i] * g[i] - v[i]) * c2;
        float vv = v[i];
        if (vhat) {
            if (vv > vhat[i]) vhat[i] = vv;
            vv = vhat[i];
        }
        w[i] -= (m[i] * alpha) / (aenn_sqrtf_exact(vv) + eps);
    }
}

/* RMSprop: v = rho v + (1-rho) g^2; centered: a = rho a + (1-rho) g, den = v - a^2 + eps, else
 * den = v + eps; inc = lr g / sqrt(den); momentum: mom = mu mom + inc, w -= mom; else w -= inc. */
static void rmsprop(float *w, const float *g, float *const *s, int64_t n, const float *h) {
    float lr = h[0], rho = h[1], c = h[2], eps = h[3], mu = h[4];
    int has_mom = mu > 0.0f, centered = h[5] != 0.0f;
    float *v = s[0], *mom = has_mom ? s[1] : NULL, *avg = centered ? s[1 + has_mom] : NULL;
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

/* Adagrad: acc += g^2; w -= lr g / sqrt(acc + eps). */
static void adagrad(float *w, const float *g, float *const *s, int64_t n, const float *h) {
    float lr = h[0], eps = h[1];
    float *acc = s[0];
    for (int64_t i = 0; i < n; i++) {
        acc[i] += g[i] * g[i];
        w[i] -= (lr * g[i]) / aenn_sqrtf_exact(acc[i] + eps);
    }
}

/* Adadelta: ag = rho ag + (1-rho) g^2; d = -sqrt(ad+eps) g / sqrt(ag+eps);
 * ad = rho ad + (1-rho) d^2; w += lr d. */
static void adadelta(float *w, const float *g, float *const *s, int64_t n, const float *h) {
    float lr = h[0], rho = h[1], c = h[2], eps = h[3];
    float *ag = s[0], *ad = s[1];
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
static void nadam(float *w, const float *g, float *const *s, int64_t n, const float *h) {
    float lr = h[0], c1 = h[1], c2 = h[2], eps = h[3];
    float u_next = h[4], d_next = h[5], one_minus_u = h[6], d_t = h[7], bv = h[8];
    float *m = s[0], *v = s[1];
    for (int64_t i = 0; i < n; i++) {
        m[i] += (g[i] - m[i]) * c1;
        v[i] += (g[i] * g[i] - v[i]) * c2;
        float m_hat = (u_next * m[i]) / d_next + (one_minus_u * g[i]) / d_t;
        float v_hat = v[i] / bv;
        w[i] -= (m_hat * lr) / (aenn_sqrtf_exact(v_hat) + eps);
    }
}

typedef void (*rule_fn)(float *w, const float *g, float *const *s, int64_t n, const float *h);

typedef struct {
    const aenn_optim_tensors *t;
    rule_fn rule;
    const float *h;
} update_ctx;

/* Items are the elements of the concatenated tensors; [begin, end) may span several tensors. */
static void update_range(void *vctx, int64_t begin, int64_t end) {
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
        c->rule(t->params[k] + off, t->grads[k] + off, s, b - a, c->h);
    }
}

void aenn_optim_update(const aenn_optim_tensors *t, int kind, const float *h) {
    static const rule_fn rules[] = {sgd, adam, rmsprop, adagrad, adadelta, nadam};
    if (kind < 0 || kind > AENN_OPT_NADAM || t->count < 1) return;
    update_ctx c = {t, rules[kind], h};
    aenn_parallel_for(t->offsets[t->count], 16384, update_range, &c);
}
