/* bind.h -- helpers shared by the binding files in csrc/py/ (the only C files that see Python).
 *
 * Every _core function validates ALL of its arguments before touching memory: dtype, ndim,
 * C-contiguity, alignment, writability of outputs, every cross-argument shape, and that no
 * output overlaps an input. Then it releases the GIL, calls the kernel, re-acquires the GIL and
 * maps a status code to an exception. Nothing a Python caller passes may crash the interpreter.
 */
#ifndef AENN_BIND_H
#define AENN_BIND_H

#define PY_SSIZE_T_CLEAN
#define PY_ARRAY_UNIQUE_SYMBOL aenn_ARRAY_API
#ifndef AENN_BIND_MAIN
#define NO_IMPORT_ARRAY
#endif
#include <Python.h>
#include <numpy/arrayobject.h>

#include "aenn.h"

/* Flags for bind_array. */
enum {
    BIND_IN = 0,        /* read-only input */
    BIND_OUT = 1,       /* must be writable */
    BIND_OPTIONAL = 2,  /* None allowed: *arr is set to NULL */
};

/* Validates obj as an ndarray of numpy type `type` (NPY_FLOAT32, NPY_INT32, ...), C-contiguous and
 * aligned, with `ndim` dimensions (ndim < 0: any), writable if flags & BIND_OUT, non-empty unless
 * allow_empty. On success stores the array (borrowed) in *arr and returns 0; otherwise sets
 * TypeError/ValueError naming fn and arg and returns -1. */
int bind_array(PyObject *obj, PyArrayObject **arr, const char *fn, const char *arg, int type,
               int ndim, int flags);

/* Shorthand for float32. */
static inline int bind_f32(PyObject *obj, PyArrayObject **arr, const char *fn, const char *arg,
                           int ndim, int flags) {
    return bind_array(obj, arr, fn, arg, NPY_FLOAT32, ndim, flags);
}

/* Requires dim `axis` of `a` to equal `expected`; `what` says where expected comes from
 * (e.g. "the last axis of `inp`"). Sets ValueError with both shapes and returns -1 otherwise. */
int bind_dim(const char *fn, PyArrayObject *a, const char *aname, int axis, int64_t expected,
             const char *what);

/* Requires a and b to have identical shapes. */
int bind_same_shape(const char *fn, PyArrayObject *a, const char *aname, PyArrayObject *b,
                    const char *bname);

/* Requires that the memory of output `out` does not overlap input `in` (either may be NULL). */
int bind_no_overlap(const char *fn, PyArrayObject *out, const char *oname, PyArrayObject *in,
                    const char *iname);

/* Requires that no output outs[i] overlaps an input ins[j] or another output (NULLs skipped):
 * the kernels write outputs while they still read inputs. */
int bind_outputs_apart(const char *fn, PyArrayObject *const *outs, const char *const *onames,
                       int nout, PyArrayObject *const *ins, const char *const *inames, int nin);

/* n floats (at least 1) of kernel scratch from PyMem_RawMalloc, or NULL with MemoryError set;
 * free with PyMem_RawFree. */
float *bind_scratch_f32(int64_t n);

/* Formats the shape of a as "(2, 3, 4)" into buf. */
void bind_shape_str(PyArrayObject *a, char *buf, size_t size);

/* Maps a kernel status to an exception (ValueError) naming fn; returns -1, or 0 for AENN_OK. */
int bind_status(const char *fn, int status);

/* Raises ValueError(fn: message) and returns -1 (printf-style). */
int bind_error(const char *fn, const char *format, ...);

static inline float *f32(PyArrayObject *a) { return a ? (float *)PyArray_DATA(a) : NULL; }
static inline int64_t dim(PyArrayObject *a, int i) { return (int64_t)PyArray_DIM(a, i); }
static inline int64_t numel(PyArrayObject *a) { return (int64_t)PyArray_SIZE(a); }

/* Each family file defines one method table, terminated by {NULL, NULL, 0, NULL}. */
extern PyMethodDef aenn_methods_threads[];
extern PyMethodDef aenn_methods_activation[];
extern PyMethodDef aenn_methods_loss[];
extern PyMethodDef aenn_methods_optim[];
extern PyMethodDef aenn_methods_rng[];
extern PyMethodDef aenn_methods_dense[];
extern PyMethodDef aenn_methods_conv[];
extern PyMethodDef aenn_methods_pool[];
extern PyMethodDef aenn_methods_upsample[];
extern PyMethodDef aenn_methods_upconv[];
extern PyMethodDef aenn_methods_convpool[];
extern PyMethodDef aenn_methods_norm[];
extern PyMethodDef aenn_methods_noise[];
extern PyMethodDef aenn_methods_misc[];
extern PyMethodDef aenn_methods_plan[];

#endif /* AENN_BIND_H */
