/* bind_upconv.c -- Python bindings of csrc/upconv.c (fused nearest 2x upsample + 3x3 'same' conv).
 *
 *   upconv_forward(out, inp, weight, bias)
 *   upconv_backward(dinp, dweight, dbias, dout, inp, weight)
 *
 * inp/dinp (B,H,W,C), out/dout (B,2H,2W,OC), weight/dweight (3,3,C,OC), bias/dbias (OC,) or None;
 * dinp may be None. All float32 C-contiguous.
 */
#include "bind.h"

#include "../upconv.h"

/* Validates x (B,H,W,C), y (B,2H,2W,OC), w (3,3,C,OC) and fills the geometry. */
static int upconv_geom(const char *fn, aenn_upconv_geom *g, PyArrayObject *x, const char *xn,
                       PyArrayObject *y, const char *yn, PyArrayObject *w, const char *wn) {
    *g = (aenn_upconv_geom){dim(x, 0), dim(x, 1), dim(x, 2), dim(x, 3), dim(w, 3)};
    (void)xn;
    if (bind_dim(fn, w, wn, 0, 3, "the 3x3 kernel") ||
        bind_dim(fn, w, wn, 1, 3, "the 3x3 kernel") ||
        bind_dim(fn, w, wn, 2, g->C, "the channels of `inp`") ||
        bind_dim(fn, y, yn, 0, g->B, "the batch size of `inp`") ||
        bind_dim(fn, y, yn, 1, 2 * g->H, "2 * the rows of `inp`") ||
        bind_dim(fn, y, yn, 2, 2 * g->W, "2 * the cols of `inp`") ||
        bind_dim(fn, y, yn, 3, g->OC, "the output channels of `weight`"))
        return -1;
    return 0;
}

static PyObject *py_upconv_forward(PyObject *self, PyObject *args) {
    static const char *fn = "upconv_forward";
    PyObject *o_out, *o_inp, *o_w, *o_b;
    if (!PyArg_ParseTuple(args, "OOOO:upconv_forward", &o_out, &o_inp, &o_w, &o_b)) return NULL;
    PyArrayObject *out, *inp, *w, *b;
    if (bind_f32(o_out, &out, fn, "out", 4, BIND_OUT) || bind_f32(o_inp, &inp, fn, "inp", 4, 0) ||
        bind_f32(o_w, &w, fn, "weight", 4, 0) || bind_f32(o_b, &b, fn, "bias", 1, BIND_OPTIONAL))
        return NULL;
    aenn_upconv_geom g;
    if (upconv_geom(fn, &g, inp, "inp", out, "out", w, "weight") ||
        bind_dim(fn, b, "bias", 0, g.OC, "the output channels") ||
        bind_no_overlap(fn, out, "out", inp, "inp") ||
        bind_no_overlap(fn, out, "out", w, "weight") || bind_no_overlap(fn, out, "out", b, "bias"))
        return NULL;
    float *scratch = bind_scratch_f32(aenn_upconv_forward_scratch_size(&g));
    if (!scratch) return NULL;
    Py_BEGIN_ALLOW_THREADS
    aenn_upconv_forward(f32(out), f32(inp), f32(w), f32(b), &g, scratch);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(scratch);
    Py_RETURN_NONE;
}

static PyObject *py_upconv_backward(PyObject *self, PyObject *args) {
    static const char *fn = "upconv_backward";
    PyObject *o_dinp, *o_dw, *o_db, *o_dout, *o_inp, *o_w;
    if (!PyArg_ParseTuple(args, "OOOOOO:upconv_backward", &o_dinp, &o_dw, &o_db, &o_dout, &o_inp,
                          &o_w))
        return NULL;
    PyArrayObject *dinp, *dwt, *db, *dout, *inp, *w;
    if (bind_f32(o_dinp, &dinp, fn, "dinp", 4, BIND_OUT | BIND_OPTIONAL) ||
        bind_f32(o_dw, &dwt, fn, "dweight", 4, BIND_OUT) ||
        bind_f32(o_db, &db, fn, "dbias", 1, BIND_OUT | BIND_OPTIONAL) ||
        bind_f32(o_dout, &dout, fn, "dout", 4, 0) || bind_f32(o_inp, &inp, fn, "inp", 4, 0) ||
        bind_f32(o_w, &w, fn, "weight", 4, 0))
        return NULL;
    aenn_upconv_geom g;
    if (upconv_geom(fn, &g, inp, "inp", dout, "dout", w, "weight") ||
        bind_same_shape(fn, dinp, "dinp", inp, "inp") ||
        bind_same_shape(fn, dwt, "dweight", w, "weight") ||
        bind_dim(fn, db, "dbias", 0, g.OC, "the output channels"))
        return NULL;
    PyArrayObject *outs[3] = {dinp, dwt, db};
    const char *onames[3] = {"dinp", "dweight", "dbias"};
    PyArrayObject *ins[3] = {dout, inp, w};
    const char *inames[3] = {"dout", "inp", "weight"};
    if (bind_outputs_apart(fn, outs, onames, 3, ins, inames, 3)) return NULL;
    float *scratch = bind_scratch_f32(aenn_upconv_backward_scratch_size(&g));
    if (!scratch) return NULL;
    Py_BEGIN_ALLOW_THREADS
    aenn_upconv_backward(f32(dinp), f32(dwt), f32(db), f32(dout), f32(inp), f32(w), &g, scratch);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(scratch);
    Py_RETURN_NONE;
}

PyMethodDef aenn_methods_upconv[] = {
    {"upconv_forward", py_upconv_forward, METH_VARARGS,
     "upconv_forward(out, inp, weight, bias): out (B,2H,2W,OC) = 3x3 'same' conv of the nearest "
     "2x upsampled inp (B,H,W,C), weight (3,3,C,OC), bias (OC,) or None"},
    {"upconv_backward", py_upconv_backward, METH_VARARGS,
     "upconv_backward(dinp, dweight, dbias, dout, inp, weight): gradients of upconv_forward; "
     "dinp and dbias may be None"},
    {NULL, NULL, 0, NULL},
};
