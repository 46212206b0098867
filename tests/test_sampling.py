"""Sampling (VAE reparameterisation) layer: values, KL loss, gradients, errors."""

import numpy as np
import pytest

from aenn.layers.sampling import Sampling


def kl(zm, lv):
    return float(np.mean(np.sum(-0.5 * (1 + lv - zm ** 2 - np.exp(lv)), axis=1)))


def test_forward_and_kl_loss():
    rng = np.random.default_rng(0)
    zm = rng.standard_normal((6, 3)).astype(np.float32)
    lv = (0.3 * rng.standard_normal((6, 3))).astype(np.float32)
    layer = Sampling(seed=1)
    layer.build([(None, 3), (None, 3)])
    z, (_, eps, _std, _) = layer.forward([zm, lv], training=False)  # drawn in inference too
    np.testing.assert_allclose(z, zm + np.exp(0.5 * lv) * eps, rtol=1e-5, atol=1e-6)
    assert layer.losses == [pytest.approx(kl(zm.astype(np.float64), lv.astype(np.float64)),
                                          rel=1e-5)]
    z2, _ = Sampling(seed=1).forward([zm, lv])
    np.testing.assert_array_equal(z, z2)
    layer._losses = []
    big = Sampling(seed=2, add_kl=False)
    z, (_, eps, _, _) = big.forward([np.zeros((4000, 2), np.float32)] * 2)
    assert abs(float(eps.std()) - 1.0) < 0.05 and big.losses == []


def test_backward_matches_finite_differences():
    rng = np.random.default_rng(1)
    zm = rng.standard_normal((4, 3))
    lv = 0.5 * rng.standard_normal((4, 3))
    dout = rng.standard_normal((4, 3)).astype(np.float32)
    layer = Sampling(seed=3, kl_weight=0.5)
    _z, cache = layer.forward([zm.astype(np.float32), lv.astype(np.float32)], training=True)
    eps = cache[1].astype(np.float64)
    (dzm, dlv), grads = layer.backward(dout, cache)
    assert grads == []

    def objective(zm, lv):
        return np.sum((zm + np.exp(0.5 * lv) * eps) * dout) + 0.5 * kl(zm, lv)

    h = 1e-6
    for arr, grad in ((zm, dzm), (lv, dlv)):
        num = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            old = arr[i]
            arr[i] = old + h
            up = objective(zm, lv)
            arr[i] = old - h
            down = objective(zm, lv)
            arr[i] = old
            num[i] = (up - down) / (2 * h)
        np.testing.assert_allclose(grad, num, rtol=1e-4, atol=1e-5)


def test_errors_and_config():
    layer = Sampling()
    with pytest.raises(ValueError, match=r"\(None, 3\).*\(None, 4\)"):
        layer.build([(None, 3), (None, 4)])
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 4\)"):
        layer.forward([np.zeros((2, 3), np.float32), np.zeros((2, 4), np.float32)])
    with pytest.raises(ValueError, match="two inputs"):
        layer.forward(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="kl_weight"):
        Sampling(kl_weight=-1)
    assert layer.compute_output_shape([(None, 3), (None, 3)]) == (None, 3)
    clone = Sampling.from_config(Sampling(kl_weight=0.1, add_kl=False, name="s").get_config())
    assert (clone.kl_weight, clone.add_kl, clone.name) == (0.1, False, "s")
