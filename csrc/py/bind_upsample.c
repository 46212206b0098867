/* bind_upsample.c -- Python bindings of the upsample kernels. */
#include "bind.h"

PyMethodDef aenn_methods_upsample[] = {
    {NULL, NULL, 0, NULL},
};
