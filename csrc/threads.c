/* threads.c -- a small persistent thread pool (pthreads, or Win32 threads on Windows).
 *
 * aenn_parallel_for(n, ...) cuts [0, n) into T contiguous ranges, range t = [n*t/T, n*(t+1)/T),
 * hands ranges 1..T-1 to the workers and runs range 0 on the calling thread. Workers wait on a
 * condition variable between jobs (after a short spin). The split only decides WHO computes an
 * item, never HOW: kernels write each output from one item, so results do not depend on T.
 */
#include "aenn.h"

#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <xmmintrin.h>
#define AENN_HAVE_MXCSR 1
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

/* Workers and the caller spin this many rounds on the job counter before sleeping on a condition
 * variable: a training step calls many small kernels back to back, and a futex wake-up costs
 * tens of microseconds, more than a whole small kernel. */
#define SPIN_ROUNDS 20000

#ifdef _WIN32
#include <windows.h>
typedef HANDLE thread_t;
typedef CRITICAL_SECTION mutex_t;
typedef CONDITION_VARIABLE cond_t;
#define mutex_init(m) InitializeCriticalSection(m)
#define mutex_lock(m) EnterCriticalSection(m)
#define mutex_unlock(m) LeaveCriticalSection(m)
#define cond_init(c) InitializeConditionVariable(c)
#define cond_wait(c, m) SleepConditionVariableCS(c, m, INFINITE)
#define cond_broadcast(c) WakeAllConditionVariable(c)
#else
#include <pthread.h>
typedef pthread_t thread_t;
typedef pthread_mutex_t mutex_t;
typedef pthread_cond_t cond_t;
#define mutex_init(m) pthread_mutex_init(m, NULL)
#define mutex_lock(m) pthread_mutex_lock(m)
#define mutex_unlock(m) pthread_mutex_unlock(m)
#define cond_init(c) pthread_cond_init(c, NULL)
#define cond_wait(c, m) pthread_cond_wait(c, m)
#define cond_broadcast(c) pthread_cond_broadcast(c)
#endif

/* Flush-to-zero (bit 15) and denormals-are-zero (bit 6) in MXCSR; a no-op elsewhere
 * (AArch64 would set FZ in FPCR; left for the NEON work). */
static unsigned int ftz_enter(void) {
#ifdef AENN_HAVE_MXCSR
    unsigned int old = _mm_getcsr();
    _mm_setcsr(old | 0x8040u);
    return old;
#else
    return 0;
#endif
}
static void ftz_leave(unsigned int old) {
#ifdef AENN_HAVE_MXCSR
    _mm_setcsr(old);
#else
    (void)old;
#endif
}

typedef struct {
    mutex_t lock;          /* protects everything below */
    cond_t work_ready;     /* signalled when a new job (generation) starts */
    cond_t work_done;      /* signalled when the last worker finishes a job */
    mutex_t call_lock;     /* serialises aenn_parallel_for calls from several threads */
    int started;           /* workers created so far (= pool size - 1) */
    int size;              /* threads used per job, including the caller */
    _Atomic uint64_t generation; /* job counter; the job fields are published before it moves */
    _Atomic int pending;         /* workers still running the current job */
    /* the current job */
    aenn_range_fn fn;
    void *ctx;
    int64_t n;
    int parts;
} pool_t;

static pool_t pool;
static int pool_initialised = 0;

typedef struct {
    int index;              /* 1..AENN_MAX_THREADS-1 */
    uint64_t start_generation; /* the job counter when the worker was created */
} worker_arg_t;
static worker_arg_t worker_args[AENN_MAX_THREADS];

static void run_part(aenn_range_fn fn, void *ctx, int64_t n, int parts, int t) {
    int64_t begin = n * t / parts, end = n * (t + 1) / parts;
    if (end > begin) fn(ctx, begin, end);
}

