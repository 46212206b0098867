"""NumPy twin of csrc/rng.c: Philox4x32-10 and the float32 fills built on it.

Same names and argument order as the `_core.rng_*` functions minus the preallocated output,
which is returned. The float32 arithmetic (including aenn's own log and sin/cos of
csrc/mathfn.h, mirrored below operation by operation) is done in numpy float32, so every
result is bit-identical to the C kernels. Slow but readable: for tests only.
"""

import numpy as np

M0, M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
W0, W1 = 0x9E3779B9, 0xBB67AE85
MASK32 = np.uint64(0xFFFFFFFF)
MAX_N = 1 << 33

f32 = np.float32


def philox4x32_10(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 on arrays (or scalars) of 32-bit counter words; returns 4 uint32 arrays."""
    c = [np.asarray(x, dtype=np.uint64) & MASK32 for x in (c0, c1, c2, c3)]
    k0, k1 = int(k0) & 0xFFFFFFFF, int(k1) & 0xFFFFFFFF
    for r in range(10):
        if r > 0:
            k0, k1 = (k0 + W0) & 0xFFFFFFFF, (k1 + W1) & 0xFFFFFFFF
        p0 = M0 * c[0]
        p1 = M1 * c[2]
        hi0, lo0 = p0 >> np.uint64(32), p0 & MASK32
        hi1, lo1 = p1 >> np.uint64(32), p1 & MASK32
        c = [hi1 ^ c[1] ^ np.uint64(k0), lo1, hi0 ^ c[3] ^ np.uint64(k1), lo0]
    return [x.astype(np.uint32) for x in c]


def _blocks(nblocks, k0, k1, counter, attempt=0):
    """(nblocks, 4) uint32 words of blocks 0..nblocks-1 of a draw."""
    b = np.arange(nblocks, dtype=np.uint64)
    counter = int(counter)
    words = philox4x32_10(b, np.full_like(b, attempt), np.full_like(b, counter & 0xFFFFFFFF),
                          np.full_like(b, (counter >> 32) & 0xFFFFFFFF), k0, k1)
    return np.stack(words, axis=1)


def _u01(x):
    return (x >> np.uint32(8)).astype(f32) * f32(2.0 ** -24)


def _u01_open0(x):
    return ((x >> np.uint32(8)) + np.uint32(1)).astype(f32) * f32(2.0 ** -24)


def aenn_logf(x):
    """Mirror of aenn_logf for normal positive float32 x (all the rng needs)."""
    x = np.asarray(x, dtype=f32)
    u = x.view(np.uint32)
    e = (u >> np.uint32(23)).astype(np.int32) - 127
    m = ((u & np.uint32(0x007FFFFF)) | np.uint32(0x3F800000)).view(f32)
    big = m > f32(1.41421356)
    m = np.where(big, m * f32(0.5), m)
    e = e + big.astype(np.int32)
    f = m - f32(1)
    s = f / (f32(2) + f)
    z = s * s
    p = f32(2) / f32(11)
    p = p * z + f32(2) / f32(9)
    p = p * z + f32(2) / f32(7)
    p = p * z + f32(2) / f32(5)
    p = p * z + f32(2) / f32(3)
    log_m = f32(2) * s + s * z * p
    ln2_hi, ln2_lo = f32(0.693145751953125), f32(1.428606765330187e-06)
    ef = e.astype(f32)
    return (ef * ln2_lo + log_m) + ef * ln2_hi


def aenn_sincos_2pi(v):
    """Mirror of aenn_sincos_2pi for float32 v in [0, 1): returns (sin, cos) of 2 pi v."""
    v = np.asarray(v, dtype=f32)
    q = (v * f32(4) + f32(0.5)).astype(np.int32)
    x = (v - q.astype(f32) * f32(0.25)) * f32(6.28318530717958648)
    z = x * x
    sp = f32(1) / f32(362880)
    sp = sp * z - f32(1) / f32(5040)
    sp = sp * z + f32(1) / f32(120)
    sp = sp * z - f32(1) / f32(6)
    sn = x + x * z * sp
    cp = f32(1) / f32(40320)
    cp = cp * z - f32(1) / f32(720)
    cp = cp * z + f32(1) / f32(24)
    cp = cp * z - f32(0.5)
    cs = f32(1) + z * cp
    quarter = q & 3
    s = np.select([quarter == 0, quarter == 1, quarter == 2], [sn, cs, -sn], -cs)
    c = np.select([quarter == 0, quarter == 1, quarter == 2], [cs, -sn, -cs], sn)
    return s.astype(f32), c.astype(f32)


def _box_muller(x0, x1):
    r = np.sqrt(f32(-2) * aenn_logf(_u01_open0(x0)))
    s, c = aenn_sincos_2pi(_u01(x1))
    return r * c, r * s


def _normals(x):
    """(nblocks, 4) words -> (nblocks, 4) standard normals."""
    z0, z1 = _box_muller(x[:, 0], x[:, 1])
    z2, z3 = _box_muller(x[:, 2], x[:, 3])
    return np.stack([z0, z1, z2, z3], axis=1)


def rng_uniform(shape, k0, k1, counter, minval, maxval):
    n = int(np.prod(shape))
    x = _blocks((n + 3) // 4, k0, k1, counter).reshape(-1)[:n]
    lo, hi = f32(minval), f32(maxval)
    return (lo + (hi - lo) * _u01(x)).reshape(shape)


def rng_normal(shape, k0, k1, counter, mean, stddev):
    n = int(np.prod(shape))
    z = _normals(_blocks((n + 3) // 4, k0, k1, counter)).reshape(-1)[:n]
    return (f32(mean) + f32(stddev) * z).reshape(shape)


def rng_truncated_normal(shape, k0, k1, counter, mean, stddev):
    n = int(np.prod(shape))
    nb = (n + 3) // 4
    z = np.zeros(nb * 4, dtype=f32)
    done = np.zeros(nb * 4, dtype=bool)
    for attempt in range(64):
        t = _normals(_blocks(nb, k0, k1, counter, attempt)).reshape(-1)
        take = ~done & (t >= f32(-2)) & (t <= f32(2))
        z[take] = t[take]
        done |= take
        if done[:n].all():
            break
    return (f32(mean) + f32(stddev) * z[:n]).reshape(shape)


def rng_bernoulli(shape, k0, k1, counter, keep_prob):
    n = int(np.prod(shape))
    x = _blocks((n + 3) // 4, k0, k1, counter).reshape(-1)[:n]
    return (_u01(x) < f32(keep_prob)).astype(f32).reshape(shape)


def rng_permutation(n, k0, k1, counter):
    x = _blocks((n + 1) // 2, k0, k1, counter).astype(np.uint64)
    keys = np.stack([(x[:, 0] << np.uint64(32)) | x[:, 1],
                     (x[:, 2] << np.uint64(32)) | x[:, 3]], axis=1).reshape(-1)[:n]
    return np.lexsort((np.arange(n), keys)).astype(np.int64)
