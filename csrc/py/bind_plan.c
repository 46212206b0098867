/* bind_plan.c -- Python bindings of the compiled training step of a layer chain (csrc/plan.h).
 *
 *   plan_create(layers, x, yt, labels, loss, opt, metric, bn_scratch) -> capsule
 *     layers: list of tuples (kind, backward, need_dx, y, dy, *fields), one per layer in order;
 *             y, dy: (cap, out) float32 buffers; the fields by kind (plan.h):
 *       Dense (0):          kernel, bias|None, act, alpha, z, dz|None, dkernel, dbias|None
 *                           (act: AENN_ACT_* or -1 softmax; y is the z array itself when linear)
 *       BatchNorm (1):      gamma|None, beta|None, moving_mean, moving_var, mean, inv_std, var,
 *                           dgamma|None, dbeta|None, momentum, eps (the arrays (out,))
 *       Dropout (2):        mask (cap, out), keep, scale
 *       Activation (3):     act, alpha
 *       ReLU (4):           negative_slope, max_value, threshold
 *       Conv (5):           kernel, bias|None, act, alpha, z, dz|None, dkernel, dbias|None,
 *                           transpose, geom (as Dense, act not softmax; y is z when linear)
 *       ConvPool (6):       kernel, bias|None, z|None, dz|None, dkernel, dbias|None, argmax
 *                           (cap, out) int32, m1, geom (z: the conv output, None with m1;
 *                           dz: its gradient, None with m1 and no need_dx)
 *       UpConv (7):         kernel, bias|None, act, alpha, z, dz|None, dkernel, dbias|None,
 *                           (H, W, C, OC): the low-res input (H, W, C), output (2H, 2W, OC)
 *       Pool (8):           argmax (cap, out) int32 | None (an average pool),
 *                           (H, W, C, OH, OW, KH, KW, SH, SW, pad_top, pad_left)
 *       UpSample (9):       bilinear, (H, W, C, SH, SW): input (H, W, C), output (H*SH, W*SW, C)
 *     geom: (H, W, C, OH, OW, OC, KH, KW, SH, SW, DH, DW, pad_top, pad_bottom, pad_left,
 *            pad_right) of the 2-D conv kernels (Conv1D: H = KH = 1); for a transpose the pads
 *            are (crop_top, 0, crop_left, 0); ConvPool's OH, OW are the conv's, before the pool.
 *            A layer's input is H*W*C floats per sample, its output OH*OW*OC (ConvPool:
 *            (OH/2)*(OW/2)*OC; UpConv: 4*H*W*OC).
 *     x:      (cap, in) float32 batch buffer
 *     yt:     (cap, cols) float32 target buffer, or None with sparse labels
 *     labels: (cap,) int32 label buffer, or None
 *     loss:   (kind, param, from_logits, on_logits, values (rows,) f32, scratch (chunks,) f64
 *              [, cols]); kind: AENN_LOSS_* or -1 (sparse categorical crossentropy); cols: the
 *             output's last axis (default: all of the output), rows = cap * out / cols (cols == out
 *             for sparse labels and for a metric)
 *     opt:    (kind, params, slots, nslots, iterations): params = the trainable weights in layer
 *             order (Dense: kernel, bias; BN: gamma, beta; the optimizer's variable order),
 *             slots = the optimizer's slot arrays interleaved per parameter, as optim_update
 *             takes them; iterations: the optimizer's int64 0-d step counter, incremented by
 *             every step
 *     metric: 0 none, 1 categorical accuracy, 2 sparse categorical accuracy
 *     bn_scratch: float64 (aenn_batchnorm_scratch_size(cap, widest BN),) or None without BN
 *   plan_step(plan, x_all, y_all, idx, h, draws=(), times=None) -> (loss, hits)
 *     x_all (n, in) f32, y_all (n, cols) or (n,)/(n, 1) for labels, idx (B,) int64 rows,
 *     h: the optimizer's hyper-parameters for this step; draws: a flat sequence (k0, k1,
 *     counter) per Dropout layer with keep > 0, in layer order; times: None, or a float64
 *     array of 4 + 2 * len(layers) to which the seconds of each part are added: [gather,
 *     forward of each layer, loss, backward of each layer, optimizer, metric] (plan.h).
 *     Raises ValueError on a bad label.
 *
 * The convolutions' scratch is allocated here, for cap rows, and freed with the capsule.
 *
 * The only aliasing allowed: a linear Dense or conv layer's y is its z; the last layer, an activation
 * layer whose logits the loss reads (backward 0), shares dy with the previous layer.
 * The capsule keeps a reference to every array it points into (the argument tuple), so no
 * buffer or weight can be freed under it; Python re-plans when a weight array is replaced.
 */
#include "bind.h"

#include <math.h>
#include <string.h>

#include "../activation.h"
#include "../convpool.h"
#include "../loss.h"
#include "../norm.h"
#include "../plan.h"

static const char *FN = "plan_create";
static const char *CAPSULE = "aenn.plan";

typedef struct {
    aenn_plan p;
    PyObject *args;   /* the plan_create arguments: keeps every array alive */
    int nslots;
    aenn_plan_layer *layers;
    int64_t *offsets;
    void **ptrs;      /* [params (P) | slots (P*S) | grads (P)] */
    float *conv_scratch;
} plan_box;

static void plan_free(PyObject *capsule) {
    plan_box *b = PyCapsule_GetPointer(capsule, CAPSULE);
    if (b == NULL) return;
    Py_XDECREF(b->args);
    PyMem_RawFree(b->layers);
    PyMem_RawFree(b->offsets);
    PyMem_RawFree(b->ptrs);
    PyMem_RawFree(b->conv_scratch);
    PyMem_RawFree(b);
}

