/* rng.h -- Philox4x32-10 counter-based random numbers (Salmon et al., SC 2011).
 *
 * Every random value in aenn comes from here. A draw is addressed by a 64-bit key (the seed
 * generator's key) and a 64-bit draw counter (advanced by one per draw). Element i of a draw of
 * n values reads Philox block b with the 128-bit counter
 *     ctr = (b, attempt, counter_lo, counter_hi)
 * where b = i/4 (i/2 for permutation keys) and attempt = 0 except for the re-draws of the
 * truncated normal. So values depend only on (key, counter, i), never on the thread count.
 * n is limited to AENN_RNG_MAX_N elements (b must fit in 32 bits).
 */
#ifndef AENN_RNG_H
#define AENN_RNG_H

#include "aenn.h"

#define AENN_RNG_MAX_N ((int64_t)1 << 33)

/* One Philox4x32-10 block: out[4] = philox(ctr[4], key[2]). */
void aenn_philox4x32_10(uint32_t out[4], const uint32_t ctr[4], const uint32_t key[2]);

/* out (n,): minval + (maxval - minval) * u, u = (x >> 8) * 2^-24 in [0, 1). */
void aenn_rng_uniform(float *out, int64_t n, const uint32_t key[2], uint64_t counter,
                      float minval, float maxval);

/* out (n,): mean + stddev * z, z standard normal by Box-Muller (both outputs of a pair used). */
void aenn_rng_normal(float *out, int64_t n, const uint32_t key[2], uint64_t counter, float mean,
                     float stddev);

/* out (n,): mean + stddev * z, z standard normal restricted to [-2, 2]: a value outside is
 * re-drawn from the same lane with attempt = 1, 2, ... (after 64 failed attempts z = 0). */
void aenn_rng_truncated_normal(float *out, int64_t n, const uint32_t key[2], uint64_t counter,
                               float mean, float stddev);

/* out (n,): 1.0f where u < keep_prob else 0.0f (u as in aenn_rng_uniform). */
void aenn_rng_bernoulli(float *out, int64_t n, const uint32_t key[2], uint64_t counter,
                        float keep_prob);

/* out (n,): a permutation of 0..n-1: indices sorted by a random 64-bit key (block i/2, words
 * 2*(i%2) (high) and 2*(i%2)+1 (low)), ties broken by index. scratch: n uint64 keys. */
void aenn_rng_permutation(int64_t *out, uint64_t *scratch, int64_t n, const uint32_t key[2],
                          uint64_t counter);

#endif /* AENN_RNG_H */
