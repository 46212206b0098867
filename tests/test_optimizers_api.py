"""aenn.optimizers: the Keras-style API around the fused kernel."""

import numpy as np
import pytest

from aenn import optimizers as O
from aenn.layers.layer import Variable


def _vars():
    return [Variable(np.ones((3, 2)), "kernel"), Variable(np.zeros(2), "bias")]


def _grads(scale=1.0):
    return [np.full((3, 2), 0.5 * scale, np.float32), np.full(2, scale, np.float32)]


def test_get_and_defaults():
    for name, cls in [("adam", O.Adam), ("sgd", O.SGD), ("rmsprop", O.RMSprop),
                      ("adagrad", O.Adagrad), ("adadelta", O.Adadelta), ("nadam", O.Nadam),
                      ("Adam", O.Adam)]:
        assert isinstance(O.get(name), cls)
    a = O.Adam()
    assert O.get(a) is a
    assert (a.learning_rate, a.beta_1, a.beta_2, a.epsilon, a.amsgrad) == pytest.approx(
        (0.001, 0.9, 0.999, 1e-7, False))
    assert O.SGD().learning_rate == pytest.approx(0.01)
    r = O.RMSprop()
    assert (r.learning_rate, r.rho, r.momentum, r.epsilon) == pytest.approx((0.001, 0.9, 0, 1e-7))
    ag = O.Adagrad()
    assert (ag.learning_rate, ag.initial_accumulator_value, ag.epsilon) == pytest.approx(
        (0.001, 0.1, 1e-7))
    ad = O.Adadelta()
    assert (ad.learning_rate, ad.rho, ad.epsilon) == pytest.approx((0.001, 0.95, 1e-7))
    with pytest.raises(ValueError):
        O.get("adamx")
    with pytest.raises(ValueError):
        O.get(3)


def test_first_step_values():
    # Adam's first step moves every weight by ~lr (sign of g); SGD by lr*g
    vs = _vars()
    O.Adam(0.1).apply(_grads(), vs)
    np.testing.assert_allclose(vs[0].value, 0.9, rtol=1e-5)
    np.testing.assert_allclose(vs[1].value, -0.1, rtol=1e-5)
    vs = _vars()
    O.SGD(0.1).apply(_grads(), vs)
    np.testing.assert_allclose(vs[0].value, 0.95)
    vs = _vars()
    opt = O.Adagrad(1.0)
    opt.apply(_grads(), vs)
    np.testing.assert_allclose(vs[1].value, -1 / np.sqrt(1.1 + 1e-7), rtol=1e-6)


def test_lr_alias_setter_iterations():
    opt = O.SGD(lr=0.5)
    assert opt.learning_rate == 0.5
    opt.learning_rate = 0.25
    assert opt.learning_rate == 0.25 and opt.lr == 0.25
    vs = _vars()
    opt.apply(_grads(), vs)
    np.testing.assert_allclose(vs[1].value, -0.25)
    assert opt.iterations == 1
    opt.apply(_grads(), vs)
    assert opt.iterations == 2
    with pytest.raises(ValueError):
        opt.learning_rate = -1.0


def test_variables_count():
    vs = _vars()
    n = sum(v.value.size for v in vs)
    adam = O.Adam()
    adam.build(vs)
    assert sum(np.size(v.value) for v in adam.variables) == 2 * n + 2
    assert adam.variables[0].name == "iteration" and adam.variables[1].name == "learning_rate"
    sgd = O.SGD()
    sgd.build(vs)
    assert sum(np.size(v.value) for v in sgd.variables) == 2
    sgdm = O.SGD(momentum=0.9)
    sgdm.build(vs)
    assert sum(np.size(v.value) for v in sgdm.variables) == n + 2
    ams = O.Adam(amsgrad=True)
    ams.build(vs)
    assert sum(np.size(v.value) for v in ams.variables) == 3 * n + 2
    r = O.RMSprop(momentum=0.5, centered=True)
    r.build(vs)
    assert sum(np.size(v.value) for v in r.variables) == 3 * n + 2
    # Keras' RMSprop lists velocities, then momentums, then average gradients
    assert [v.name.rsplit("_", 1)[-1] for v in r.variables[2:]] == [
        "velocity", "velocity", "momentum", "momentum", "gradient", "gradient"]
    assert [v.name.rsplit("_", 1)[-1] for v in adam.variables[2:]] == [
        "momentum", "velocity", "momentum", "velocity"]
    nadam = O.Nadam()
    nadam.build(vs)
    assert nadam.variables[-1].name == "u_product" and len(nadam.variables) == 7


