/* conv_kernels_avx512.c -- conv_kernels.inc compiled for AVX-512F + FMA (16-float vectors, 32
 * zmm registers), x86-64 with GCC or Clang. Used when aenn_isa() says avx512 (cpu.h).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "conv_ops.h"

#if AENN_CONV_HAS_X86_OPS
#define AENN_CONV_X86 1
#include <immintrin.h>
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,avx512f,fma"))), apply_to = function)
#else
#pragma GCC target("avx2,avx512f,fma")
#endif
#define ISA avx512
#define VL 16
#define REGS 24
#define CK_P1 24
#define CK_P2 12
#define CK_P4 6
#define CK_PAIRMAX 8
#define CK_L1_WEIGHTS 0
#define CK_WG_NV4 1
#define CK_WG_BYTES 0
#include "conv_kernels.inc"
#if defined(__clang__)
#pragma clang attribute pop
#endif
#else
typedef int aenn_conv_kernels_avx512_not_built; /* ISO C wants a declaration in every file */
#endif