/* A float32 (rows, cols) buffer, writable, exactly that shape. */
static int buffer2(PyObject *o, PyArrayObject **a, const char *arg, int64_t rows, int64_t cols) {
    if (bind_f32(o, a, FN, arg, 2, BIND_OUT) < 0) return -1;
    if (dim(*a, 0) != rows || dim(*a, 1) != cols)
        return bind_error(FN, "`%s` must have shape (%lld, %lld)", arg, (long long)rows,
                          (long long)cols);
    return 0;
}

/* A float32 (n,) array, writable; NULL for None when optional. */
static int vector(PyObject *o, PyArrayObject **a, const char *arg, int64_t n, int optional) {
    *a = NULL;
    if (bind_f32(o, a, FN, arg, 1, BIND_OUT | (optional ? BIND_OPTIONAL : 0)) < 0) return -1;
    if (*a && dim(*a, 0) != n) return bind_error(FN, "`%s` must have shape (%lld,)", arg, (long long)n);
    return 0;
}

static int check_act(int act, Py_ssize_t l) {
    if (act != AENN_PLAN_SOFTMAX && (act < 0 || act >= AENN_ACT_COUNT))
        return bind_error(FN, "layers[%zd]: bad activation kind %d", l, act);
    return 0;
}

/* The pre-activation z and its gradient dz|None of a Dense or conv layer with output y:
 * (cap, out) buffers, z being y exactly when the layer is linear (which has no dz). */
static int activation_buffers(PyObject *oz, PyObject *odz, aenn_plan_layer *d, PyArrayObject *y,
                              int64_t cap, Py_ssize_t l) {
    PyArrayObject *z, *dz = NULL;
    if (buffer2(oz, &z, "z", cap, d->out) < 0) return -1;
    if (odz != Py_None && buffer2(odz, &dz, "dz", cap, d->out) < 0) return -1;
    if (d->act == AENN_ACT_LINEAR ? (y != z || dz != NULL) : y == z)
        return bind_error(FN, "layers[%zd]: y must be z exactly when linear", l);
    d->z = f32(z);
    d->dz = f32(dz);
    return 0;
}

/* The kind-specific fields of a Dense layer: (kernel, bias, act, alpha, z, dz, dkernel, dbias). */
static int parse_dense(PyObject *f, aenn_plan_layer *d, PyArrayObject *y, int64_t cap,
                       Py_ssize_t l) {
    PyObject *ok, *ob, *oz, *odz, *odk, *odb;
    PyArrayObject *k, *bias, *dk, *db;
    double alpha;
    if (!PyArg_ParseTuple(f, "OOidOOOO", &ok, &ob, &d->act, &alpha, &oz, &odz, &odk, &odb))
        return -1;
    if (check_act(d->act, l) < 0 || bind_f32(ok, &k, FN, "kernel", 2, BIND_OUT) < 0) return -1;
    d->in = dim(k, 0);
    if (dim(k, 1) != d->out)
        return bind_error(FN, "layers[%zd]: the kernel has %lld outputs, y %lld", l,
                          (long long)dim(k, 1), (long long)d->out);
    if (vector(ob, &bias, "bias", d->out, 1) < 0 ||
        buffer2(odk, &dk, "dkernel", d->in, d->out) < 0 || vector(odb, &db, "dbias", d->out, 1) < 0)
        return -1;
    if ((db == NULL) != (bias == NULL))
        return bind_error(FN, "layers[%zd]: dbias must match bias", l);
    if (activation_buffers(oz, odz, d, y, cap, l) < 0) return -1;
    d->kernel = f32(k); d->bias = f32(bias); d->alpha = (float)alpha;
    d->dkernel = f32(dk); d->dbias = f32(db);
    return 0;
}

/* BatchNormalization: (gamma, beta, moving_mean, moving_var, mean, inv_std, var, dgamma,
 * dbeta, momentum, eps). */
static int parse_batchnorm(PyObject *f, aenn_plan_layer *d, Py_ssize_t l) {
    PyObject *o[9];
    PyArrayObject *a[9];
    static const char *names[9] = {"gamma", "beta", "moving_mean", "moving_var", "mean",
                                   "inv_std", "var", "dgamma", "dbeta"};
    static const int optional[9] = {1, 1, 0, 0, 0, 0, 0, 1, 1};
    double momentum, eps;
    if (!PyArg_ParseTuple(f, "OOOOOOOOOdd", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6],
                          &o[7], &o[8], &momentum, &eps))
        return -1;
    for (int i = 0; i < 9; i++)
        if (vector(o[i], &a[i], names[i], d->out, optional[i]) < 0) return -1;
    if ((a[7] == NULL) != (a[0] == NULL) || (a[8] == NULL) != (a[1] == NULL))
        return bind_error(FN, "layers[%zd]: dgamma / dbeta must match gamma / beta", l);
    if (!(eps >= 0.0) || !(momentum >= 0.0 && momentum <= 1.0))
        return bind_error(FN, "layers[%zd]: bad momentum %g or epsilon %g", l, momentum, eps);
    d->gamma = f32(a[0]); d->beta = f32(a[1]); d->moving_mean = f32(a[2]);
    d->moving_var = f32(a[3]); d->mean = f32(a[4]); d->inv_std = f32(a[5]); d->var = f32(a[6]);
    d->dgamma = f32(a[7]); d->dbeta = f32(a[8]);
    d->momentum = (float)momentum; d->eps = (float)eps;
    return 0;
}

/* A conv layer's weights: kernel (want floats, any shape), bias|None (oc,) and their
 * gradient buffers of the same sizes. */
