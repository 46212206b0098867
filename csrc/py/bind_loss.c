/* bind_loss.c -- Python bindings of the loss kernels (csrc/loss.h).
 *
 *   loss_forward(values, y_true, y_pred, kind, param) -> float   y_*: (rows, cols), values: (rows,)
 *   loss_backward(dpred, y_true, y_pred, kind, param)
 *   sparse_cce_forward(values, labels, y_pred, from_logits) -> float   labels: (rows,) int32
 *   sparse_cce_backward(dpred, labels, y_pred, from_logits)
 */
#include "bind.h"

#include <math.h>

#include "loss.h"

static int check_kind_param(const char *fn, int kind, float param) {
    if (kind < 0 || kind >= AENN_LOSS_COUNT)
        return bind_error(fn, "argument `kind` must be in [0, %d), got %d", AENN_LOSS_COUNT, kind);
    if (kind == AENN_LOSS_HUBER && !(param > 0.0f && !isinf(param)))
        return bind_error(fn, "argument `param` (Huber delta) must be a finite number > 0, got %g",
                          (double)param);
    return 0;
}

static PyObject *py_loss_forward(PyObject *self, PyObject *args) {
    static const char *fn = "loss_forward";
    PyObject *o_values, *o_true, *o_pred;
    int kind;
    float param;
    PyArrayObject *values, *yt, *yp;
    if (!PyArg_ParseTuple(args, "OOOif", &o_values, &o_true, &o_pred, &kind, &param)) return NULL;
    if (bind_f32(o_values, &values, fn, "values", 1, BIND_OUT) ||
        bind_f32(o_true, &yt, fn, "y_true", 2, BIND_IN) ||
        bind_f32(o_pred, &yp, fn, "y_pred", 2, BIND_IN) ||
        bind_same_shape(fn, yt, "y_true", yp, "y_pred") ||
        bind_dim(fn, values, "values", 0, dim(yp, 0), "the rows of `y_pred`") ||
        bind_no_overlap(fn, values, "values", yt, "y_true") ||
        bind_no_overlap(fn, values, "values", yp, "y_pred") || check_kind_param(fn, kind, param))
        return NULL;
    int64_t rows = dim(yp, 0), cols = dim(yp, 1);
    double *scratch = PyMem_RawMalloc((size_t)aenn_num_chunks(rows) * sizeof(double));
    if (scratch == NULL) return PyErr_NoMemory();
    double loss = 0.0;
    Py_BEGIN_ALLOW_THREADS
    aenn_loss_forward(f32(values), &loss, scratch, f32(yt), f32(yp), rows, cols, kind, param);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(scratch);
    return PyFloat_FromDouble(loss);
}

