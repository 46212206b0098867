/* bind_rng.c -- Python bindings of the rng kernels. */
#include "bind.h"

PyMethodDef aenn_methods_rng[] = {
    {NULL, NULL, 0, NULL},
};