def test_state_restore_via_variables():
    vs1, vs2 = _vars(), _vars()
    a, b = O.Adam(0.01), O.Adam(0.01)
    a.apply(_grads(), vs1)
    b.build(vs2)
    for src, dst in zip(a.variables, b.variables):
        dst.assign(src.numpy())
    for v1, v2 in zip(vs1, vs2):
        v2.assign(v1.numpy())
    assert b.iterations == 1
    a.apply(_grads(2.0), vs1)
    b.apply(_grads(2.0), vs2)
    for v1, v2 in zip(vs1, vs2):
        np.testing.assert_array_equal(v1.value, v2.value)


def test_schedules():
    s = O.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert s(0) == pytest.approx(0.1) and s(10) == pytest.approx(0.05)
    assert O.schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)(15) == pytest.approx(0.05)
    p = O.schedules.PiecewiseConstantDecay([2, 4], [1.0, 0.5, 0.1])
    assert (p(0), p(2), p(3), p(5)) == (1.0, 1.0, 0.5, 0.1)
    with pytest.raises(ValueError):
        O.schedules.PiecewiseConstantDecay([2], [1.0])
    from aenn.optimizers.schedules import ExponentialDecay  # importable as a module
    assert ExponentialDecay is O.ExponentialDecay
    opt = O.SGD(learning_rate=p)
    vs = _vars()
    for _ in range(4):
        opt.apply(_grads(), vs)
    np.testing.assert_allclose(vs[1].value, -(1.0 + 1.0 + 1.0 + 0.5), rtol=1e-6)
    assert opt.learning_rate == 0.5  # step 4
    with pytest.raises(TypeError):
        opt.learning_rate = 0.1
    assert len(opt.variables) == 1  # iteration only (no learning_rate variable)
    opt2 = O.SGD(learning_rate=lambda step: 0.1 / (1 + step))
    opt2.apply(_grads(), _vars())
    assert opt2.learning_rate == pytest.approx(0.05)
    cfg = O.SGD(learning_rate=s).get_config()
    assert O.SGD.from_config(cfg).learning_rate == pytest.approx(0.1)


def test_config_roundtrip():
    for opt in [O.Adam(0.01, beta_1=0.8, amsgrad=True), O.SGD(0.1, 0.9, True),
                O.RMSprop(0.01, centered=True), O.Adagrad(0.2), O.Adadelta(1.0), O.Nadam(0.01),
                O.Adam(clipnorm=1.0)]:
        clone = O.deserialize(O.serialize(opt))
        assert type(clone) is type(opt) and clone.get_config() == opt.get_config()


def test_clipping_and_weight_decay():
    g = [np.array([3.0, 4.0], np.float32)]
    v = [Variable(np.zeros(2), "w")]
    O.SGD(1.0, clipnorm=1.0).apply(g, v)
    np.testing.assert_allclose(v[0].value, [-0.6, -0.8], rtol=1e-6)
    v = [Variable(np.zeros(2), "w")]
    O.SGD(1.0, clipvalue=3.5).apply(g, v)
    np.testing.assert_allclose(v[0].value, [-3.0, -3.5])
    v = [Variable(np.zeros(2), "w"), Variable(np.zeros(1), "b")]
    O.SGD(1.0, global_clipnorm=1.0).apply(g + [np.array([12.0], np.float32)], v)
    np.testing.assert_allclose(v[1].value, [-12 / 13], rtol=1e-6)
    v = [Variable(np.ones(2), "w")]
    O.SGD(0.1, weight_decay=0.5).apply([np.zeros(2, np.float32)], v)
    np.testing.assert_allclose(v[0].value, 0.95, rtol=1e-6)
    with pytest.raises(ValueError):
        O.SGD(clipnorm=1.0, clipvalue=1.0)


def test_none_grads_and_bad_inputs():
    vs = _vars()
    opt = O.Adam(0.1)
    opt.apply([None, np.ones(2, np.float32)], vs)
    np.testing.assert_array_equal(vs[0].value, 1.0)
    assert vs[1].value[0] < 0
    with pytest.raises(ValueError):
        opt.apply(_grads(), vs + [Variable(np.zeros(1), "new")])  # count mismatch
    with pytest.raises(ValueError):
        opt.apply([np.ones(3, np.float32)], [Variable(np.zeros(3), "unknown")])
    with pytest.raises(ValueError):
        opt.apply([np.ones((2, 3), np.float32), np.ones(2, np.float32)], vs)
    for bad in [lambda: O.Adam(learning_rate=-1), lambda: O.Adam(beta_1=1.5),
                lambda: O.SGD(momentum=-0.1), lambda: O.RMSprop(rho="x"),
                lambda: O.Adam(epsilon=float("nan")), lambda: O.SGD(clipnorm=0.0)]:
        with pytest.raises(ValueError):
            bad()
    with pytest.raises(TypeError):
        O.Adam(foo=1)


def test_two_runs_identical():
    outs = []
    for _ in range(2):
        vs = _vars()
        opt = O.Nadam(0.01)
        for k in range(3):
            opt.apply(_grads(k + 1.0), vs)
        outs.append([v.numpy() for v in vs])
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
