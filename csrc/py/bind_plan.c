/* bind_plan.c -- Python bindings of the compiled Dense-chain training step (csrc/plan.h).
 *
 *   plan_create(layers, x, yt, labels, loss, opt, metric) -> capsule
 *     layers: list of tuples (kernel, bias|None, act, alpha, z, y, dy, dz|None, dkernel,
 *             dbias|None), one per Dense layer in order; act: AENN_ACT_* or -1 (softmax);
 *             y may be the z array itself (linear)
 *     x:      (cap, in) float32 batch buffer
 *     yt:     (cap, cols) float32 target buffer, or None with sparse labels
 *     labels: (cap,) int32 label buffer, or None
 *     loss:   (kind, param, from_logits, on_logits, values (cap,) f32, scratch (chunks,) f64);
 *             kind: AENN_LOSS_* or -1 (sparse categorical crossentropy)
 *     opt:    (kind, params, slots, nslots, iterations): params = every kernel and bias in layer order (the
 *             optimizer's variable order), slots = the optimizer's slot arrays interleaved per
 *             parameter, as optim_update takes them;
 *             iterations: the optimizer's int64 0-d step counter, incremented by every step
 *     metric: 0 none, 1 categorical accuracy, 2 sparse categorical accuracy
 *   plan_step(plan, x_all, y_all, idx, h) -> (loss, hits)
 *     x_all (n, in) f32, y_all (n, cols) or (n,)/(n, 1) for labels, idx (B,) int64 rows,
 *     h: the optimizer's hyper-parameters for this step. Raises ValueError on a bad label.
 *
 * The capsule keeps a reference to every array it points into (the argument tuple), so no
 * buffer or weight can be freed under it; Python re-plans when a weight array is replaced.
 */
#include "bind.h"

#include <math.h>
#include <string.h>

#include "../activation.h"
#include "../loss.h"
#include "../plan.h"

static const char *FN = "plan_create";
static const char *CAPSULE = "aenn.plan";

typedef struct {
    aenn_plan p;
    PyObject *args;   /* the plan_create arguments: keeps every array alive */
    int nslots;
    aenn_plan_layer *layers;
    int64_t *offsets;
    void **ptrs;      /* [params (P) | slots (P*S) | grads (P)] */
} plan_box;

static void plan_free(PyObject *capsule) {
    plan_box *b = PyCapsule_GetPointer(capsule, CAPSULE);
    if (b == NULL) return;
    Py_XDECREF(b->args);
    PyMem_RawFree(b->layers);
    PyMem_RawFree(b->offsets);
    PyMem_RawFree(b->ptrs);
    PyMem_RawFree(b);
}

/* A float32 (rows, cols) buffer, writable, exactly that shape. */
static int buffer2(PyObject *o, PyArrayObject **a, const char *arg, int64_t rows, int64_t cols) {
    if (bind_f32(o, a, FN, arg, 2, BIND_OUT) < 0) return -1;
    if (dim(*a, 0) != rows || dim(*a, 1) != cols)
        return bind_error(FN, "`%s` must have shape (%lld, %lld)", arg, (long long)rows,
                          (long long)cols);
    return 0;
}

