/* bind_norm.c -- Python bindings of csrc/norm.c. inp / out / dout / dinp are (N, C) float32
 * (the layer passes a 2-D view with C = the normalised last axis); per-channel arrays are (C,).
 *
 *   batchnorm_forward_train(out, mean, inv_std, var, inp, gamma, beta, eps)
 *   batchnorm_forward_infer(out, inp, gamma, beta, moving_mean, moving_var, eps)
 *   batchnorm_backward(dinp, dgamma, dbeta, dout, inp, mean, inv_std, gamma, training)
 * gamma / beta / dinp / dgamma / dbeta may be None.
 */
#include "bind.h"

#include "../norm.h"

static int per_channel(const char *fn, PyObject *o, PyArrayObject **a, const char *name,
                       int flags, int64_t C) {
    if (bind_f32(o, a, fn, name, 1, flags) < 0) return -1;
    return bind_dim(fn, *a, name, 0, C, "the channels (last axis of `inp`)");
}

static PyObject *py_forward_train(PyObject *self, PyObject *args) {
    static const char *fn = "batchnorm_forward_train";
    PyObject *o_out, *o_mean, *o_inv, *o_var, *o_inp, *o_gamma, *o_beta;
    float eps;
    if (!PyArg_ParseTuple(args, "OOOOOOOf", &o_out, &o_mean, &o_inv, &o_var, &o_inp, &o_gamma,
                          &o_beta, &eps))
        return NULL;
    PyArrayObject *out, *mean, *inv, *var, *inp, *gamma, *beta;
    if (bind_f32(o_inp, &inp, fn, "inp", 2, BIND_IN) < 0) return NULL;
    int64_t N = dim(inp, 0), C = dim(inp, 1);
    if (bind_f32(o_out, &out, fn, "out", 2, BIND_OUT) < 0) return NULL;
    if (bind_same_shape(fn, out, "out", inp, "inp") < 0) return NULL;
    if (per_channel(fn, o_mean, &mean, "mean", BIND_OUT, C) < 0) return NULL;
    if (per_channel(fn, o_inv, &inv, "inv_std", BIND_OUT, C) < 0) return NULL;
    if (per_channel(fn, o_var, &var, "var", BIND_OUT, C) < 0) return NULL;
    if (per_channel(fn, o_gamma, &gamma, "gamma", BIND_OPTIONAL, C) < 0) return NULL;
    if (per_channel(fn, o_beta, &beta, "beta", BIND_OPTIONAL, C) < 0) return NULL;
    if (!(eps >= 0.0f)) return PyErr_Format(PyExc_ValueError, "%s: eps must be >= 0", fn);
    PyArrayObject *outs[] = {out, mean, inv, var};
    const char *onames[] = {"out", "mean", "inv_std", "var"};
    PyArrayObject *ins[] = {inp, gamma, beta};
    const char *inames[] = {"inp", "gamma", "beta"};
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 3; j++)
            if (bind_no_overlap(fn, outs[i], onames[i], ins[j], inames[j]) < 0) return NULL;
        for (int j = i + 1; j < 4; j++)
            if (bind_no_overlap(fn, outs[i], onames[i], outs[j], onames[j]) < 0) return NULL;
    }
    double *scratch = PyMem_RawMalloc((size_t)aenn_batchnorm_scratch_size(N, C) * sizeof(double));
    if (scratch == NULL) return PyErr_NoMemory();
    Py_BEGIN_ALLOW_THREADS
    aenn_batchnorm_forward_train(f32(out), f32(mean), f32(inv), f32(var), f32(inp), f32(gamma),
                                 f32(beta), scratch, N, C, eps);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(scratch);
    Py_RETURN_NONE;
}

