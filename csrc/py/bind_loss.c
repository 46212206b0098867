/* bind_loss.c -- Python bindings of the loss kernels. */
#include "bind.h"

PyMethodDef aenn_methods_loss[] = {
    {NULL, NULL, 0, NULL},
};
