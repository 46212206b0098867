"""aenn.regularizers: Keras penalties (no ½ in L2) and their gradients."""

import numpy as np
import pytest

from aenn import regularizers as Rg


def test_values_and_grads():
    x = np.array([[1.0, -2.0], [0.5, 0.0]], np.float32)
    assert Rg.L1()(x) == pytest.approx(0.01 * 3.5)
    assert Rg.L2()(x) == pytest.approx(0.01 * 5.25)
    assert Rg.L1L2()(x) == 0.0
    assert Rg.l1_l2()(x) == pytest.approx(0.01 * 3.5 + 0.01 * 5.25)
    assert Rg.L1L2(l1=0.1, l2=0.2)(x) == pytest.approx(0.35 + 1.05)
    np.testing.assert_allclose(Rg.L1(0.1).grad(x), 0.1 * np.sign(x))
    np.testing.assert_allclose(Rg.L2(0.1).grad(x), 0.2 * x)
    # gradient vs central differences (away from the L1 kink)
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 4)) + 0.1
    reg = Rg.L1L2(0.3, 0.7)
    num = np.zeros_like(w)
    h = 1e-3
    for i in np.ndindex(w.shape):
        wp, wm = w.copy(), w.copy()
        wp[i] += h
        wm[i] -= h
        num[i] = (reg(wp) - reg(wm)) / (2 * h)
    np.testing.assert_allclose(reg.grad(w), num, rtol=1e-2, atol=1e-3)


def test_get_and_config():
    assert isinstance(Rg.get("l1"), Rg.L1) and Rg.get("l1").l1 == 0.01
    assert isinstance(Rg.get("l2"), Rg.L2)
    assert Rg.get("l1l2").get_config() == {"l1": 0.0, "l2": 0.0}
    assert Rg.get("l1_l2").get_config() == {"l1": 0.01, "l2": 0.01}
    assert Rg.get(None) is None
    r = Rg.l1(10e-5)
    assert Rg.get(r) is r and r.get_config() == {"l1": 10e-5}
    assert Rg.get(Rg.serialize(Rg.L2(0.5))).l2 == 0.5
    assert Rg.get({"class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.2}}).l2 == 0.2
    with pytest.raises(ValueError):
        Rg.get("l3")
    with pytest.raises(ValueError):
        Rg.L1(-1.0)
    with pytest.raises(ValueError):
        Rg.L2("a")
