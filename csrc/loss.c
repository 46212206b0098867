/* loss.c -- loss values and gradients (formulas in loss.h).
 *
 * Forward: one task per chunk of AENN_CHUNK rows; a chunk writes its rows' values and the sum
 * of those values (in double, in row order) to scratch[chunk]; the chunk sums are then added in
 * chunk order. Backward is row-wise. Either way the thread count never changes a bit.
 */
#include "loss.h"

#include "cpu.h"
#include "mathfn.h"
#include "mathfn_vec.h"

#define MIN_ELEMS 8192

static inline float clampf(float x, float lo, float hi) { return x < lo ? lo : (x > hi ? hi : x); }
static inline float absf(float x) { return x < 0.0f ? -x : x; }

/* ---- one row ----------------------------------------------------------------------------- */

/* log(sum_c exp(z_c)) with the max subtracted; also returns the max and the sum of exps. */
static float row_logsumexp(const float *z, int64_t C, float *max_out, double *sum_out) {
    float m = z[0];
    for (int64_t j = 1; j < C; j++) m = z[j] > m ? z[j] : m;
    double s = 0.0;
    for (int64_t j = 0; j < C; j++) s += (double)aenn_expf(z[j] - m);
    *max_out = m;
    *sum_out = s;
    return m + aenn_logf((float)s);
}

static float row_value(const float *y, const float *p, int64_t C, int kind, float param) {
    const float eps = AENN_LOSS_EPS, hi = 1.0f - AENN_LOSS_EPS;
    double acc = 0.0;
    switch (kind) {
    case AENN_LOSS_BCE:
        for (int64_t j = 0; j < C; j++) {
            float q = clampf(p[j], eps, hi);
            acc += (double)(-(y[j] * aenn_logf(q) + (1.0f - y[j]) * aenn_logf(1.0f - q)));
        }
        return (float)(acc / (double)C);
    case AENN_LOSS_BCE_LOGITS:
        for (int64_t j = 0; j < C; j++) {
            float z = p[j];
            acc += (double)((z > 0.0f ? z : 0.0f) - z * y[j] + aenn_log1pf(aenn_expf(-absf(z))));
        }
        return (float)(acc / (double)C);
    case AENN_LOSS_CCE: {
        double s = 0.0;
        for (int64_t j = 0; j < C; j++) s += (double)p[j];
        float sf = (float)s;
        for (int64_t j = 0; j < C; j++)
            acc += (double)(-y[j] * aenn_logf(clampf(p[j] / sf, eps, hi)));
        return (float)acc;
    }
    case AENN_LOSS_CCE_LOGITS: {
        float m;
        double s;
        float lse = row_logsumexp(p, C, &m, &s);
        for (int64_t j = 0; j < C; j++) acc += (double)(y[j] * (lse - p[j]));
        return (float)acc;
    }
    case AENN_LOSS_MSE:
        for (int64_t j = 0; j < C; j++) {
            float e = y[j] - p[j];
            acc += (double)(e * e);
        }
        return (float)(acc / (double)C);
    case AENN_LOSS_MAE:
        for (int64_t j = 0; j < C; j++) acc += (double)absf(y[j] - p[j]);
        return (float)(acc / (double)C);
    case AENN_LOSS_KLD:
        for (int64_t j = 0; j < C; j++) {
            float t = clampf(y[j], eps, 1.0f), q = clampf(p[j], eps, 1.0f);
            acc += (double)(t * aenn_logf(t / q));
        }
        return (float)acc;
    default: /* HUBER */
        for (int64_t j = 0; j < C; j++) {
            float e = p[j] - y[j], a = absf(e);
            acc += (double)(a <= param ? 0.5f * e * e : param * a - 0.5f * param * param);
        }
        return (float)(acc / (double)C);
    }
}

static void sigmoid_grad(float *restrict dp, const float *restrict y, const float *restrict p,
                         int64_t n, float sc);

/* Kinds whose gradient is elementwise (no row-wide sum): row_grad may run on many rows at once. */
static int elementwise_grad(int kind) {
    return kind != AENN_LOSS_CCE && kind != AENN_LOSS_CCE_LOGITS;
}

/* dp = d value / d p for one row of `cols` columns, times `scale` (1/rows). For the elementwise
 * kinds C may cover several consecutive rows (C = a multiple of cols). */