static int parse_layer(PyObject *t, aenn_plan_layer *d, int64_t cap, int64_t l) {
    PyObject *ok, *ob, *oz, *oy, *ody, *odz, *odk, *odb;
    PyArrayObject *k, *bias = NULL, *z, *y, *dy, *dz = NULL, *dk, *db = NULL;
    int act;
    double alpha;
    if (!PyTuple_Check(t) ||
        !PyArg_ParseTuple(t, "OOidOOOOOO", &ok, &ob, &act, &alpha, &oz, &oy, &ody, &odz, &odk,
                          &odb)) {
        if (!PyErr_Occurred()) bind_error(FN, "layers[%lld] must be a tuple", (long long)l);
        return -1;
    }
    if (act != AENN_PLAN_SOFTMAX && (act < 0 || act >= AENN_ACT_COUNT))
        return bind_error(FN, "layers[%lld]: bad activation kind %d", (long long)l, act);
    if (bind_f32(ok, &k, FN, "kernel", 2, BIND_OUT) < 0) return -1;
    int64_t in = dim(k, 0), out = dim(k, 1);
    if (bind_f32(ob, &bias, FN, "bias", 1, BIND_OUT | BIND_OPTIONAL) < 0) return -1;
    if (bias && dim(bias, 0) != out) return bind_error(FN, "bias must have shape (%lld,)", (long long)out);
    if (buffer2(oz, &z, "z", cap, out) < 0 || buffer2(oy, &y, "y", cap, out) < 0 ||
        buffer2(ody, &dy, "dy", cap, out) < 0 || buffer2(odk, &dk, "dkernel", in, out) < 0)
        return -1;
    if (odz != Py_None && buffer2(odz, &dz, "dz", cap, out) < 0) return -1;
    if (bind_f32(odb, &db, FN, "dbias", 1, BIND_OUT | BIND_OPTIONAL) < 0) return -1;
    if ((db == NULL) != (bias == NULL) || (db && dim(db, 0) != out))
        return bind_error(FN, "layers[%lld]: dbias must match bias", (long long)l);
    if (act == AENN_ACT_LINEAR ? (y != z || dz != NULL) : y == z)
        return bind_error(FN, "layers[%lld]: y must be z exactly when linear", (long long)l);
    *d = (aenn_plan_layer){in, out, f32(k), f32(bias), act, (float)alpha, f32(z), f32(y),
                           f32(dy), f32(dz), f32(dk), f32(db)};
    return 0;
}

