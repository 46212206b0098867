"""Parity with PyTorch (CPU): pooling, upsampling and batch normalisation, values and grads."""

import numpy as np
import pytest

from aenn.layers import shapes
from aenn.layers.normalization import BatchNormalization
from aenn.layers.pooling import AveragePooling2D, MaxPooling2D
from aenn.layers.upsampling import UpSampling2D

torch = pytest.importorskip("torch")
F = torch.nn.functional


def nchw(a):
    return torch.tensor(np.ascontiguousarray(a.transpose(0, 3, 1, 2)), dtype=torch.float64,
                        requires_grad=True)


def nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1)


def run_layer(layer, x, dout, training=True):
    if not layer.built:
        layer.build((None,) + x.shape[1:])
    y, cache = layer.forward(x, training=training)
    dx, grads = layer.backward(dout, cache)
    return y, dx, grads


@pytest.mark.parametrize("hw,k,s,padding", [((7, 7), 2, 2, "same"), ((7, 5), 3, 1, "same"),
                                            ((9, 6), 3, 2, "same"), ((7, 7), 2, 2, "valid"),
                                            ((8, 7), 3, 3, "valid")])
def test_max_pool(hw, k, s, padding):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, *hw, 3)).astype(np.float32)
    out_hw = [shapes.conv_output_length(n, k, s, padding) for n in hw]
    dout = rng.standard_normal((2, *out_hw, 3)).astype(np.float32)
    y, dx, _ = run_layer(MaxPooling2D(k, s, padding), x, dout)
    pt, pb = shapes.conv_padding(hw[0], k, s, padding)
    pl, pr = shapes.conv_padding(hw[1], k, s, padding)
    t = nchw(x)
    ty = F.max_pool2d(F.pad(t, (pl, pr, pt, pb), value=-float("inf")), k, s)
    ty.backward(nchw(dout).detach())
    np.testing.assert_allclose(y, nhwc(ty), rtol=1e-5)
    np.testing.assert_allclose(dx, t.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("hw,k,s,padding", [((7, 5), 3, 1, "same"), ((7, 7), 3, 2, "same"),
                                            ((7, 7), 2, 2, "valid"), ((8, 7), 3, 2, "valid")])
def test_avg_pool(hw, k, s, padding):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, *hw, 3)).astype(np.float32)
    out_hw = [shapes.conv_output_length(n, k, s, padding) for n in hw]
    dout = rng.standard_normal((2, *out_hw, 3)).astype(np.float32)
    y, dx, _ = run_layer(AveragePooling2D(k, s, padding), x, dout)
    pad = shapes.conv_padding(hw[0], k, s, padding)
    assert pad[0] == pad[1] and pad == shapes.conv_padding(hw[1], k, s, padding)  # symmetric
    t = nchw(x)
    ty = F.avg_pool2d(t, k, s, padding=pad[0], count_include_pad=False)
    ty.backward(nchw(dout).detach())
    np.testing.assert_allclose(y, nhwc(ty), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx, t.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("size", [(2, 2), (3, 2), (1, 3)])
def test_upsampling(mode, size):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 5, 4, 3)).astype(np.float32)
    dout = rng.standard_normal((2, 5 * size[0], 4 * size[1], 3)).astype(np.float32)
    y, dx, _ = run_layer(UpSampling2D(size, interpolation=mode), x, dout)
    t = nchw(x)
    kw = {"align_corners": False} if mode == "bilinear" else {}
    ty = F.interpolate(t, scale_factor=size, mode=mode, **kw)
    ty.backward(nchw(dout).detach())
    np.testing.assert_allclose(y, nhwc(ty), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx, t.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape", [(5, 7), (3, 4, 5, 6)])
def test_batch_norm(shape):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
    C = shape[-1]
    gamma, beta = rng.standard_normal(C).astype(np.float32), rng.standard_normal(C).astype(np.float32)
    mm0, mv0 = rng.standard_normal(C).astype(np.float32), rng.uniform(0.5, 2, C).astype(np.float32)
    dout = rng.standard_normal(shape).astype(np.float32)
    n = int(np.prod(shape[:-1]))

    def to_t(a):  # channels-last -> torch layout (N, C, ...)
        return np.moveaxis(a, -1, 1).copy()

    for training in (True, False):
        bn = BatchNormalization()
        bn.build((None,) + shape[1:])
        bn.built = True
        bn.set_weights([gamma, beta, mm0, mv0])
        y, dx, grads = run_layer(bn, x, dout, training)
        tx = torch.tensor(to_t(x), dtype=torch.float64, requires_grad=True)
        tg = torch.tensor(gamma, dtype=torch.float64, requires_grad=True)
        tb = torch.tensor(beta, dtype=torch.float64, requires_grad=True)
        rm = torch.tensor(mm0, dtype=torch.float64)
        rv = torch.tensor(mv0, dtype=torch.float64)
        ty = F.batch_norm(tx, rm, rv, tg, tb, training=training, momentum=1 - 0.99, eps=1e-3)
        ty.backward(torch.tensor(to_t(dout), dtype=torch.float64))
        np.testing.assert_allclose(to_t(y), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(to_t(dx), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(grads[0], tg.grad.numpy(), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(grads[1], tb.grad.numpy(), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(bn.moving_mean.value, rm.numpy(), rtol=1e-5, atol=1e-6)
        # torch's running_var uses the unbiased variance, Keras 3 the biased one
        if training:
            want_rv = 0.99 * mv0 + (rv.numpy() - 0.99 * mv0) * (n - 1) / n
        else:
            want_rv = rv.numpy()
        np.testing.assert_allclose(bn.moving_variance.value, want_rv, rtol=1e-5, atol=1e-6)
