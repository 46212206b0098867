/* bind_pool.c -- Python bindings of the pooling kernels (csrc/pool.c).
 *
 *   maxpool2d_forward(out, argmax, inp, kh, kw, sh, sw, pad_top, pad_left)
 *   maxpool2d_backward(dinp, dout, argmax, kh, kw, sh, sw, pad_top, pad_left)
 *   avgpool2d_forward(out, inp, kh, kw, sh, sw, pad_top, pad_left)
 *   avgpool2d_backward(dinp, dout, kh, kw, sh, sw, pad_top, pad_left)
 *   relu_maxpool2x2_forward(out, argmax, pre)
 *   relu_maxpool2x2_backward(dpre, dout, out, argmax)
 *
 * inp / dinp are (B, H, W, C) float32, out / dout (B, OH, OW, C), argmax int32 like out.
 * The relu_maxpool2x2 pair pools relu(pre) (B, H, W, C) in 2x2 windows at stride 2 into
 * (B, H/2, W/2, C) without writing relu(pre) (pool.h).
 */
#include "bind.h"

#include "../pool.h"

/* Fills g from the input-side array `x` (B, H, W, C), the output-side array `y`
 * (B, OH, OW, C) and the window geometry, and checks they agree. */
static int pool_geometry(const char *fn, aenn_pool_geom *g, PyArrayObject *x, const char *xname,
                         PyArrayObject *y, const char *yname, long long kh, long long kw,
                         long long sh, long long sw, long long pt, long long pl) {
    if (kh < 1 || kw < 1)
        return bind_error(fn, "pool size must be positive, received (%lld, %lld)", kh, kw);
    if (sh < 1 || sw < 1)
        return bind_error(fn, "strides must be positive, received (%lld, %lld)", sh, sw);
    if (pt < 0 || pl < 0 || pt >= kh || pl >= kw)
        return bind_error(fn, "padding (%lld, %lld) must satisfy 0 <= pad < pool size (%lld, %lld)",
                          pt, pl, kh, kw);
    g->B = dim(x, 0); g->H = dim(x, 1); g->W = dim(x, 2); g->C = dim(x, 3);
    g->OH = dim(y, 1); g->OW = dim(y, 2);
    g->KH = kh; g->KW = kw; g->SH = sh; g->SW = sw; g->PT = pt; g->PL = pl;
    if (bind_dim(fn, y, yname, 0, g->B, "the batch size of the input") < 0) return -1;
    if (bind_dim(fn, y, yname, 3, g->C, "the channels of the input") < 0) return -1;
    if (g->H * g->W > INT32_MAX)
        return bind_error(fn, "H*W = %lld is too large for int32 argmax indices",
                          (long long)(g->H * g->W));
    /* every window must start inside the input (so it holds at least one real cell) */
    if ((g->OH - 1) * sh - pt >= g->H || (g->OW - 1) * sw - pl >= g->W) {
        char sx[256], sy[256];
        bind_shape_str(x, sx, sizeof sx);
        bind_shape_str(y, sy, sizeof sy);
        return bind_error(fn, "`%s` %s is too large for `%s` %s with pool (%lld, %lld), strides "
                          "(%lld, %lld) and padding (%lld, %lld)", yname, sy, xname, sx, kh, kw,
                          sh, sw, pt, pl);
    }
    return 0;
}

#define GEOM_FMT "LLLLLL"