static void row_grad(float *dp, const float *y, const float *p, int64_t C, int64_t cols, int kind,
                     float param, float scale) {
    const float eps = AENN_LOSS_EPS, hi = 1.0f - AENN_LOSS_EPS;
    float sc = (kind == AENN_LOSS_CCE || kind == AENN_LOSS_CCE_LOGITS || kind == AENN_LOSS_KLD)
                   ? scale
                   : (float)((double)scale / (double)cols); /* mean over the last axis */
    switch (kind) {
    case AENN_LOSS_BCE:
        for (int64_t j = 0; j < C; j++) {
            float q = p[j];
            float g = (-y[j] / q + (1.0f - y[j]) / (1.0f - q)) * sc;
            dp[j] = aenn_vsel((q < eps) | (q > hi), 0.0f, g); /* branch-free: vectorises */
        }
        break;
    case AENN_LOSS_BCE_LOGITS:
        sigmoid_grad(dp, y, p, C, sc);
        break;
    case AENN_LOSS_CCE: {
        /* q = p/s; g_c = -y_c/clip(q_c) (0 where clipped); dp_j = (g_j - sum_c g_c q_c) / s */
        double s = 0.0;
        for (int64_t j = 0; j < C; j++) s += (double)p[j];
        float sf = (float)s;
        double dot = 0.0;
        for (int64_t j = 0; j < C; j++) {
            float q = p[j] / sf;
            float g = (q < eps || q > hi) ? 0.0f : -y[j] / q;
            dp[j] = g;
            dot += (double)g * (double)q;
        }
        float d = (float)dot;
        for (int64_t j = 0; j < C; j++) dp[j] = (dp[j] - d) / sf * sc;
        break;
    }
    case AENN_LOSS_CCE_LOGITS: {
        /* softmax(z) * sum(y) - y */
        float m;
        double s;
        row_logsumexp(p, C, &m, &s);
        double ysum = 0.0;
        for (int64_t j = 0; j < C; j++) ysum += (double)y[j];
        float inv = (float)(1.0 / s), ys = (float)ysum;
        for (int64_t j = 0; j < C; j++) dp[j] = (aenn_expf(p[j] - m) * inv * ys - y[j]) * sc;
        break;
    }
    case AENN_LOSS_MSE:
        for (int64_t j = 0; j < C; j++) dp[j] = 2.0f * (p[j] - y[j]) * sc;
        break;
    case AENN_LOSS_MAE:
        for (int64_t j = 0; j < C; j++) {
            float e = p[j] - y[j];
            dp[j] = e > 0.0f ? sc : (e < 0.0f ? -sc : 0.0f);
        }
        break;
    case AENN_LOSS_KLD:
        for (int64_t j = 0; j < C; j++) {
            float t = clampf(y[j], eps, 1.0f), q = p[j];
            dp[j] = (q < eps || q > 1.0f) ? 0.0f : -t / q * sc;
        }
        break;
    default: /* HUBER */
        for (int64_t j = 0; j < C; j++) {
            float e = p[j] - y[j];
            float g = absf(e) <= param ? e : (e > 0.0f ? param : -param);
            dp[j] = g * sc;
        }
        break;
    }
}

static float sparse_row_value(int32_t label, const float *p, int64_t C, int from_logits) {
    if (from_logits) {
        float m;
        double s;
        return row_logsumexp(p, C, &m, &s) - p[label];
    }
    const float eps = AENN_LOSS_EPS, hi = 1.0f - AENN_LOSS_EPS;
    double s = 0.0;
    for (int64_t j = 0; j < C; j++) s += (double)clampf(p[j], eps, hi);
    return aenn_logf((float)s) - aenn_logf(clampf(p[label], eps, hi));
}

static void sparse_row_grad(float *dp, int32_t label, const float *p, int64_t C, int from_logits,
                            float sc) {
    if (from_logits) {
        float m;
        double s;
        row_logsumexp(p, C, &m, &s);
        float inv = (float)(1.0 / s);
        for (int64_t j = 0; j < C; j++)
            dp[j] = (aenn_expf(p[j] - m) * inv - (j == label ? 1.0f : 0.0f)) * sc;
        return;
    }
    /* value = log(S) - log(q_l), q = clip(p), S = sum q: dq_j = 1/S - [j == l] / q_l */
    const float eps = AENN_LOSS_EPS, hi = 1.0f - AENN_LOSS_EPS;
    double s = 0.0;
    for (int64_t j = 0; j < C; j++) s += (double)clampf(p[j], eps, hi);
    float inv = (float)(1.0 / s);
    for (int64_t j = 0; j < C; j++) {
        float q = p[j];
        if (q < eps || q > hi) dp[j] = 0.0f;
        else dp[j] = (j == label ? inv - 1.0f / q : inv) * sc;
    }
}

/* ---- drivers ----------------------------------------------------------------------------- */

