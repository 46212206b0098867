/* bind_conv.c -- Python bindings of the conv kernels. */
#include "bind.h"

PyMethodDef aenn_methods_conv[] = {
    {NULL, NULL, 0, NULL},
};
