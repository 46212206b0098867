/* bind_pool.c -- Python bindings of the pool kernels. */
#include "bind.h"

PyMethodDef aenn_methods_pool[] = {
    {NULL, NULL, 0, NULL},
};
