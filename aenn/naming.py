"""Unique default names, as Keras gives them: dense, dense_1, dense_2, ... per process."""

_counts = {}


def unique_name(base):
    n = _counts.get(base, 0)
    _counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def reset():
    """Forgets every name handed out (backend.clear_session())."""
    _counts.clear()