typedef struct {
    float *values, *dpred;
    double *scratch;
    const float *y_true, *y_pred;
    const int32_t *labels;
    int64_t rows, cols;
    int kind;
    float param, scale;
} loss_ctx;

/* Binary cross-entropy terms for n elements, from probabilities (kind BCE:
 * -(y log q + (1-y) log(1-q)), q = clip(p)) or logits (BCE_LOGITS: max(z,0) - z y +
 * log1p(e^-|z|)): the arithmetic of row_value's cases, in loops that vectorise.
 * The bodies below are compiled three times (plain, AVX2, AVX-512 without FMA): the same IEEE
 * float operations per element, only more elements per instruction, so every build gives the
 * same bits (docs/determinism.md); aenn_isa() picks one. */
#define BCE_TERMS_BODY                                                                          \
    const float eps = AENN_LOSS_EPS, hi = 1.0f - AENN_LOSS_EPS;                                 \
    if (kind == AENN_LOSS_BCE) {                                                                \
        for (int64_t j = 0; j < n; j++) {                                                       \
            float x = p[j];                                                                     \
            float q = aenn_vsel(x < eps, eps, aenn_vsel(x > hi, hi, x)); /* clampf */           \
            t[j] = -(y[j] * aenn_logf_v(q) + (1.0f - y[j]) * aenn_logf_v(1.0f - q));            \
        }                                                                                       \
    } else {                                                                                    \
        /* two passes, e^-|z| first: GCC 12 and Clang compile exp and log1p in one loop body  \
         * 2.9x slower than these two loops, which store and reload the same float */           \
        for (int64_t j = 0; j < n; j++) {                                                       \
            float z = p[j];                                                                     \
            float a = aenn_vsel(z < 0.0f, -z, z); /* absf */                                    \
            t[j] = aenn_expf_v(-a);                                                             \
        }                                                                                       \
        for (int64_t j = 0; j < n; j++) {                                                       \
            float z = p[j];                                                                     \
            t[j] = (aenn_vsel(z > 0.0f, z, 0.0f) - z * y[j]) + aenn_log1pf_v(t[j]);             \
        }                                                                                       \
    }
/* dp = (sigmoid(z) - y) * sc: the BCE_LOGITS gradient */
#define SIGMOID_GRAD_BODY                                                                       \
    for (int64_t j = 0; j < n; j++) dp[j] = (aenn_sigmoidf_v(p[j]) - y[j]) * sc;

#define BCE_FN_ARGS float *restrict t, const float *restrict y, const float *restrict p, int64_t n, int kind
#define SIG_FN_ARGS float *restrict dp, const float *restrict y, const float *restrict p, int64_t n, float sc

static void bce_terms_generic(BCE_FN_ARGS) { BCE_TERMS_BODY }
static void sigmoid_grad_generic(SIG_FN_ARGS) { SIGMOID_GRAD_BODY }
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define LOSS_X86 1
__attribute__((target("avx2"))) static void bce_terms_avx2(BCE_FN_ARGS) { BCE_TERMS_BODY }
__attribute__((target("avx2"))) static void sigmoid_grad_avx2(SIG_FN_ARGS) { SIGMOID_GRAD_BODY }
__attribute__((target("avx2,avx512f"))) static void bce_terms_avx512(BCE_FN_ARGS) { BCE_TERMS_BODY }
__attribute__((target("avx2,avx512f"))) static void sigmoid_grad_avx512(SIG_FN_ARGS) {
    SIGMOID_GRAD_BODY
}
#endif

static void bce_terms(BCE_FN_ARGS) {
#ifdef LOSS_X86
    switch (aenn_isa()) {
    case AENN_ISA_AVX512: bce_terms_avx512(t, y, p, n, kind); return;
    case AENN_ISA_AVX2: bce_terms_avx2(t, y, p, n, kind); return;
    default: break;
    }
#endif
    bce_terms_generic(t, y, p, n, kind);
}

static void sigmoid_grad(SIG_FN_ARGS) {
#ifdef LOSS_X86
    switch (aenn_isa()) {
    case AENN_ISA_AVX512: sigmoid_grad_avx512(dp, y, p, n, sc); return;
    case AENN_ISA_AVX2: sigmoid_grad_avx2(dp, y, p, n, sc); return;
    default: break;
    }
#endif
    sigmoid_grad_generic(dp, y, p, n, sc);
}

#define BCE_BLOCK 8192 /* terms computed at once (stack buffer, 32 KB) */
#define BCE_ROWS 4     /* rows summed side by side */

/* Rows [r0, r1) of BCE or BCE_LOGITS with C > 1 (one column: bce_chunks_c1): the same values
 * and double sums, in the same order, as row_value. */
