/* bind_pool.c -- Python bindings of the pooling kernels (csrc/pool.c).
 *
 *   maxpool2d_forward(out, argmax, inp, kh, kw, sh, sw, pad_top, pad_left)
 *   maxpool2d_backward(dinp, dout, argmax, kh, kw, sh, sw, pad_top, pad_left)
 *   avgpool2d_forward(out, inp, kh, kw, sh, sw, pad_top, pad_left)
 *   avgpool2d_backward(dinp, dout, kh, kw, sh, sw, pad_top, pad_left)
 *
 * inp / dinp are (B, H, W, C) float32, out / dout (B, OH, OW, C), argmax int32 like out.
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
    {NULL, NULL, 0, NULL},
};
