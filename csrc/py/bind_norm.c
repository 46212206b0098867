/* bind_norm.c -- Python bindings of the norm kernels. */
#include "bind.h"

PyMethodDef aenn_methods_norm[] = {
    {NULL, NULL, 0, NULL},
};
