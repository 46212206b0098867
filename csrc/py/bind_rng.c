/* bind_rng.c -- Python bindings of the Philox kernels (csrc/rng.c).
 *
 *   philox4x32_10(c0, c1, c2, c3, k0, k1) -> (x0, x1, x2, x3)
 *   rng_uniform(out, k0, k1, counter, minval, maxval)
 *   rng_normal(out, k0, k1, counter, mean, stddev)
 *   rng_truncated_normal(out, k0, k1, counter, mean, stddev)
 *   rng_bernoulli(out, k0, k1, counter, keep_prob)
 *   rng_permutation(out_int64, k0, k1, counter)
 * out: float32 (int64 for permutation), any shape, C-contiguous, writable, filled in place.
 * k0, k1: 32-bit key words; counter: 64-bit draw counter (see rng.h).
 */
#include "bind.h"

#include <math.h>

#include "../rng.h"

static int parse_u32(PyObject *obj, uint32_t *v, const char *fn, const char *arg) {
    unsigned long long x = PyLong_AsUnsignedLongLong(obj);
    if (PyErr_Occurred() || x > 0xffffffffull) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "%s: argument `%s` must be an integer in [0, 2**32)", fn,
                     arg);
        return -1;
    }
    *v = (uint32_t)x;
    return 0;
}

static int parse_u64(PyObject *obj, uint64_t *v, const char *fn, const char *arg) {
    unsigned long long x = PyLong_AsUnsignedLongLong(obj);
    if (PyErr_Occurred()) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "%s: argument `%s` must be an integer in [0, 2**64)", fn,
                     arg);
        return -1;
    }
    *v = (uint64_t)x;
    return 0;
}

static int parse_key(PyObject *k0, PyObject *k1, PyObject *cnt, uint32_t key[2],
                     uint64_t *counter, const char *fn) {
    if (parse_u32(k0, &key[0], fn, "k0") < 0 || parse_u32(k1, &key[1], fn, "k1") < 0) return -1;
    return parse_u64(cnt, counter, fn, "counter");
}

static PyObject *py_philox(PyObject *self, PyObject *args) {
    static const char *fn = "philox4x32_10";
    PyObject *o[6];
    if (!PyArg_ParseTuple(args, "OOOOOO", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5])) return NULL;
    static const char *names[6] = {"c0", "c1", "c2", "c3", "k0", "k1"};
    uint32_t w[6];
    for (int i = 0; i < 6; i++)
        if (parse_u32(o[i], &w[i], fn, names[i]) < 0) return NULL;
    uint32_t out[4];
    aenn_philox4x32_10(out, w, w + 4);
    return Py_BuildValue("(kkkk)", (unsigned long)out[0], (unsigned long)out[1],
                         (unsigned long)out[2], (unsigned long)out[3]);
}

static int check_n(PyArrayObject *out, const char *fn) {
    if (numel(out) > AENN_RNG_MAX_N)
        return bind_error(fn, "argument `out` has %lld elements, more than the maximum %lld",
                          (long long)numel(out), (long long)AENN_RNG_MAX_N);
    return 0;
}