static int conv_weights(PyObject *ok, PyObject *ob, PyObject *odk, PyObject *odb,
                        aenn_plan_layer *d, int64_t want, int64_t oc, Py_ssize_t l) {
    PyArrayObject *k, *bias, *dk, *db;
    if (bind_f32(ok, &k, FN, "kernel", -1, BIND_OUT) < 0 ||
        bind_f32(odk, &dk, FN, "dkernel", -1, BIND_OUT) < 0 ||
        vector(ob, &bias, "bias", oc, 1) < 0 || vector(odb, &db, "dbias", oc, 1) < 0)
        return -1;
    if (numel(k) != want || numel(dk) != want)
        return bind_error(FN, "layers[%zd]: the kernel and dkernel must hold %lld floats (the "
                          "geometry's KH*KW*C*OC), got %lld and %lld", l, (long long)want,
                          (long long)numel(k), (long long)numel(dk));
    if ((db == NULL) != (bias == NULL))
        return bind_error(FN, "layers[%zd]: dbias must match bias", l);
    d->kernel = f32(k); d->bias = f32(bias); d->dkernel = f32(dk); d->dbias = f32(db);
    return 0;
}

/* The 16 geometry ints of a conv layer (see the top of this file), checked as the conv
 * bindings check them; fills d->conv (B = 0) and d->in. Returns the conv's output size. */
static int64_t conv_geometry(PyObject *o, aenn_plan_layer *d, int transpose, Py_ssize_t l) {
    long long v[16];
    if (!PyArg_ParseTuple(o, "LLLLLLLLLLLLLLLL", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                          &v[7], &v[8], &v[9], &v[10], &v[11], &v[12], &v[13], &v[14], &v[15]))
        return -1;
    for (int i = 0; i < 12; i++)
        if (v[i] < 1 || v[i] > (1LL << 31))
            return bind_error(FN, "layers[%zd]: geometry value %d must be in [1, 2**31], got %lld",
                              l, i, v[i]);
    for (int i = 12; i < 16; i++)
        if (v[i] < 0 || v[i] > (1LL << 31))
            return bind_error(FN, "layers[%zd]: padding / crop %d must be in [0, 2**31], got %lld",
                              l, i - 12, v[i]);
    aenn_conv2d_geom g = {0, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10],
                          v[11], v[12], v[14]};
    int64_t keh = (g.KH - 1) * g.DH + 1, kew = (g.KW - 1) * g.DW + 1;
    int ok;
    if (transpose) { /* the full output cropped by (top, left) to (OH, OW) */
        int64_t full_h = (g.H - 1) * g.SH + keh, full_w = (g.W - 1) * g.SW + kew;
        ok = v[13] == 0 && v[15] == 0 && g.pad_top <= (full_h > g.OH ? full_h - g.OH : 0) &&
             g.pad_left <= (full_w > g.OW ? full_w - g.OW : 0);
    } else {
        int64_t ph = g.H + v[12] + v[13], pw = g.W + v[14] + v[15];
        ok = keh <= ph && kew <= pw && g.OH == (ph - keh) / g.SH + 1 &&
             g.OW == (pw - kew) / g.SW + 1;
    }
    if (!ok)
        return bind_error(FN, "layers[%zd]: inconsistent %sconvolution geometry (input %lldx%lldx"
                          "%lld, output %lldx%lldx%lld, kernel %lldx%lld)", l,
                          transpose ? "transposed " : "", v[0], v[1], v[2], v[3], v[4], v[5],
                          v[6], v[7]);
    d->conv = g;
    d->in = g.H * g.W * g.C;
    return g.OH * g.OW * g.OC;
}

/* Conv: (kernel, bias, act, alpha, z, dz, dkernel, dbias, transpose, geom). */
static int parse_conv(PyObject *f, aenn_plan_layer *d, PyArrayObject *y, int64_t cap,
                      Py_ssize_t l) {
    PyObject *ok, *ob, *oz, *odz, *odk, *odb, *og;
    double alpha;
    if (!PyArg_ParseTuple(f, "OOidOOOOiO!", &ok, &ob, &d->act, &alpha, &oz, &odz, &odk, &odb,
                          &d->transpose, &PyTuple_Type, &og))
        return -1;
    if (d->act < 0 || d->act >= AENN_ACT_COUNT)
        return bind_error(FN, "layers[%zd]: bad activation kind %d for a convolution", l, d->act);
    if (conv_geometry(og, d, d->transpose, l) != d->out) {
        if (!PyErr_Occurred())
            bind_error(FN, "layers[%zd]: y has %lld values per sample, the geometry gives %lld",
                       l, (long long)d->out, (long long)(d->conv.OH * d->conv.OW * d->conv.OC));
        return -1;
    }
    const aenn_conv2d_geom *g = &d->conv;
    if (conv_weights(ok, ob, odk, odb, d, g->KH * g->KW * g->C * g->OC, g->OC, l) < 0 ||
        activation_buffers(oz, odz, d, y, cap, l) < 0)
        return -1;
    d->alpha = (float)alpha;
    return 0;
}

