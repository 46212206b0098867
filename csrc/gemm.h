/* gemm.h -- single-precision matrix multiply, row-major, deterministic for any thread count.
 *
 *   C (M, N) = beta * C + op(A) @ op(B)
 *   op(A) is (M, K): A is stored (M, K) when transA == 0, (K, M) when transA != 0.
 *   op(B) is (K, N): B is stored (K, N) when transB == 0, (N, K) when transB != 0.
 *
 * Every element is computed in ONE fixed float order, whatever the thread count, the tiling or
 * whether it falls in a full or an edge tile:
 *     acc = (beta == 0) ? 0 : beta * C[i][j];          (beta == 0 never reads C: NaN-safe)
 *     for k = 0 .. K-1:  acc = acc + op(A)[i][k] * op(B)[k][j];   (a rounded product, then a
 *                                                                  rounded add: no FMA)
 *     C[i][j] = acc;
 * gemm_naive below is that loop written out; the fast path gives the same bits.
 */
#ifndef AENN_GEMM_H
#define AENN_GEMM_H

#include "aenn.h"

/* The fast GEMM, parallel over output tiles on the thread pool. Must NOT be called from inside
 * an aenn_parallel_for task (the pool is not re-entrant): use aenn_gemm_serial there. */
void aenn_gemm(float *C, const float *A, const float *B, int64_t M, int64_t N, int64_t K,
               int transA, int transB, float beta);

/* The same computation (same bits) on the calling thread only; safe inside a parallel task. */
void aenn_gemm_serial(float *C, const float *A, const float *B, int64_t M, int64_t N, int64_t K,
                      int transA, int transB, float beta);

/* The reference triple loop (same bits as the two above); for tests. */
void aenn_gemm_naive(float *C, const float *A, const float *B, int64_t M, int64_t N, int64_t K,
                     int transA, int transB, float beta);

/* Chooses the micro-kernel: enable != 0 -> the one of the ISA in force (aenn_isa(), cpu.h;
 * the default), 0 -> the generic one whatever that ISA. Returns 1 if a SIMD build is in force,
 * else 0. For tests: every choice gives the same bits. Not thread-safe against a running GEMM. */
int aenn_gemm_set_simd(int enable);

#endif /* AENN_GEMM_H */
