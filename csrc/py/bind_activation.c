/* bind_activation.c -- Python bindings of the activation kernels. */
#include "bind.h"

PyMethodDef aenn_methods_activation[] = {
    {NULL, NULL, 0, NULL},
};
