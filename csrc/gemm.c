/* gemm.c -- C = beta*C + op(A) @ op(B), float32, row-major (see gemm.h for the exact contract).
 *
 * Two layouts of the same computation (the classic Goto/BLIS scheme):
 *   - generic (portable C, any CPU): the output is cut into tiles of mc x nc, one parallel work
 *     item each; per K-block of KC the tile's slices of op(A) and op(B) are packed into MR-tall
 *     and NR-wide panels (zero-padded), and a 4 x 8 micro-kernel runs the k loop in registers.
 *   - SIMD (x86-64 AVX-512 12 x 32 -- 16 x 16 when N <= 16 -- and AVX2 6 x 16 micro-kernels,
 *     intrinsics): a work item is a block of rows x up to NCS columns; per K-block its op(B)
 *     slice is packed once (32- or 16-wide column panels, zero-padded), each MR-row strip of
 *     op(A) is copied once (rows of A at a fixed stride; 16-row A^T strips are read in place)
 *     and reused across all the panels,
 *     and the rows x columns grid of items is chosen per call by a small cost model
 *     (plan_simd) so that the threads get equal work.
 * Every element in every path sees acc = init; acc = fma(a, b, acc) for k = 0, 1, ..., K-1 in
 * order (one fused multiply-add, rounded once: vfmadd in the SIMD kernels, fmaf() in C), with
 * an exact float store/reload between K-blocks. Edge tiles run the same micro-kernels (zero-
 * padded panels and strips, masked loads and stores) and only store the valid part. Hence
 * every path, tiling and thread count gives the bits of aenn_gemm_naive.
 */
#include "gemm.h"

#include <math.h>
#include <string.h>

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "cpu.h"

#define MR 4     /* micro-tile rows */
#define NR 8     /* micro-tile columns */
#define KC 256   /* K-block */
#define MC 64    /* max rows of a work tile (multiple of MR) */
#define NC 128   /* max cols of a work tile (multiple of NR) */

/* x86-64 with GCC or Clang: the AVX2 and AVX-512 micro-kernels are picked at run time through
 * aenn_isa() (cpu.h; the generic one is SSE2 and calls fmaf(), which is a libm routine on an
 * x86-64 build without the fma target: slow, but the same correctly rounded result). All do
 * the same IEEE operations in the same order (explicit fused multiply-adds; -ffp-contract=off
 * so the compiler never fuses anything else), so they give the same bits; only speed differs. */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define AENN_GEMM_AVX2 1
#endif

/* op(A)[i][k] and op(B)[k][j] */
#define A_AT(i, k) (transA ? A[(k) * M + (i)] : A[(i) * K + (k)])
#define B_AT(k, j) (transB ? B[(j) * K + (k)] : B[(k) * N + (j)])