static double bce_rows(loss_ctx *c, int64_t r0, int64_t r1) {
    const int64_t C = c->cols;
    float t[BCE_BLOCK];
    double part = 0.0;
    if (C <= BCE_BLOCK) {
        const int64_t per = BCE_BLOCK / C; /* whole rows per block */
        for (int64_t rb = r0; rb < r1; rb += per) {
            int64_t re = rb + per < r1 ? rb + per : r1;
            bce_terms(t, c->y_true + rb * C, c->y_pred + rb * C, (re - rb) * C, c->kind);
            /* BCE_ROWS rows at a time: independent double chains (one row alone is a chain of
             * C dependent adds, latency-bound); each row still adds j ascending from 0.0 */
            int64_t r = rb;
            for (; r + BCE_ROWS <= re; r += BCE_ROWS) {
                const float *tr = t + (r - rb) * C;
                double acc[BCE_ROWS] = {0.0};
                for (int64_t j = 0; j < C; j++)
                    for (int q = 0; q < BCE_ROWS; q++) acc[q] += (double)tr[q * C + j];
                for (int q = 0; q < BCE_ROWS; q++) {
                    float v = (float)(acc[q] / (double)C);
                    c->values[r + q] = v;
                    part += (double)v;
                }
            }
            for (; r < re; r++) {
                const float *tr = t + (r - rb) * C;
                double acc = 0.0;
                for (int64_t j = 0; j < C; j++) acc += (double)tr[j];
                float v = (float)(acc / (double)C);
                c->values[r] = v;
                part += (double)v;
            }
        }
    } else {
        for (int64_t r = r0; r < r1; r++) {
            double acc = 0.0;
            for (int64_t j0 = 0; j0 < C; j0 += BCE_BLOCK) {
                int64_t m = C - j0 < BCE_BLOCK ? C - j0 : BCE_BLOCK;
                bce_terms(t, c->y_true + r * C + j0, c->y_pred + r * C + j0, m, c->kind);
                for (int64_t j = 0; j < m; j++) acc += (double)t[j];
            }
            float v = (float)(acc / (double)C);
            c->values[r] = v;
            part += (double)v;
        }
    }
    return part;
}

#define BCE_SUMS 8 /* chunk sums added side by side */

/* Chunks [k0, k1) of BCE or BCE_LOGITS with one column (an image's per-pixel loss): the terms of
 * many chunks at once, then each chunk's double sum in row order, BCE_SUMS chunks side by side
 * (one chunk alone is a chain of AENN_CHUNK dependent adds). The values and sums of row_value:
 * (float)((0.0 + (double)t) / 1.0) is t, except that -0 becomes +0, so a value is t + 0.0f. */
static void bce_chunks_c1(loss_ctx *c, int64_t k0, int64_t k1) {
    float t[BCE_BLOCK];
    const int64_t per = BCE_BLOCK / AENN_CHUNK; /* chunks per block of terms */
    for (int64_t kb = k0; kb < k1; kb += per) {
        const int64_t ke = kb + per < k1 ? kb + per : k1;
        const int64_t r0 = kb * AENN_CHUNK, r1 = ke * AENN_CHUNK < c->rows ? ke * AENN_CHUNK : c->rows;
        bce_terms(t, c->y_true + r0, c->y_pred + r0, r1 - r0, c->kind);
        for (int64_t r = r0; r < r1; r++) {
            t[r - r0] += 0.0f;
            c->values[r] = t[r - r0];
        }
        int64_t k = kb;
        for (; k + BCE_SUMS <= ke && (k + BCE_SUMS) * AENN_CHUNK <= r1; k += BCE_SUMS) {
            const float *tk = t + (k - kb) * AENN_CHUNK;
            double acc[BCE_SUMS] = {0.0};
            for (int64_t i = 0; i < AENN_CHUNK; i++)
                for (int q = 0; q < BCE_SUMS; q++) acc[q] += (double)tk[q * AENN_CHUNK + i];
            for (int q = 0; q < BCE_SUMS; q++) c->scratch[k + q] = acc[q];
        }
        for (; k < ke; k++) {
            const int64_t a = k * AENN_CHUNK, e = a + AENN_CHUNK < r1 ? a + AENN_CHUNK : r1;
            double part = 0.0;
            for (int64_t r = a; r < e; r++) part += (double)t[r - r0];
            c->scratch[k] = part;
        }
    }
}

