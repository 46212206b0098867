/* bind_conv.c -- Python bindings of the conv kernels (csrc/conv.c).
 *
 *   conv2d_forward(out, inp, weight, bias, stride_h, stride_w, dilation_h, dilation_w,
 *                  pad_top, pad_bottom, pad_left, pad_right)
 *   conv2d_backward(dinp, dweight, dbias, dout, inp, weight, <same 8 ints>)
 *   conv2d_transpose_forward(out, inp, weight, bias, stride_h, stride_w, dilation_h, dilation_w,
 *                            crop_top, crop_left)
 *   conv2d_transpose_backward(dinp, dweight, dbias, dout, inp, weight, <same 6 ints>)
 *
 * inp/dinp (B,H,W,C), out/dout (B,OH,OW,OC); conv weight (KH,KW,C,OC), transpose weight
 * (KH,KW,OC,C); bias/dbias (OC,) or None; dinp may be None. All float32 C-contiguous.
 *
 *   isa() -> str                 the instruction set the SIMD kernels use (cpu.h)
 *   set_isa(name) -> str         forces "generic", "avx2" or "avx512" (ValueError if unknown
 *                                or unsupported here); every choice gives the same bits
 *   available_isas() -> list     the names this build and CPU can run, slowest first
 */
#include "bind.h"

#include "conv.h"
#include "cpu.h"

/* Checks the ints shared by both kinds of convolution. */
static int check_ints(const char *fn, int64_t sh, int64_t sw, int64_t dh, int64_t dw) {
    if (sh < 1 || sw < 1)
        return bind_error(fn, "strides must be >= 1, got stride_h=%lld, stride_w=%lld",
                          (long long)sh, (long long)sw);
    if (dh < 1 || dw < 1)
        return bind_error(fn, "dilation must be >= 1, got dilation_h=%lld, dilation_w=%lld",
                          (long long)dh, (long long)dw);
    return 0;
}

/* Validates a convolution: x (B,H,W,C), y (B,OH,OW,OC), w (KH,KW,C,OC), explicit padding. */
static int conv_geom(const char *fn, aenn_conv2d_geom *g, PyArrayObject *x, const char *xn,
                     PyArrayObject *y, const char *yn, PyArrayObject *w, const char *wn,
                     long long sh, long long sw, long long dh, long long dw, long long pt,
                     long long pb, long long pl, long long pr) {
    if (check_ints(fn, sh, sw, dh, dw)) return -1;
    if (pt < 0 || pb < 0 || pl < 0 || pr < 0)
        return bind_error(fn, "padding must be >= 0, got pad_top=%lld, pad_bottom=%lld, "
                              "pad_left=%lld, pad_right=%lld", pt, pb, pl, pr);
    *g = (aenn_conv2d_geom){dim(x, 0), dim(x, 1), dim(x, 2), dim(x, 3), dim(y, 1), dim(y, 2),
                            dim(y, 3), dim(w, 0), dim(w, 1), sh, sw, dh, dw, pt, pl};
    if (bind_dim(fn, y, yn, 0, g->B, "the batch size of `inp`")) return -1;
    if (bind_dim(fn, w, wn, 2, g->C, "the channels of `inp`")) return -1;
    if (bind_dim(fn, w, wn, 3, g->OC, "the channels of the output")) return -1;
    int64_t keh = (g->KH - 1) * dh + 1, kew = (g->KW - 1) * dw + 1;
    int64_t ph = g->H + pt + pb, pw = g->W + pl + pr;
    char xs[256], ws[256];
    bind_shape_str(x, xs, sizeof xs);
    bind_shape_str(w, ws, sizeof ws);
    if (keh > ph || kew > pw)
        return bind_error(fn, "the kernel %s (dilated %lldx%lld) is larger than the padded input "
                              "(%lldx%lld) of `%s` %s", ws, (long long)keh, (long long)kew,
                          (long long)ph, (long long)pw, xn, xs);
    if (bind_dim(fn, y, yn, 1, (ph - keh) / sh + 1, "the output height from the geometry"))
        return -1;
    if (bind_dim(fn, y, yn, 2, (pw - kew) / sw + 1, "the output width from the geometry"))
        return -1;
    return 0;
}

