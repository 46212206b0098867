"""fit / evaluate / predict use the caller's float32 C-contiguous arrays in place.

A copy of a training set doubles its memory (issue 4: peak memory while training <= the data
plus 150 MB). tracemalloc sees NumPy's data buffers, so its peak during `fit` on N samples
must stay far below the bytes of the arrays when nothing copies them.
"""

import tracemalloc

import numpy as np
import pytest

import aenn
from aenn import layers
from aenn.models import Sequential

N, D = 4096, 64  # x and y: 1 MiB each; one batch of 32: 8 KiB


def _model():
    aenn.utils.set_random_seed(0)
    model = Sequential([aenn.Input((D,)), layers.Dense(8, activation="relu"),
                        layers.Dense(D, activation="sigmoid")])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def _data():
    rng = np.random.default_rng(1)
    x = rng.random((N, D), dtype=np.float32)
    return x, x.copy()


def _peak_during(fn):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        peak = tracemalloc.get_traced_memory()[1] - base
        return peak
    finally:
        tracemalloc.stop()


def test_fit_does_not_copy_float32_inputs():
    model = _model()
    x, y = _data()
    model.fit(x[:64], y[:64], batch_size=32, epochs=1, verbose=0)  # builds weights / slots
    x0, y0 = x.copy(), y.copy()
    peak = _peak_during(lambda: model.fit(x, y, batch_size=32, epochs=1, verbose=0))
    # A copy of x alone would be x.nbytes (1 MiB); the steps need a few KiB each.
    assert peak < x.nbytes / 4, (peak, x.nbytes)
    np.testing.assert_array_equal(x, x0)  # the caller's arrays are never written
    np.testing.assert_array_equal(y, y0)
    assert x.flags.writeable and y.flags.writeable


def test_fit_validation_and_evaluate_predict_do_not_copy():
    model = _model()
    x, y = _data()
    model.fit(x[:64], y[:64], batch_size=32, epochs=1, verbose=0)
    peak = _peak_during(lambda: model.fit(x, y, batch_size=32, epochs=1, verbose=0,
                                          validation_split=0.5))
    assert peak < x.nbytes / 4, peak
    peak = _peak_during(lambda: model.fit(x[: N // 2], y[: N // 2], batch_size=32, epochs=1,
                                          verbose=0, validation_data=(x[N // 2:], y[N // 2:])))
    assert peak < x.nbytes / 4, peak
    peak = _peak_during(lambda: model.evaluate(x, y, batch_size=32, verbose=0))
    assert peak < x.nbytes / 4, peak
    # predict returns one new (N, D) array: that is the only large allocation.
    peak = _peak_during(lambda: model.predict(x, batch_size=32, verbose=0))
    assert peak < x.nbytes * 1.25 + x.nbytes / 4, peak


def test_other_dtypes_and_layouts_are_converted_with_same_results():
    """float64 / Fortran-order inputs are converted once (a copy); the training is the same."""
    x, y = _data()
    x, y = x[:512], y[:512]
    ref = _model()
    ref.fit(x, y, batch_size=32, epochs=2, verbose=0)
    for xx, yy in ((x.astype(np.float64), y.astype(np.float64)),
                   (np.asfortranarray(x), np.asfortranarray(y))):
        m = _model()
        m.fit(xx, yy, batch_size=32, epochs=2, verbose=0)
        for a, b in zip(ref.get_weights(), m.get_weights()):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad,word", [(np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "inf")])
def test_non_finite_values_are_still_rejected_without_a_copy(bad, word):
    model = _model()
    x, y = _data()
    x = x[:256].copy()
    x[100, 3] = bad
    with pytest.raises(ValueError, match=word):
        model.fit(x, y[:256], verbose=0)
    with pytest.raises(ValueError, match=word):
        model.fit(y[:256], x, verbose=0)


def test_layers_cannot_write_into_the_callers_array():
    """The arrays aenn holds are read-only views: an in-place write raises."""
    model = _model()
    x, _ = _data()
    (view,) = model._prepare_x(x)
    assert np.shares_memory(view, x) and not view.flags.writeable
    with pytest.raises(ValueError):
        view[0, 0] = 1.0
    assert x.flags.writeable
