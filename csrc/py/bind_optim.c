/* bind_optim.c -- Python bindings of the optim kernels. */
#include "bind.h"

PyMethodDef aenn_methods_optim[] = {
    {NULL, NULL, 0, NULL},
};
