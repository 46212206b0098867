/* bind.c -- argument validation shared by every binding file (see bind.h). */
#include "bind.h"

#include <stdarg.h>
#include <stdio.h>

int bind_error(const char *fn, const char *format, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, format);
    vsnprintf(msg, sizeof msg, format, ap);
    va_end(ap);
    PyErr_Format(PyExc_ValueError, "%s: %s", fn, msg);
    return -1;
}

void bind_shape_str(PyArrayObject *a, char *buf, size_t size) {
    size_t used = 0;
    int nd = PyArray_NDIM(a);
    used += (size_t)snprintf(buf + used, size - used, "(");
    for (int i = 0; i < nd && used < size; i++) {
        used += (size_t)snprintf(buf + used, size - used, i ? ", %lld" : "%lld",
                                 (long long)PyArray_DIM(a, i));
    }
    if (used < size) snprintf(buf + used, size - used, nd == 1 ? ",)" : ")");
}

static const char *type_name(int type) {
    switch (type) {
    case NPY_FLOAT32: return "float32";
    case NPY_FLOAT64: return "float64";
    case NPY_INT32: return "int32";
    case NPY_INT64: return "int64";
    case NPY_UINT8: return "uint8";
    default: return "the required type";
    }
}

int bind_array(PyObject *obj, PyArrayObject **arr, const char *fn, const char *arg, int type,
               int ndim, int flags) {
    *arr = NULL;
    if (obj == Py_None && (flags & BIND_OPTIONAL)) return 0;
    if (!PyArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s: argument `%s` must be a numpy.ndarray of %s, got %s",
                     fn, arg, type_name(type), Py_TYPE(obj)->tp_name);
        return -1;
    }
    PyArrayObject *a = (PyArrayObject *)obj;
    if (PyArray_TYPE(a) != type) {
        PyErr_Format(PyExc_TypeError, "%s: argument `%s` must have dtype %s, got %s", fn, arg,
                     type_name(type), PyArray_DESCR(a)->typeobj->tp_name);
        return -1;
    }
    char shape[256];
    bind_shape_str(a, shape, sizeof shape);
    if (ndim >= 0 && PyArray_NDIM(a) != ndim)
        return bind_error(fn, "argument `%s` must be %d-dimensional, got shape %s", arg, ndim,
                          shape);
    if (!PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISALIGNED(a))
        return bind_error(fn, "argument `%s` (shape %s) must be C-contiguous and aligned", arg,
                          shape);
    if ((flags & BIND_OUT) && !PyArray_ISWRITEABLE(a))
        return bind_error(fn, "output argument `%s` (shape %s) is read-only", arg, shape);
    if (PyArray_SIZE(a) == 0) return bind_error(fn, "argument `%s` is empty (shape %s)", arg, shape);
    *arr = a;
    return 0;
}

int bind_dim(const char *fn, PyArrayObject *a, const char *aname, int axis, int64_t expected,
             const char *what) {
    if (a == NULL) return 0;
    int nd = PyArray_NDIM(a);
    int ax = axis < 0 ? nd + axis : axis;
    if (ax >= 0 && ax < nd && (int64_t)PyArray_DIM(a, ax) == expected) return 0;
    char shape[256];
    bind_shape_str(a, shape, sizeof shape);
    return bind_error(fn, "argument `%s` has shape %s but its axis %d must be %lld (%s)", aname,
                      shape, axis, (long long)expected, what);
}

int bind_same_shape(const char *fn, PyArrayObject *a, const char *aname, PyArrayObject *b,
                    const char *bname) {
    if (a == NULL || b == NULL) return 0;
    if (PyArray_NDIM(a) == PyArray_NDIM(b) &&
        PyArray_CompareLists(PyArray_DIMS(a), PyArray_DIMS(b), PyArray_NDIM(a)))
        return 0;
    char sa[256], sb[256];
    bind_shape_str(a, sa, sizeof sa);
    bind_shape_str(b, sb, sizeof sb);
    return bind_error(fn, "arguments `%s` %s and `%s` %s must have the same shape", aname, sa,
                      bname, sb);
}

int bind_no_overlap(const char *fn, PyArrayObject *out, const char *oname, PyArrayObject *in,
                    const char *iname) {
    if (out == NULL || in == NULL) return 0;
    const char *o0 = PyArray_BYTES(out), *o1 = o0 + PyArray_NBYTES(out);
    const char *i0 = PyArray_BYTES(in), *i1 = i0 + PyArray_NBYTES(in);
    if (o1 <= i0 || i1 <= o0) return 0;
    return bind_error(fn, "output `%s` shares memory with input `%s`", oname, iname);
}

int bind_outputs_apart(const char *fn, PyArrayObject *const *outs, const char *const *onames,
                       int nout, PyArrayObject *const *ins, const char *const *inames, int nin) {
    for (int i = 0; i < nout; i++) {
        for (int j = 0; j < nin; j++)
            if (bind_no_overlap(fn, outs[i], onames[i], ins[j], inames[j])) return -1;
        for (int j = i + 1; j < nout; j++)
            if (bind_no_overlap(fn, outs[i], onames[i], outs[j], onames[j])) return -1;
    }
    return 0;
}

float *bind_scratch_f32(int64_t n) {
    float *s = PyMem_RawMalloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    if (!s) PyErr_NoMemory();
    return s;
}

int bind_status(const char *fn, int status) {
    switch (status) {
    case AENN_OK: return 0;
    case AENN_ERR_SHAPE: return bind_error(fn, "inconsistent shapes");
    case AENN_ERR_VALUE: return bind_error(fn, "an input value is out of range");
    case AENN_ERR_SCRATCH: return bind_error(fn, "scratch buffer too small");
    default: return bind_error(fn, "kernel failed with status %d", status);
    }
}
