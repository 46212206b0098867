/* aenn.h -- the C core's shared definitions: status codes, the thread pool, sizes.
 *
 * Rules every kernel in csrc/ follows (see docs/internals.md):
 *   - pure C11, no Python.h; never allocate, print, exit or abort;
 *   - outputs first, then inputs and saved caches, then geometry;
 *   - gradients are named dinp, dweight, dbias, dout and are OVERWRITTEN (=), never accumulated;
 *   - sizes and offsets are int64_t; float32 data, C-contiguous, channels-last;
 *   - work is split over what is written; every reduction is cut into fixed-size chunks
 *     (AENN_CHUNK rows) whose partial results are combined in chunk order, so any thread
 *     count gives the same bits.
 */
#ifndef AENN_H
#define AENN_H

#include <stddef.h>
#include <stdint.h>

/* Status codes returned by the few kernels that can fail. */
enum {
    AENN_OK = 0,
    AENN_ERR_SHAPE = 1,    /* inconsistent geometry */
    AENN_ERR_VALUE = 2,    /* an input value out of range (e.g. a label >= classes) */
    AENN_ERR_SCRATCH = 3,  /* the caller's scratch buffer is too small */
};

/* Reductions over the batch (or batch*spatial) axis are computed in chunks of this many rows;
 * partial sums are combined in chunk order. Changing it changes results (not correctness). */
#define AENN_CHUNK 64

/* ---- thread pool (threads.c) ---------------------------------------------------------- */

/* A task body: process items [begin, end). ctx is the caller's argument struct. */
typedef void (*aenn_range_fn)(void *ctx, int64_t begin, int64_t end);

/* Runs fn over [0, n) split into at most num_threads contiguous ranges (the calling thread
 * takes the first). Returns when all ranges are done. Each output element must be written by
 * exactly one item so that the split never changes the result. n < 1 does nothing. Flush-to-
 * zero and denormals-are-zero are on in every thread while fn runs. Small n (< min_items per
 * thread) uses fewer threads. Safe to call from several threads: calls are serialised. */
void aenn_parallel_for(int64_t n, int64_t min_items, aenn_range_fn fn, void *ctx);

int aenn_get_num_threads(void);
/* Sets the pool size (1..AENN_MAX_THREADS); returns the size now in force. */
int aenn_set_num_threads(int n);
#define AENN_MAX_THREADS 256

/* Number of chunks of AENN_CHUNK rows covering n rows. */
static inline int64_t aenn_num_chunks(int64_t n) { return (n + AENN_CHUNK - 1) / AENN_CHUNK; }

#endif /* AENN_H */
