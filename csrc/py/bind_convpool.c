/* bind_convpool.c -- Python bindings of csrc/convpool.c (Conv2D with one input channel + ReLU +
 * 2x2 max pooling, fused).
 *
 *   convpool_forward(out, argmax, inp, weight, bias, pad_top, pad_bottom, pad_left, pad_right)
 *   convpool_backward(dweight, dbias, dout, out, argmax, inp, pad_top, pad_bottom, pad_left,
 *                     pad_right)
 *
 * inp (B,H,W,1); weight/dweight (KH,3,1,OC) with KH <= 3; bias/dbias (OC,) or None; the conv
 * (stride 1) gives pre (B,OH,OW,OC) with OH = H + pad_top + pad_bottom - KH + 1 (OW alike);
 * out/dout (B,OH/2,OW/2,OC) float32 and argmax int32 of that shape.
 */
#include "bind.h"

#include "../convpool.h"

/* Validates x (B,H,W,1), w (KH,3,1,OC), y (B,OH/2,OW/2,OC) and the padding; fills g. */
static int convpool_geom(const char *fn, aenn_conv2d_geom *g, PyArrayObject *x, PyArrayObject *w,
                         const char *wn, PyArrayObject *y, const char *yn, long long pt,
                         long long pb, long long pl, long long pr) {
    char xs[256], ws[256];
    bind_shape_str(x, xs, sizeof xs);
    bind_shape_str(w, ws, sizeof ws);
    if (dim(x, 3) != 1)
        return bind_error(fn, "`inp` %s must have one channel (the fused op is for one-channel "
                              "images)", xs);
    if (dim(w, 0) < 1 || dim(w, 0) > 3 || dim(w, 1) != 3 || dim(w, 2) != 1)
        return bind_error(fn, "`%s` %s must have shape (KH, 3, 1, OC) with 1 <= KH <= 3", wn, ws);
    if (pt < 0 || pb < 0 || pl < 0 || pr < 0 || pt >= dim(w, 0) || pb >= dim(w, 0) || pl >= 3 ||
        pr >= 3)
        return bind_error(fn, "padding (top %lld, bottom %lld, left %lld, right %lld) must be >= 0 "
                              "and smaller than the kernel %s", pt, pb, pl, pr, ws);
    int64_t H = dim(x, 1), W = dim(x, 2), KH = dim(w, 0), OC = dim(w, 3);
    int64_t OH = H + pt + pb - KH + 1, OW = W + pl + pr - 3 + 1;
    if (OH < 2 || OW < 2)
        return bind_error(fn, "`inp` %s with kernel %s and that padding gives a %lldx%lld conv "
                              "output: too small for a 2x2 pool", xs, ws, (long long)OH,
                          (long long)OW);
    if (OW * OC > AENN_CONVPOOL_ROW_MAX)
        return bind_error(fn, "a conv output row of %lld x %lld floats is over the fused op's "
                              "limit of %d", (long long)OW, (long long)OC, AENN_CONVPOOL_ROW_MAX);
    if (OH * OW > INT32_MAX)
        return bind_error(fn, "OH*OW = %lld is too large for int32 argmax indices",
                          (long long)(OH * OW));
    *g = (aenn_conv2d_geom){dim(x, 0), H, W, 1, OH, OW, OC, KH, 3, 1, 1, 1, 1, pt, pl};
    if (bind_dim(fn, y, yn, 0, g->B, "the batch size of `inp`") ||
        bind_dim(fn, y, yn, 1, OH / 2, "half the conv output height") ||
        bind_dim(fn, y, yn, 2, OW / 2, "half the conv output width") ||
        bind_dim(fn, y, yn, 3, OC, "the output channels of the kernel"))
        return -1;
    return 0;
}

