/* conv_kernels_generic.c -- conv_kernels.inc compiled for any CPU: 4-float GCC/Clang vectors
 * (plain floats elsewhere); each fma lane is fmaf(), correctly rounded like the FMA instruction
 * of the AVX2 and AVX-512 builds, so all give the same bits (conv.c, docs/determinism.md).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "conv_ops.h"

#if defined(__GNUC__) || defined(__clang__)
#define VL 4
#else
#define VL 1
#endif
#define ISA generic
#define REGS 12
#define CK_P1 12
#define CK_P2 6
#define CK_P4 3
#define CK_PAIRMAX 6
#define CK_L1_WEIGHTS 0
#define CK_WG_NV4 1
#define CK_WG_BYTES 0
#include "conv_kernels.inc"