#ifdef _WIN32
static DWORD WINAPI worker_main(LPVOID p)
#else
static void *worker_main(void *p)
#endif
{
    int index = ((worker_arg_t *)p)->index;
    /* Jobs posted after creation count, even those posted before this thread first runs. */
    uint64_t seen = ((worker_arg_t *)p)->start_generation;
    ftz_enter(); /* workers keep FTZ/DAZ for their whole life */
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&pool.generation, memory_order_acquire) == seen &&
               spins++ < SPIN_ROUNDS)
            cpu_relax();
        if (atomic_load_explicit(&pool.generation, memory_order_acquire) == seen) {
            mutex_lock(&pool.lock);
            while (atomic_load_explicit(&pool.generation, memory_order_acquire) == seen)
                cond_wait(&pool.work_ready, &pool.lock);
            mutex_unlock(&pool.lock);
        }
        seen = atomic_load_explicit(&pool.generation, memory_order_acquire);
        aenn_range_fn fn = pool.fn;
        void *ctx = pool.ctx;
        int64_t n = pool.n;
        int parts = pool.parts;
        if (index < parts) run_part(fn, ctx, n, parts, index);
        if (atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_acq_rel) == 1) {
            mutex_lock(&pool.lock); /* the caller may be about to sleep: wake it under the lock */
            cond_broadcast(&pool.work_done);
            mutex_unlock(&pool.lock);
        }
    }
#ifdef _WIN32
    return 0;
#else
    return NULL;
#endif
}

static void pool_init_once(void) {
    if (pool_initialised) return;
    memset(&pool, 0, sizeof pool);
    mutex_init(&pool.lock);
    mutex_init(&pool.call_lock);
    cond_init(&pool.work_ready);
    cond_init(&pool.work_done);
    pool.size = 1;
    pool_initialised = 1;
}

int aenn_get_num_threads(void) {
    pool_init_once();
    return pool.size;
}

/* Not thread-safe against concurrent set_num_threads calls; the Python wrapper holds the GIL. */
int aenn_set_num_threads(int n) {
    pool_init_once();
    if (n < 1) n = 1;
    if (n > AENN_MAX_THREADS) n = AENN_MAX_THREADS;
    mutex_lock(&pool.call_lock);
    while (pool.started < n - 1) {
        int index = pool.started + 1;
        worker_args[index].index = index;
        worker_args[index].start_generation = atomic_load(&pool.generation);
#ifdef _WIN32
        HANDLE h = CreateThread(NULL, 0, worker_main, &worker_args[index], 0, NULL);
        if (h == NULL) break;
        CloseHandle(h);
#else
        thread_t th;
        if (pthread_create(&th, NULL, worker_main, &worker_args[index]) != 0) break;
        pthread_detach(th);
#endif
        pool.started++;
    }
    pool.size = (n - 1 <= pool.started) ? n : pool.started + 1;
    mutex_unlock(&pool.call_lock);
    return pool.size;
}

void aenn_parallel_for(int64_t n, int64_t min_items, aenn_range_fn fn, void *ctx) {
    if (n < 1) return;
    pool_init_once();
    if (min_items < 1) min_items = 1;
    mutex_lock(&pool.call_lock);
    int parts = pool.size;
    if (parts > n / min_items) parts = (int)(n / min_items);
    if (parts < 1) parts = 1;
    unsigned int saved = ftz_enter();
    if (parts == 1) {
        fn(ctx, 0, n);
    } else {
        pool.fn = fn;
        pool.ctx = ctx;
        pool.n = n;
        pool.parts = parts;
        /* every worker wakes, runs its part if it has one, and counts itself done */
        atomic_store_explicit(&pool.pending, pool.started, memory_order_relaxed);
        mutex_lock(&pool.lock);
        atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
        cond_broadcast(&pool.work_ready);
        mutex_unlock(&pool.lock);
        run_part(fn, ctx, n, parts, 0);
        int spins = 0;
        while (atomic_load_explicit(&pool.pending, memory_order_acquire) > 0 &&
               spins++ < SPIN_ROUNDS)
            cpu_relax();
        if (atomic_load_explicit(&pool.pending, memory_order_acquire) > 0) {
            mutex_lock(&pool.lock);
            while (atomic_load_explicit(&pool.pending, memory_order_acquire) > 0)
                cond_wait(&pool.work_done, &pool.lock);
            mutex_unlock(&pool.lock);
        }
    }
    ftz_leave(saved);
    mutex_unlock(&pool.call_lock);
}