/* ---------------------------------------------------------------------------------------- */
/* The reference: one dot product per element, k in order.                                  */
void aenn_gemm_naive(float *C, const float *A, const float *B, int64_t M, int64_t N, int64_t K,
                     int transA, int transB, float beta) {
    for (int64_t i = 0; i < M; i++) {
        for (int64_t j = 0; j < N; j++) {
            float acc = (beta == 0.0f) ? 0.0f : beta * C[i * N + j];
            for (int64_t k = 0; k < K; k++) acc = fmaf(A_AT(i, k), B_AT(k, j), acc);
            C[i * N + j] = acc;
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Packing. ap: panels of MR rows, ap[(p*kc + k)*MR + r] = op(A)[i0 + p*MR + r][k0 + k]       */
static void pack_a(float *restrict ap, const float *A, int64_t M, int64_t K, int transA,
                   int64_t i0, int64_t mc, int64_t k0, int64_t kc) {
    for (int64_t p = 0; p < mc; p += MR) {
        int64_t rows = mc - p < MR ? mc - p : MR;
        float *dst = ap + p * kc;
        for (int64_t k = 0; k < kc; k++) {
            for (int64_t r = 0; r < rows; r++) dst[k * MR + r] = A_AT(i0 + p + r, k0 + k);
            for (int64_t r = rows; r < MR; r++) dst[k * MR + r] = 0.0f;
        }
    }
}

/* bp: panels of NR columns, bp[(q*kc + k)*NR + c] = op(B)[k0 + k][j0 + q*NR + c] */
static void pack_b(float *restrict bp, const float *B, int64_t N, int64_t K, int transB,
                   int64_t j0, int64_t nc, int64_t k0, int64_t kc) {
    for (int64_t q = 0; q < nc; q += NR) {
        int64_t cols = nc - q < NR ? nc - q : NR;
        float *dst = bp + q * kc;
        if (!transB && cols == NR) {
            for (int64_t k = 0; k < kc; k++)
                memcpy(dst + k * NR, B + (k0 + k) * N + j0 + q, NR * sizeof(float));
            continue;
        }
        for (int64_t k = 0; k < kc; k++) {
            for (int64_t c = 0; c < cols; c++) dst[k * NR + c] = B_AT(k0 + k, j0 + q + c);
            for (int64_t c = cols; c < NR; c++) dst[k * NR + c] = 0.0f;
        }
    }
}

/* The same layout with any panel width w (the SIMD path: w = its micro-kernel's NR):
 * bp[(q*kc + k)*w + c] = op(B)[k0 + k][j0 + q*w + c], zero past column nc. */
static void pack_b_panels(float *restrict bp, const float *B, int64_t N, int64_t K, int transB,
                          int64_t j0, int64_t nc, int64_t k0, int64_t kc, int w) {
    for (int64_t q = 0; q < nc; q += w) {
        int64_t cols = nc - q < w ? nc - q : w;
        float *dst = bp + q * kc;
        if (!transB) { /* rows of B are contiguous: copy cols floats per k */
            for (int64_t k = 0; k < kc; k++) {
                memcpy(dst + k * w, B + (k0 + k) * N + j0 + q, (size_t)cols * sizeof(float));
                for (int64_t c = cols; c < w; c++) dst[k * w + c] = 0.0f;
            }
        } else { /* B is (N, K): walk each column of op(B) (a row of B) contiguously */
            int64_t c = 0;
#ifdef __SSE2__
            /* 4 columns x 4 k at a time through an SSE 4x4 transpose (a pure copy) */
            for (; c + 4 <= cols; c += 4) {
                const float *src = B + (j0 + q + c) * K + k0;
                int64_t k = 0;
                for (; k + 4 <= kc; k += 4) {
                    __m128 r0 = _mm_loadu_ps(src + k), r1 = _mm_loadu_ps(src + K + k);
                    __m128 r2 = _mm_loadu_ps(src + 2 * K + k), r3 = _mm_loadu_ps(src + 3 * K + k);
                    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
                    _mm_storeu_ps(dst + k * w + c, r0);
                    _mm_storeu_ps(dst + (k + 1) * w + c, r1);
                    _mm_storeu_ps(dst + (k + 2) * w + c, r2);
                    _mm_storeu_ps(dst + (k + 3) * w + c, r3);
                }
                for (; k < kc; k++)
                    for (int64_t cc = 0; cc < 4; cc++) dst[k * w + c + cc] = src[cc * K + k];
            }
#endif
            for (; c < cols; c++) {
                const float *src = B + (j0 + q + c) * K + k0;
                for (int64_t k = 0; k < kc; k++) dst[k * w + c] = src[k];
            }
            for (int64_t k = 0; k < kc; k++)
                for (int64_t cc = cols; cc < w; cc++) dst[k * w + cc] = 0.0f;
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Micro-kernel: c (mr x nr valid of MR x NR, row stride ldc) = init + ap^T bp over kc steps.
 * init: 0 -> zeros, 1 -> beta * c, 2 -> c (continue a previous K-block). */
enum { INIT_ZERO = 0, INIT_BETA = 1, INIT_LOAD = 2 };

static inline void micro_kernel(int64_t kc, const float *restrict ap, const float *restrict bp,
                         float *restrict c, int64_t ldc, int64_t mr, int64_t nr, int init,
                         float beta) {
    float acc[MR][NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = 0.0f;
    if (init != INIT_ZERO) {
        for (int64_t i = 0; i < mr; i++)
            for (int64_t j = 0; j < nr; j++)
                acc[i][j] = (init == INIT_BETA) ? beta * c[i * ldc + j] : c[i * ldc + j];
    }
    for (int64_t k = 0; k < kc; k++) {
        const float *a = ap + k * MR;
        const float *b = bp + k * NR;
        for (int i = 0; i < MR; i++) {
            float ai = a[i];
            for (int j = 0; j < NR; j++) acc[i][j] = fmaf(ai, b[j], acc[i][j]);
        }
    }
    if (mr == MR && nr == NR) {
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) c[i * ldc + j] = acc[i][j];
    } else {
        for (int64_t i = 0; i < mr; i++)
            for (int64_t j = 0; j < nr; j++) c[i * ldc + j] = acc[i][j];
    }
}


/* ---------------------------------------------------------------------------------------- */
/* The SIMD path: per-ISA micro-kernels behind one tile loop.                                */

#ifndef KCS
#define KCS 256 /* K-block of the SIMD path */
#endif
#ifndef NCS
#define NCS 128 /* max columns of a SIMD work item (a multiple of every NR below) */
#endif
#define MR_MAX 16 /* the tallest SIMD micro-tile (size of the packed op(A) strip) */
#ifndef MR_WIDE
#define MR_WIDE 12 /* rows of the AVX-512 32-column micro-tile */
#endif

/* Micro-kernel of the SIMD path, shape (mr x nr valid of MRX x NRX):
 *   c[r][j] = init(c[r][j]) + sum_k op(A)[r][k] * bp[k*NRX + j]    (k = 0..kc-1 in order)
 * bp: one packed B panel (NRX floats per k, zero past column nr, 64-byte aligned); c: row
 * stride ldc, only rows < mr and cols < nr are stored. An MRX-row strip of op(A) comes in one
 * of two layouts, each with a kernel build whose 16 (or 6) row offsets are constants:
 *   k-major  op(A)[r][k] = a[k*acs + r]   A^T read in place (acs = M), or a packed edge strip;
 *   rows     op(A)[r][k] = a[r*KCS + k]   rows of A copied to a fixed stride (acs unused).
 * Rows past mr hold zeros (or, in place, valid data) and are computed but never stored. */
typedef void (*simd_kernel_fn)(int64_t kc, const float *a, int64_t acs, const float *bp,
                               float *c, int64_t ldc, int mr, int nr, int init, float beta);

typedef struct {
    int mr, nr;                   /* micro-tile rows and columns */
    simd_kernel_fn kernel_kmajor; /* op(A) strip k-major */
    simd_kernel_fn kernel_rows;   /* op(A) strip as rows of stride KCS */
    int a_in_place;               /* read full strips of A^T in place (else pack them) */
} simd_isa;

#ifdef AENN_GEMM_AVX2
/* AVX-512, one vector per row: 16 rows x 16 columns = 16 zmm accumulators; per k one B load,
 * 16 A broadcasts and 16 FMAs. Used when op(B) has <= 16 columns (simd_in_force). */
__attribute__((target("avx512f,fma"))) static inline __attribute__((always_inline)) void
kernel_avx512_16x16(int64_t kc, const float *a, int64_t ars, int64_t acs, const float *bp,
                    float *c, int64_t ldc, int mr, int nr, int init, float beta) {
    __mmask16 m = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1u);
    __m512 acc[16];
#pragma GCC unroll 16
    for (int r = 0; r < 16; r++) {
        acc[r] = _mm512_setzero_ps();
        if (init != INIT_ZERO && r < mr) {
            acc[r] = _mm512_maskz_loadu_ps(m, c + r * ldc);
            if (init == INIT_BETA) acc[r] = _mm512_mul_ps(_mm512_set1_ps(beta), acc[r]);
        }
    }
    for (int64_t k = 0; k < kc; k++) {
        __m512 b = _mm512_load_ps(bp + k * 16);
        const float *ak = a + k * acs;
#pragma GCC unroll 16
        for (int r = 0; r < 16; r++)
            acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(ak[r * ars]), b, acc[r]);
    }
#pragma GCC unroll 16
    for (int r = 0; r < 16; r++)
        if (r < mr) _mm512_mask_storeu_ps(c + r * ldc, m, acc[r]);
}

/* AVX-512, two vectors per row: R rows x 32 columns = 2R zmm accumulators; per k two B loads,
 * R A broadcasts (folded into the vfmadd as memory operands) and 2R FMAs. With two FMA units
 * per core a 16 x 16 tile needs 17 loads per 16 FMAs and is bound by the two load ports;
 * R x 32 needs R + 2 per 2R. */
__attribute__((target("avx512f,fma"))) static inline __attribute__((always_inline)) void
kernel_avx512_rx32(const int R, int64_t kc, const float *a, int64_t ars, int64_t acs,
                   const float *bp, float *c, int64_t ldc, int mr, int nr, int init, float beta) {
    __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1u);
    __mmask16 m1 = nr >= 32 ? 0xFFFF : (nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1u));
    __m512 acc[2 * MR_WIDE];
#pragma GCC unroll 16
    for (int r = 0; r < R; r++) {
        acc[2 * r] = _mm512_setzero_ps();
        acc[2 * r + 1] = _mm512_setzero_ps();
        if (init != INIT_ZERO && r < mr) {
            acc[2 * r] = _mm512_maskz_loadu_ps(m0, c + r * ldc);
            acc[2 * r + 1] = _mm512_maskz_loadu_ps(m1, c + r * ldc + 16);
            if (init == INIT_BETA) {
                acc[2 * r] = _mm512_mul_ps(_mm512_set1_ps(beta), acc[2 * r]);
                acc[2 * r + 1] = _mm512_mul_ps(_mm512_set1_ps(beta), acc[2 * r + 1]);
            }
        }
    }
    for (int64_t k = 0; k < kc; k++) {
        __m512 b0 = _mm512_load_ps(bp + k * 32);
        __m512 b1 = _mm512_load_ps(bp + k * 32 + 16);
        const float *ak = a + k * acs;
#pragma GCC unroll 16
        for (int r = 0; r < R; r++) {
            __m512 av = _mm512_set1_ps(ak[r * ars]);
            acc[2 * r] = _mm512_fmadd_ps(av, b0, acc[2 * r]);
            acc[2 * r + 1] = _mm512_fmadd_ps(av, b1, acc[2 * r + 1]);
        }
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; r++)
        if (r < mr) {
            _mm512_mask_storeu_ps(c + r * ldc, m0, acc[2 * r]);
            _mm512_mask_storeu_ps(c + r * ldc + 16, m1, acc[2 * r + 1]);
        }
}

/* AVX2: 6 rows x 16 columns = 12 ymm accumulators (+ 2 B vectors + 1 broadcast of the 16
 * registers); the same per-k operations, two 8-wide halves per row. */
__attribute__((target("avx2,fma"))) static inline __attribute__((always_inline)) void
kernel_avx2_6x16(int64_t kc, const float *a, int64_t ars, int64_t acs, const float *bp,
                 float *c, int64_t ldc, int mr, int nr, int init, float beta) {
    /* lane masks for maskload/maskstore: lane j is on when column j < nr */
    __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), lane);
    __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr - 8), lane);
    __m256 acc[6][2];
