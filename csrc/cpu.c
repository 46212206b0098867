/* cpu.c -- CPU feature detection and the instruction-set choice (see cpu.h). */
#include "cpu.h"

#include <stdlib.h>
#include <string.h>

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define AENN_X86_SIMD 1
#endif

static const char *const names[AENN_ISA_COUNT] = {"generic", "avx2", "avx512"};

static int current = -1; /* -1: not decided yet */

int aenn_isa_supported(int isa) {
    if (isa == AENN_ISA_GENERIC) return 1;
#ifdef AENN_X86_SIMD
    __builtin_cpu_init();
    /* the GEMM and convolution kernels of both builds use fused multiply-adds */
    int fma = __builtin_cpu_supports("fma") != 0;
    if (isa == AENN_ISA_AVX2) return fma && __builtin_cpu_supports("avx2");
    if (isa == AENN_ISA_AVX512)
        return fma && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avx512f");
#endif
    return 0;
}

int aenn_isa_best(void) {
    for (int isa = AENN_ISA_COUNT - 1; isa > 0; isa--)
        if (aenn_isa_supported(isa)) return isa;
    return AENN_ISA_GENERIC;
}

const char *aenn_isa_name_of(int isa) {
    return (isa >= 0 && isa < AENN_ISA_COUNT) ? names[isa] : NULL;
}

int aenn_isa_from_name(const char *name) {
    if (!name) return -1;
    for (int i = 0; i < AENN_ISA_COUNT; i++)
        if (strcmp(name, names[i]) == 0) return i;
    return -1;
}

static int decide(void) {
    int best = aenn_isa_best();
    int want = aenn_isa_from_name(getenv("AENN_ISA"));
    if (want < 0) return best;
    while (want > 0 && !aenn_isa_supported(want)) want--;
    return want;
}

int aenn_isa(void) {
    int isa = current;
    if (isa < 0) current = isa = decide(); /* a benign race: every thread computes the same */
    return isa;
}

const char *aenn_isa_name(void) { return names[aenn_isa()]; }

int aenn_set_isa(int isa) {
    if (isa < 0 || isa >= AENN_ISA_COUNT || !aenn_isa_supported(isa)) return -1;
    current = isa;
    return isa;
}
