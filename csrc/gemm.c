/* gemm.c -- C = beta*C + op(A) @ op(B), float32, row-major (see gemm.h for the exact contract).
 *
 * Layout of the fast path (the classic Goto/BLIS scheme, in portable C):
 *   - the output is cut into tiles of mc x nc; a tile is one parallel work item;
 *   - for each K-block of KC, the tile's slice of op(B) is packed into NR-wide column panels and
 *     the slice of op(A) into MR-tall row panels (zero-padded at the edges), both on the stack;
 *   - a MR x NR register-blocked micro-kernel runs the k loop with the accumulators in
 *     registers, starting from the value left in C by the previous K-block.
 * Every element thus sees acc = init; acc += a*b for k = 0, 1, ..., K-1 in order, with a float
 * store/reload between K-blocks (exact). Edge tiles run the same micro-kernel on zero-padded
 * panels and only store the valid part, so their elements get the same bits as full tiles.
 */
#include "gemm.h"

#include <string.h>

#include "cpu.h"

#define MR 4     /* micro-tile rows */
#define NR 8     /* micro-tile columns */
#define KC 256   /* K-block */
#define MC 64    /* max rows of a work tile (multiple of MR) */
#define NC 128   /* max cols of a work tile (multiple of NR) */

/* x86-64 with GCC or Clang: AVX2 and AVX-512 builds of the tile loop are picked at run time
 * through aenn_isa() (cpu.h; the generic one is SSE2). All do the same IEEE operations in the
 * same order (no FMA: -ffp-contract=off, no fma target, explicit mul-then-add), so they give
 * the same bits; only speed differs. The AVX-512 build keeps the 8-wide micro-tile (it gains
 * the 32 vector registers and the AVX-512 encodings, not wider vectors). */
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
            for (int64_t k = 0; k < K; k++) {
                float prod = A_AT(i, k) * B_AT(k, j);
                acc = acc + prod;
            }
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
            for (int j = 0; j < NR; j++) acc[i][j] += ai * b[j];
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

#ifdef AENN_GEMM_AVX2
/* The same micro-kernel with GCC vector types (one NR-wide vector per row), which compilers
 * keep in registers more reliably than a 2-D array; used by the AVX2 tile loop. */
typedef float vec_nr __attribute__((vector_size(NR * sizeof(float))));

static inline __attribute__((always_inline)) void
micro_kernel_vec(int64_t kc, const float *restrict ap, const float *restrict bp,
                 float *restrict c, int64_t ldc, int64_t mr, int64_t nr, int init, float beta) {
    float tmp[MR][NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) tmp[i][j] = 0.0f;
    if (init != INIT_ZERO) {
        for (int64_t i = 0; i < mr; i++)
            for (int64_t j = 0; j < nr; j++)
                tmp[i][j] = (init == INIT_BETA) ? beta * c[i * ldc + j] : c[i * ldc + j];
    }
    vec_nr acc[MR];
    for (int i = 0; i < MR; i++) memcpy(&acc[i], tmp[i], sizeof(vec_nr));
    for (int64_t k = 0; k < kc; k++) {
        vec_nr b;
        memcpy(&b, bp + k * NR, sizeof b);
        for (int i = 0; i < MR; i++) {
            vec_nr prod = ap[k * MR + i] * b;
            acc[i] = acc[i] + prod;
        }
    }
    for (int i = 0; i < MR; i++) memcpy(tmp[i], &acc[i], sizeof(vec_nr));
    for (int64_t i = 0; i < mr; i++)
        for (int64_t j = 0; j < nr; j++) c[i * ldc + j] = tmp[i][j];
}
#endif

/* ---------------------------------------------------------------------------------------- */
/* One output tile: rows [i0, i0+mc), cols [j0, j0+nc). */
typedef struct {
    float *C;
    const float *A, *B;
    int64_t M, N, K;
    int transA, transB;
    float beta;
    int64_t mc, nc;   /* tile size used for the split (bits do not depend on it) */
    int64_t tiles_n;  /* tiles per row of tiles */
} gemm_ctx;

