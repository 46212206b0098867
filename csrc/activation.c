/* activation.c -- activations forward and backward (see activation.h for the formulas).
 *
 * Everything here is elementwise or row-wise, so splitting the work between threads never
 * changes a result. Transcendentals come from mathfn.h only.
 *
 * Speed: the elementwise loops are written branch-free (a select between values that are all
 * computed, aenn_vsel, instead of `c ? a : b` on floats, which GCC will not if-convert under
 * -ftrapping-math), so that they vectorise; isa_builds.h compiles each loop for SSE2, AVX2 and
 * AVX-512 and picks one with aenn_isa(). A select returns the very bits one side computed, so
 * -0, NaN payloads and subnormals come out as they did with branches.
 */
#include "activation.h"

#include "isa_builds.h"
#include "mathfn.h"
#include "mathfn_vec.h"

/* Elements per thread below which fewer threads are used. The vectorised LeakyReLU runs at
 * ~0.11 ns per element (256x512 in 14.5 us on one Zen 4 core) and handing a range to a spinning
 * worker costs ~1-2 us, so 16384 elements (~2 us) per thread is where a second thread starts to
 * pay: 1 -> 2 threads, (256, 196) 4.2 -> 3.5 us, (256, 256) 6.2 -> 4.5 us (min of 300). */
#define MIN_ELEMS 16384

static const float SELU_ALPHA = 1.6732632423543772f;
static const float SELU_SCALE = 1.0507009873554805f;

int aenn_activation_needs_out(int kind) {
    return kind == AENN_ACT_SIGMOID || kind == AENN_ACT_TANH || kind == AENN_ACT_EXPONENTIAL;
}

/* ---- elementwise ---------------------------------------------------------------------- */

static AENN_ALWAYS_INLINE float act_forward_one(float x, int kind, float alpha) {
    switch (kind) {
    case AENN_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case AENN_ACT_SIGMOID: return aenn_sigmoidf_v(x);
    case AENN_ACT_TANH: return aenn_tanhf(x);
    case AENN_ACT_LEAKY_RELU: return aenn_vsel(x >= 0.0f, x, alpha * x);
    case AENN_ACT_ELU: return x > 0.0f ? x : alpha * aenn_expm1f(x);
    case AENN_ACT_SELU:
        return x > 0.0f ? SELU_SCALE * x : SELU_SCALE * (SELU_ALPHA * aenn_expm1f(x));
    case AENN_ACT_SOFTPLUS: {
        /* log(1 + e^x) = max(x, 0) + log1p(e^-|x|) */
        float a = x < 0.0f ? -x : x;
        return (x > 0.0f ? x : 0.0f) + aenn_log1pf(aenn_expf(-a));
    }
    case AENN_ACT_SOFTSIGN: return x / (1.0f + (x < 0.0f ? -x : x));
    case AENN_ACT_HARD_SIGMOID: {
        /* 0 at x <= -3, 1 at x >= 3 (exclusive conditions), else x/6 + 0.5 (NaN stays NaN) */
        float y = aenn_vsel(x >= 3.0f, 1.0f, x / 6.0f + 0.5f);
        return aenn_vsel(x <= -3.0f, 0.0f, y);
    }
    case AENN_ACT_GELU: return 0.5f * x * (1.0f + aenn_erff(x * 0.70710678118654752f));
    case AENN_ACT_SILU: return x * aenn_sigmoidf_v(x);
    case AENN_ACT_EXPONENTIAL: return aenn_expf_v(x);
    case AENN_ACT_RELU6: return x > 0.0f ? (x < 6.0f ? x : 6.0f) : 0.0f;
    default: return x; /* linear */
    }
}