static PyObject *py_plan_create(PyObject *self, PyObject *args) {
    PyObject *o_layers, *o_x, *o_yt, *o_labels, *o_loss, *o_opt;
    int metric;
    if (!PyArg_ParseTuple(args, "O!OOOO!O!i", &PyList_Type, &o_layers, &o_x, &o_yt, &o_labels,
                          &PyTuple_Type, &o_loss, &PyTuple_Type, &o_opt, &metric))
        return NULL;
    plan_box *b = PyMem_RawCalloc(1, sizeof *b);
    if (b == NULL) return PyErr_NoMemory();
    aenn_plan *p = &b->p;
    PyObject *capsule = NULL, *o_params, *o_slots, *o_values, *o_scratch;
    PyArrayObject *x, *yt = NULL, *labels = NULL, *values, *scratch;
    Py_ssize_t L = PyList_GET_SIZE(o_layers);
    if (L < 1) { bind_error(FN, "`layers` is empty"); goto fail; }
    if (bind_f32(o_x, &x, FN, "x", 2, BIND_OUT) < 0) goto fail;
    int64_t cap = dim(x, 0);
    b->layers = PyMem_RawCalloc((size_t)L, sizeof *b->layers);
    if (b->layers == NULL) { PyErr_NoMemory(); goto fail; }
    for (Py_ssize_t l = 0; l < L; l++) {
        if (parse_layer(PyList_GET_ITEM(o_layers, l), &b->layers[l], cap, l) < 0) goto fail;
        int64_t want = l ? b->layers[l - 1].out : dim(x, 1);
        if (b->layers[l].in != want) {
            bind_error(FN, "layers[%zd] takes %lld features, the previous output has %lld", l,
                       (long long)b->layers[l].in, (long long)want);
            goto fail;
        }
    }
    int64_t cols = b->layers[L - 1].out;
    if (!PyArg_ParseTuple(o_loss, "ifiiOO", &p->loss_kind, &p->loss_param, &p->from_logits,
                          &p->on_logits, &o_values, &o_scratch))
        goto fail;
    if (p->loss_kind != AENN_PLAN_LOSS_SPARSE && (p->loss_kind < 0 || p->loss_kind >= AENN_LOSS_COUNT)) {
        bind_error(FN, "bad loss kind %d", p->loss_kind);
        goto fail;
    }
    if (bind_f32(o_values, &values, FN, "values", 1, BIND_OUT) < 0 ||
        bind_array(o_scratch, &scratch, FN, "scratch", NPY_FLOAT64, 1, BIND_OUT) < 0)
        goto fail;
    if (dim(values, 0) != cap || dim(scratch, 0) < aenn_num_chunks(cap)) {
        bind_error(FN, "`values` needs %lld floats and `scratch` %lld doubles", (long long)cap,
                   (long long)aenn_num_chunks(cap));
        goto fail;
    }
    if (p->loss_kind == AENN_PLAN_LOSS_SPARSE) {
        if (bind_array(o_labels, &labels, FN, "labels", NPY_INT32, 1, BIND_OUT) < 0) goto fail;
        if (dim(labels, 0) != cap) { bind_error(FN, "`labels` must have %lld rows", (long long)cap); goto fail; }
    } else if (buffer2(o_yt, &yt, "yt", cap, cols) < 0) {
        goto fail;
    }
    if (metric < AENN_PLAN_METRIC_NONE || metric > AENN_PLAN_METRIC_SPARSE ||
        (metric == AENN_PLAN_METRIC_SPARSE) != (labels != NULL && metric != 0)) {
        bind_error(FN, "bad metric %d for this loss", metric);
        goto fail;
    }
    PyObject *o_iter;
    PyArrayObject *iters;
    if (!PyArg_ParseTuple(o_opt, "iO!O!iO", &p->opt_kind, &PyList_Type, &o_params, &PyList_Type,
                          &o_slots, &b->nslots, &o_iter))
        goto fail;
    if (bind_array(o_iter, &iters, FN, "iterations", NPY_INT64, 0, BIND_OUT) < 0) goto fail;
    p->iterations = (int64_t *)PyArray_DATA(iters);
    if (p->opt_kind < AENN_OPT_SGD || p->opt_kind > AENN_OPT_NADAM || b->nslots < 0 ||
        b->nslots > AENN_OPT_MAX_SLOTS) {
        bind_error(FN, "bad optimizer kind %d or slot count %d", p->opt_kind, b->nslots);
        goto fail;
    }
    /* The optimizer's tensors: every kernel and bias in layer order, each with its gradient
     * buffer, exactly as Optimizer.apply passes them to optim_update. */
    Py_ssize_t P = PyList_GET_SIZE(o_params);
    if (PyList_GET_SIZE(o_slots) != P * b->nslots) {
        bind_error(FN, "`slots` must hold %zd arrays", P * b->nslots);
        goto fail;
    }
    b->offsets = PyMem_RawMalloc((size_t)(P + 1) * sizeof *b->offsets);
    b->ptrs = PyMem_RawMalloc((size_t)(P * (2 + b->nslots) + 1) * sizeof *b->ptrs);
    if (b->offsets == NULL || b->ptrs == NULL) { PyErr_NoMemory(); goto fail; }
    Py_ssize_t k = 0;
    b->offsets[0] = 0;
    for (Py_ssize_t l = 0; l < L; l++) {
        aenn_plan_layer *d = &b->layers[l];
        for (int w = 0; w < 2; w++) {
            float *param = w ? d->bias : d->kernel, *grad = w ? d->dbias : d->dkernel;
            if (param == NULL) continue;
            PyArrayObject *pa;
            if (k >= P || bind_f32(PyList_GET_ITEM(o_params, k), &pa, FN, "params[k]", -1,
                                   BIND_OUT) < 0 || f32(pa) != param) {
                if (!PyErr_Occurred())
                    bind_error(FN, "params[%zd] must be the %s of layers[%zd]", k,
                               w ? "bias" : "kernel", l);
                goto fail;
            }
            for (int s = 0; s < b->nslots; s++) {
                PyArrayObject *sa;
                if (bind_f32(PyList_GET_ITEM(o_slots, k * b->nslots + s), &sa, FN, "slots[j]", -1,
                             BIND_OUT) < 0)
                    goto fail;
                if (numel(sa) != numel(pa)) { bind_error(FN, "a slot has the wrong size"); goto fail; }
                b->ptrs[P + k * b->nslots + s] = f32(sa);
            }
            b->ptrs[k] = param;
            b->ptrs[P + P * b->nslots + k] = grad;
            b->offsets[k + 1] = b->offsets[k] + numel(pa);
            k++;
        }
    }
    if (k != P) { bind_error(FN, "`params` has %zd arrays, the layers %zd", P, k); goto fail; }
    p->opt = (aenn_optim_tensors){
        .count = P,
        .offsets = b->offsets,
        .params = (float *const *)b->ptrs,
        .grads = (const float *const *)(b->ptrs + P + P * b->nslots),
        .slots = (float *const *)(b->ptrs + P),
        .nslots = b->nslots,
    };
    p->nlayers = L;
    p->cap = cap;
    p->layers = b->layers;
    p->x = f32(x);
    p->yt = f32(yt);
    p->labels = labels ? (int32_t *)PyArray_DATA(labels) : NULL;
    p->values = f32(values);
    p->scratch = (double *)PyArray_DATA(scratch);
    p->metric = metric;
    b->args = args;
    Py_INCREF(args);
    capsule = PyCapsule_New(b, CAPSULE, plan_free);
    if (capsule == NULL) { Py_DECREF(args); b->args = NULL; goto fail; }
    return capsule;
fail:
    PyMem_RawFree(b->layers);
    PyMem_RawFree(b->offsets);
    PyMem_RawFree(b->ptrs);
    PyMem_RawFree(b);
    return NULL;
}