static PyObject *py_loss_backward(PyObject *self, PyObject *args) {
    static const char *fn = "loss_backward";
    PyObject *o_dpred, *o_true, *o_pred;
    int kind;
    float param;
    PyArrayObject *dpred, *yt, *yp;
    if (!PyArg_ParseTuple(args, "OOOif", &o_dpred, &o_true, &o_pred, &kind, &param)) return NULL;
    if (bind_f32(o_dpred, &dpred, fn, "dpred", 2, BIND_OUT) ||
        bind_f32(o_true, &yt, fn, "y_true", 2, BIND_IN) ||
        bind_f32(o_pred, &yp, fn, "y_pred", 2, BIND_IN) ||
        bind_same_shape(fn, yt, "y_true", yp, "y_pred") ||
        bind_same_shape(fn, dpred, "dpred", yp, "y_pred") ||
        bind_no_overlap(fn, dpred, "dpred", yt, "y_true") ||
        bind_no_overlap(fn, dpred, "dpred", yp, "y_pred") || check_kind_param(fn, kind, param))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    aenn_loss_backward(f32(dpred), f32(yt), f32(yp), dim(yp, 0), dim(yp, 1), kind, param);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/* Checks labels (rows,) int32 against y_pred (rows, cols), naming the first bad label. */
static int check_labels(const char *fn, PyArrayObject *labels, PyArrayObject *yp) {
    if (bind_dim(fn, labels, "labels", 0, dim(yp, 0), "the rows of `y_pred`")) return -1;
    const int32_t *l = (const int32_t *)PyArray_DATA(labels);
    int64_t rows = dim(yp, 0), cols = dim(yp, 1);
    for (int64_t r = 0; r < rows; r++)
        if (l[r] < 0 || (int64_t)l[r] >= cols)
            return bind_error(fn,
                              "label %d (at index %lld) is out of range: expected a class index "
                              "in [0, %lld) because y_pred has %lld classes",
                              (int)l[r], (long long)r, (long long)cols, (long long)cols);
    return 0;
}

static PyObject *py_sparse_cce_forward(PyObject *self, PyObject *args) {
    static const char *fn = "sparse_cce_forward";
    PyObject *o_values, *o_labels, *o_pred;
    int from_logits;
    PyArrayObject *values, *labels, *yp;
    if (!PyArg_ParseTuple(args, "OOOp", &o_values, &o_labels, &o_pred, &from_logits)) return NULL;
    if (bind_f32(o_values, &values, fn, "values", 1, BIND_OUT) ||
        bind_array(o_labels, &labels, fn, "labels", NPY_INT32, 1, BIND_IN) ||
        bind_f32(o_pred, &yp, fn, "y_pred", 2, BIND_IN) ||
        bind_dim(fn, values, "values", 0, dim(yp, 0), "the rows of `y_pred`") ||
        bind_no_overlap(fn, values, "values", labels, "labels") ||
        bind_no_overlap(fn, values, "values", yp, "y_pred") || check_labels(fn, labels, yp))
        return NULL;
    int64_t rows = dim(yp, 0), cols = dim(yp, 1);
    double *scratch = PyMem_RawMalloc((size_t)aenn_num_chunks(rows) * sizeof(double));
    if (scratch == NULL) return PyErr_NoMemory();
    double loss = 0.0;
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = aenn_sparse_cce_forward(f32(values), &loss, scratch,
                                     (const int32_t *)PyArray_DATA(labels), f32(yp), rows, cols,
                                     from_logits);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(scratch);
    if (bind_status(fn, status)) return NULL;
    return PyFloat_FromDouble(loss);
}

static PyObject *py_sparse_cce_backward(PyObject *self, PyObject *args) {
    static const char *fn = "sparse_cce_backward";
    PyObject *o_dpred, *o_labels, *o_pred;
    int from_logits;
    PyArrayObject *dpred, *labels, *yp;
    if (!PyArg_ParseTuple(args, "OOOp", &o_dpred, &o_labels, &o_pred, &from_logits)) return NULL;
    if (bind_f32(o_dpred, &dpred, fn, "dpred", 2, BIND_OUT) ||
        bind_array(o_labels, &labels, fn, "labels", NPY_INT32, 1, BIND_IN) ||
        bind_f32(o_pred, &yp, fn, "y_pred", 2, BIND_IN) ||
        bind_same_shape(fn, dpred, "dpred", yp, "y_pred") ||
        bind_no_overlap(fn, dpred, "dpred", labels, "labels") ||
        bind_no_overlap(fn, dpred, "dpred", yp, "y_pred") || check_labels(fn, labels, yp))
        return NULL;
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = aenn_sparse_cce_backward(f32(dpred), (const int32_t *)PyArray_DATA(labels), f32(yp),
                                      dim(yp, 0), dim(yp, 1), from_logits);
    Py_END_ALLOW_THREADS
    if (bind_status(fn, status)) return NULL;
    Py_RETURN_NONE;
}

PyMethodDef aenn_methods_loss[] = {
    {"loss_forward", py_loss_forward, METH_VARARGS,
     "loss_forward(values, y_true, y_pred, kind, param) -> mean of the per-row values"},
    {"loss_backward", py_loss_backward, METH_VARARGS,
     "loss_backward(dpred, y_true, y_pred, kind, param): gradient of the mean wrt y_pred"},
    {"sparse_cce_forward", py_sparse_cce_forward, METH_VARARGS,
     "sparse_cce_forward(values, labels, y_pred, from_logits) -> mean loss"},
    {"sparse_cce_backward", py_sparse_cce_backward, METH_VARARGS,
     "sparse_cce_backward(dpred, labels, y_pred, from_logits)"},
    {NULL, NULL, 0, NULL},
};