/* d act / dx at x (y = act(x) for the kinds that use it). */
static AENN_ALWAYS_INLINE float act_deriv_one(float x, float y, int kind, float alpha) {
    switch (kind) {
    /* (float)(condition) is 1.0f or 0.0f, as a select would give, without a branch */
    case AENN_ACT_RELU: return x > 0.0f ? 1.0f : 0.0f;
    case AENN_ACT_SIGMOID: return y * (1.0f - y);
    case AENN_ACT_TANH: return 1.0f - y * y;
    case AENN_ACT_LEAKY_RELU: return aenn_vsel(x > 0.0f, 1.0f, alpha);
    /* aenn_expf_v: the branch-free twin of aenn_expf, the same bits for every input */
    case AENN_ACT_ELU: return aenn_vsel(x > 0.0f, 1.0f, alpha * aenn_expf_v(x));
    case AENN_ACT_SELU:
        return aenn_vsel(x > 0.0f, SELU_SCALE, SELU_SCALE * (SELU_ALPHA * aenn_expf_v(x)));
    case AENN_ACT_SOFTPLUS: return aenn_sigmoidf_v(x);
    case AENN_ACT_SOFTSIGN: {
        float d = 1.0f + (x < 0.0f ? -x : x);
        return 1.0f / (d * d);
    }
    case AENN_ACT_HARD_SIGMOID: return aenn_vsel((x > -3.0f) & (x < 3.0f), 1.0f / 6.0f, 0.0f);
    case AENN_ACT_GELU: {
        /* Phi(x) + x * phi(x) */
        float cdf = 0.5f * (1.0f + aenn_erff(x * 0.70710678118654752f));
        float pdf = 0.39894228040143268f * aenn_expf(-0.5f * x * x);
        return cdf + x * pdf;
    }
    case AENN_ACT_SILU: {
        float s = aenn_sigmoidf_v(x);
        return s * (1.0f + x * (1.0f - s));
    }
    case AENN_ACT_EXPONENTIAL: return y;
    case AENN_ACT_RELU6: return (x > 0.0f && x < 6.0f) ? 1.0f : 0.0f;
    default: return 1.0f; /* linear */
    }
}

/* dout * (cond ? 1 : 0) as a bitwise select between dout and dout * 0 (what the compiled
 * select always gave: dout passes unchanged, subnormals included, where cond holds), written
 * without a branch so that it vectorises. */
static AENN_ALWAYS_INLINE float masked_grad(float d, int cond) {
    uint32_t m = (uint32_t)(-(int32_t)cond);
    return aenn_bits_to_float((aenn_float_to_bits(d) & m) |
                              (aenn_float_to_bits(d * 0.0f) & ~m));
}

typedef struct {
    float *out;
    const float *dout, *inp, *y;
    int kind;
    float alpha;
} act_ctx;

/* The switch on `kind` is taken once per range, not per element: each case runs its own loop
 * with a constant kind, so act_forward_one / act_deriv_one fold to that kind's arithmetic (the
 * same per-element operations as before) and the branch-free kinds vectorise. */
#define KIND_CASES(LOOP)                                                                          \
    switch (kind) {                                                                           \
    case AENN_ACT_RELU: LOOP(AENN_ACT_RELU); break;                                           \
    case AENN_ACT_SIGMOID: LOOP(AENN_ACT_SIGMOID); break;                                     \
    case AENN_ACT_TANH: LOOP(AENN_ACT_TANH); break;                                           \
    case AENN_ACT_LEAKY_RELU: LOOP(AENN_ACT_LEAKY_RELU); break;                               \
    case AENN_ACT_ELU: LOOP(AENN_ACT_ELU); break;                                             \
    case AENN_ACT_SELU: LOOP(AENN_ACT_SELU); break;                                           \
    case AENN_ACT_SOFTPLUS: LOOP(AENN_ACT_SOFTPLUS); break;                                   \
    case AENN_ACT_SOFTSIGN: LOOP(AENN_ACT_SOFTSIGN); break;                                   \
    case AENN_ACT_HARD_SIGMOID: LOOP(AENN_ACT_HARD_SIGMOID); break;                           \
    case AENN_ACT_GELU: LOOP(AENN_ACT_GELU); break;                                           \
    case AENN_ACT_SILU: LOOP(AENN_ACT_SILU); break;                                           \
    case AENN_ACT_EXPONENTIAL: LOOP(AENN_ACT_EXPONENTIAL); break;                             \
    case AENN_ACT_RELU6: LOOP(AENN_ACT_RELU6); break;                                         \
    default: LOOP(AENN_ACT_LINEAR); break;                                                    \
    }

static AENN_ALWAYS_INLINE void act_forward_range_body(void *p, int64_t begin, int64_t end) {
    act_ctx *c = (act_ctx *)p;
    float *restrict out = c->out;
    const float *restrict inp = c->inp;
    const float alpha = c->alpha;
    const int kind = c->kind;
#define FWD_LOOP(K)                                                                               \
    for (int64_t i = begin; i < end; i++) out[i] = act_forward_one(inp[i], K, alpha)
    KIND_CASES(FWD_LOOP)
#undef FWD_LOOP
}