/* Validates a transposed convolution: x (B,H,W,C), y (B,OH,OW,OC), w (KH,KW,OC,C), start crop. */
static int transpose_geom(const char *fn, aenn_conv2d_geom *g, PyArrayObject *x, const char *xn,
                          PyArrayObject *y, const char *yn, PyArrayObject *w, const char *wn,
                          long long sh, long long sw, long long dh, long long dw, long long ct,
                          long long cl) {
    if (check_ints(fn, sh, sw, dh, dw)) return -1;
    *g = (aenn_conv2d_geom){dim(x, 0), dim(x, 1), dim(x, 2), dim(x, 3), dim(y, 1), dim(y, 2),
                            dim(y, 3), dim(w, 0), dim(w, 1), sh, sw, dh, dw, ct, cl};
    if (bind_dim(fn, y, yn, 0, g->B, "the batch size of `inp`")) return -1;
    if (bind_dim(fn, w, wn, 2, g->OC, "the channels of the output")) return -1;
    if (bind_dim(fn, w, wn, 3, g->C, "the channels of `inp`")) return -1;
    int64_t full_h = (g->H - 1) * sh + (g->KH - 1) * dh + 1;
    int64_t full_w = (g->W - 1) * sw + (g->KW - 1) * dw + 1;
    int64_t max_ct = full_h > g->OH ? full_h - g->OH : 0;
    int64_t max_cl = full_w > g->OW ? full_w - g->OW : 0;
    if (ct < 0 || cl < 0 || ct > max_ct || cl > max_cl) {
        char ys[256];
        bind_shape_str(y, ys, sizeof ys);
        return bind_error(fn, "crop_top=%lld, crop_left=%lld must lie in [0, %lld] x [0, %lld] "
                              "for a full output of %lldx%lld cropped to `%s` %s", ct, cl,
                          (long long)max_ct, (long long)max_cl, (long long)full_h,
                          (long long)full_w, yn, ys);
    }
    return 0;
}

