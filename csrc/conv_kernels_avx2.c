/* conv_kernels_avx2.c -- conv_kernels.inc compiled for AVX2 + FMA (8-float vectors, 16 ymm
 * registers), x86-64 with GCC or Clang. Used when aenn_isa() says avx2 (cpu.h).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "conv_ops.h"

#if AENN_CONV_HAS_X86_OPS
#define AENN_CONV_X86 1
#include <immintrin.h>
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC target("avx2,fma")
#endif
#define ISA avx2
#define VL 8
#define REGS 12
#define CK_P1 12
#define CK_P2 6
#define CK_P4 3
#define CK_PAIRMAX 6
/* 16 ymm registers: a 3-pixel x 4-vector tile (12 accumulators + 4 weights + 1 broadcast)
 * does not fit, so GCC reloads a weight vector per fma; 6 x 2 does. Measured on the convnet's
 * 13x13 32->64 layer (Zen 3, 1 thread): forward 11.0 -> 8.2 ms with 2-vector groups (its 9 taps
 * x 32 x 16 weights are 18 KB, within L1); the backward-data (64 -> 32, 36 KB per 2-vector group)
 * stays fastest with 4-vector groups; the weight gradient 14.4 -> 10.4 ms with 6 x 2 tiles and
 * 32 KB row blocks. AVX-512 (32 registers, 48 KB L1 on Zen 4/5) keeps the plain choice. */
#define CK_L1_WEIGHTS 24576
#define CK_WG_NV4 0
#define CK_WG_BYTES 32768
#include "conv_kernels.inc"
#if defined(__clang__)
#pragma clang attribute pop
#endif
#else
typedef int aenn_conv_kernels_avx2_not_built; /* ISO C wants a declaration in every file */
#endif
