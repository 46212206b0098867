/* cpu.h -- CPU feature detection and the instruction-set choice for the SIMD kernels.
 *
 * The kernels with several builds (conv, GEMM) ask aenn_isa() which one to run. Every build
 * does the same IEEE operations in the same order (no FMA anywhere: a rounded product, then a
 * rounded add), so the choice changes speed only, never bits (docs/determinism.md).
 *
 * The choice is, in order: the last aenn_set_isa() call; else the environment variable
 * AENN_ISA=generic|avx2|avx512 read at the first query (an unsupported or unknown name falls
 * back to the best supported ISA below it / the best overall); else the best the CPU supports.
 */
#ifndef AENN_CPU_H
#define AENN_CPU_H

enum { AENN_ISA_GENERIC = 0, AENN_ISA_AVX2 = 1, AENN_ISA_AVX512 = 2, AENN_ISA_COUNT = 3 };

/* The ISA in force (AENN_ISA_*). */
int aenn_isa(void);
/* Its name: "generic", "avx2" or "avx512". */
const char *aenn_isa_name(void);
/* The name of an ISA number, or NULL. */
const char *aenn_isa_name_of(int isa);
/* The ISA number of a name, or -1. */
int aenn_isa_from_name(const char *name);
/* 1 if this build and this CPU can run the ISA. */
int aenn_isa_supported(int isa);
/* The best supported ISA. */
int aenn_isa_best(void);
/* Forces an ISA; returns the ISA now in force, or -1 (nothing changed) if unsupported.
 * Not thread-safe against running kernels. */
int aenn_set_isa(int isa);

#endif /* AENN_CPU_H */