static PyObject *py_forward_infer(PyObject *self, PyObject *args) {
    static const char *fn = "batchnorm_forward_infer";
    PyObject *o_out, *o_inp, *o_gamma, *o_beta, *o_mm, *o_mv;
    float eps;
    if (!PyArg_ParseTuple(args, "OOOOOOf", &o_out, &o_inp, &o_gamma, &o_beta, &o_mm, &o_mv, &eps))
        return NULL;
    PyArrayObject *out, *inp, *gamma, *beta, *mm, *mv;
    if (bind_f32(o_inp, &inp, fn, "inp", 2, BIND_IN) < 0) return NULL;
    int64_t N = dim(inp, 0), C = dim(inp, 1);
    if (bind_f32(o_out, &out, fn, "out", 2, BIND_OUT) < 0) return NULL;
    if (bind_same_shape(fn, out, "out", inp, "inp") < 0) return NULL;
    if (per_channel(fn, o_gamma, &gamma, "gamma", BIND_OPTIONAL, C) < 0) return NULL;
    if (per_channel(fn, o_beta, &beta, "beta", BIND_OPTIONAL, C) < 0) return NULL;
    if (per_channel(fn, o_mm, &mm, "moving_mean", BIND_IN, C) < 0) return NULL;
    if (per_channel(fn, o_mv, &mv, "moving_var", BIND_IN, C) < 0) return NULL;
    if (!(eps >= 0.0f)) return PyErr_Format(PyExc_ValueError, "%s: eps must be >= 0", fn);
    if (bind_no_overlap(fn, out, "out", inp, "inp") < 0 ||
        bind_no_overlap(fn, out, "out", gamma, "gamma") < 0 ||
        bind_no_overlap(fn, out, "out", beta, "beta") < 0 ||
        bind_no_overlap(fn, out, "out", mm, "moving_mean") < 0 ||
        bind_no_overlap(fn, out, "out", mv, "moving_var") < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    aenn_batchnorm_forward_infer(f32(out), f32(inp), f32(gamma), f32(beta), f32(mm), f32(mv), N, C,
                                 eps);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_backward(PyObject *self, PyObject *args) {
    static const char *fn = "batchnorm_backward";
    PyObject *o_dinp, *o_dg, *o_db, *o_dout, *o_inp, *o_mean, *o_inv, *o_gamma;
    int training;
    if (!PyArg_ParseTuple(args, "OOOOOOOOp", &o_dinp, &o_dg, &o_db, &o_dout, &o_inp, &o_mean,
                          &o_inv, &o_gamma, &training))
        return NULL;
    PyArrayObject *dinp, *dg, *db, *dout, *inp, *mean, *inv, *gamma;
    if (bind_f32(o_inp, &inp, fn, "inp", 2, BIND_IN) < 0) return NULL;
    int64_t N = dim(inp, 0), C = dim(inp, 1);
    if (bind_f32(o_dout, &dout, fn, "dout", 2, BIND_IN) < 0) return NULL;
    if (bind_same_shape(fn, dout, "dout", inp, "inp") < 0) return NULL;
    if (bind_f32(o_dinp, &dinp, fn, "dinp", 2, BIND_OUT | BIND_OPTIONAL) < 0) return NULL;
    if (bind_same_shape(fn, dinp, "dinp", inp, "inp") < 0) return NULL;
    if (per_channel(fn, o_dg, &dg, "dgamma", BIND_OUT | BIND_OPTIONAL, C) < 0) return NULL;
    if (per_channel(fn, o_db, &db, "dbeta", BIND_OUT | BIND_OPTIONAL, C) < 0) return NULL;
    if (per_channel(fn, o_mean, &mean, "mean", BIND_IN, C) < 0) return NULL;
    if (per_channel(fn, o_inv, &inv, "inv_std", BIND_IN, C) < 0) return NULL;
    if (per_channel(fn, o_gamma, &gamma, "gamma", BIND_OPTIONAL, C) < 0) return NULL;
    PyArrayObject *outs[] = {dinp, dg, db};
    const char *onames[] = {"dinp", "dgamma", "dbeta"};
    PyArrayObject *ins[] = {dout, inp, mean, inv, gamma};
    const char *inames[] = {"dout", "inp", "mean", "inv_std", "gamma"};
    if (bind_outputs_apart(fn, outs, onames, 3, ins, inames, 5)) return NULL;
    double *scratch = PyMem_RawMalloc((size_t)aenn_batchnorm_scratch_size(N, C) * sizeof(double));
    if (scratch == NULL) return PyErr_NoMemory();
    Py_BEGIN_ALLOW_THREADS
    aenn_batchnorm_backward(f32(dinp), f32(dg), f32(db), f32(dout), f32(inp), f32(mean), f32(inv),
                            f32(gamma), scratch, N, C, training);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(scratch);
    Py_RETURN_NONE;
}

PyMethodDef aenn_methods_norm[] = {
    {"batchnorm_forward_train", py_forward_train, METH_VARARGS,
     "batchnorm_forward_train(out, mean, inv_std, var, inp, gamma, beta, eps)"},
    {"batchnorm_forward_infer", py_forward_infer, METH_VARARGS,
     "batchnorm_forward_infer(out, inp, gamma, beta, moving_mean, moving_var, eps)"},
    {"batchnorm_backward", py_backward, METH_VARARGS,
     "batchnorm_backward(dinp, dgamma, dbeta, dout, inp, mean, inv_std, gamma, training)"},
    {NULL, NULL, 0, NULL},
};