static PyObject *py_convpool_forward(PyObject *self, PyObject *args) {
    static const char *fn = "convpool_forward";
    PyObject *o_out, *o_arg, *o_inp, *o_w, *o_b;
    long long pt, pb, pl, pr;
    if (!PyArg_ParseTuple(args, "OOOOOLLLL:convpool_forward", &o_out, &o_arg, &o_inp, &o_w, &o_b,
                          &pt, &pb, &pl, &pr))
        return NULL;
    PyArrayObject *out, *arg, *inp, *w, *b;
    if (bind_f32(o_out, &out, fn, "out", 4, BIND_OUT) ||
        bind_array(o_arg, &arg, fn, "argmax", NPY_INT32, 4, BIND_OUT) ||
        bind_f32(o_inp, &inp, fn, "inp", 4, 0) || bind_f32(o_w, &w, fn, "weight", 4, 0) ||
        bind_f32(o_b, &b, fn, "bias", 1, BIND_OPTIONAL))
        return NULL;
    aenn_conv2d_geom g;
    if (convpool_geom(fn, &g, inp, w, "weight", out, "out", pt, pb, pl, pr) ||
        bind_same_shape(fn, arg, "argmax", out, "out") ||
        bind_dim(fn, b, "bias", 0, g.OC, "the output channels"))
        return NULL;
    PyArrayObject *outs[2] = {out, arg};
    const char *onames[2] = {"out", "argmax"};
    PyArrayObject *ins[3] = {inp, w, b};
    const char *inames[3] = {"inp", "weight", "bias"};
    if (bind_outputs_apart(fn, outs, onames, 2, ins, inames, 3)) return NULL;
    Py_BEGIN_ALLOW_THREADS
    aenn_convpool_forward(f32(out), (int32_t *)PyArray_DATA(arg), f32(inp), f32(w), f32(b), &g);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_convpool_backward(PyObject *self, PyObject *args) {
    static const char *fn = "convpool_backward";
    PyObject *o_dw, *o_db, *o_dout, *o_out, *o_arg, *o_inp;
    long long pt, pb, pl, pr;
    if (!PyArg_ParseTuple(args, "OOOOOOLLLL:convpool_backward", &o_dw, &o_db, &o_dout, &o_out,
                          &o_arg, &o_inp, &pt, &pb, &pl, &pr))
        return NULL;
    PyArrayObject *dwt, *db, *dout, *out, *arg, *inp;
    if (bind_f32(o_dw, &dwt, fn, "dweight", 4, BIND_OUT) ||
        bind_f32(o_db, &db, fn, "dbias", 1, BIND_OUT | BIND_OPTIONAL) ||
        bind_f32(o_dout, &dout, fn, "dout", 4, 0) || bind_f32(o_out, &out, fn, "out", 4, 0) ||
        bind_array(o_arg, &arg, fn, "argmax", NPY_INT32, 4, 0) ||
        bind_f32(o_inp, &inp, fn, "inp", 4, 0))
        return NULL;
    aenn_conv2d_geom g;
    if (convpool_geom(fn, &g, inp, dwt, "dweight", dout, "dout", pt, pb, pl, pr) ||
        bind_same_shape(fn, out, "out", dout, "dout") ||
        bind_same_shape(fn, arg, "argmax", dout, "dout") ||
        bind_dim(fn, db, "dbias", 0, g.OC, "the output channels"))
        return NULL;
    PyArrayObject *outs[2] = {dwt, db};
    const char *onames[2] = {"dweight", "dbias"};
    PyArrayObject *ins[4] = {dout, out, arg, inp};
    const char *inames[4] = {"dout", "out", "argmax", "inp"};
    if (bind_outputs_apart(fn, outs, onames, 2, ins, inames, 4)) return NULL;
    /* groups: twice the threads, so a thread that is descheduled holds up little */
    int64_t groups = 2 * (int64_t)aenn_get_num_threads();
    float *scratch = bind_scratch_f32(aenn_convpool_backward_scratch_size(&g, groups));
    if (!scratch) return NULL;
    Py_BEGIN_ALLOW_THREADS
    aenn_convpool_backward(f32(dwt), f32(db), f32(dout), f32(out), (const int32_t *)PyArray_DATA(arg),
                           f32(inp), &g, groups, scratch);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(scratch);
    Py_RETURN_NONE;
}

PyMethodDef aenn_methods_convpool[] = {
    {"convpool_forward", py_convpool_forward, METH_VARARGS,
     "convpool_forward(out, argmax, inp, weight, bias, pad_top, pad_bottom, pad_left, pad_right): "
     "out (B,OH/2,OW/2,OC) = 2x2 max pool of relu(conv(inp (B,H,W,1), weight (KH,3,1,OC)) + bias), "
     "argmax = oh*OW + ow of each window's maximum; bias may be None"},
    {"convpool_backward", py_convpool_backward, METH_VARARGS,
     "convpool_backward(dweight, dbias, dout, out, argmax, inp, pad_top, pad_bottom, pad_left, "
     "pad_right): dweight and dbias (or None) of convpool_forward; no input gradient"},
    {NULL, NULL, 0, NULL},
};
