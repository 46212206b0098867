/* peak_fp32.c -- the FP32 arithmetic limit of this CPU, measured, for benchmarks/README.md.
 *
 * Runs T threads (argv[1], default 1), each a loop of independent dependency chains of the
 * widest vectors the build targets (AVX-512 with -mavx512f, else AVX2 with -mavx2), in two variants:
 *   fma:     acc = fma(acc, b, c)                     (2 FLOP per lane per instruction)
 *   mul+add: m = m * b; a = a + c  on 12 + 12 separate chains (1 FLOP per lane per instruction)
 * and prints GFLOP/s per variant, summed over threads. aenn's GEMM and convolution kernels use
 * FMA (docs/determinism.md, rule 1), so the fma figure is their ceiling. On AMD Zen 4 both are
 * equal (its two ADD pipes are separate from the two MUL/FMA pipes); on an Intel Xeon with two
 * FMA units per core the fma figure is twice the mul+add one (231 vs 115 GFLOP/s per core).
 *
 *   cc -O2 -mavx512f -mfma -pthread benchmarks/peak_fp32.c -o /tmp/peak_fp32 && /tmp/peak_fp32 2
 *   cc -O2 -mavx2 -mfma -pthread benchmarks/peak_fp32.c -o /tmp/peak_fp32 && /tmp/peak_fp32 2
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROUNDS 20000000L /* iterations of the 12-instruction body */

#if defined(__AVX512F__)
#define LANES 16
typedef __m512 vec;
#define SET1 _mm512_set1_ps
#define FMADD _mm512_fmadd_ps
#define MUL _mm512_mul_ps
#define ADD _mm512_add_ps
#define REDUCE _mm512_reduce_add_ps
#else
#define LANES 8
typedef __m256 vec;
#define SET1 _mm256_set1_ps
#define FMADD _mm256_fmadd_ps
#define MUL _mm256_mul_ps
#define ADD _mm256_add_ps
static float REDUCE(__m256 v) {
    float t[8], s = 0;
    _mm256_storeu_ps(t, v);
    for (int i = 0; i < 8; i++) s += t[i];
    return s;
}
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static float sink[64];
#define KEEP(v) __asm__ volatile("" : "+v"(v))

/* Twelve named accumulators (not an array) so they stay in registers. */
#define FOR12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

static void *run_fma(void *arg) {
    vec b = SET1(1.0000001f), c = SET1(1e-7f);
#define DECL(i) vec acc##i = SET1((float)i);
#define STEP(i) acc##i = FMADD(acc##i, b, c); KEEP(acc##i);
#define SUM(i) s += REDUCE(acc##i);
    FOR12(DECL)
    for (long r = 0; r < ROUNDS; r++) { FOR12(STEP) }
    float s = 0;
    FOR12(SUM)
#undef DECL
#undef STEP
#undef SUM
    sink[(long)arg] = s;
    return NULL;
}

static void *run_muladd(void *arg) {
    vec b = SET1(1.0000001f), c = SET1(1e-7f);
#define DECL(i) vec m##i = SET1((float)i), a##i = m##i;
#define STEP(i) m##i = MUL(m##i, b); a##i = ADD(a##i, c); KEEP(m##i); KEEP(a##i);
#define SUM(i) s += REDUCE(m##i) + REDUCE(a##i);
    FOR12(DECL)
    for (long r = 0; r < ROUNDS; r++) { FOR12(STEP) }
    float s = 0;
    FOR12(SUM)
#undef DECL
#undef STEP
#undef SUM
    sink[(long)arg] = s;
    return NULL;
}

/* GFLOP/s of `fn` on `threads` threads; flop_per_round counts all lanes of one body. */
static double measure(void *(*fn)(void *), int threads, double flop_per_round) {
    pthread_t tid[64];
    double t = now();
    for (long i = 0; i < threads; i++) pthread_create(&tid[i], NULL, fn, (void *)i);
    for (int i = 0; i < threads; i++) pthread_join(tid[i], NULL);
    t = now() - t;
    return threads * (double)ROUNDS * flop_per_round / t / 1e9;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (threads < 1 || threads > 64) threads = 1;
    /* fma body: 12 instructions x LANES x 2 FLOP; mul+add body: 24 instructions x LANES */
    printf("threads %d  %d-float vectors  fma %.1f GFLOP/s  mul+add %.1f GFLOP/s\n", threads,
           LANES, measure(run_fma, threads, 12 * LANES * 2), measure(run_muladd, threads, 24 * LANES));
    return 0;
}