static void loss_forward_chunks(void *p, int64_t begin, int64_t end) {
    loss_ctx *c = (loss_ctx *)p;
    int64_t C = c->cols;
    if (!c->labels && C == 1 && (c->kind == AENN_LOSS_BCE || c->kind == AENN_LOSS_BCE_LOGITS)) {
        bce_chunks_c1(c, begin, end);
        return;
    }
    if (!c->labels && (c->kind == AENN_LOSS_BCE || c->kind == AENN_LOSS_BCE_LOGITS)) {
        for (int64_t k = begin; k < end; k++) {
            int64_t r0 = k * AENN_CHUNK, r1 = r0 + AENN_CHUNK < c->rows ? r0 + AENN_CHUNK : c->rows;
            c->scratch[k] = bce_rows(c, r0, r1);
        }
        return;
    }
    for (int64_t k = begin; k < end; k++) {
        int64_t r0 = k * AENN_CHUNK, r1 = r0 + AENN_CHUNK < c->rows ? r0 + AENN_CHUNK : c->rows;
        double part = 0.0;
        for (int64_t r = r0; r < r1; r++) {
            float v = c->labels ? sparse_row_value(c->labels[r], c->y_pred + r * C, C, c->kind)
                                : row_value(c->y_true + r * C, c->y_pred + r * C, C, c->kind,
                                            c->param);
            c->values[r] = v;
            part += (double)v;
        }
        c->scratch[k] = part;
    }
}

static void loss_backward_rows(void *p, int64_t begin, int64_t end) {
    loss_ctx *c = (loss_ctx *)p;
    int64_t C = c->cols;
    if (!c->labels && elementwise_grad(c->kind)) {
        row_grad(c->dpred + begin * C, c->y_true + begin * C, c->y_pred + begin * C,
                 (end - begin) * C, C, c->kind, c->param, c->scale);
        return;
    }
    for (int64_t r = begin; r < end; r++) {
        if (c->labels)
            sparse_row_grad(c->dpred + r * C, c->labels[r], c->y_pred + r * C, C, c->kind,
                            c->scale);
        else
            row_grad(c->dpred + r * C, c->y_true + r * C, c->y_pred + r * C, C, C, c->kind,
                     c->param, c->scale);
    }
}

static double run_forward(loss_ctx *c) {
    int64_t nchunks = aenn_num_chunks(c->rows);
    int64_t per_chunk = AENN_CHUNK * c->cols;
    int64_t min_chunks = per_chunk >= MIN_ELEMS ? 1 : MIN_ELEMS / per_chunk;
    aenn_parallel_for(nchunks, min_chunks, loss_forward_chunks, c);
    double total = 0.0;
    for (int64_t k = 0; k < nchunks; k++) total += c->scratch[k];
    return total / (double)c->rows;
}

static void run_backward(loss_ctx *c) {
    int64_t min_rows = c->cols >= MIN_ELEMS ? 1 : MIN_ELEMS / c->cols;
    aenn_parallel_for(c->rows, min_rows, loss_backward_rows, c);
}

void aenn_loss_forward(float *values, double *loss, double *scratch, const float *y_true,
                       const float *y_pred, int64_t rows, int64_t cols, int kind, float param) {
    loss_ctx c = {values, NULL, scratch, y_true, y_pred, NULL, rows, cols, kind, param, 0.0f};
    *loss = run_forward(&c);
}

void aenn_loss_backward(float *dpred, const float *y_true, const float *y_pred, int64_t rows,
                        int64_t cols, int kind, float param) {
    loss_ctx c = {NULL, dpred, NULL, y_true, y_pred, NULL, rows, cols, kind, param,
                  (float)(1.0 / (double)rows)};
    run_backward(&c);
}

static int labels_ok(const int32_t *labels, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++)
        if (labels[r] < 0 || (int64_t)labels[r] >= cols) return 0;
    return 1;
}

int aenn_sparse_cce_forward(float *values, double *loss, double *scratch, const int32_t *labels,
                            const float *y_pred, int64_t rows, int64_t cols, int from_logits) {
    if (!labels_ok(labels, rows, cols)) return AENN_ERR_VALUE;
    loss_ctx c = {values, NULL, scratch, NULL, y_pred, labels, rows, cols, from_logits, 0.0f, 0.0f};
    *loss = run_forward(&c);
    return AENN_OK;
}

int aenn_sparse_cce_backward(float *dpred, const int32_t *labels, const float *y_pred,
                             int64_t rows, int64_t cols, int from_logits) {
    if (!labels_ok(labels, rows, cols)) return AENN_ERR_VALUE;
    loss_ctx c = {NULL, dpred, NULL, NULL, y_pred, labels, rows, cols, from_logits, 0.0f,
                  (float)(1.0 / (double)rows)};
    run_backward(&c);
    return AENN_OK;
}