static AENN_ALWAYS_INLINE void act_backward_range_body(void *p, int64_t begin, int64_t end) {
    act_ctx *c = (act_ctx *)p;
    float *restrict out = c->out;
    const float *restrict inp = c->inp;
    const float *restrict dout = c->dout;
    const float *restrict y = c->y;
    const float alpha = c->alpha;
    const int kind = c->kind;
    if (kind == AENN_ACT_RELU) {
        for (int64_t i = begin; i < end; i++) out[i] = masked_grad(dout[i], inp[i] > 0.0f);
        return;
    }
    if (kind == AENN_ACT_RELU6) {
        for (int64_t i = begin; i < end; i++)
            out[i] = masked_grad(dout[i], (inp[i] > 0.0f) & (inp[i] < 6.0f));
        return;
    }
    /* leaky_relu and elu: where x > 0 the derivative is 1 and dout passes unchanged (the
     * branchy dout * 1.0f that the compiler folded to dout: subnormals survive flush-to-zero);
     * elsewhere dout * act'(x) is a real product. */
    if (kind == AENN_ACT_LEAKY_RELU) {
        for (int64_t i = begin; i < end; i++)
            out[i] = aenn_vsel(inp[i] > 0.0f, dout[i], dout[i] * alpha);
        return;
    }
    if (kind == AENN_ACT_ELU) {
        for (int64_t i = begin; i < end; i++)
            out[i] = aenn_vsel(inp[i] > 0.0f, dout[i], dout[i] * (alpha * aenn_expf_v(inp[i])));
        return;
    }
    if (y) {
#define BWD_LOOP_Y(K)                                                                             \
    for (int64_t i = begin; i < end; i++) out[i] = dout[i] * act_deriv_one(inp[i], y[i], K, alpha)
        KIND_CASES(BWD_LOOP_Y)
#undef BWD_LOOP_Y
    } else {
#define BWD_LOOP(K)                                                                               \
    for (int64_t i = begin; i < end; i++) out[i] = dout[i] * act_deriv_one(inp[i], 0.0f, K, alpha)
        KIND_CASES(BWD_LOOP)
#undef BWD_LOOP
    }
}

AENN_ISA_BUILDS(act_forward_range)
AENN_ISA_BUILDS(act_backward_range)

void aenn_activation_forward(float *out, const float *inp, int64_t n, int kind, float alpha) {
    act_ctx c = {out, NULL, inp, NULL, kind, alpha};
    aenn_parallel_for(n, MIN_ELEMS, act_forward_range, &c);
}

void aenn_activation_backward(float *dinp, const float *dout, const float *inp, const float *out,
                              int64_t n, int kind, float alpha) {
    act_ctx c = {dinp, dout, inp, out, kind, alpha};
    aenn_parallel_for(n, MIN_ELEMS, act_backward_range, &c);
}

/* ---- ReLU with max_value / negative_slope / threshold ----------------------------------- */

typedef struct {
    float *out;
    const float *dout, *inp;
    float slope, max_value, threshold;
} relu_ctx;

/* y = min(x, mv) above thr, slope*(x - thr) + 0 below (the + 0 turns -0 into +0), 0 at thr
 * and for NaN (neither comparison holds): both sides are computed, then selected. */
static AENN_ALWAYS_INLINE void relu_forward_range_body(void *p, int64_t begin, int64_t end) {
    relu_ctx *c = (relu_ctx *)p;
    float *restrict out = c->out;
    const float *restrict inp = c->inp;
    const float thr = c->threshold, mv = c->max_value, slope = c->slope;
    for (int64_t i = begin; i < end; i++) {
        float x = inp[i];
        float above = aenn_vsel(x < mv, x, mv);
        float below = slope * (x - thr) + 0.0f;
        out[i] = aenn_vsel(x > thr, above, aenn_vsel(x < thr, below, 0.0f));
    }
}

