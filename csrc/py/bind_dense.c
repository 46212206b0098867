/* bind_dense.c -- Python bindings of the GEMM and dense kernels.
 *
 *   gemm(C, A, B, transA=0, transB=0, beta=0.0)        C = beta*C + op(A) @ op(B), all 2-D
 *   gemm_naive(C, A, B, transA=0, transB=0, beta=0.0)  the reference loop (same bits)
 *   gemm_set_simd(enable) -> int                        0 generic micro-kernel, 1 the SIMD one of isa()
 *   dense_forward(out, inp, weight, bias)               bias may be None
 *   dense_backward(dinp, dweight, dbias, dout, inp, weight)   dinp / dbias may be None
 * Dense arrays: inp (..., C) with ndim >= 2, weight (C, OC), out/dout (..., OC) with the same
 * leading axes as inp; the leading axes are flattened into B rows.
 */
#include "bind.h"

#include <math.h>

#include "dense.h"
#include "gemm.h"

/* ---- gemm ------------------------------------------------------------------------------ */

typedef void (*gemm_fn)(float *, const float *, const float *, int64_t, int64_t, int64_t, int,
                        int, float);

typedef struct {
    gemm_fn fn;
    float *C;
    const float *A, *B;
    int64_t M, N, K;
    int ta, tb;
    float beta;
} naive_call;

/* Runs the naive loop inside the pool so it sees the same FTZ/DAZ mode as the fast one. */
static void naive_task(void *ctx, int64_t begin, int64_t end) {
    naive_call *c = (naive_call *)ctx;
    c->fn(c->C, c->A, c->B, c->M, c->N, c->K, c->ta, c->tb, c->beta);
}

static PyObject *gemm_common(PyObject *args, PyObject *kwargs, const char *fn, int naive) {
    static char *kwlist[] = {"C", "A", "B", "transA", "transB", "beta", NULL};
    PyObject *oc, *oa, *ob;
    int ta = 0, tb = 0;
    float beta = 0.0f;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO|ppf", kwlist, &oc, &oa, &ob, &ta, &tb,
                                     &beta))
        return NULL;
    PyArrayObject *C, *A, *B;
    if (bind_f32(oc, &C, fn, "C", 2, BIND_OUT) || bind_f32(oa, &A, fn, "A", 2, BIND_IN) ||
        bind_f32(ob, &B, fn, "B", 2, BIND_IN))
        return NULL;
    int64_t M = dim(C, 0), N = dim(C, 1);
    int64_t K = ta ? dim(A, 0) : dim(A, 1);
    if (bind_dim(fn, A, "A", ta ? 1 : 0, M, "the rows of `C`") ||
        bind_dim(fn, B, "B", tb ? 0 : 1, N, "the columns of `C`") ||
        bind_dim(fn, B, "B", tb ? 1 : 0, K, "the inner dimension of op(`A`)") ||
        bind_no_overlap(fn, C, "C", A, "A") || bind_no_overlap(fn, C, "C", B, "B"))
        return NULL;
    if (!isfinite(beta)) return PyErr_Format(PyExc_ValueError, "%s: `beta` must be finite", fn);
    float *pc = f32(C);
    const float *pa = f32(A), *pb = f32(B);
    Py_BEGIN_ALLOW_THREADS
    if (naive) {
        naive_call c = {aenn_gemm_naive, pc, pa, pb, M, N, K, ta, tb, beta};
        aenn_parallel_for(1, 1, naive_task, &c);
    } else {
        aenn_gemm(pc, pa, pb, M, N, K, ta, tb, beta);
    }
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_gemm(PyObject *self, PyObject *args, PyObject *kwargs) {
    return gemm_common(args, kwargs, "gemm", 0);
}

static PyObject *py_gemm_naive(PyObject *self, PyObject *args, PyObject *kwargs) {
    return gemm_common(args, kwargs, "gemm_naive", 1);
}

static PyObject *py_gemm_set_simd(PyObject *self, PyObject *args) {
    int enable;
    if (!PyArg_ParseTuple(args, "p", &enable)) return NULL;
    return PyLong_FromLong(aenn_gemm_set_simd(enable));
}

/* ---- dense ----------------------------------------------------------------------------- */

/* Checks that `a` (..., last) has the leading axes of `inp` and last axis `last`. */
static int same_rows(const char *fn, PyArrayObject *a, const char *aname, PyArrayObject *inp,
                     int64_t last, const char *what) {
    if (a == NULL) return 0;
    int nd = PyArray_NDIM(inp);
    int ok = PyArray_NDIM(a) == nd && dim(a, nd - 1) == last;
    for (int i = 0; ok && i < nd - 1; i++) ok = dim(a, i) == dim(inp, i);
    if (ok) return 0;
    char sa[256], si[256];
    bind_shape_str(a, sa, sizeof sa);
    bind_shape_str(inp, si, sizeof si);
    return bind_error(fn, "argument `%s` has shape %s; expected the leading axes of `inp` %s and "
                      "a last axis of %lld (%s)", aname, sa, si, (long long)last, what);
}

static int check_min_ndim(const char *fn, PyArrayObject *a, const char *name) {
    if (PyArray_NDIM(a) >= 2) return 0;
    char s[256];
    bind_shape_str(a, s, sizeof s);
    return bind_error(fn, "argument `%s` must have at least 2 dimensions (batch, features), got "
                      "shape %s", name, s);
}