/* The tile loop. Inlined twice: with the generic micro-kernel (vec = 0) and, in a function
 * compiled for AVX2, with the vector-type one (vec = 1). */
static inline __attribute__((always_inline)) void
gemm_tile_impl(const gemm_ctx *g, int64_t i0, int64_t mc, int64_t j0, int64_t nc, int vec) {
    float ap[MC * KC]; /* packed op(A) block, 64 KiB */
    float bp[NC * KC]; /* packed op(B) block, 128 KiB */
    if (g->K == 0) { /* nothing to accumulate: C = beta * C */
        for (int64_t i = i0; i < i0 + mc; i++)
            for (int64_t j = j0; j < j0 + nc; j++)
                g->C[i * g->N + j] = (g->beta == 0.0f) ? 0.0f : g->beta * g->C[i * g->N + j];
        return;
    }
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
#ifdef AENN_GEMM_AVX2
                if (vec) {
                    micro_kernel_vec(kc, ap + p * kc, bp + q * kc, c, g->N, mr, nr, init, g->beta);
                    continue;
                }
#endif
                micro_kernel(kc, ap + p * kc, bp + q * kc, c, g->N, mr, nr, init, g->beta);
            }
        }
    }
}

static void gemm_tile_generic(const gemm_ctx *g, int64_t i0, int64_t mc, int64_t j0, int64_t nc) {
    gemm_tile_impl(g, i0, mc, j0, nc, 0);
}

#ifdef AENN_GEMM_AVX2
__attribute__((target("avx2"))) static void gemm_tile_avx2(const gemm_ctx *g, int64_t i0,
                                                            int64_t mc, int64_t j0, int64_t nc) {
    gemm_tile_impl(g, i0, mc, j0, nc, 1);
}
#endif

#ifdef AENN_GEMM_AVX2
__attribute__((target("avx2,avx512f"))) static void
gemm_tile_avx512(const gemm_ctx *g, int64_t i0, int64_t mc, int64_t j0, int64_t nc) {
    gemm_tile_impl(g, i0, mc, j0, nc, 1);
}
#endif

/* 1: the generic micro-kernel whatever aenn_isa() says (aenn_gemm_set_simd(0)). */
static int gemm_force_generic = 0;

int aenn_gemm_set_simd(int enable) {
    gemm_force_generic = !enable;
    return (!gemm_force_generic && aenn_isa() != AENN_ISA_GENERIC) ? 1 : 0;
}

static void gemm_tile(const gemm_ctx *g, int64_t i0, int64_t mc, int64_t j0, int64_t nc) {
#ifdef AENN_GEMM_AVX2
    int isa = gemm_force_generic ? AENN_ISA_GENERIC : aenn_isa();
    if (isa == AENN_ISA_AVX512) {
        gemm_tile_avx512(g, i0, mc, j0, nc);
        return;
    }
    if (isa == AENN_ISA_AVX2) {
        gemm_tile_avx2(g, i0, mc, j0, nc);
        return;
    }
#endif
    gemm_tile_generic(g, i0, mc, j0, nc);
}

static void gemm_task(void *ctx, int64_t begin, int64_t end) {
    const gemm_ctx *g = (const gemm_ctx *)ctx;
    for (int64_t t = begin; t < end; t++) {
        int64_t i0 = (t / g->tiles_n) * g->mc, j0 = (t % g->tiles_n) * g->nc;
        int64_t mc = g->M - i0 < g->mc ? g->M - i0 : g->mc;
        int64_t nc = g->N - j0 < g->nc ? g->N - j0 : g->nc;
        gemm_tile(g, i0, mc, j0, nc);
    }
}

static gemm_ctx make_ctx(float *C, const float *A, const float *B, int64_t M, int64_t N,
                         int64_t K, int transA, int transB, float beta, int threads) {
    gemm_ctx g = {C, A, B, M, N, K, transA != 0, transB != 0, beta, MC, NC, 1};
    /* Shrink tiles until every thread has a couple of tiles (only the split changes). */
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