/* Shared by uniform / normal / truncated_normal: (out, k0, k1, counter, a, b). */
static PyObject *fill2(PyObject *args, const char *fn, int kind) {
    PyObject *o_out, *k0, *k1, *cnt;
    float a, b;
    if (!PyArg_ParseTuple(args, "OOOOff", &o_out, &k0, &k1, &cnt, &a, &b)) return NULL;
    PyArrayObject *out;
    uint32_t key[2];
    uint64_t counter;
    if (bind_f32(o_out, &out, fn, "out", -1, BIND_OUT) < 0) return NULL;
    if (check_n(out, fn) < 0 || parse_key(k0, k1, cnt, key, &counter, fn) < 0) return NULL;
    if (!isfinite(a) || !isfinite(b)) {
        bind_error(fn, "the distribution parameters must be finite, received %g and %g", a, b);
        return NULL;
    }
    if (kind == 0 && !(a <= b)) {
        bind_error(fn, "expected minval <= maxval, received minval=%g, maxval=%g", a, b);
        return NULL;
    }
    if (kind != 0 && b < 0.0f) {
        bind_error(fn, "expected stddev >= 0, received stddev=%g", b);
        return NULL;
    }
    float *p = f32(out);
    int64_t n = numel(out);
    Py_BEGIN_ALLOW_THREADS
    if (kind == 0) aenn_rng_uniform(p, n, key, counter, a, b);
    else if (kind == 1) aenn_rng_normal(p, n, key, counter, a, b);
    else aenn_rng_truncated_normal(p, n, key, counter, a, b);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_uniform(PyObject *self, PyObject *args) {
    return fill2(args, "rng_uniform", 0);
}
static PyObject *py_normal(PyObject *self, PyObject *args) {
    return fill2(args, "rng_normal", 1);
}
static PyObject *py_truncated_normal(PyObject *self, PyObject *args) {
    return fill2(args, "rng_truncated_normal", 2);
}

static PyObject *py_bernoulli(PyObject *self, PyObject *args) {
    static const char *fn = "rng_bernoulli";
    PyObject *o_out, *k0, *k1, *cnt;
    float keep;
    if (!PyArg_ParseTuple(args, "OOOOf", &o_out, &k0, &k1, &cnt, &keep)) return NULL;
    PyArrayObject *out;
    uint32_t key[2];
    uint64_t counter;
    if (bind_f32(o_out, &out, fn, "out", -1, BIND_OUT) < 0) return NULL;
    if (check_n(out, fn) < 0 || parse_key(k0, k1, cnt, key, &counter, fn) < 0) return NULL;
    if (!(keep >= 0.0f && keep <= 1.0f)) {
        bind_error(fn, "expected keep_prob in [0, 1], received keep_prob=%g", keep);
        return NULL;
    }
    float *p = f32(out);
    int64_t n = numel(out);
    Py_BEGIN_ALLOW_THREADS
    aenn_rng_bernoulli(p, n, key, counter, keep);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_permutation(PyObject *self, PyObject *args) {
    static const char *fn = "rng_permutation";
    PyObject *o_out, *k0, *k1, *cnt;
    if (!PyArg_ParseTuple(args, "OOOO", &o_out, &k0, &k1, &cnt)) return NULL;
    PyArrayObject *out;
    uint32_t key[2];
    uint64_t counter;
    if (bind_array(o_out, &out, fn, "out", NPY_INT64, 1, BIND_OUT) < 0) return NULL;
    if (check_n(out, fn) < 0 || parse_key(k0, k1, cnt, key, &counter, fn) < 0) return NULL;
    int64_t n = numel(out);
    uint64_t *scratch = PyMem_RawMalloc((size_t)n * sizeof(uint64_t));
    if (scratch == NULL) return PyErr_NoMemory();
    int64_t *p = (int64_t *)PyArray_DATA(out);
    Py_BEGIN_ALLOW_THREADS
    aenn_rng_permutation(p, scratch, n, key, counter);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(scratch);
    Py_RETURN_NONE;
}

PyMethodDef aenn_methods_rng[] = {
    {"philox4x32_10", py_philox, METH_VARARGS,
     "philox4x32_10(c0, c1, c2, c3, k0, k1) -> (x0, x1, x2, x3): one Philox4x32-10 block"},
    {"rng_uniform", py_uniform, METH_VARARGS,
     "rng_uniform(out, k0, k1, counter, minval, maxval): fills out with U[minval, maxval)"},
    {"rng_normal", py_normal, METH_VARARGS,
     "rng_normal(out, k0, k1, counter, mean, stddev): fills out with N(mean, stddev^2)"},
    {"rng_truncated_normal", py_truncated_normal, METH_VARARGS,
     "rng_truncated_normal(out, k0, k1, counter, mean, stddev): normal re-drawn outside +-2 sd"},
    {"rng_bernoulli", py_bernoulli, METH_VARARGS,
     "rng_bernoulli(out, k0, k1, counter, keep_prob): 1.0 with probability keep_prob, else 0.0"},
    {"rng_permutation", py_permutation, METH_VARARGS,
     "rng_permutation(out, k0, k1, counter): out (int64, (n,)) = a random permutation of 0..n-1"},
    {NULL, NULL, 0, NULL},
};