#pragma GCC unroll 6
    for (int r = 0; r < 6; r++) {
        acc[r][0] = _mm256_setzero_ps();
        acc[r][1] = _mm256_setzero_ps();
        if (init != INIT_ZERO && r < mr) {
            acc[r][0] = _mm256_maskload_ps(c + r * ldc, m0);
            acc[r][1] = _mm256_maskload_ps(c + r * ldc + 8, m1);
            if (init == INIT_BETA) {
                acc[r][0] = _mm256_mul_ps(_mm256_set1_ps(beta), acc[r][0]);
                acc[r][1] = _mm256_mul_ps(_mm256_set1_ps(beta), acc[r][1]);
            }
        }
    }
    for (int64_t k = 0; k < kc; k++) {
        __m256 b0 = _mm256_load_ps(bp + k * 16);
        __m256 b1 = _mm256_load_ps(bp + k * 16 + 8);
        const float *ak = a + k * acs;
#pragma GCC unroll 6
        for (int r = 0; r < 6; r++) {
            __m256 av = _mm256_broadcast_ss(ak + r * ars);
            acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < 6; r++) {
        if (r < mr) {
            _mm256_maskstore_ps(c + r * ldc, m0, acc[r][0]);
            _mm256_maskstore_ps(c + r * ldc + 8, m1, acc[r][1]);
        }
    }
}

