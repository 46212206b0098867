/* isa_builds.h -- one C loop, three builds: plain (SSE2 on x86-64), AVX2 and AVX-512.
 *
 * AENN_ISA_BUILDS(name) expects `static AENN_ALWAYS_INLINE void name##_body(void *ctx,
 * int64_t begin, int64_t end)` (an aenn_range_fn body written as plain, branch-free C) and
 * defines `static void name(void *ctx, int64_t begin, int64_t end)`, which runs that body
 * compiled for the ISA aenn_isa() names (cpu.h). The compiler vectorises each copy for its own
 * target; every copy does the same IEEE operations on each element (no FMA: the fma target is
 * never enabled and -ffp-contract=off), and lanes hold independent elements, so every build
 * gives the same bits -- only the vector width changes (docs/determinism.md).
 * One thing C cannot pin down: when BOTH operands of an add or multiply are NaNs (say an
 * inf - inf NaN meets an input NaN), x86 returns the first operand's NaN, and the compiler
 * orders the operands of a commutative operation as it likes, differently per build. Such a
 * result is a NaN in every build, but its sign / payload may differ.
 * Elsewhere than x86-64 GCC/Clang there is one build.
 */
#ifndef AENN_ISA_BUILDS_H
#define AENN_ISA_BUILDS_H

#include "aenn.h"
#include "cpu.h"

#if defined(__GNUC__) || defined(__clang__)
#define AENN_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define AENN_ALWAYS_INLINE inline
#endif

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define AENN_ISA_BUILDS(name)                                                                  \
    static void name##_generic(void *ctx, int64_t begin, int64_t end) {                        \
        name##_body(ctx, begin, end);                                                          \
    }                                                                                          \
    __attribute__((target("avx2"))) static void name##_avx2(void *ctx, int64_t begin,          \
                                                             int64_t end) {                    \
        name##_body(ctx, begin, end);                                                          \
    }                                                                                          \
    __attribute__((target("avx2,avx512f"))) static void name##_avx512(void *ctx,               \
                                                                       int64_t begin,          \
                                                                       int64_t end) {          \
        name##_body(ctx, begin, end);                                                          \
    }                                                                                          \
    static void name(void *ctx, int64_t begin, int64_t end) {                                  \
        int isa = aenn_isa();                                                                  \
        if (isa == AENN_ISA_AVX512) name##_avx512(ctx, begin, end);                            \
        else if (isa == AENN_ISA_AVX2) name##_avx2(ctx, begin, end);                           \
        else name##_generic(ctx, begin, end);                                                  \
    }
#else
#define AENN_ISA_BUILDS(name)                                                                  \
    static void name(void *ctx, int64_t begin, int64_t end) { name##_body(ctx, begin, end); }
#endif

#endif /* AENN_ISA_BUILDS_H */
