/* bind_misc.c -- Python bindings of the misc kernels. */
#include "bind.h"

PyMethodDef aenn_methods_misc[] = {
    {NULL, NULL, 0, NULL},
};