static PyObject *py_plan_step(PyObject *self, PyObject *args) {
    static const char *fn = "plan_step";
    PyObject *o_plan, *o_x, *o_y, *o_idx, *o_h;
    PyArrayObject *x, *y, *idx;
    if (!PyArg_ParseTuple(args, "OOOOO", &o_plan, &o_x, &o_y, &o_idx, &o_h)) return NULL;
    if (!PyCapsule_IsValid(o_plan, CAPSULE)) {
        PyErr_Format(PyExc_TypeError, "%s: argument `plan` must come from plan_create, got %s",
                     fn, Py_TYPE(o_plan)->tp_name);
        return NULL;
    }
    plan_box *b = PyCapsule_GetPointer(o_plan, CAPSULE);
    const aenn_plan *p = &b->p;
    if (bind_f32(o_x, &x, fn, "x_all", 2, BIND_IN) < 0 || bind_f32(o_y, &y, fn, "y_all", -1, BIND_IN) < 0 ||
        bind_array(o_idx, &idx, fn, "idx", NPY_INT64, 1, BIND_IN) < 0 ||
        bind_dim(fn, x, "x_all", 1, p->layers[0].in, "the first layer's input size") < 0)
        return NULL;
    int64_t n = dim(x, 0), B = dim(idx, 0);
    int64_t ycols = n > 0 && dim(y, 0) == n ? numel(y) / n : -1;
    int64_t want = p->labels ? 1 : p->layers[p->nlayers - 1].out;
    if (ycols != want) return bind_error(fn, "y_all must have %lld values per sample", (long long)want), NULL;
    if (B > p->cap) return bind_error(fn, "the batch has %lld rows, the plan %lld", (long long)B, (long long)p->cap), NULL;
    const int64_t *ix = (const int64_t *)PyArray_DATA(idx);
    for (int64_t r = 0; r < B; r++)
        if (ix[r] < 0 || ix[r] >= n) return bind_error(fn, "idx[%lld] out of range", (long long)r), NULL;
    /* h, converted as optim_update converts it */
    float h[AENN_OPT_MAX_H] = {0};
    PyObject *fh = PySequence_Fast(o_h, "plan_step: `h` must be a sequence of floats");
    if (fh == NULL) return NULL;
    Py_ssize_t nh = PySequence_Fast_GET_SIZE(fh);
    for (Py_ssize_t i = 0; i < nh && i < AENN_OPT_MAX_H; i++) {
        double d = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(fh, i));
        if ((d == -1.0 && PyErr_Occurred()) || !isfinite(d)) {
            Py_DECREF(fh);
            if (!PyErr_Occurred()) bind_error(fn, "hyper-parameter h[%zd] must be finite", i);
            return NULL;
        }
        h[i] = (float)d;
    }
    Py_DECREF(fh);
    if (nh > AENN_OPT_MAX_H || aenn_optim_num_slots(p->opt_kind, h) != b->nslots)
        return bind_error(fn, "the hyper-parameters do not match the plan's slots"), NULL;
    double loss = 0.0;
    int64_t hits = 0;
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = aenn_plan_step(p, f32(x), f32(y), ycols, ix, B, h, &loss, &hits);
    Py_END_ALLOW_THREADS
    if (status == AENN_ERR_VALUE)
        return bind_error(fn, "a label is not an integer class index in [0, %lld)",
                          (long long)p->layers[p->nlayers - 1].out), NULL;
    if (bind_status(fn, status) < 0) return NULL;
    return Py_BuildValue("dL", loss, (long long)hits);
}

PyMethodDef aenn_methods_plan[] = {
    {"plan_create", py_plan_create, METH_VARARGS,
     "plan_create(layers, x, yt, labels, loss, opt, metric) -> plan (a compiled Dense-chain step)"},
    {"plan_step", py_plan_step, METH_VARARGS,
     "plan_step(plan, x_all, y_all, idx, h) -> (loss, hits): one training step"},
    {NULL, NULL, 0, NULL},
};