static PyObject *py_conv2d_forward(PyObject *self, PyObject *args) {
    static const char *fn = "conv2d_forward";
    PyObject *o_out, *o_inp, *o_w, *o_b;
    long long sh, sw, dh, dw, pt, pb, pl, pr;
    if (!PyArg_ParseTuple(args, "OOOOLLLLLLLL:conv2d_forward", &o_out, &o_inp, &o_w, &o_b, &sh,
                          &sw, &dh, &dw, &pt, &pb, &pl, &pr))
        return NULL;
    PyArrayObject *out, *inp, *w, *b;
    if (bind_f32(o_out, &out, fn, "out", 4, BIND_OUT) || bind_f32(o_inp, &inp, fn, "inp", 4, 0) ||
        bind_f32(o_w, &w, fn, "weight", 4, 0) || bind_f32(o_b, &b, fn, "bias", 1, BIND_OPTIONAL))
        return NULL;
    aenn_conv2d_geom g;
    if (conv_geom(fn, &g, inp, "inp", out, "out", w, "weight", sh, sw, dh, dw, pt, pb, pl, pr) ||
        bind_dim(fn, b, "bias", 0, g.OC, "the output channels") ||
        bind_no_overlap(fn, out, "out", inp, "inp") ||
        bind_no_overlap(fn, out, "out", w, "weight") || bind_no_overlap(fn, out, "out", b, "bias"))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    aenn_conv2d_forward(f32(out), f32(inp), f32(w), f32(b), &g);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/* Checks the gradient outputs of a backward call against its inputs. */
static int check_grads(const char *fn, PyArrayObject *dinp, PyArrayObject *dw, PyArrayObject *db,
                       PyArrayObject *dout, PyArrayObject *inp, PyArrayObject *w, int64_t oc) {
    if (bind_same_shape(fn, dinp, "dinp", inp, "inp") ||
        bind_same_shape(fn, dw, "dweight", w, "weight") ||
        bind_dim(fn, db, "dbias", 0, oc, "the output channels"))
        return -1;
    PyArrayObject *outs[3] = {dinp, dw, db};
    const char *onames[3] = {"dinp", "dweight", "dbias"};
    PyArrayObject *ins[3] = {dout, inp, w};
    const char *inames[3] = {"dout", "inp", "weight"};
    if (bind_outputs_apart(fn, outs, onames, 3, ins, inames, 3)) return -1;
    return 0;
}

static PyObject *py_conv2d_backward(PyObject *self, PyObject *args) {
    static const char *fn = "conv2d_backward";
    PyObject *o_dinp, *o_dw, *o_db, *o_dout, *o_inp, *o_w;
    long long sh, sw, dh, dw, pt, pb, pl, pr;
    if (!PyArg_ParseTuple(args, "OOOOOOLLLLLLLL:conv2d_backward", &o_dinp, &o_dw, &o_db, &o_dout,
                          &o_inp, &o_w, &sh, &sw, &dh, &dw, &pt, &pb, &pl, &pr))
        return NULL;
    PyArrayObject *dinp, *dwt, *db, *dout, *inp, *w;
    if (bind_f32(o_dinp, &dinp, fn, "dinp", 4, BIND_OUT | BIND_OPTIONAL) ||
        bind_f32(o_dw, &dwt, fn, "dweight", 4, BIND_OUT) ||
        bind_f32(o_db, &db, fn, "dbias", 1, BIND_OUT | BIND_OPTIONAL) ||
        bind_f32(o_dout, &dout, fn, "dout", 4, 0) || bind_f32(o_inp, &inp, fn, "inp", 4, 0) ||
        bind_f32(o_w, &w, fn, "weight", 4, 0))
        return NULL;
    aenn_conv2d_geom g;
    if (conv_geom(fn, &g, inp, "inp", dout, "dout", w, "weight", sh, sw, dh, dw, pt, pb, pl, pr) ||
        check_grads(fn, dinp, dwt, db, dout, inp, w, g.OC))
        return NULL;
    float *scratch = bind_scratch_f32(aenn_conv2d_backward_scratch_size(&g));
    if (!scratch) return NULL;
    Py_BEGIN_ALLOW_THREADS
    aenn_conv2d_backward(f32(dinp), f32(dwt), f32(db), f32(dout), f32(inp), f32(w), &g, scratch);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(scratch);
    Py_RETURN_NONE;
}

static PyObject *py_conv2d_transpose_forward(PyObject *self, PyObject *args) {
    static const char *fn = "conv2d_transpose_forward";
    PyObject *o_out, *o_inp, *o_w, *o_b;
    long long sh, sw, dh, dw, ct, cl;
    if (!PyArg_ParseTuple(args, "OOOOLLLLLL:conv2d_transpose_forward", &o_out, &o_inp, &o_w, &o_b,
                          &sh, &sw, &dh, &dw, &ct, &cl))
        return NULL;
    PyArrayObject *out, *inp, *w, *b;
    if (bind_f32(o_out, &out, fn, "out", 4, BIND_OUT) || bind_f32(o_inp, &inp, fn, "inp", 4, 0) ||
        bind_f32(o_w, &w, fn, "weight", 4, 0) || bind_f32(o_b, &b, fn, "bias", 1, BIND_OPTIONAL))
        return NULL;
    aenn_conv2d_geom g;
    if (transpose_geom(fn, &g, inp, "inp", out, "out", w, "weight", sh, sw, dh, dw, ct, cl) ||
        bind_dim(fn, b, "bias", 0, g.OC, "the output channels") ||
        bind_no_overlap(fn, out, "out", inp, "inp") ||
        bind_no_overlap(fn, out, "out", w, "weight") || bind_no_overlap(fn, out, "out", b, "bias"))
        return NULL;
    float *scratch = bind_scratch_f32(aenn_conv2d_transpose_forward_scratch_size(&g));
    if (!scratch) return NULL;
    Py_BEGIN_ALLOW_THREADS
    aenn_conv2d_transpose_forward(f32(out), f32(inp), f32(w), f32(b), &g, scratch);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(scratch);
    Py_RETURN_NONE;
}

static PyObject *py_conv2d_transpose_backward(PyObject *self, PyObject *args) {
    static const char *fn = "conv2d_transpose_backward";
    PyObject *o_dinp, *o_dw, *o_db, *o_dout, *o_inp, *o_w;
    long long sh, sw, dh, dw, ct, cl;
    if (!PyArg_ParseTuple(args, "OOOOOOLLLLLL:conv2d_transpose_backward", &o_dinp, &o_dw, &o_db,
                          &o_dout, &o_inp, &o_w, &sh, &sw, &dh, &dw, &ct, &cl))
        return NULL;
    PyArrayObject *dinp, *dwt, *db, *dout, *inp, *w;
    if (bind_f32(o_dinp, &dinp, fn, "dinp", 4, BIND_OUT | BIND_OPTIONAL) ||
        bind_f32(o_dw, &dwt, fn, "dweight", 4, BIND_OUT) ||
        bind_f32(o_db, &db, fn, "dbias", 1, BIND_OUT | BIND_OPTIONAL) ||
        bind_f32(o_dout, &dout, fn, "dout", 4, 0) || bind_f32(o_inp, &inp, fn, "inp", 4, 0) ||
        bind_f32(o_w, &w, fn, "weight", 4, 0))
        return NULL;
    aenn_conv2d_geom g;
    if (transpose_geom(fn, &g, inp, "inp", dout, "dout", w, "weight", sh, sw, dh, dw, ct, cl) ||
        check_grads(fn, dinp, dwt, db, dout, inp, w, g.OC))
        return NULL;
    float *scratch = bind_scratch_f32(aenn_conv2d_transpose_backward_scratch_size(&g));
    if (!scratch) return NULL;
    Py_BEGIN_ALLOW_THREADS
    aenn_conv2d_transpose_backward(f32(dinp), f32(dwt), f32(db), f32(dout), f32(inp), f32(w), &g,
                                   scratch);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(scratch);
    Py_RETURN_NONE;
}

static PyObject *py_isa(PyObject *self, PyObject *noargs) {
    return PyUnicode_FromString(aenn_isa_name());
}

static PyObject *py_set_isa(PyObject *self, PyObject *args) {
    const char *name;
    if (!PyArg_ParseTuple(args, "s:set_isa", &name)) return NULL;
    int isa = aenn_isa_from_name(name);
    if (isa < 0)
        return PyErr_Format(PyExc_ValueError,
                            "set_isa: expected 'generic', 'avx2' or 'avx512', received '%s'", name);
    if (aenn_set_isa(isa) < 0)
        return PyErr_Format(PyExc_ValueError,
                            "set_isa: '%s' is not supported by this CPU or this build", name);
    return PyUnicode_FromString(aenn_isa_name());
}

static PyObject *py_available_isas(PyObject *self, PyObject *noargs) {
    PyObject *list = PyList_New(0);
    if (!list) return NULL;
    for (int i = 0; i < AENN_ISA_COUNT; i++) {
        if (!aenn_isa_supported(i)) continue;
        PyObject *s = PyUnicode_FromString(aenn_isa_name_of(i));
        if (!s || PyList_Append(list, s) < 0) {
            Py_XDECREF(s);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(s);
    }
    return list;
}

static PyObject *py_conv_set_special_paths(PyObject *self, PyObject *args) {
    int on;
    if (!PyArg_ParseTuple(args, "p:conv_set_special_paths", &on)) return NULL;
    return PyBool_FromLong(aenn_conv_set_special_paths(on));
}

PyMethodDef aenn_methods_conv[] = {
    {"conv_set_special_paths", py_conv_set_special_paths, METH_VARARGS,
     "conv_set_special_paths(on) -> previous; turns the special-case fast paths on or off "
     "(for tests: both give the same bits)"},
    {"isa", py_isa, METH_NOARGS, "isa() -> the instruction set in use: generic, avx2 or avx512"},
    {"set_isa", py_set_isa, METH_VARARGS,
     "set_isa(name) -> name; forces the instruction set of the SIMD kernels (same bits)"},
    {"available_isas", py_available_isas, METH_NOARGS,
     "available_isas() -> the instruction sets this CPU and build can run"},
    {"conv2d_forward", py_conv2d_forward, METH_VARARGS,
     "conv2d_forward(out, inp, weight, bias, stride_h, stride_w, dilation_h, dilation_w, "
     "pad_top, pad_bottom, pad_left, pad_right)\n\nout (B,OH,OW,OC) = conv(inp (B,H,W,C), "
     "weight (KH,KW,C,OC)) + bias (OC,) [bias may be None]."},
    {"conv2d_backward", py_conv2d_backward, METH_VARARGS,
     "conv2d_backward(dinp, dweight, dbias, dout, inp, weight, stride_h, stride_w, dilation_h, "
     "dilation_w, pad_top, pad_bottom, pad_left, pad_right)\n\nOverwrites dinp (or None), "
     "dweight and dbias (or None)."},
    {"conv2d_transpose_forward", py_conv2d_transpose_forward, METH_VARARGS,
     "conv2d_transpose_forward(out, inp, weight, bias, stride_h, stride_w, dilation_h, "
     "dilation_w, crop_top, crop_left)\n\nout (B,OH,OW,OC) = conv_transpose(inp (B,H,W,C), "
     "weight (KH,KW,OC,C)) cropped from (crop_top, crop_left) + bias."},
    {"conv2d_transpose_backward", py_conv2d_transpose_backward, METH_VARARGS,
     "conv2d_transpose_backward(dinp, dweight, dbias, dout, inp, weight, stride_h, stride_w, "
     "dilation_h, dilation_w, crop_top, crop_left)\n\nOverwrites dinp (or None), dweight and "
     "dbias (or None)."},
    {NULL, NULL, 0, NULL},
};