/* The two layouts of each kernel (constant row stride: immediate address offsets). */
__attribute__((target("avx512f,fma"))) static void
kernel_avx512_kmajor(int64_t kc, const float *a, int64_t acs, const float *bp, float *c,
                     int64_t ldc, int mr, int nr, int init, float beta) {
    kernel_avx512_16x16(kc, a, 1, acs, bp, c, ldc, mr, nr, init, beta);
}
__attribute__((target("avx512f,fma"))) static void
kernel_avx512_rows(int64_t kc, const float *a, int64_t acs, const float *bp, float *c,
                   int64_t ldc, int mr, int nr, int init, float beta) {
    kernel_avx512_16x16(kc, a, KCS, 1, bp, c, ldc, mr, nr, init, beta);
}
__attribute__((target("avx2,fma"))) static void
kernel_avx2_kmajor(int64_t kc, const float *a, int64_t acs, const float *bp, float *c,
                   int64_t ldc, int mr, int nr, int init, float beta) {
    kernel_avx2_6x16(kc, a, 1, acs, bp, c, ldc, mr, nr, init, beta);
}
__attribute__((target("avx2,fma"))) static void
kernel_avx2_rows(int64_t kc, const float *a, int64_t acs, const float *bp, float *c,
                 int64_t ldc, int mr, int nr, int init, float beta) {
    kernel_avx2_6x16(kc, a, KCS, 1, bp, c, ldc, mr, nr, init, beta);
}

