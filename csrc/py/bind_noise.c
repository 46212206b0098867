/* bind_noise.c -- Python bindings of the noise kernels. */
#include "bind.h"

PyMethodDef aenn_methods_noise[] = {
    {NULL, NULL, 0, NULL},
};