static PyObject *py_dense_forward(PyObject *self, PyObject *args) {
    const char *fn = "dense_forward";
    PyObject *oo, *oi, *ow, *ob;
    if (!PyArg_ParseTuple(args, "OOOO", &oo, &oi, &ow, &ob)) return NULL;
    PyArrayObject *out, *inp, *weight, *bias;
    if (bind_f32(oo, &out, fn, "out", -1, BIND_OUT) || bind_f32(oi, &inp, fn, "inp", -1, BIND_IN) ||
        bind_f32(ow, &weight, fn, "weight", 2, BIND_IN) ||
        bind_f32(ob, &bias, fn, "bias", 1, BIND_OPTIONAL) || check_min_ndim(fn, inp, "inp"))
        return NULL;
    int64_t C = dim(weight, 0), OC = dim(weight, 1);
    int64_t B = numel(inp) / C;
    if (bind_dim(fn, inp, "inp", -1, C, "axis 0 of `weight`") ||
        same_rows(fn, out, "out", inp, OC, "axis 1 of `weight`") ||
        bind_dim(fn, bias, "bias", 0, OC, "axis 1 of `weight`") ||
        bind_no_overlap(fn, out, "out", inp, "inp") ||
        bind_no_overlap(fn, out, "out", weight, "weight") ||
        bind_no_overlap(fn, out, "out", bias, "bias"))
        return NULL;
    float *po = f32(out), *pb = f32(bias);
    const float *pi = f32(inp), *pw = f32(weight);
    Py_BEGIN_ALLOW_THREADS
    aenn_dense_forward(po, pi, pw, pb, B, C, OC);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_dense_backward(PyObject *self, PyObject *args) {
    const char *fn = "dense_backward";
    PyObject *odi, *odw, *odb, *odo, *oi, *ow;
    if (!PyArg_ParseTuple(args, "OOOOOO", &odi, &odw, &odb, &odo, &oi, &ow)) return NULL;
    PyArrayObject *dinp, *dweight, *dbias, *dout, *inp, *weight;
    if (bind_f32(odi, &dinp, fn, "dinp", -1, BIND_OUT | BIND_OPTIONAL) ||
        bind_f32(odw, &dweight, fn, "dweight", 2, BIND_OUT) ||
        bind_f32(odb, &dbias, fn, "dbias", 1, BIND_OUT | BIND_OPTIONAL) ||
        bind_f32(odo, &dout, fn, "dout", -1, BIND_IN) ||
        bind_f32(oi, &inp, fn, "inp", -1, BIND_IN) ||
        bind_f32(ow, &weight, fn, "weight", 2, BIND_IN) || check_min_ndim(fn, inp, "inp"))
        return NULL;
    int64_t C = dim(weight, 0), OC = dim(weight, 1);
    int64_t B = numel(inp) / C;
    if (bind_dim(fn, inp, "inp", -1, C, "axis 0 of `weight`") ||
        same_rows(fn, dout, "dout", inp, OC, "axis 1 of `weight`") ||
        bind_same_shape(fn, dinp, "dinp", inp, "inp") ||
        bind_same_shape(fn, dweight, "dweight", weight, "weight") ||
        bind_dim(fn, dbias, "dbias", 0, OC, "axis 1 of `weight`"))
        return NULL;
    PyArrayObject *outs[3] = {dinp, dweight, dbias};
    const char *onames[3] = {"dinp", "dweight", "dbias"};
    PyArrayObject *ins[3] = {dout, inp, weight};
    const char *inames[3] = {"dout", "inp", "weight"};
    if (bind_outputs_apart(fn, outs, onames, 3, ins, inames, 3)) return NULL;
    float *pdi = f32(dinp), *pdw = f32(dweight), *pdb = f32(dbias);
    const float *pdo = f32(dout), *pi = f32(inp), *pw = f32(weight);
    Py_BEGIN_ALLOW_THREADS
    aenn_dense_backward(pdi, pdw, pdb, pdo, pi, pw, B, C, OC);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

PyMethodDef aenn_methods_dense[] = {
    {"gemm", (PyCFunction)(void (*)(void))py_gemm, METH_VARARGS | METH_KEYWORDS,
     "gemm(C, A, B, transA=False, transB=False, beta=0.0): C = beta*C + op(A) @ op(B)"},
    {"gemm_naive", (PyCFunction)(void (*)(void))py_gemm_naive, METH_VARARGS | METH_KEYWORDS,
     "gemm_naive(C, A, B, transA=False, transB=False, beta=0.0): the reference loop"},
    {"gemm_set_simd", py_gemm_set_simd, METH_VARARGS,
     "gemm_set_simd(enable) -> 0 (generic micro-kernel) or 1 (the SIMD build of isa())"},
    {"dense_forward", py_dense_forward, METH_VARARGS,
     "dense_forward(out, inp, weight, bias): out = inp @ weight + bias (bias may be None)"},
    {"dense_backward", py_dense_backward, METH_VARARGS,
     "dense_backward(dinp, dweight, dbias, dout, inp, weight): dinp / dbias may be None"},
    {NULL, NULL, 0, NULL},
};
