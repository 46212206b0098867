/* bind_activation.c -- Python bindings of the activation kernels (csrc/activation.h).
 *
 *   activation_forward(out, inp, kind, alpha)               elementwise, any shape
 *   activation_backward(dinp, dout, inp, out, kind, alpha)  out may be None unless kind needs it
 *   relu_forward(out, inp, negative_slope, max_value, threshold)
 *   relu_backward(dinp, dout, inp, negative_slope, max_value, threshold)
 *   softmax_forward(out, inp)                               (rows, cols)
 *   softmax_backward(dinp, dout, out)                       (rows, cols)
 *   mathfn(out, inp, fn)                                    the raw mathfn.h functions
 */
#include "bind.h"

#include <math.h>

#include "activation.h"

static int check_kind(const char *fn, int kind) {
    if (kind < 0 || kind >= AENN_ACT_COUNT)
        return bind_error(fn, "argument `kind` must be in [0, %d), got %d", AENN_ACT_COUNT, kind);
    return 0;
}

static PyObject *py_activation_forward(PyObject *self, PyObject *args) {
    static const char *fn = "activation_forward";
    PyObject *o_out, *o_inp;
    int kind;
    float alpha;
    PyArrayObject *out, *inp;
    if (!PyArg_ParseTuple(args, "OOif", &o_out, &o_inp, &kind, &alpha)) return NULL;
    if (bind_f32(o_out, &out, fn, "out", -1, BIND_OUT) || bind_f32(o_inp, &inp, fn, "inp", -1, BIND_IN) ||
        bind_same_shape(fn, out, "out", inp, "inp") || bind_no_overlap(fn, out, "out", inp, "inp") ||
        check_kind(fn, kind))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    aenn_activation_forward(f32(out), f32(inp), numel(inp), kind, alpha);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_activation_backward(PyObject *self, PyObject *args) {
    static const char *fn = "activation_backward";
    PyObject *o_dinp, *o_dout, *o_inp, *o_out;
    int kind;
    float alpha;
    PyArrayObject *dinp, *dout, *inp, *out;
    if (!PyArg_ParseTuple(args, "OOOOif", &o_dinp, &o_dout, &o_inp, &o_out, &kind, &alpha))
        return NULL;
    if (bind_f32(o_dinp, &dinp, fn, "dinp", -1, BIND_OUT) ||
        bind_f32(o_dout, &dout, fn, "dout", -1, BIND_IN) ||
        bind_f32(o_inp, &inp, fn, "inp", -1, BIND_IN) ||
        bind_f32(o_out, &out, fn, "out", -1, BIND_IN | BIND_OPTIONAL) || check_kind(fn, kind) ||
        bind_same_shape(fn, dout, "dout", inp, "inp") ||
        bind_same_shape(fn, dinp, "dinp", inp, "inp") ||
        bind_same_shape(fn, out, "out", inp, "inp") ||
        bind_no_overlap(fn, dinp, "dinp", dout, "dout") ||
        bind_no_overlap(fn, dinp, "dinp", inp, "inp") ||
        bind_no_overlap(fn, dinp, "dinp", out, "out"))
        return NULL;
    if (out == NULL && aenn_activation_needs_out(kind)) {
        bind_error(fn, "argument `out` (the forward output) is required for kind %d", kind);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    aenn_activation_backward(f32(dinp), f32(dout), f32(inp), f32(out), numel(inp), kind, alpha);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static int check_relu_args(const char *fn, float slope, float max_value, float threshold) {
    if (!(slope >= 0.0f) || isinf(slope))
        return bind_error(fn, "argument `negative_slope` must be a finite number >= 0, got %g",
                          (double)slope);
    if (!(max_value >= 0.0f))
        return bind_error(fn, "argument `max_value` must be >= 0 (inf for none), got %g",
                          (double)max_value);
    if (!(threshold >= 0.0f) || isinf(threshold))
        return bind_error(fn, "argument `threshold` must be a finite number >= 0, got %g",
                          (double)threshold);
    return 0;
}

static PyObject *py_relu_forward(PyObject *self, PyObject *args) {
    static const char *fn = "relu_forward";
    PyObject *o_out, *o_inp;
    float slope, max_value, threshold;
    PyArrayObject *out, *inp;
    if (!PyArg_ParseTuple(args, "OOfff", &o_out, &o_inp, &slope, &max_value, &threshold))
        return NULL;
    if (bind_f32(o_out, &out, fn, "out", -1, BIND_OUT) || bind_f32(o_inp, &inp, fn, "inp", -1, BIND_IN) ||
        bind_same_shape(fn, out, "out", inp, "inp") || bind_no_overlap(fn, out, "out", inp, "inp") ||
        check_relu_args(fn, slope, max_value, threshold))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    aenn_relu_forward(f32(out), f32(inp), numel(inp), slope, max_value, threshold);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_relu_backward(PyObject *self, PyObject *args) {
    static const char *fn = "relu_backward";
    PyObject *o_dinp, *o_dout, *o_inp;
    float slope, max_value, threshold;
    PyArrayObject *dinp, *dout, *inp;
    if (!PyArg_ParseTuple(args, "OOOfff", &o_dinp, &o_dout, &o_inp, &slope, &max_value, &threshold))
        return NULL;
    if (bind_f32(o_dinp, &dinp, fn, "dinp", -1, BIND_OUT) ||
        bind_f32(o_dout, &dout, fn, "dout", -1, BIND_IN) ||
        bind_f32(o_inp, &inp, fn, "inp", -1, BIND_IN) ||
        bind_same_shape(fn, dout, "dout", inp, "inp") ||
        bind_same_shape(fn, dinp, "dinp", inp, "inp") ||
        bind_no_overlap(fn, dinp, "dinp", dout, "dout") ||
        bind_no_overlap(fn, dinp, "dinp", inp, "inp") ||
        check_relu_args(fn, slope, max_value, threshold))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    aenn_relu_backward(f32(dinp), f32(dout), f32(inp), numel(inp), slope, max_value, threshold);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_softmax_forward(PyObject *self, PyObject *args) {
    static const char *fn = "softmax_forward";
    PyObject *o_out, *o_inp;
    PyArrayObject *out, *inp;
    if (!PyArg_ParseTuple(args, "OO", &o_out, &o_inp)) return NULL;
    if (bind_f32(o_out, &out, fn, "out", 2, BIND_OUT) || bind_f32(o_inp, &inp, fn, "inp", 2, BIND_IN) ||
        bind_same_shape(fn, out, "out", inp, "inp") || bind_no_overlap(fn, out, "out", inp, "inp"))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    aenn_softmax_forward(f32(out), f32(inp), dim(inp, 0), dim(inp, 1));
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_softmax_backward(PyObject *self, PyObject *args) {
    static const char *fn = "softmax_backward";
    PyObject *o_dinp, *o_dout, *o_out;
    PyArrayObject *dinp, *dout, *out;
    if (!PyArg_ParseTuple(args, "OOO", &o_dinp, &o_dout, &o_out)) return NULL;
    if (bind_f32(o_dinp, &dinp, fn, "dinp", 2, BIND_OUT) ||
        bind_f32(o_dout, &dout, fn, "dout", 2, BIND_IN) ||
        bind_f32(o_out, &out, fn, "out", 2, BIND_IN) ||
        bind_same_shape(fn, dout, "dout", out, "out") ||
        bind_same_shape(fn, dinp, "dinp", out, "out") ||
        bind_no_overlap(fn, dinp, "dinp", dout, "dout") ||
        bind_no_overlap(fn, dinp, "dinp", out, "out"))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    aenn_softmax_backward(f32(dinp), f32(dout), f32(out), dim(out, 0), dim(out, 1));
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_mathfn(PyObject *self, PyObject *args) {
    static const char *fn = "mathfn";
    PyObject *o_out, *o_inp;
    int which;
    PyArrayObject *out, *inp;
    if (!PyArg_ParseTuple(args, "OOi", &o_out, &o_inp, &which)) return NULL;
    if (bind_f32(o_out, &out, fn, "out", -1, BIND_OUT) || bind_f32(o_inp, &inp, fn, "inp", -1, BIND_IN) ||
        bind_same_shape(fn, out, "out", inp, "inp") || bind_no_overlap(fn, out, "out", inp, "inp"))
        return NULL;
    if (which < 0 || which >= AENN_FN_COUNT) {
        bind_error(fn, "argument `fn` must be in [0, %d), got %d", AENN_FN_COUNT, which);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    aenn_mathfn_apply(f32(out), f32(inp), numel(inp), which);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

PyMethodDef aenn_methods_activation[] = {
    {"activation_forward", py_activation_forward, METH_VARARGS,
     "activation_forward(out, inp, kind, alpha): out = act(inp), elementwise"},
    {"activation_backward", py_activation_backward, METH_VARARGS,
     "activation_backward(dinp, dout, inp, out, kind, alpha): dinp = dout * act'(inp)"},
    {"relu_forward", py_relu_forward, METH_VARARGS,
     "relu_forward(out, inp, negative_slope, max_value, threshold)"},
    {"relu_backward", py_relu_backward, METH_VARARGS,
     "relu_backward(dinp, dout, inp, negative_slope, max_value, threshold)"},
    {"softmax_forward", py_softmax_forward, METH_VARARGS,
     "softmax_forward(out, inp): softmax over the last axis of (rows, cols)"},
    {"softmax_backward", py_softmax_backward, METH_VARARGS,
     "softmax_backward(dinp, dout, out): out is the forward output, (rows, cols)"},
    {"mathfn", py_mathfn, METH_VARARGS,
     "mathfn(out, inp, fn): fn 0..6 = exp, log, tanh, log1p, expm1, sigmoid, erf (serial)"},
    {NULL, NULL, 0, NULL},
};