/* A 16-row strip of A^T is one cache line per k: read in place. 6- and 12-row strips straddle
 * lines and, at power-of-two M, hit few L1 sets: they are packed. On the dense DAE's products
 * (1 thread, Xeon with two FMA units per core) 12 x 32 runs at 150-175 GFLOP/s where 16 x 16
 * ran at 100-160: it needs 14 loads per 24 FMAs instead of 17 per 16. */
__attribute__((target("avx512f,fma"))) static void
kernel_avx512w_kmajor(int64_t kc, const float *a, int64_t acs, const float *bp, float *c,
                      int64_t ldc, int mr, int nr, int init, float beta) {
    kernel_avx512_rx32(MR_WIDE, kc, a, 1, acs, bp, c, ldc, mr, nr, init, beta);
}
__attribute__((target("avx512f,fma"))) static void
kernel_avx512w_rows(int64_t kc, const float *a, int64_t acs, const float *bp, float *c,
                    int64_t ldc, int mr, int nr, int init, float beta) {
    kernel_avx512_rx32(MR_WIDE, kc, a, KCS, 1, bp, c, ldc, mr, nr, init, beta);
}
static const simd_isa simd_avx512 = {MR_WIDE, 32, kernel_avx512w_kmajor, kernel_avx512w_rows, 0};
static const simd_isa simd_avx512_16 = {16, 16, kernel_avx512_kmajor, kernel_avx512_rows, 1};
static const simd_isa simd_avx2 = {6, 16, kernel_avx2_kmajor, kernel_avx2_rows, 0};
#endif

/* One strip of op(A) for the SIMD kernels, w rows, zero past row `rows`:
 *   A as stored (transA == 0): rows layout, ap[r*KCS + k] = A[i0 + r][k0 + k]  (row copies);
 *   A^T (transA != 0):         k-major,     ap[k*w + r]   = A[k0 + k][i0 + r]  (k copies). */
static void pack_a_strip(float *restrict ap, const float *A, int64_t M, int64_t K, int transA,
                         int64_t i0, int64_t rows, int64_t k0, int64_t kc, int w) {
    if (transA) {
        for (int64_t k = 0; k < kc; k++) {
            memcpy(ap + k * w, A + (k0 + k) * M + i0, (size_t)rows * sizeof(float));
            for (int64_t r = rows; r < w; r++) ap[k * w + r] = 0.0f;
        }
        return;
    }
    for (int64_t r = 0; r < rows; r++)
        memcpy(ap + r * KCS, A + (i0 + r) * K + k0, (size_t)kc * sizeof(float));
    for (int64_t r = rows; r < w; r++) memset(ap + r * KCS, 0, (size_t)kc * sizeof(float));
}

