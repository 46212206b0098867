/* threads.c -- a small persistent thread pool (pthreads, or Win32 threads on Windows).
 *
 * aenn_parallel_for(n, ...) cuts [0, n) into P contiguous parts, part p = [n*p/P, n*(p+1)/P),
 * P <= the pool size. The parts are CLAIMED, not assigned: the caller and every awake worker
 * take the next unclaimed part from one atomic counter until none is left, and the caller
 * waits only for parts somebody has claimed. So when the machine is busy (a browser, another
 * training run) and a worker is not scheduled, the caller runs its parts instead of waiting a
 * scheduler time slice for it. Workers wait on a condition variable between jobs (after a
 * short spin). The split only decides WHO computes an item, never HOW: kernels write each
 * output from one item, so results do not depend on P or on who ran which part.
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
    /* Claim word of the current job: (generation << 32) | next unclaimed part. One word, so a
     * claim (compare-and-swap) can only succeed while its job is still the current one. */
    _Atomic uint64_t claim;
    _Atomic int done;            /* parts of the current job finished */
    /* the jobs, double-buffered by generation parity: job g is written before g is published
     * and is not overwritten before job g + 2, which starts only after g + 1 is finished */
    struct {
        aenn_range_fn fn;
        void *ctx;
        int64_t n;
        int parts;
    } job[2];
} pool_t;

static pool_t pool;
static int pool_initialised = 0;

typedef struct {
    uint64_t start_generation; /* the job counter when the worker was created */
} worker_arg_t;
static worker_arg_t worker_args[AENN_MAX_THREADS];

static void run_part(aenn_range_fn fn, void *ctx, int64_t n, int parts, int64_t p) {
    int64_t begin = n * p / parts, end = n * (p + 1) / parts;
    if (end > begin) fn(ctx, begin, end);
}

/* Claims and runs parts of job `gen` until none is left or the job is no longer current.
 * Called by the caller and by the workers. */
static void run_claims(uint64_t gen) {
    aenn_range_fn fn = pool.job[gen & 1].fn;
    void *ctx = pool.job[gen & 1].ctx;
    int64_t n = pool.job[gen & 1].n;
    int parts = pool.job[gen & 1].parts;
    uint64_t word = atomic_load_explicit(&pool.claim, memory_order_acquire);
    for (;;) {
        if ((word >> 32) != (gen & 0xffffffffu) || (int64_t)(word & 0xffffffffu) >= parts)
            return; /* another job, or every part taken */
        if (!atomic_compare_exchange_weak_explicit(&pool.claim, &word, word + 1,
                                                   memory_order_acq_rel, memory_order_acquire))
            continue; /* `word` now holds the current value: look again */
        /* The claim succeeded while job `gen` was current, so the fields read above were
         * that job's (its buffer is rewritten only for job gen + 2). */
        run_part(fn, ctx, n, parts, (int64_t)(word & 0xffffffffu));
        if (atomic_fetch_add_explicit(&pool.done, 1, memory_order_acq_rel) + 1 == parts) {
            mutex_lock(&pool.lock); /* the caller may be about to sleep: wake it under the lock */
            cond_broadcast(&pool.work_done);
            mutex_unlock(&pool.lock);
        }
        word = atomic_load_explicit(&pool.claim, memory_order_acquire);
    }
}

#ifdef _WIN32
static DWORD WINAPI worker_main(LPVOID p)
#else
static void *worker_main(void *p)
#endif
{
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
        /* Only the newest job matters: older ones are finished or being finished by others. */
        seen = atomic_load_explicit(&pool.generation, memory_order_acquire);
        run_claims(seen);
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
        uint64_t gen = atomic_load_explicit(&pool.generation, memory_order_relaxed) + 1;
        pool.job[gen & 1].fn = fn;
        pool.job[gen & 1].ctx = ctx;
        pool.job[gen & 1].n = n;
        pool.job[gen & 1].parts = parts;
        atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
        atomic_store_explicit(&pool.claim, (gen & 0xffffffffu) << 32, memory_order_release);
        mutex_lock(&pool.lock);
        atomic_store_explicit(&pool.generation, gen, memory_order_release);
        cond_broadcast(&pool.work_ready);
        mutex_unlock(&pool.lock);
        run_claims(gen); /* the caller takes parts too, all of them if no worker is awake */
        int spins = 0;
        while (atomic_load_explicit(&pool.done, memory_order_acquire) < parts &&
               spins++ < SPIN_ROUNDS)
            cpu_relax();
        if (atomic_load_explicit(&pool.done, memory_order_acquire) < parts) {
            mutex_lock(&pool.lock);
            while (atomic_load_explicit(&pool.done, memory_order_acquire) < parts)
                cond_wait(&pool.work_done, &pool.lock);
            mutex_unlock(&pool.lock);
        }
    }
    ftz_leave(saved);
    mutex_unlock(&pool.call_lock);
}