/* ConvPool: (kernel, bias, z, dz, dkernel, dbias, argmax, m1, geom). */
static int parse_convpool(PyObject *f, aenn_plan_layer *d, int64_t cap, Py_ssize_t l) {
    PyObject *ok, *ob, *oz, *odz, *odk, *odb, *oa, *og;
    PyArrayObject *z = NULL, *dz = NULL, *argmax;
    if (!PyArg_ParseTuple(f, "OOOOOOOiO!", &ok, &ob, &oz, &odz, &odk, &odb, &oa, &d->pool_m1,
                          &PyTuple_Type, &og))
        return -1;
    if (conv_geometry(og, d, 0, l) < 0) return -1;
    const aenn_conv2d_geom *g = &d->conv;
    const int64_t pre = g->OH * g->OW * g->OC;
    if (g->OH < 2 || g->OW < 2 || d->out != (g->OH / 2) * (g->OW / 2) * g->OC || pre > INT32_MAX)
        return bind_error(FN, "layers[%zd]: y must hold the 2x2 pool of a conv output of at "
                          "least 2x2 (%lldx%lldx%lld)", l, (long long)g->OH, (long long)g->OW,
                          (long long)g->OC);
    /* the bottom / right padding the output size implies (stride and dilation 1) */
    const int64_t pad_bottom = g->OH - 1 + g->KH - g->H - g->pad_top;
    const int64_t pad_right = g->OW - 1 + g->KW - g->W - g->pad_left;
    if (d->pool_m1 && !(g->C == 1 && g->KW == 3 && g->KH <= 3 && g->SH == 1 && g->SW == 1 &&
                        g->DH == 1 && g->DW == 1 && g->pad_top < g->KH && g->pad_left < 3 &&
                        pad_bottom < g->KH && pad_right < 3 &&
                        g->OW * g->OC <= AENN_CONVPOOL_ROW_MAX))
        return bind_error(FN, "layers[%zd]: the one-op conv + pool needs one input channel, a "
                          "(1-3)x3 kernel, stride and dilation 1, padding smaller than the kernel "
                          "and rows of at most %d floats",
                          l, AENN_CONVPOOL_ROW_MAX);
    if (conv_weights(ok, ob, odk, odb, d, g->KH * g->KW * g->C * g->OC, g->OC, l) < 0 ||
        bind_array(oa, &argmax, FN, "argmax", NPY_INT32, 2, BIND_OUT) < 0)
        return -1;
    if (dim(argmax, 0) != cap || dim(argmax, 1) != d->out)
        return bind_error(FN, "`argmax` must have shape (%lld, %lld)", (long long)cap,
                          (long long)d->out);
    if ((oz != Py_None || !d->pool_m1) && buffer2(oz, &z, "z", cap, pre) < 0) return -1;
    if ((odz != Py_None || !d->pool_m1 || d->need_dx) && buffer2(odz, &dz, "dz", cap, pre) < 0)
        return -1;
    d->z = f32(z); d->dz = f32(dz); d->argmax = (int32_t *)PyArray_DATA(argmax);
    return 0;
}

/* UpConv: (kernel, bias, act, alpha, z, dz, dkernel, dbias, (H, W, C, OC)). */
static int parse_upconv(PyObject *f, aenn_plan_layer *d, PyArrayObject *y, int64_t cap,
                        Py_ssize_t l) {
    PyObject *ok, *ob, *oz, *odz, *odk, *odb;
    double alpha;
    long long H, W, C, OC;
    if (!PyArg_ParseTuple(f, "OOidOOOO(LLLL)", &ok, &ob, &d->act, &alpha, &oz, &odz, &odk, &odb,
                          &H, &W, &C, &OC))
        return -1;
    if (d->act < 0 || d->act >= AENN_ACT_COUNT)
        return bind_error(FN, "layers[%zd]: bad activation kind %d for a convolution", l, d->act);
    if (H < 1 || W < 1 || C < 1 || OC < 1 || H > (1LL << 30) || W > (1LL << 30) ||
        C > (1LL << 30) || OC > (1LL << 30) || d->out != 4 * H * W * OC)
        return bind_error(FN, "layers[%zd]: the upsampled conv of a %lldx%lldx%lld input to %lld "
                          "channels does not give y's %lld values per sample", l, H, W, C, OC,
                          (long long)d->out);
    d->up = (aenn_upconv_geom){0, H, W, C, OC};
    d->in = H * W * C;
    if (conv_weights(ok, ob, odk, odb, d, 9 * C * OC, OC, l) < 0 ||
        activation_buffers(oz, odz, d, y, cap, l) < 0)
        return -1;
    d->alpha = (float)alpha;
    return 0;
}

/* Pool: (argmax|None, (H, W, C, OH, OW, KH, KW, SH, SW, PT, PL)), checked as bind_pool.c does. */
static int parse_pool(PyObject *f, aenn_plan_layer *d, int64_t cap, Py_ssize_t l) {
    PyObject *oa;
    long long v[11];
    if (!PyArg_ParseTuple(f, "O(LLLLLLLLLLL)", &oa, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                          &v[6], &v[7], &v[8], &v[9], &v[10]))
        return -1;
    for (int i = 0; i < 11; i++)
        if (v[i] < (i < 9 ? 1 : 0) || v[i] > (1LL << 30))
            return bind_error(FN, "layers[%zd]: pool geometry value %d out of range: %lld", l, i,
                              v[i]);
    aenn_pool_geom g = {0, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10]};
    if (g.PT >= g.KH || g.PL >= g.KW || (g.OH - 1) * g.SH - g.PT >= g.H ||
        (g.OW - 1) * g.SW - g.PL >= g.W || g.H * g.W > INT32_MAX ||
        d->out != g.OH * g.OW * g.C)
        return bind_error(FN, "layers[%zd]: inconsistent pool geometry (input %lldx%lldx%lld, "
                          "output %lldx%lld, pool %lldx%lld)", l, v[0], v[1], v[2], v[3], v[4],
                          v[5], v[6]);
    d->pool = g;
    d->in = g.H * g.W * g.C;
    d->argmax = NULL;
    if (oa != Py_None) {
        PyArrayObject *argmax;
        if (bind_array(oa, &argmax, FN, "argmax", NPY_INT32, 2, BIND_OUT) < 0) return -1;
        if (dim(argmax, 0) != cap || dim(argmax, 1) != d->out)
            return bind_error(FN, "`argmax` must have shape (%lld, %lld)", (long long)cap,
                              (long long)d->out);
        d->argmax = (int32_t *)PyArray_DATA(argmax);
    }
    return 0;
}

/* UpSample: (bilinear, (H, W, C, SH, SW)). */
static int parse_upsample(PyObject *f, aenn_plan_layer *d, Py_ssize_t l) {
    long long v[5];
    if (!PyArg_ParseTuple(f, "i(LLLLL)", &d->bilinear, &v[0], &v[1], &v[2], &v[3], &v[4]))
        return -1;
    for (int i = 0; i < 5; i++)
        if (v[i] < 1 || v[i] > (1LL << 30))
            return bind_error(FN, "layers[%zd]: upsampling geometry value %d out of range: %lld",
                              l, i, v[i]);
    if (d->out != v[0] * v[3] * v[1] * v[4] * v[2])
        return bind_error(FN, "layers[%zd]: upsampling a %lldx%lldx%lld input by (%lld, %lld) "
                          "does not give y's %lld values per sample", l, v[0], v[1], v[2], v[3],
                          v[4], (long long)d->out);
    d->ups = (aenn_upsample_geom){0, v[0], v[1], v[2], v[3], v[4]};
    d->in = v[0] * v[1] * v[2];
    return 0;
}

