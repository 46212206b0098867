/* bind_threads.c -- thread-pool controls. */
#include "bind.h"

static PyObject *py_set_num_threads(PyObject *self, PyObject *args) {
    int n;
    if (!PyArg_ParseTuple(args, "i", &n)) return NULL;
    if (n < 1 || n > AENN_MAX_THREADS)
        return PyErr_Format(PyExc_ValueError,
                            "set_num_threads: expected an integer in [1, %d], received %d",
                            AENN_MAX_THREADS, n);
    int got;
    Py_BEGIN_ALLOW_THREADS
    got = aenn_set_num_threads(n);
    Py_END_ALLOW_THREADS
    return PyLong_FromLong(got);
}

static PyObject *py_get_num_threads(PyObject *self, PyObject *noargs) {
    return PyLong_FromLong(aenn_get_num_threads());
}

PyMethodDef aenn_methods_threads[] = {
    {"set_num_threads", py_set_num_threads, METH_VARARGS, "set_num_threads(n) -> threads in use"},
    {"get_num_threads", py_get_num_threads, METH_NOARGS, "get_num_threads() -> int"},
    {NULL, NULL, 0, NULL},
};
