"""Keep the step buffers' memory in the process while `fit` / `evaluate` / `predict` run.

Every training step allocates its layer outputs and gradients afresh (NumPy arrays of up to a
few MB: a 128 x 28 x 28 x 16 float32 activation is 6.4 MB) and frees them at the end of the
step. With glibc's default settings, freeing such a block either unmaps it (blocks above the
mmap threshold) or, once the free space at the top of the heap exceeds the trim threshold,
hands it back to the kernel; the next step then page-faults the same memory in again, zeroed.
On the conv denoiser (batch 128) that is ~2,200 page faults per step, 15-20% of the step's
CPU time.

`keep_heap()` raises both thresholds while a loop runs (blocks up to 32 MB come from the heap
and freed memory stays for the next step), then returns the free heap memory to the kernel
(`malloc_trim`) and leaves the thresholds where glibc's own dynamic rule takes them once a
32 MB block has been freed (mmap 32 MB, trim 64 MB; setting them by hand turns that rule
off, and a lower trim threshold would make every later step outside `fit`, e.g.
`train_on_batch`, give memory back and fault it in again). The peak memory is the same (the
step's buffers are needed at once either way); the numbers computed are unaffected. Only on
glibc (Linux); elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import sys
import threading

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
_MMAP_MAX = 32 << 20  # the largest mmap threshold glibc accepts on 64-bit (HEAP_MAX_SIZE / 2)
_TRIM_AFTER = 2 * _MMAP_MAX  # where glibc's own dynamic rule puts it (2 x mmap threshold)
_TRIM_KEEP = 1 << 30

_lock = threading.Lock()
_depth = 0
_libc = None


def _glibc():
    """The process's glibc (with mallopt and malloc_trim), or False."""
    global _libc
    if _libc is None:
        _libc = False
        if sys.platform.startswith("linux"):
            try:
                lib = ctypes.CDLL(None)
                lib.gnu_get_libc_version  # glibc only (musl has no mallopt / malloc_trim)
                lib.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
                lib.malloc_trim.argtypes = [ctypes.c_size_t]
                _libc = lib
            except (OSError, AttributeError):
                pass
    return _libc


class keep_heap:
    """Context manager (re-entrant: `evaluate` inside `fit` keeps the outer setting)."""

    __slots__ = ()

    def __enter__(self):
        global _depth
        lib = _glibc()
        with _lock:
            if lib and _depth == 0:
                lib.mallopt(_M_MMAP_THRESHOLD, _MMAP_MAX)
                lib.mallopt(_M_TRIM_THRESHOLD, _TRIM_KEEP)
            _depth += 1
        return self

    def __exit__(self, *exc):
        global _depth
        lib = _glibc()
        with _lock:
            _depth -= 1
            if lib and _depth == 0:
                lib.mallopt(_M_TRIM_THRESHOLD, _TRIM_AFTER)
                lib.malloc_trim(0)
        return False