/* Floats of scratch the convolutions of the chain need at cap rows, and the convpool
 * backward's work parts (groups) it holds. */
static int64_t conv_scratch_size(const aenn_plan_layer *layers, Py_ssize_t L, int64_t cap,
                                 int64_t groups) {
    int64_t most = 0;
    for (Py_ssize_t l = 0; l < L; l++) {
        const aenn_plan_layer *d = &layers[l];
        aenn_conv2d_geom g = d->conv;
        aenn_upconv_geom u = d->up;
        g.B = u.B = cap;
        int64_t a = 0, b = 0;
        switch (d->kind) {
        case AENN_PLAN_CONV:
            if (d->transpose) {
                a = aenn_conv2d_transpose_forward_scratch_size(&g);
                b = aenn_conv2d_transpose_backward_scratch_size(&g);
            } else {
                b = aenn_conv2d_backward_scratch_size(&g);
            }
            break;
        case AENN_PLAN_CONVPOOL:
            if (d->pool_m1) a = aenn_convpool_backward_scratch_size(&g, groups);
            b = aenn_conv2d_backward_scratch_size(&g);
            break;
        case AENN_PLAN_UPCONV:
            a = aenn_upconv_forward_scratch_size(&u);
            b = aenn_upconv_backward_scratch_size(&u);
            break;
        }
        if (a > most) most = a;
        if (b > most) most = b;
    }
    return most;
}

static int parse_layer(PyObject *t, aenn_plan_layer *d, int64_t cap, Py_ssize_t l) {
    if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) < 5)
        return bind_error(FN, "layers[%zd] must be a tuple (kind, backward, need_dx, y, dy, ...)", l);
    PyObject *head = PyTuple_GetSlice(t, 0, 5), *fields = PyTuple_GetSlice(t, 5, PyTuple_GET_SIZE(t));
    PyObject *oy, *ody;
    PyArrayObject *y, *dy;
    int status = -1;
    if (head == NULL || fields == NULL ||
        !PyArg_ParseTuple(head, "iiiOO", &d->kind, &d->backward, &d->need_dx, &oy, &ody))
        goto done;
    if (bind_f32(oy, &y, FN, "y", 2, BIND_OUT) < 0) goto done;
    d->out = dim(y, 1);
    d->in = d->out;
    if (buffer2(oy, &y, "y", cap, d->out) < 0 || buffer2(ody, &dy, "dy", cap, d->out) < 0) goto done;
    d->y = f32(y);
    d->dy = f32(dy);
    switch (d->kind) {
    case AENN_PLAN_DENSE: status = parse_dense(fields, d, y, cap, l); break;
    case AENN_PLAN_BATCHNORM: status = parse_batchnorm(fields, d, l); break;
    case AENN_PLAN_DROPOUT: {
        PyObject *om;
        PyArrayObject *mask;
        double keep, scale;
        if (!PyArg_ParseTuple(fields, "Odd", &om, &keep, &scale) ||
            buffer2(om, &mask, "mask", cap, d->out) < 0)
            break;
        if (!(keep >= 0.0 && keep <= 1.0) || !isfinite(scale)) {
            bind_error(FN, "layers[%zd]: bad keep %g or scale %g", l, keep, scale);
            break;
        }
        d->mask = f32(mask); d->keep = (float)keep; d->scale = (float)scale;
        status = 0;
        break;
    }
    case AENN_PLAN_ACTIVATION: {
        double alpha;
        if (!PyArg_ParseTuple(fields, "id", &d->act, &alpha) || check_act(d->act, l) < 0) break;
        d->alpha = (float)alpha;
        status = 0;
        break;
    }
    case AENN_PLAN_RELU: {
        double s, m, t;
        if (!PyArg_ParseTuple(fields, "ddd", &s, &m, &t)) break;
        d->slope = (float)s; d->max_value = (float)m; d->threshold = (float)t;
        status = 0;
        break;
    }
    case AENN_PLAN_CONV: status = parse_conv(fields, d, y, cap, l); break;
    case AENN_PLAN_CONVPOOL: status = parse_convpool(fields, d, cap, l); break;
    case AENN_PLAN_UPCONV: status = parse_upconv(fields, d, y, cap, l); break;
    case AENN_PLAN_POOL: status = parse_pool(fields, d, cap, l); break;
    case AENN_PLAN_UPSAMPLE: status = parse_upsample(fields, d, l); break;
    default: bind_error(FN, "layers[%zd]: bad layer kind %d", l, d->kind);
    }
done:
    Py_XDECREF(head);
    Py_XDECREF(fields);
    return status;
}

/* The trainable weights of a layer and their gradient buffers, in the optimizer's order. */
static int layer_params(const aenn_plan_layer *d, float *params[2], float *grads[2]) {
    int n = 0;
    /* Dense and the convolutions: kernel, bias; BatchNormalization: gamma, beta */
    int kb = d->kind == AENN_PLAN_DENSE || d->kind == AENN_PLAN_CONV ||
             d->kind == AENN_PLAN_CONVPOOL || d->kind == AENN_PLAN_UPCONV;
    float *p0 = kb ? d->kernel : d->kind == AENN_PLAN_BATCHNORM ? d->gamma : NULL;
    float *g0 = kb ? d->dkernel : d->dgamma;
    float *p1 = kb ? d->bias : d->kind == AENN_PLAN_BATCHNORM ? d->beta : NULL;
    float *g1 = kb ? d->dbias : d->dbeta;
    if (p0) { params[n] = p0; grads[n] = g0; n++; }
    if (p1) { params[n] = p1; grads[n] = g1; n++; }
    return n;
}

