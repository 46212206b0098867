/* module.c -- the aenn._core module: joins the method tables of every family binding file. */
#define AENN_BIND_MAIN
#include "bind.h"

#include "../convpool.h"

static PyMethodDef *families[] = {
    aenn_methods_threads, aenn_methods_activation, aenn_methods_loss,     aenn_methods_optim,
    aenn_methods_rng,     aenn_methods_dense,      aenn_methods_conv,     aenn_methods_pool,
    aenn_methods_upsample, aenn_methods_norm,      aenn_methods_noise,    aenn_methods_misc,
    aenn_methods_plan,    aenn_methods_upconv,    aenn_methods_convpool,
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT, "aenn._core",
    "aenn's C core: kernels taking preallocated float32 C-contiguous NumPy arrays.", -1, NULL,
};

PyMODINIT_FUNC PyInit__core(void) {
    import_array();
    PyObject *m = PyModule_Create(&core_module);
    if (m == NULL) return NULL;
    size_t nfam = sizeof families / sizeof families[0];
    for (size_t f = 0; f < nfam; f++) {
        if (PyModule_AddFunctions(m, families[f]) < 0) {
            Py_DECREF(m);
            return NULL;
        }
    }
    PyModule_AddIntConstant(m, "CHUNK", AENN_CHUNK);
    PyModule_AddIntConstant(m, "CONVPOOL_ROW_MAX", AENN_CONVPOOL_ROW_MAX);
    return m;
}