/* ---------------------------------------------------------------------------------------- */
/* Work items and dispatch.                                                                  */

typedef struct {
    float *C;
    const float *A, *B;
    int64_t M, N, K;
    int transA, transB;
    float beta;
    const simd_isa *simd; /* the SIMD micro-kernel, or NULL for the generic path */
    int64_t mc, nc;       /* item size used for the split (bits do not depend on it) */
    int64_t tiles_n;      /* items per row of items */
} gemm_ctx;

/* K == 0: nothing to accumulate, C = beta * C (beta == 0 writes zeros without reading C). */
static void scale_tile(const gemm_ctx *g, int64_t i0, int64_t mc, int64_t j0, int64_t nc) {
    for (int64_t i = i0; i < i0 + mc; i++)
        for (int64_t j = j0; j < j0 + nc; j++)
            g->C[i * g->N + j] = (g->beta == 0.0f) ? 0.0f : g->beta * g->C[i * g->N + j];
}

/* One generic output tile: rows [i0, i0+mc), cols [j0, j0+nc). */
static void gemm_tile_generic(const gemm_ctx *g, int64_t i0, int64_t mc, int64_t j0, int64_t nc) {
    float ap[MC * KC]; /* packed op(A) block, 64 KiB */
    float bp[NC * KC]; /* packed op(B) block, 128 KiB */
    for (int64_t k0 = 0; k0 < g->K; k0 += KC) {
        int64_t kc = g->K - k0 < KC ? g->K - k0 : KC;
        int init = k0 > 0 ? INIT_LOAD : (g->beta == 0.0f ? INIT_ZERO : INIT_BETA);
        pack_b(bp, g->B, g->N, g->K, g->transB, j0, nc, k0, kc);
        pack_a(ap, g->A, g->M, g->K, g->transA, i0, mc, k0, kc);
        for (int64_t q = 0; q < nc; q += NR) {
            int64_t nr = nc - q < NR ? nc - q : NR;
            for (int64_t p = 0; p < mc; p += MR) {
                int64_t mr = mc - p < MR ? mc - p : MR;
                float *c = g->C + (i0 + p) * g->N + j0 + q;
                micro_kernel(kc, ap + p * kc, bp + q * kc, c, g->N, mr, nr, init, g->beta);
            }
        }
    }
}

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* One SIMD work item: rows [i0, i0+mc), cols [j0, j0+nc) (nc <= NCS). Per K-block: pack the
 * item's op(B) slice once into nr-wide panels (<= 128 KiB, stays in L2), then for each
 * mr-row strip of op(A) (see pack_a_strip; a full strip of A^T is read in place on AVX-512;
 * the strip stays in L1) run the micro-kernel on every column panel. */
static void gemm_tile_simd(const gemm_ctx *g, const simd_isa *s, int64_t i0, int64_t mc,
                           int64_t j0, int64_t nc) {
    float bp[KCS * NCS] __attribute__((aligned(64))); /* packed op(B) block, 128 KiB */
    float ap[KCS * MR_MAX] __attribute__((aligned(64))); /* packed op(A) strip, 16 KiB */
    int64_t M = g->M, K = g->K;
    /* K-blocks of equal size <= KCS (784 -> 4 x 196, not 3 x 256 + 16: a short last block
     * would pay a whole C reload for few k) */
    int64_t kb = ceil_div(K, ceil_div(K, KCS));
    for (int64_t k0 = 0; k0 < K; k0 += kb) {
        int64_t kc = K - k0 < kb ? K - k0 : kb;
        int init = k0 > 0 ? INIT_LOAD : (g->beta == 0.0f ? INIT_ZERO : INIT_BETA);
        pack_b_panels(bp, g->B, g->N, K, g->transB, j0, nc, k0, kc, s->nr);
        for (int64_t p = 0; p < mc; p += s->mr) {
            int mr = (int)(mc - p < s->mr ? mc - p : s->mr);
            const float *a = ap;
            int64_t acs = s->mr;
            simd_kernel_fn kernel = g->transA ? s->kernel_kmajor : s->kernel_rows;
            if (g->transA && mr == s->mr && s->a_in_place) {
                a = g->A + k0 * M + i0 + p; /* in place */
                acs = M;
            } else {
                pack_a_strip(ap, g->A, M, K, g->transA, i0 + p, mr, k0, kc, s->mr);
            }
            float *c = g->C + (i0 + p) * g->N + j0;
            for (int64_t q = 0; q < nc; q += s->nr) {
                int nr = (int)(nc - q < s->nr ? nc - q : s->nr);
                kernel(kc, a, acs, bp + q * kc, c + q, g->N, mr, nr, init, g->beta);
            }
        }
    }
}

