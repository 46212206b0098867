"""NumPy twin of csrc/optim.c: the fused optimizer update.

`optim_update(kind, params, grads, slots, h)` has the binding's arguments but returns
`(new_params, new_slots)` instead of updating in place. The arithmetic follows the C kernels
operation by operation in the arrays' own dtype (float32 matches C bit for bit; float64 for
checking formulas).
"""

import numpy as np

SGD, ADAM, RMSPROP, ADAGRAD, ADADELTA, NADAM = range(6)


def num_slots(kind, h):
    h = list(h) + [0.0] * 12
    return {SGD: 1 if h[1] > 0 else 0, ADAM: 3 if h[4] != 0 else 2,
            RMSPROP: 1 + (h[4] > 0) + (h[5] != 0), ADAGRAD: 1, ADADELTA: 2, NADAM: 2}[kind]


def _sgd(w, g, s, h, c):
    lr, mu, nesterov = c(h[0]), c(h[1]), h[2] != 0
    if not mu > 0:
        return w - g * lr, []
    m = s[0] * mu - g * lr
    return (w + (m * mu - g * lr) if nesterov else w + m), [m]


def _adam(w, g, s, h, c):
    alpha, c1, c2, eps, ams = c(h[0]), c(h[1]), c(h[2]), c(h[3]), h[4] != 0
    m = s[0] + (g - s[0]) * c1
    v = s[1] + (g * g - s[1]) * c2
    out = [m, v]
    vv = v
    if ams:
        vv = np.maximum(s[2], v)
        out.append(vv)
    return w - (m * alpha) / (np.sqrt(vv) + eps), out


def _rmsprop(w, g, s, h, c):
    lr, rho, one_minus_rho, eps, mu = c(h[0]), c(h[1]), c(h[2]), c(h[3]), c(h[4])
    has_mom, centered = h[4] > 0, h[5] != 0
    v = rho * s[0] + one_minus_rho * (g * g)
    out = [v]
    if centered:
        a = rho * s[1 + has_mom] + one_minus_rho * g
        den = v - a * a + eps
    else:
        den = v + eps
    inc = (lr * g) / np.sqrt(den)
    if has_mom:
        mom = mu * s[1] + inc
        out.append(mom)
        w = w - mom
    else:
        w = w - inc
    if centered:
        out.append(a)
    return w, out


def _adagrad(w, g, s, h, c):
    lr, eps = c(h[0]), c(h[1])
    acc = s[0] + g * g
    return w - (lr * g) / np.sqrt(acc + eps), [acc]


def _adadelta(w, g, s, h, c):
    lr, rho, one_minus_rho, eps = c(h[0]), c(h[1]), c(h[2]), c(h[3])
    ag = rho * s[0] + one_minus_rho * (g * g)
    d = -((np.sqrt(s[1] + eps) * g) / np.sqrt(ag + eps))
    ad = rho * s[1] + one_minus_rho * (d * d)
    return w + lr * d, [ag, ad]


def _nadam(w, g, s, h, c):
    lr, c1, c2, eps = c(h[0]), c(h[1]), c(h[2]), c(h[3])
    u_next, d_next, one_minus_u, d_t, bv = (c(x) for x in h[4:9])
    m = s[0] + (g - s[0]) * c1
    v = s[1] + (g * g - s[1]) * c2
    m_hat = (u_next * m) / d_next + (one_minus_u * g) / d_t
    v_hat = v / bv
    return w - (m_hat * lr) / (np.sqrt(v_hat) + eps), [m, v]


_RULES = [_sgd, _adam, _rmsprop, _adagrad, _adadelta, _nadam]


def optim_update(kind, params, grads, slots, h):
    h = [float(x) for x in h] + [0.0] * (12 - len(h))
    ns = num_slots(kind, h)
    new_params, new_slots = [], []
    for k, (w, g) in enumerate(zip(params, grads)):
        c = np.dtype(w.dtype).type  # hyper-parameters rounded to the arrays' dtype, as in C
        nw, ss = _RULES[kind](w, g, list(slots[k * ns:(k + 1) * ns]), h, c)
        new_params.append(np.asarray(nw, dtype=w.dtype))
        new_slots.extend(np.asarray(x, dtype=w.dtype) for x in ss)
    return new_params, new_slots
