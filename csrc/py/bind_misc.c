/* bind_misc.c -- Python bindings of the misc kernels.
 *
 * Empty for now: the shape-only layers (Flatten, Reshape, Permute, RepeatVector, ZeroPadding,
 * Cropping, the merging layers) are pure data movement done with NumPy views and copies. */
#include "bind.h"

PyMethodDef aenn_methods_misc[] = {
    {NULL, NULL, 0, NULL},
};