static void gemm_task(void *ctx, int64_t begin, int64_t end) {
    const gemm_ctx *g = (const gemm_ctx *)ctx;
    for (int64_t t = begin; t < end; t++) {
        int64_t i0 = (t / g->tiles_n) * g->mc, j0 = (t % g->tiles_n) * g->nc;
        int64_t mc = g->M - i0 < g->mc ? g->M - i0 : g->mc;
        int64_t nc = g->N - j0 < g->nc ? g->N - j0 : g->nc;
        if (g->K == 0) scale_tile(g, i0, mc, j0, nc);
        else if (g->simd != NULL) gemm_tile_simd(g, g->simd, i0, mc, j0, nc);
        else gemm_tile_generic(g, i0, mc, j0, nc);
    }
}

/* 1: the generic micro-kernel whatever aenn_isa() says (aenn_gemm_set_simd(0)). */
static int gemm_force_generic = 0;

int aenn_gemm_set_simd(int enable) {
    gemm_force_generic = !enable;
    return (!gemm_force_generic && aenn_isa() != AENN_ISA_GENERIC) ? 1 : 0;
}

/* The SIMD micro-kernel for an op(B) of N columns: on AVX-512 the 32-column tile, or the
 * 16-column one when N <= 16 (a 32-wide panel would be more than half padding). Every kernel
 * gives every element the same chain of operations, so the choice changes speed only. */
static const simd_isa *simd_in_force(int64_t N) {
#ifdef AENN_GEMM_AVX2
    int isa = gemm_force_generic ? AENN_ISA_GENERIC : aenn_isa();
    if (isa == AENN_ISA_AVX512) return N <= 16 ? &simd_avx512_16 : &simd_avx512;
    if (isa == AENN_ISA_AVX2) return &simd_avx2;
#endif
    (void)N;
    return NULL;
}

/* Estimated cost of one SIMD item of mc x nc, in 16-lane FMAs: the micro-tiles (mr*nr/16 per k,
 * padding included), packing B (a transposing pack is ~2x a
 * copy) and a fixed cost per item. Only used to choose the split. */
static double simd_item_cost(const simd_isa *s, int64_t mc, int64_t nc, int64_t K, int transA,
                             int transB) {
    double tiles = (double)ceil_div(mc, s->mr) * (double)ceil_div(nc, s->nr);
    double pack = (double)ceil_div(nc, s->nr) * s->nr * (double)K * (transB ? 0.5 : 0.25);
    if (!transA || !s->a_in_place) pack += 0.25 * (double)mc * (double)K; /* op(A) copies */
    return tiles * s->mr * s->nr / 16.0 * (double)K + pack + 2000.0;
}

/* The SIMD split: a grid of rb x cb items (mc rows, nc <= NCS columns, multiples of the
 * micro-tile). aenn_parallel_for hands thread t the contiguous items [n*t/T, n*(t+1)/T), so
 * the grid is chosen to minimise the busiest thread's estimated time, then the item count. */
