/* bind_noise.c -- Python binding of csrc/noise.c.
 *
 *   mask_mul(out, inp, mask, scale)   inp, out (B, S, C); mask (B, S, C) or (B, 1, C)
 * Dropout forward: mask_mul(out, x, mask, 1/(1-rate)); backward: mask_mul(dinp, dout, mask, ...).
 */
#include "bind.h"

#include "../noise.h"

static PyObject *py_mask_mul(PyObject *self, PyObject *args) {
    static const char *fn = "mask_mul";
    PyObject *o_out, *o_inp, *o_mask;
    float scale;
    if (!PyArg_ParseTuple(args, "OOOf", &o_out, &o_inp, &o_mask, &scale)) return NULL;
    PyArrayObject *out, *inp, *mask;
    if (bind_f32(o_out, &out, fn, "out", 3, BIND_OUT) < 0) return NULL;
    if (bind_f32(o_inp, &inp, fn, "inp", 3, BIND_IN) < 0) return NULL;
    if (bind_f32(o_mask, &mask, fn, "mask", 3, BIND_IN) < 0) return NULL;
    if (bind_same_shape(fn, out, "out", inp, "inp") < 0) return NULL;
    int64_t B = dim(inp, 0), S = dim(inp, 1), C = dim(inp, 2), mS = dim(mask, 1);
    if (bind_dim(fn, mask, "mask", 0, B, "the batch size of `inp`") < 0) return NULL;
    if (bind_dim(fn, mask, "mask", 2, C, "the last axis of `inp`") < 0) return NULL;
    if (mS != 1 && bind_dim(fn, mask, "mask", 1, S, "axis 1 of `inp`, or 1") < 0) return NULL;
    if (bind_no_overlap(fn, out, "out", inp, "inp") < 0) return NULL;
    if (bind_no_overlap(fn, out, "out", mask, "mask") < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    aenn_mask_mul(f32(out), f32(inp), f32(mask), scale, B, S, C, mS);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

PyMethodDef aenn_methods_noise[] = {
    {"mask_mul", py_mask_mul, METH_VARARGS,
     "mask_mul(out, inp, mask, scale): out = inp * mask * scale, mask (B, S|1, C)"},
    {NULL, NULL, 0, NULL},
};
