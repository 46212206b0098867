/* bind_dense.c -- Python bindings of the dense kernels. */
#include "bind.h"

PyMethodDef aenn_methods_dense[] = {
    {NULL, NULL, 0, NULL},
};