static PyObject *py_maxpool2d_forward(PyObject *self, PyObject *args) {
    static const char *fn = "maxpool2d_forward";
    PyObject *o_out, *o_arg, *o_inp;
    long long kh, kw, sh, sw, pt, pl;
    if (!PyArg_ParseTuple(args, "OOO" GEOM_FMT, &o_out, &o_arg, &o_inp, &kh, &kw, &sh, &sw, &pt,
                          &pl))
        return NULL;
    PyArrayObject *out, *arg, *inp;
    if (bind_f32(o_out, &out, fn, "out", 4, BIND_OUT) < 0) return NULL;
    if (bind_array(o_arg, &arg, fn, "argmax", NPY_INT32, 4, BIND_OUT) < 0) return NULL;
    if (bind_f32(o_inp, &inp, fn, "inp", 4, BIND_IN) < 0) return NULL;
    aenn_pool_geom g;
    if (pool_geometry(fn, &g, inp, "inp", out, "out", kh, kw, sh, sw, pt, pl) < 0) return NULL;
    if (bind_same_shape(fn, arg, "argmax", out, "out") < 0) return NULL;
    if (bind_no_overlap(fn, out, "out", inp, "inp") < 0) return NULL;
    if (bind_no_overlap(fn, arg, "argmax", inp, "inp") < 0) return NULL;
    if (bind_no_overlap(fn, arg, "argmax", out, "out") < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    aenn_maxpool2d_forward(f32(out), (int32_t *)PyArray_DATA(arg), f32(inp), &g);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_maxpool2d_backward(PyObject *self, PyObject *args) {
    static const char *fn = "maxpool2d_backward";
    PyObject *o_dinp, *o_dout, *o_arg;
    long long kh, kw, sh, sw, pt, pl;
    if (!PyArg_ParseTuple(args, "OOO" GEOM_FMT, &o_dinp, &o_dout, &o_arg, &kh, &kw, &sh, &sw, &pt,
                          &pl))
        return NULL;
    PyArrayObject *dinp, *dout, *arg;
    if (bind_f32(o_dinp, &dinp, fn, "dinp", 4, BIND_OUT) < 0) return NULL;
    if (bind_f32(o_dout, &dout, fn, "dout", 4, BIND_IN) < 0) return NULL;
    if (bind_array(o_arg, &arg, fn, "argmax", NPY_INT32, 4, BIND_IN) < 0) return NULL;
    aenn_pool_geom g;
    if (pool_geometry(fn, &g, dinp, "dinp", dout, "dout", kh, kw, sh, sw, pt, pl) < 0) return NULL;
    if (bind_same_shape(fn, arg, "argmax", dout, "dout") < 0) return NULL;
    if (bind_no_overlap(fn, dinp, "dinp", dout, "dout") < 0) return NULL;
    if (bind_no_overlap(fn, dinp, "dinp", arg, "argmax") < 0) return NULL;
    const int32_t *a = (const int32_t *)PyArray_DATA(arg);
    int64_t n = numel(arg), hw = g.H * g.W;
    /* a branch-free pass (vectorises) first; the loop below only runs to name a bad index */
    int bad = 0;
    for (int64_t i = 0; i < n; i++) bad |= (a[i] < 0) | ((int64_t)a[i] >= hw);
    for (int64_t i = 0; bad && i < n; i++)
        if (a[i] < 0 || a[i] >= hw)
            return PyErr_Format(PyExc_ValueError, "%s: argmax[%lld] = %d is outside [0, %lld)", fn,
                                (long long)i, a[i], (long long)hw);
    Py_BEGIN_ALLOW_THREADS
    aenn_maxpool2d_backward(f32(dinp), f32(dout), a, &g);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_avgpool2d_forward(PyObject *self, PyObject *args) {
    static const char *fn = "avgpool2d_forward";
    PyObject *o_out, *o_inp;
    long long kh, kw, sh, sw, pt, pl;
    if (!PyArg_ParseTuple(args, "OO" GEOM_FMT, &o_out, &o_inp, &kh, &kw, &sh, &sw, &pt, &pl))
        return NULL;
    PyArrayObject *out, *inp;
    if (bind_f32(o_out, &out, fn, "out", 4, BIND_OUT) < 0) return NULL;
    if (bind_f32(o_inp, &inp, fn, "inp", 4, BIND_IN) < 0) return NULL;
    aenn_pool_geom g;
    if (pool_geometry(fn, &g, inp, "inp", out, "out", kh, kw, sh, sw, pt, pl) < 0) return NULL;
    if (bind_no_overlap(fn, out, "out", inp, "inp") < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    aenn_avgpool2d_forward(f32(out), f32(inp), &g);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_avgpool2d_backward(PyObject *self, PyObject *args) {
    static const char *fn = "avgpool2d_backward";
    PyObject *o_dinp, *o_dout;
    long long kh, kw, sh, sw, pt, pl;
    if (!PyArg_ParseTuple(args, "OO" GEOM_FMT, &o_dinp, &o_dout, &kh, &kw, &sh, &sw, &pt, &pl))
        return NULL;
    PyArrayObject *dinp, *dout;
    if (bind_f32(o_dinp, &dinp, fn, "dinp", 4, BIND_OUT) < 0) return NULL;
    if (bind_f32(o_dout, &dout, fn, "dout", 4, BIND_IN) < 0) return NULL;
    aenn_pool_geom g;
    if (pool_geometry(fn, &g, dinp, "dinp", dout, "dout", kh, kw, sh, sw, pt, pl) < 0) return NULL;
    if (bind_no_overlap(fn, dinp, "dinp", dout, "dout") < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    aenn_avgpool2d_backward(f32(dinp), f32(dout), &g);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_pool_set_special_paths(PyObject *self, PyObject *args) {
    int on;
    if (!PyArg_ParseTuple(args, "p:pool_set_special_paths", &on)) return NULL;
    return PyBool_FromLong(aenn_pool_set_special_paths(on));
}

/* Validates pre-side x (B, H, W, C) against pooled y (B, H/2, W/2, C). */
static int relu_pool_geometry(const char *fn, PyArrayObject *x, const char *xname,
                              PyArrayObject *y, const char *yname) {
    char sx[256];
    bind_shape_str(x, sx, sizeof sx);
    if (dim(x, 1) < 2 || dim(x, 2) < 2)
        return bind_error(fn, "`%s` %s is too small for a 2x2 window", xname, sx);
    if (dim(x, 1) * dim(x, 2) > INT32_MAX)
        return bind_error(fn, "H*W of `%s` %s is too large for int32 argmax indices", xname, sx);
    if (bind_dim(fn, y, yname, 0, dim(x, 0), "the batch size of the input") ||
        bind_dim(fn, y, yname, 1, dim(x, 1) / 2, "half the input height") ||
        bind_dim(fn, y, yname, 2, dim(x, 2) / 2, "half the input width") ||
        bind_dim(fn, y, yname, 3, dim(x, 3), "the channels of the input"))
        return -1;
    return 0;
}

static PyObject *py_relu_maxpool2x2_forward(PyObject *self, PyObject *args) {
    static const char *fn = "relu_maxpool2x2_forward";
    PyObject *o_out, *o_arg, *o_pre;
    if (!PyArg_ParseTuple(args, "OOO:relu_maxpool2x2_forward", &o_out, &o_arg, &o_pre))
        return NULL;
    PyArrayObject *out, *arg, *pre;
    if (bind_f32(o_out, &out, fn, "out", 4, BIND_OUT) ||
        bind_array(o_arg, &arg, fn, "argmax", NPY_INT32, 4, BIND_OUT) ||
        bind_f32(o_pre, &pre, fn, "pre", 4, BIND_IN) ||
        relu_pool_geometry(fn, pre, "pre", out, "out") ||
        bind_same_shape(fn, arg, "argmax", out, "out"))
        return NULL;
    PyArrayObject *outs[2] = {out, arg};
    const char *onames[2] = {"out", "argmax"};
    PyArrayObject *ins[1] = {pre};
    const char *inames[1] = {"pre"};
    if (bind_outputs_apart(fn, outs, onames, 2, ins, inames, 1)) return NULL;
    Py_BEGIN_ALLOW_THREADS
    aenn_relu_maxpool2x2_forward(f32(out), (int32_t *)PyArray_DATA(arg), f32(pre), dim(pre, 0),
                                 dim(pre, 1), dim(pre, 2), dim(pre, 3));
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_relu_maxpool2x2_backward(PyObject *self, PyObject *args) {
    static const char *fn = "relu_maxpool2x2_backward";
    PyObject *o_dpre, *o_dout, *o_out, *o_arg;
    if (!PyArg_ParseTuple(args, "OOOO:relu_maxpool2x2_backward", &o_dpre, &o_dout, &o_out, &o_arg))
        return NULL;
    PyArrayObject *dpre, *dout, *out, *arg;
    if (bind_f32(o_dpre, &dpre, fn, "dpre", 4, BIND_OUT) ||
        bind_f32(o_dout, &dout, fn, "dout", 4, BIND_IN) ||
        bind_f32(o_out, &out, fn, "out", 4, BIND_IN) ||
        bind_array(o_arg, &arg, fn, "argmax", NPY_INT32, 4, BIND_IN) ||
        relu_pool_geometry(fn, dpre, "dpre", dout, "dout") ||
        bind_same_shape(fn, out, "out", dout, "dout") ||
        bind_same_shape(fn, arg, "argmax", dout, "dout"))
        return NULL;
    PyArrayObject *outs[1] = {dpre};
    const char *onames[1] = {"dpre"};
    PyArrayObject *ins[3] = {dout, out, arg};
    const char *inames[3] = {"dout", "out", "argmax"};
    if (bind_outputs_apart(fn, outs, onames, 1, ins, inames, 3)) return NULL;
    /* argmax is only compared with positions, never used as an address: no range check */
    Py_BEGIN_ALLOW_THREADS
    aenn_relu_maxpool2x2_backward(f32(dpre), f32(dout), f32(out), (const int32_t *)PyArray_DATA(arg),
                                  dim(dpre, 0), dim(dpre, 1), dim(dpre, 2), dim(dpre, 3));
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

PyMethodDef aenn_methods_pool[] = {
    {"pool_set_special_paths", py_pool_set_special_paths, METH_VARARGS,
     "pool_set_special_paths(on) -> previous; turns the special-case fast paths on or off "
     "(for tests: both give the same bits)"},
    {"maxpool2d_forward", py_maxpool2d_forward, METH_VARARGS,
     "maxpool2d_forward(out, argmax, inp, kh, kw, sh, sw, pad_top, pad_left)"},
    {"maxpool2d_backward", py_maxpool2d_backward, METH_VARARGS,
     "maxpool2d_backward(dinp, dout, argmax, kh, kw, sh, sw, pad_top, pad_left)"},
    {"avgpool2d_forward", py_avgpool2d_forward, METH_VARARGS,
     "avgpool2d_forward(out, inp, kh, kw, sh, sw, pad_top, pad_left)"},
    {"avgpool2d_backward", py_avgpool2d_backward, METH_VARARGS,
     "avgpool2d_backward(dinp, dout, kh, kw, sh, sw, pad_top, pad_left)"},
    {"relu_maxpool2x2_forward", py_relu_maxpool2x2_forward, METH_VARARGS,
     "relu_maxpool2x2_forward(out, argmax, pre): 2x2/stride-2 max pool of relu(pre) (B,H,W,C) "
     "into out (B,H/2,W/2,C), argmax h*W + w; relu(pre) is not written"},
    {"relu_maxpool2x2_backward", py_relu_maxpool2x2_backward, METH_VARARGS,
     "relu_maxpool2x2_backward(dpre, dout, out, argmax): the gradient of pre through the pool "
     "and the ReLU, the bits of maxpool2d_backward then the ReLU's backward"},
    {NULL, NULL, 0, NULL},
};