/* dinp = dout * d, d = (x < mv ? 1 : 0) above thr, slope below, 0 at thr and for NaN */
static AENN_ALWAYS_INLINE void relu_backward_range_body(void *p, int64_t begin, int64_t end) {
    relu_ctx *c = (relu_ctx *)p;
    float *restrict out = c->out;
    const float *restrict inp = c->inp, *restrict dout = c->dout;
    const float thr = c->threshold, mv = c->max_value, slope = c->slope;
    for (int64_t i = begin; i < end; i++) {
        float x = inp[i];
        float d = aenn_vsel(x > thr, aenn_vsel(x < mv, 1.0f, 0.0f), aenn_vsel(x < thr, slope, 0.0f));
        out[i] = dout[i] * d;
    }
}

AENN_ISA_BUILDS(relu_forward_range)
AENN_ISA_BUILDS(relu_backward_range)

void aenn_relu_forward(float *out, const float *inp, int64_t n, float negative_slope,
                       float max_value, float threshold) {
    relu_ctx c = {out, NULL, inp, negative_slope, max_value, threshold};
    aenn_parallel_for(n, MIN_ELEMS, relu_forward_range, &c);
}

void aenn_relu_backward(float *dinp, const float *dout, const float *inp, int64_t n,
                        float negative_slope, float max_value, float threshold) {
    relu_ctx c = {dinp, dout, inp, negative_slope, max_value, threshold};
    aenn_parallel_for(n, MIN_ELEMS, relu_backward_range, &c);
}

/* ---- softmax over the last axis ------------------------------------------------------- */

typedef struct {
    float *out;
    const float *dout, *inp;
    int64_t cols;
} softmax_ctx;

static void softmax_forward_range(void *p, int64_t begin, int64_t end) {
    softmax_ctx *c = (softmax_ctx *)p;
    int64_t C = c->cols;
    for (int64_t r = begin; r < end; r++) {
        const float *x = c->inp + r * C;
        float *y = c->out + r * C;
        float m = x[0];
        for (int64_t j = 1; j < C; j++) m = x[j] > m ? x[j] : m;
        double sum = 0.0;
        for (int64_t j = 0; j < C; j++) {
            y[j] = aenn_expf(x[j] - m);
            sum += (double)y[j];
        }
        float inv = (float)(1.0 / sum);
        for (int64_t j = 0; j < C; j++) y[j] *= inv;
    }
}

static void softmax_backward_range(void *p, int64_t begin, int64_t end) {
    softmax_ctx *c = (softmax_ctx *)p;
    int64_t C = c->cols;
    for (int64_t r = begin; r < end; r++) {
        const float *y = c->inp + r * C; /* the forward output */
        const float *dy = c->dout + r * C;
        float *dx = c->out + r * C;
        double dot = 0.0;
        for (int64_t j = 0; j < C; j++) dot += (double)dy[j] * (double)y[j];
        float d = (float)dot;
        for (int64_t j = 0; j < C; j++) dx[j] = y[j] * (dy[j] - d);
    }
}

void aenn_softmax_forward(float *out, const float *inp, int64_t rows, int64_t cols) {
    softmax_ctx c = {out, NULL, inp, cols};
    int64_t min_rows = cols >= MIN_ELEMS ? 1 : MIN_ELEMS / cols;
    aenn_parallel_for(rows, min_rows, softmax_forward_range, &c);
}

void aenn_softmax_backward(float *dinp, const float *dout, const float *out, int64_t rows,
                           int64_t cols) {
    softmax_ctx c = {dinp, dout, out, cols};
    int64_t min_rows = cols >= MIN_ELEMS ? 1 : MIN_ELEMS / cols;
    aenn_parallel_for(rows, min_rows, softmax_backward_range, &c);
}

/* ---- mathfn.h, raw -------------------------------------------------------------------- */

void aenn_mathfn_apply(float *out, const float *inp, int64_t n, int fn) {
    for (int64_t i = 0; i < n; i++) {
        float x = inp[i];
        switch (fn) {
        case AENN_FN_EXP: out[i] = aenn_expf(x); break;
        case AENN_FN_LOG: out[i] = aenn_logf(x); break;
        case AENN_FN_TANH: out[i] = aenn_tanhf(x); break;
        case AENN_FN_LOG1P: out[i] = aenn_log1pf(x); break;
        case AENN_FN_EXPM1: out[i] = aenn_expm1f(x); break;
        case AENN_FN_SIGMOID: out[i] = aenn_sigmoidf_v(x); break;
        default: out[i] = aenn_erff(x); break;
        }
    }
}
