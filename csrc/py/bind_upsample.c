/* bind_upsample.c -- Python bindings of csrc/upsample.c.
 *
 *   upsample_{nearest,bilinear}_forward(out, inp, sh, sw)   inp (B,H,W,C), out (B,H*sh,W*sw,C)
 *   upsample_{nearest,bilinear}_backward(dinp, dout, sh, sw)
 */
#include "bind.h"

#include "../upsample.h"

typedef void (*up_kernel)(float *, const float *, const aenn_upsample_geom *);

/* small: (B, H, W, C) side, big: (B, H*sh, W*sw, C) side; `dst_is_big` says which is written. */
static PyObject *upsample_call(const char *fn, PyObject *args, int dst_is_big, up_kernel k) {
    PyObject *o_dst, *o_src;
    long long sh, sw;
    if (!PyArg_ParseTuple(args, "OOLL", &o_dst, &o_src, &sh, &sw)) return NULL;
    PyArrayObject *dst, *src;
    const char *dname = dst_is_big ? "out" : "dinp", *sname = dst_is_big ? "inp" : "dout";
    if (bind_f32(o_dst, &dst, fn, dname, 4, BIND_OUT) < 0) return NULL;
    if (bind_f32(o_src, &src, fn, sname, 4, BIND_IN) < 0) return NULL;
    if (sh < 1 || sw < 1)
        return PyErr_Format(PyExc_ValueError, "%s: size must be positive, received (%lld, %lld)",
                            fn, sh, sw);
    PyArrayObject *small = dst_is_big ? src : dst, *big = dst_is_big ? dst : src;
    const char *bgname = dst_is_big ? dname : sname;
    aenn_upsample_geom g = {dim(small, 0), dim(small, 1), dim(small, 2), dim(small, 3), sh, sw};
    if (bind_dim(fn, big, bgname, 0, g.B, "the batch size") < 0) return NULL;
    if (bind_dim(fn, big, bgname, 1, g.H * sh, "rows * size[0]") < 0) return NULL;
    if (bind_dim(fn, big, bgname, 2, g.W * sw, "cols * size[1]") < 0) return NULL;
    if (bind_dim(fn, big, bgname, 3, g.C, "the channels") < 0) return NULL;
    if (bind_no_overlap(fn, dst, dname, src, sname) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    k(f32(dst), f32(src), &g);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_nearest_forward(PyObject *self, PyObject *args) {
    return upsample_call("upsample_nearest_forward", args, 1, aenn_upsample_nearest_forward);
}
static PyObject *py_nearest_backward(PyObject *self, PyObject *args) {
    return upsample_call("upsample_nearest_backward", args, 0, aenn_upsample_nearest_backward);
}
static PyObject *py_bilinear_forward(PyObject *self, PyObject *args) {
    return upsample_call("upsample_bilinear_forward", args, 1, aenn_upsample_bilinear_forward);
}
static PyObject *py_bilinear_backward(PyObject *self, PyObject *args) {
    return upsample_call("upsample_bilinear_backward", args, 0, aenn_upsample_bilinear_backward);
}

PyMethodDef aenn_methods_upsample[] = {
    {"upsample_nearest_forward", py_nearest_forward, METH_VARARGS,
     "upsample_nearest_forward(out, inp, sh, sw)"},
    {"upsample_nearest_backward", py_nearest_backward, METH_VARARGS,
     "upsample_nearest_backward(dinp, dout, sh, sw)"},
    {"upsample_bilinear_forward", py_bilinear_forward, METH_VARARGS,
     "upsample_bilinear_forward(out, inp, sh, sw)"},
    {"upsample_bilinear_backward", py_bilinear_backward, METH_VARARGS,
     "upsample_bilinear_backward(dinp, dout, sh, sw)"},
    {NULL, NULL, 0, NULL},
};