#ifndef SMALL_WORK
#define SMALL_WORK 20000.0
#endif
static void plan_simd(gemm_ctx *g, int threads) {
    const simd_isa *s = g->simd;
    int64_t M = g->M, N = g->N;
    int64_t cb_min = ceil_div(N, NCS);
    int64_t nc_one = ceil_div(ceil_div(N, cb_min), s->nr) * s->nr; /* fewest column blocks */
    if (nc_one > N) nc_one = N;
    int64_t best_mc = M, best_nc = nc_one;
    /* Small products run whole on the calling thread: waking the pool costs more than the
     * second thread saves below ~SMALL_WORK cycles of work. */
    if (threads > 1 && simd_item_cost(s, M, nc_one, g->K, g->transA, g->transB) *
                           (double)cb_min < SMALL_WORK)
        threads = 1;
    double best = -1.0;
    for (int64_t rb = 1; rb <= (threads > 1 ? 8 : 1); rb++) {
        for (int64_t cb = cb_min; cb <= cb_min + (threads > 1 ? 4 : 0); cb++) {
            int64_t mc = ceil_div(ceil_div(M, rb), s->mr) * s->mr;
            int64_t nc = ceil_div(ceil_div(N, cb), s->nr) * s->nr;
            if (mc > M) mc = M;
            if (nc > N) nc = N;
            int64_t tm = ceil_div(M, mc), tn = ceil_div(N, nc), n = tm * tn;
            /* the four item sizes: [last row of items?][last column of items?] */
            double cost[2][2];
            for (int lr = 0; lr < 2; lr++)
                for (int lc = 0; lc < 2; lc++)
                    cost[lr][lc] = simd_item_cost(s, lr ? M - (tm - 1) * mc : mc,
                                                  lc ? N - (tn - 1) * nc : nc, g->K, g->transA,
                                                  g->transB);
            int parts = threads < n ? threads : (int)n;
            double worst = 0.0;
            for (int t = 0; t < parts; t++) {
                double sum = 0.0;
                for (int64_t it = n * t / parts; it < n * (t + 1) / parts; it++)
                    sum += cost[it / tn == tm - 1][it % tn == tn - 1];
                if (sum > worst) worst = sum;
            }
            if (best < 0.0 || worst < 0.99 * best) {
                best = worst;
                best_mc = mc;
                best_nc = nc;
            }
        }
    }
    g->mc = best_mc;
    g->nc = best_nc;
    g->tiles_n = ceil_div(N, best_nc);
}

static gemm_ctx make_ctx(float *C, const float *A, const float *B, int64_t M, int64_t N,
                         int64_t K, int transA, int transB, float beta, int threads) {
    gemm_ctx g = {C, A, B, M, N, K, transA != 0, transB != 0, beta, simd_in_force(N), MC, NC, 1};
    if (g.simd != NULL) {
        plan_simd(&g, threads);
        return g;
    }
    /* Generic: shrink tiles until every thread has a couple of tiles (only the split changes). */
    while (threads > 1 && ((M + g.mc - 1) / g.mc) * ((N + g.nc - 1) / g.nc) < 2 * threads) {
        if (g.nc > NR && g.nc >= g.mc) g.nc /= 2;
        else if (g.mc > MR) g.mc = (g.mc / 2 + MR - 1) / MR * MR;
        else break;
    }
    g.tiles_n = (N + g.nc - 1) / g.nc;
    return g;
}

void aenn_gemm(float *C, const float *A, const float *B, int64_t M, int64_t N, int64_t K,
               int transA, int transB, float beta) {
    if (M <= 0 || N <= 0) return;
    int threads = aenn_get_num_threads();
    gemm_ctx g = make_ctx(C, A, B, M, N, K, transA, transB, beta, threads);
    int64_t tiles = ((M + g.mc - 1) / g.mc) * g.tiles_n;
    aenn_parallel_for(tiles, 1, gemm_task, &g);
}

void aenn_gemm_serial(float *C, const float *A, const float *B, int64_t M, int64_t N, int64_t K,
                      int transA, int transB, float beta) {
    if (M <= 0 || N <= 0) return;
    gemm_ctx g = make_ctx(C, A, B, M, N, K, transA, transB, beta, 1);
    int64_t tiles = ((M + g.mc - 1) / g.mc) * g.tiles_n;
    gemm_task(&g, 0, tiles);
}
