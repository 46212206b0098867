/* bind_optim.c -- the fused optimizer update (csrc/optim.c).
 *
 *   optim_update(kind, params, grads, slots, h) -> None
 *     kind:   int, AENN_OPT_* (0 sgd, 1 adam, 2 rmsprop, 3 adagrad, 4 adadelta, 5 nadam)
 *     params: list of P float32 arrays, updated in place
 *     grads:  list of P float32 arrays, grads[k].shape == params[k].shape
 *     slots:  list of P*S float32 arrays, interleaved per parameter (slot s of parameter k is
 *             slots[k*S + s], same shape as params[k]); S = aenn_optim_num_slots(kind, h)
 *     h:      sequence of floats, the hyper-parameters of `kind` (see optim.h)
 * No output may overlap another output or any gradient.
 */
#include "bind.h"

#include <math.h>

#include "../optim.h"

static const char *FN = "optim_update";

static int get_list(PyObject *obj, const char *arg, PyObject **fast) {
    if (!PyList_Check(obj) && !PyTuple_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s: argument `%s` must be a list of float32 arrays, got %s",
                     FN, arg, Py_TYPE(obj)->tp_name);
        return -1;
    }
    *fast = PySequence_Fast(obj, arg);
    return *fast ? 0 : -1;
}

static PyObject *py_optim_update(PyObject *self, PyObject *args) {
    int kind;
    PyObject *o_params, *o_grads, *o_slots, *o_h;
    if (!PyArg_ParseTuple(args, "iOOOO", &kind, &o_params, &o_grads, &o_slots, &o_h)) return NULL;
    if (kind < AENN_OPT_SGD || kind > AENN_OPT_NADAM) {
        bind_error(FN, "argument `kind` must be in [0, %d], received %d", AENN_OPT_NADAM, kind);
        return NULL;
    }
    float h[AENN_OPT_MAX_H] = {0};
    PyObject *fh = PySequence_Fast(o_h, "optim_update: argument `h` must be a sequence of floats");
    if (fh == NULL) return NULL;
    Py_ssize_t nh = PySequence_Fast_GET_SIZE(fh);
    if (nh > AENN_OPT_MAX_H) {
        Py_DECREF(fh);
        bind_error(FN, "argument `h` has %zd values, at most %d allowed", nh, AENN_OPT_MAX_H);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nh; i++) {
        double d = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(fh, i));
        if (d == -1.0 && PyErr_Occurred()) { Py_DECREF(fh); return NULL; }
        if (!isfinite(d)) {
            Py_DECREF(fh);
            bind_error(FN, "hyper-parameter h[%zd] must be finite, received %g", i, d);
            return NULL;
        }
        h[i] = (float)d;
    }
    Py_DECREF(fh);
    int nslots = aenn_optim_num_slots(kind, h);

    PyObject *fp = NULL, *fg = NULL, *fs = NULL;
    PyArrayObject **arr = NULL;
    int64_t *offsets = NULL;
    void **ptrs = NULL;
    PyObject *result = NULL;
    if (get_list(o_params, "params", &fp) < 0 || get_list(o_grads, "grads", &fg) < 0 ||
        get_list(o_slots, "slots", &fs) < 0)
        goto done;
    Py_ssize_t P = PySequence_Fast_GET_SIZE(fp);
    if (P < 1) { bind_error(FN, "argument `params` is empty"); goto done; }
    if (PySequence_Fast_GET_SIZE(fg) != P) {
        bind_error(FN, "`grads` has %zd arrays but `params` has %zd", PySequence_Fast_GET_SIZE(fg), P);
        goto done;
    }
    if (PySequence_Fast_GET_SIZE(fs) != P * nslots) {
        bind_error(FN, "`slots` has %zd arrays but this rule needs %d per parameter (%zd)",
                   PySequence_Fast_GET_SIZE(fs), nslots, P * nslots);
        goto done;
    }
    /* arr: [params (P) | slots (P*S) | grads (P)] */
    Py_ssize_t total = P * (2 + nslots);
    arr = PyMem_RawMalloc((size_t)total * sizeof *arr);
    offsets = PyMem_RawMalloc((size_t)(P + 1) * sizeof *offsets);
    ptrs = PyMem_RawMalloc((size_t)total * sizeof *ptrs);
    if (!arr || !offsets || !ptrs) { PyErr_NoMemory(); goto done; }
    PyArrayObject **pa = arr, **sa = arr + P, **ga = arr + P + P * nslots;
    char name[64];
    offsets[0] = 0;
    for (Py_ssize_t k = 0; k < P; k++) {
        snprintf(name, sizeof name, "params[%zd]", k);
        if (bind_f32(PySequence_Fast_GET_ITEM(fp, k), &pa[k], FN, name, -1, BIND_OUT) < 0) goto done;
        snprintf(name, sizeof name, "grads[%zd]", k);
        if (bind_f32(PySequence_Fast_GET_ITEM(fg, k), &ga[k], FN, name, -1, BIND_IN) < 0) goto done;
        if (bind_same_shape(FN, pa[k], "params[k]", ga[k], "grads[k]") < 0) goto done;
        for (int s = 0; s < nslots; s++) {
            Py_ssize_t j = k * nslots + s;
            snprintf(name, sizeof name, "slots[%zd]", j);
            if (bind_f32(PySequence_Fast_GET_ITEM(fs, j), &sa[j], FN, name, -1, BIND_OUT) < 0)
                goto done;
            if (bind_same_shape(FN, pa[k], "params[k]", sa[j], "slots[k*S+s]") < 0) goto done;
        }
        offsets[k + 1] = offsets[k] + numel(pa[k]);
    }
    /* outputs (params and slots) must not overlap each other nor any gradient */
    Py_ssize_t nout = P * (1 + nslots);
    for (Py_ssize_t i = 0; i < nout; i++) {
        for (Py_ssize_t j = i + 1; j < total; j++) {
            if (bind_no_overlap(FN, arr[i], i < P ? "a parameter" : "a slot", arr[j],
                                j < P ? "a parameter" : j < nout ? "a slot" : "a gradient") < 0)
                goto done;
        }
    }
    for (Py_ssize_t i = 0; i < total; i++) ptrs[i] = PyArray_DATA(arr[i]);
    aenn_optim_tensors t = {
        .count = P,
        .offsets = offsets,
        .params = (float *const *)ptrs,
        .grads = (const float *const *)(ptrs + P + P * nslots),
        .slots = (float *const *)(ptrs + P),
        .nslots = nslots,
    };
    Py_BEGIN_ALLOW_THREADS
    aenn_optim_update(&t, kind, h);
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    Py_XDECREF(fp);
    Py_XDECREF(fg);
    Py_XDECREF(fs);
    PyMem_RawFree(arr);
    PyMem_RawFree(offsets);
    PyMem_RawFree(ptrs);
    return result;
}

PyMethodDef aenn_methods_optim[] = {
    {"optim_update", py_optim_update, METH_VARARGS,
     "optim_update(kind, params, grads, slots, h): one fused optimizer step over all tensors"},
    {NULL, NULL, 0, NULL},
};