static PyObject *py_plan_create(PyObject *self, PyObject *args) {
    PyObject *o_layers, *o_x, *o_yt, *o_labels, *o_loss, *o_opt, *o_bn = Py_None;
    int metric;
    if (!PyArg_ParseTuple(args, "O!OOOO!O!i|O", &PyList_Type, &o_layers, &o_x, &o_yt, &o_labels,
                          &PyTuple_Type, &o_loss, &PyTuple_Type, &o_opt, &metric, &o_bn))
        return NULL;
    plan_box *b = PyMem_RawCalloc(1, sizeof *b);
    if (b == NULL) return PyErr_NoMemory();
    aenn_plan *p = &b->p;
    PyObject *capsule = NULL, *o_params, *o_slots, *o_values, *o_scratch;
    PyArrayObject *x, *yt = NULL, *labels = NULL, *values, *scratch;
    Py_ssize_t L = PyList_GET_SIZE(o_layers);
    if (L < 1) { bind_error(FN, "`layers` is empty"); goto fail; }
    if (bind_f32(o_x, &x, FN, "x", 2, BIND_OUT) < 0) goto fail;
    int64_t cap = dim(x, 0);
    b->layers = PyMem_RawCalloc((size_t)L, sizeof *b->layers);
    if (b->layers == NULL) { PyErr_NoMemory(); goto fail; }
    for (Py_ssize_t l = 0; l < L; l++) {
        if (parse_layer(PyList_GET_ITEM(o_layers, l), &b->layers[l], cap, l) < 0) goto fail;
        int64_t want = l ? b->layers[l - 1].out : dim(x, 1);
        if (b->layers[l].in != want) {
            bind_error(FN, "layers[%zd] takes %lld features, the previous output has %lld", l,
                       (long long)b->layers[l].in, (long long)want);
            goto fail;
        }
    }
    int64_t cols = b->layers[L - 1].out;
    long long loss_cols = cols;
    if (!PyArg_ParseTuple(o_loss, "ifiiOO|L", &p->loss_kind, &p->loss_param, &p->from_logits,
                          &p->on_logits, &o_values, &o_scratch, &loss_cols))
        goto fail;
    if (loss_cols < 1 || cols % loss_cols != 0 ||
        (loss_cols != cols && (p->loss_kind == AENN_PLAN_LOSS_SPARSE || metric != 0))) {
        bind_error(FN, "the loss's last axis (%lld) must divide the output's %lld values per "
                   "sample, and be all of them with sparse labels or a metric", loss_cols,
                   (long long)cols);
        goto fail;
    }
    p->loss_cols = loss_cols;
    const int64_t loss_rows = cap * (cols / loss_cols);
    /* Backward flags and the one dy alias (see the top of this file). */
    int64_t bn_width = 0;
    for (Py_ssize_t l = 0; l < L; l++) {
        const aenn_plan_layer *d = &b->layers[l];
        int logits_act = l == L - 1 && l > 0 && p->on_logits && d->kind == AENN_PLAN_ACTIVATION;
        if ((d->need_dx && (l == 0 || !d->backward)) || (logits_act && d->backward)) {
            bind_error(FN, "layers[%zd]: bad backward / need_dx flags", l);
            goto fail;
        }
        if (l > 0 && (d->dy == b->layers[l - 1].dy) != logits_act) {
            bind_error(FN, "layers[%zd]: dy must be the previous layer's dy exactly when the loss "
                       "reads this activation layer's input", l);
            goto fail;
        }
        if (p->on_logits && l == L - 1 && d->kind != AENN_PLAN_DENSE && !logits_act &&
            d->kind != AENN_PLAN_CONV && d->kind != AENN_PLAN_UPCONV) {
            bind_error(FN, "on_logits needs a Dense, conv or activation last layer");
            goto fail;
        }
        if (d->kind == AENN_PLAN_BATCHNORM && d->out > bn_width) bn_width = d->out;
        if (d->kind == AENN_PLAN_DROPOUT && d->keep > 0.0f) p->ndraws++;
    }
    if (bn_width > 0) {
        PyArrayObject *bn;
        if (bind_array(o_bn, &bn, FN, "bn_scratch", NPY_FLOAT64, 1, BIND_OUT) < 0) goto fail;
        if (dim(bn, 0) < aenn_batchnorm_scratch_size(cap, bn_width)) {
            bind_error(FN, "`bn_scratch` needs %lld doubles",
                       (long long)aenn_batchnorm_scratch_size(cap, bn_width));
            goto fail;
        }
        p->bn_scratch = (double *)PyArray_DATA(bn);
    }
    if (p->loss_kind != AENN_PLAN_LOSS_SPARSE && (p->loss_kind < 0 || p->loss_kind >= AENN_LOSS_COUNT)) {
        bind_error(FN, "bad loss kind %d", p->loss_kind);
        goto fail;
    }
    if (bind_f32(o_values, &values, FN, "values", 1, BIND_OUT) < 0 ||
        bind_array(o_scratch, &scratch, FN, "scratch", NPY_FLOAT64, 1, BIND_OUT) < 0)
        goto fail;
    if (dim(values, 0) != loss_rows || dim(scratch, 0) < aenn_num_chunks(loss_rows)) {
        bind_error(FN, "`values` needs %lld floats and `scratch` %lld doubles",
                   (long long)loss_rows, (long long)aenn_num_chunks(loss_rows));
        goto fail;
    }
    /* The convolutions' scratch, and the convpool backward's work parts it holds (twice the
     * threads now, as its Python binding splits it). */
    p->convpool_groups = 2 * (int64_t)aenn_get_num_threads();
    int64_t conv_floats = conv_scratch_size(b->layers, L, cap, p->convpool_groups);
    if (conv_floats > 0) {
        b->conv_scratch = PyMem_RawMalloc((size_t)conv_floats * sizeof(float));
        if (b->conv_scratch == NULL) { PyErr_NoMemory(); goto fail; }
    }
    if (p->loss_kind == AENN_PLAN_LOSS_SPARSE) {
        if (bind_array(o_labels, &labels, FN, "labels", NPY_INT32, 1, BIND_OUT) < 0) goto fail;
        if (dim(labels, 0) != cap) { bind_error(FN, "`labels` must have %lld rows", (long long)cap); goto fail; }
    } else if (buffer2(o_yt, &yt, "yt", cap, cols) < 0) {
        goto fail;
    }
    if (metric < AENN_PLAN_METRIC_NONE || metric > AENN_PLAN_METRIC_SPARSE ||
        (metric == AENN_PLAN_METRIC_SPARSE) != (labels != NULL && metric != 0)) {
        bind_error(FN, "bad metric %d for this loss", metric);
        goto fail;
    }
    PyObject *o_iter;
    PyArrayObject *iters;
    if (!PyArg_ParseTuple(o_opt, "iO!O!iO", &p->opt_kind, &PyList_Type, &o_params, &PyList_Type,
                          &o_slots, &b->nslots, &o_iter))
        goto fail;
    if (bind_array(o_iter, &iters, FN, "iterations", NPY_INT64, 0, BIND_OUT) < 0) goto fail;
    p->iterations = (int64_t *)PyArray_DATA(iters);
    if (p->opt_kind < AENN_OPT_SGD || p->opt_kind > AENN_OPT_NADAM || b->nslots < 0 ||
        b->nslots > AENN_OPT_MAX_SLOTS) {
        bind_error(FN, "bad optimizer kind %d or slot count %d", p->opt_kind, b->nslots);
        goto fail;
    }
    /* The optimizer's tensors: the trainable weights in layer order, each with its gradient
     * buffer, exactly as Optimizer.apply passes them to optim_update. */
    Py_ssize_t P = PyList_GET_SIZE(o_params);
    if (PyList_GET_SIZE(o_slots) != P * b->nslots) {
        bind_error(FN, "`slots` must hold %zd arrays", P * b->nslots);
        goto fail;
    }
    b->offsets = PyMem_RawMalloc((size_t)(P + 1) * sizeof *b->offsets);
    b->ptrs = PyMem_RawMalloc((size_t)(P * (2 + b->nslots) + 1) * sizeof *b->ptrs);
    if (b->offsets == NULL || b->ptrs == NULL) { PyErr_NoMemory(); goto fail; }
    Py_ssize_t k = 0;
    b->offsets[0] = 0;
    for (Py_ssize_t l = 0; l < L; l++) {
        float *lparams[2], *lgrads[2];
        int nw = layer_params(&b->layers[l], lparams, lgrads);
        for (int w = 0; w < nw; w++) {
            float *param = lparams[w], *grad = lgrads[w];
            PyArrayObject *pa;
            if (k >= P || bind_f32(PyList_GET_ITEM(o_params, k), &pa, FN, "params[k]", -1,
                                   BIND_OUT) < 0 || f32(pa) != param) {
                if (!PyErr_Occurred())
                    bind_error(FN, "params[%zd] must be trainable weight %d of layers[%zd]", k,
                               w, l);
                goto fail;
            }
            for (int s = 0; s < b->nslots; s++) {
                PyArrayObject *sa;
                if (bind_f32(PyList_GET_ITEM(o_slots, k * b->nslots + s), &sa, FN, "slots[j]", -1,
                             BIND_OUT) < 0)
                    goto fail;
                if (numel(sa) != numel(pa)) { bind_error(FN, "a slot has the wrong size"); goto fail; }
                b->ptrs[P + k * b->nslots + s] = f32(sa);
            }
            b->ptrs[k] = param;
            b->ptrs[P + P * b->nslots + k] = grad;
            b->offsets[k + 1] = b->offsets[k] + numel(pa);
            k++;
        }
    }
    if (k != P) { bind_error(FN, "`params` has %zd arrays, the layers %zd", P, k); goto fail; }
    p->opt = (aenn_optim_tensors){
        .count = P,
        .offsets = b->offsets,
        .params = (float *const *)b->ptrs,
        .grads = (const float *const *)(b->ptrs + P + P * b->nslots),
        .slots = (float *const *)(b->ptrs + P),
        .nslots = b->nslots,
    };
    p->nlayers = L;
    p->cap = cap;
    p->layers = b->layers;
    p->x = f32(x);
    p->yt = f32(yt);
    p->labels = labels ? (int32_t *)PyArray_DATA(labels) : NULL;
    p->values = f32(values);
    p->scratch = (double *)PyArray_DATA(scratch);
    p->metric = metric;
    p->conv_scratch = b->conv_scratch;
    b->args = args;
    Py_INCREF(args);
    capsule = PyCapsule_New(b, CAPSULE, plan_free);
    if (capsule == NULL) { Py_DECREF(args); b->args = NULL; goto fail; }
    return capsule;
fail:
    PyMem_RawFree(b->layers);
    PyMem_RawFree(b->offsets);
    PyMem_RawFree(b->ptrs);
    PyMem_RawFree(b->conv_scratch);
    PyMem_RawFree(b);
    return NULL;
}

