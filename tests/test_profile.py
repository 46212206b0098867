"""fit(profile=True): per-layer rows, C time within the step, no change to the results."""

import numpy as np
import pytest

import aenn
from aenn import _core, layers
from aenn.models import profiler


def _model():
    aenn.utils.set_random_seed(1)
    model = aenn.Sequential([layers.Input((12,)), layers.Dense(8, activation="relu", name="d1"),
                             layers.BatchNormalization(name="bn"),
                             layers.Dense(3, activation="softmax", name="d2")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 12)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 40)]
    return x, y


def test_profile_rows_and_totals(capsys):
    x, y = _data()
    hist = _model().fit(x, y, batch_size=16, epochs=2, verbose=0, profile=True,
                        validation_split=0.2)
    rep = hist.profile
    assert rep["steps"] == 4  # 32 training samples / 16 per batch x 2 epochs
    rows = {(r["name"], r["pass"]): r for r in rep["rows"]}
    for name in ("d1", "bn", "d2"):
        for pass_name in ("forward", "backward"):
            r = rows[(name, pass_name)]
            assert r["calls"] == 4
            assert 0 <= r["c_ms_per_step"] <= r["ms_per_step"] * 1.05 + 1e-3
    assert rows[("d1", "forward")]["c_ms_per_step"] > 0  # the dense kernel was timed
    assert rows[("optimizer", "step")]["c_ms_per_step"] > 0
    assert rows[("loss", "step")]["calls"] == 4
    total_rows = sum(r["ms_per_step"] for r in rep["rows"])
    assert total_rows == pytest.approx(rep["ms_per_step"], rel=0.05, abs=1e-3)
    assert 0.0 < rep["outside_c_share"] < 1.0
    assert rep["c_ms_per_step"] + rep["outside_c_ms_per_step"] == pytest.approx(rep["ms_per_step"])
    out = capsys.readouterr().out
    assert "outside C" in out and "d1" in out


def test_profile_restores_core_and_keeps_results():
    x, y = _data()
    before = _core.dense_forward
    m1, m2 = _model(), _model()
    h1 = m1.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    h2 = m2.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False, profile=True)
    assert _core.dense_forward is before
    assert profiler.ACTIVE is None
    assert h1.history == h2.history
    for a, b in zip(m1.get_weights(), m2.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_profile_nested_model_self_time():
    aenn.utils.set_random_seed(2)
    inner = aenn.Sequential([layers.Input((6,)), layers.Dense(4, name="inner_dense")],
                            name="inner")
    inp = aenn.Input((6,))
    out = layers.Dense(2, name="head")(inner(inp))
    model = aenn.Model(inp, out)
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((8, 6), "float32")
    rep = model.fit(x, np.zeros((8, 2), "float32"), batch_size=4, verbose=0,
                    profile=True).profile
    rows = {(r["name"], r["pass"]): r for r in rep["rows"]}
    assert rows[("inner_dense", "forward")]["calls"] == 2
    # The nested model's row is its own (engine) time, its layer's C time is not in it.
    assert rows[("inner", "forward")]["c_ms_per_step"] == 0.0


def test_profiles_do_not_nest():
    with profiler.Profiler(), pytest.raises(RuntimeError, match="already running"):
        profiler.Profiler().__enter__()
    assert profiler.ACTIVE is None


def test_fit_inside_running_profiler_adds_to_it(capsys):
    x, y = _data()
    model = _model()
    with profiler.Profiler() as prof:
        hist = model.fit(x, y, batch_size=10, epochs=1, verbose=0)
        model.fit(x, y, batch_size=20, epochs=1, verbose=0)
    assert prof.steps == 4 + 2
    assert not hasattr(hist, "profile")
    assert capsys.readouterr().out == ""  # only fit(profile=True) prints
    names = {r["name"] for r in prof.report()["rows"]}
    assert {"d1", "bn", "d2", "optimizer", "loss"} <= names


def test_profile_of_the_compiled_step(capsys, monkeypatch):
    """A model `fit` trains through the compiled C step is profiled on that path: one row per
    layer and pass timed inside C, the Python around the call apart, the same results as an
    unprofiled fit."""
    from aenn.models import plan as plan_module

    x, y = _data()
    monkeypatch.setenv("AENN_PLAN", "1")
    before = plan_module.steps_run
    hist = _model().fit(x, y, batch_size=16, epochs=2, verbose=0, profile=True)
    assert plan_module.steps_run - before == 2 * 3 - 1  # the first step builds the optimizer
    rows = {(r["name"], r["pass"]): r for r in hist.profile["rows"]}
    for name in ("d1", "bn", "d2"):
        for pass_name in ("forward", "backward"):
            r = rows[(name, pass_name)]
            assert r["calls"] == 6  # five in C, the first step's in Python
            assert 0 < r["c_ms_per_step"] <= r["ms_per_step"] * 1.05 + 1e-3
    assert rows[("compiled step (Python)", "step")]["calls"] == 6  # (plan_create is C time)
    assert rows[("optimizer", "step")]["c_ms_per_step"] > 0
    assert rows[("metrics + logs", "step")]["calls"] >= 5
    total_rows = sum(r["ms_per_step"] for r in hist.profile["rows"])
    assert total_rows == pytest.approx(hist.profile["ms_per_step"], rel=0.05, abs=1e-3)
    assert 0.0 < hist.profile["outside_c_share"] < 1.0
    assert "compiled step (Python)" in capsys.readouterr().out
    plain = _model().fit(x, y, batch_size=16, epochs=2, verbose=0)
    profiled = _model()
    profiled.fit(x, y, batch_size=16, epochs=2, verbose=0, profile=True)
    assert plain.history == hist.history
    assert [w.tobytes() for w in plain.model.get_weights()] == [
        w.tobytes() for w in profiled.get_weights()]