static PyObject *py_plan_step(PyObject *self, PyObject *args) {
    static const char *fn = "plan_step";
    PyObject *o_plan, *o_x, *o_y, *o_idx, *o_h, *o_draws = NULL, *o_times = Py_None;
    PyArrayObject *x, *y, *idx, *times = NULL;
    if (!PyArg_ParseTuple(args, "OOOOO|OO", &o_plan, &o_x, &o_y, &o_idx, &o_h, &o_draws,
                          &o_times))
        return NULL;
    if (!PyCapsule_IsValid(o_plan, CAPSULE)) {
        PyErr_Format(PyExc_TypeError, "%s: argument `plan` must come from plan_create, got %s",
                     fn, Py_TYPE(o_plan)->tp_name);
        return NULL;
    }
    plan_box *b = PyCapsule_GetPointer(o_plan, CAPSULE);
    const aenn_plan *p = &b->p;
    if (bind_f32(o_x, &x, fn, "x_all", 2, BIND_IN) < 0 || bind_f32(o_y, &y, fn, "y_all", -1, BIND_IN) < 0 ||
        bind_array(o_idx, &idx, fn, "idx", NPY_INT64, 1, BIND_IN) < 0 ||
        bind_dim(fn, x, "x_all", 1, p->layers[0].in, "the first layer's input size") < 0)
        return NULL;
    if (o_times != Py_None) {
        if (bind_array(o_times, &times, fn, "times", NPY_FLOAT64, 1, BIND_OUT) < 0) return NULL;
        if (dim(times, 0) != AENN_PLAN_TIMES(p->nlayers))
            return bind_error(fn, "`times` must hold %lld doubles (4 + 2 per layer)",
                              (long long)AENN_PLAN_TIMES(p->nlayers)), NULL;
    }
    int64_t n = dim(x, 0), B = dim(idx, 0);
    int64_t ycols = n > 0 && dim(y, 0) == n ? numel(y) / n : -1;
    int64_t want = p->labels ? 1 : p->layers[p->nlayers - 1].out;
    if (ycols != want) return bind_error(fn, "y_all must have %lld values per sample", (long long)want), NULL;
    if (B > p->cap) return bind_error(fn, "the batch has %lld rows, the plan %lld", (long long)B, (long long)p->cap), NULL;
    const int64_t *ix = (const int64_t *)PyArray_DATA(idx);
    for (int64_t r = 0; r < B; r++)
        if (ix[r] < 0 || ix[r] >= n) return bind_error(fn, "idx[%lld] out of range", (long long)r), NULL;
    /* h, converted as optim_update converts it */
    float h[AENN_OPT_MAX_H] = {0};
    PyObject *fh = PySequence_Fast(o_h, "plan_step: `h` must be a sequence of floats");
    if (fh == NULL) return NULL;
    Py_ssize_t nh = PySequence_Fast_GET_SIZE(fh);
    for (Py_ssize_t i = 0; i < nh && i < AENN_OPT_MAX_H; i++) {
        double d = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(fh, i));
        if ((d == -1.0 && PyErr_Occurred()) || !isfinite(d)) {
            Py_DECREF(fh);
            if (!PyErr_Occurred()) bind_error(fn, "hyper-parameter h[%zd] must be finite", i);
            return NULL;
        }
        h[i] = (float)d;
    }
    Py_DECREF(fh);
    if (nh > AENN_OPT_MAX_H || aenn_optim_num_slots(p->opt_kind, h) != b->nslots)
        return bind_error(fn, "the hyper-parameters do not match the plan's slots"), NULL;
    /* draws: (k0, k1, counter) per Dropout layer that draws, as rng_bernoulli takes them */
    aenn_plan_draw draws[16], *dr = draws;
    if (p->ndraws > 0) {
        PyObject *fd = o_draws ? PySequence_Fast(o_draws, "plan_step: `draws` must be a sequence of ints") : NULL;
        if (fd == NULL) {
            if (!PyErr_Occurred()) bind_error(fn, "the plan needs %lld draws", (long long)p->ndraws);
            return NULL;
        }
        if (PySequence_Fast_GET_SIZE(fd) != 3 * p->ndraws) {
            Py_DECREF(fd);
            return bind_error(fn, "`draws` must hold 3 ints per Dropout layer (%lld)",
                              (long long)(3 * p->ndraws)), NULL;
        }
        if (p->ndraws > 16) dr = PyMem_RawMalloc((size_t)p->ndraws * sizeof *dr);
        if (dr == NULL) { Py_DECREF(fd); return PyErr_NoMemory(); }
        int bad = 0;
        for (int64_t i = 0; i < p->ndraws && !bad; i++) {
            unsigned long long v[3];
            for (int j = 0; j < 3; j++) {
                v[j] = PyLong_AsUnsignedLongLong(PySequence_Fast_GET_ITEM(fd, 3 * i + j));
                if (PyErr_Occurred() || (j < 2 && v[j] > 0xffffffffull)) bad = 1;
            }
            dr[i] = (aenn_plan_draw){{(uint32_t)v[0], (uint32_t)v[1]}, (uint64_t)v[2]};
        }
        Py_DECREF(fd);
        if (bad) {
            if (dr != draws) PyMem_RawFree(dr);
            PyErr_Clear();
            return bind_error(fn, "`draws`: keys must be in [0, 2**32), counters in [0, 2**64)"),
                   NULL;
        }
    }
    double loss = 0.0;
    int64_t hits = 0;
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = aenn_plan_step(p, f32(x), f32(y), ycols, ix, B, h, dr, &loss, &hits,
                            times ? (double *)PyArray_DATA(times) : NULL);
    Py_END_ALLOW_THREADS
    if (dr != draws) PyMem_RawFree(dr);
    if (status == AENN_ERR_VALUE)
        return bind_error(fn, "a label is not an integer class index in [0, %lld)",
                          (long long)p->layers[p->nlayers - 1].out), NULL;
    if (bind_status(fn, status) < 0) return NULL;
    return Py_BuildValue("dL", loss, (long long)hits);
}

PyMethodDef aenn_methods_plan[] = {
    {"plan_create", py_plan_create, METH_VARARGS,
     "plan_create(layers, x, yt, labels, loss, opt, metric, bn_scratch=None) -> plan (a compiled "
     "layer-chain step)"},
    {"plan_step", py_plan_step, METH_VARARGS,
     "plan_step(plan, x_all, y_all, idx, h, draws=(), times=None) -> (loss, hits): one training "
     "step"},
    {NULL, NULL, 0, NULL},
};
