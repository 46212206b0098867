"""Times the non-conv kernels of the conv denoiser's training step at its shapes (batch 128), or
with --model dae the non-GEMM kernels of the dense DAE's step (batch 256: LeakyReLU, BatchNorm,
Dropout, the fused Adam update over its 1.44M parameters).

Each row is one C kernel called straight through aenn._core, plus the Python wrapper path the
engine uses (layer forward/backward, Activation.forward/backward, loss value_and_grad), with 1
and 2 threads. Reports the median wall ms and the median process CPU ms (CPU adds up over
threads; it is what the shared machine pays).

    PYTHONPATH=$PWD python benchmarks/bench_elementwise.py [--repeat 15] [--batch 128]
    PYTHONPATH=$PWD python benchmarks/bench_elementwise.py --model dae [--batch 256]
"""
import argparse
import time

import numpy as np

import aenn
from aenn import _core
from aenn import activations, losses
from aenn.layers.pooling import MaxPooling2D
from aenn.layers.upsampling import UpSampling2D


def timeit(fn, repeat):
    fn()  # warm up
    wall, cpu = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        c1, w1 = time.process_time(), time.perf_counter()
        wall.append(w1 - w0)
        cpu.append(c1 - c0)
    return 1e3 * float(np.median(wall)), 1e3 * float(np.median(cpu))


def cases(B):
    rng = np.random.default_rng(0)
    f = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    out = []
    # activations at the conv outputs: 4 x relu(16 ch) at 28, 14, 7, 14 ... and the sigmoid
    relu, sig = activations.get("relu"), activations.get("sigmoid")
    for hw in (28, 14, 7):
        x = f(B, hw, hw, 16)
        y = relu.forward(x)
        o = np.empty_like(x)
        out.append((f"relu fwd {hw}x{hw}x16 (core)",
                    lambda x=x, o=o: _core.activation_forward(o, x, relu._kind, 1.0)))
        out.append((f"relu bwd {hw}x{hw}x16 (core)",
                    lambda x=x, o=o, y=y: _core.activation_backward(o, x, x, None, relu._kind, 1.0)))
        out.append((f"relu fwd+bwd {hw}x{hw}x16 (py)",
                    lambda x=x, y=y: relu.backward(x, x, relu.forward(x))))
    x = f(B, 28, 28, 1)
    y = sig.forward(x)
    o = np.empty_like(x)
    out.append(("sigmoid fwd 28x28x1 (core)",
                lambda x=x, o=o: _core.activation_forward(o, x, sig._kind, 1.0)))
    out.append(("sigmoid bwd 28x28x1 (core)",
                lambda x=x, o=o, y=y: _core.activation_backward(o, x, x, y, sig._kind, 1.0)))
    # pooling
    for hw in (28, 14):
        pool = MaxPooling2D(2, padding="same")
        x = f(B, hw, hw, 16)
        pool.build(x.shape)
        y, cache = pool.forward(x, training=True)
        d = f(*y.shape)
        out.append((f"maxpool fwd {hw}->{hw // 2} (py)",
                    lambda pool=pool, x=x: pool.forward(x, training=True)))
        out.append((f"maxpool bwd {hw // 2}->{hw} (py)",
                    lambda pool=pool, d=d, cache=cache: pool.backward(d, cache)))
    # upsampling
    for hw in (7, 14):
        up = UpSampling2D(2)
        x = f(B, hw, hw, 16)
        up.build(x.shape)
        y, cache = up.forward(x, training=True)
        d = f(*y.shape)
        out.append((f"upsample fwd {hw}->{2 * hw} (py)",
                    lambda up=up, x=x: up.forward(x, training=True)))
        out.append((f"upsample bwd {2 * hw}->{hw} (py)",
                    lambda up=up, d=d, cache=cache: up.backward(d, cache)))
    # loss
    yt = rng.random((B, 28, 28, 1), dtype=np.float32)
    yp = (1.0 / (1.0 + np.exp(-f(B, 28, 28, 1)))).astype(np.float32)
    vals = np.empty(B * 28 * 28, np.float32)
    grad = np.empty((B * 28 * 28, 1), np.float32)
    yt2, yp2 = yt.reshape(-1, 1), yp.reshape(-1, 1)
    bce = losses.get("binary_crossentropy")
    out.append(("bce fwd (core)", lambda: _core.loss_forward(vals, yt2, yp2, 0, 0.0)))
    out.append(("bce bwd (core)", lambda: _core.loss_backward(grad, yt2, yp2, 0, 0.0)))
    # fit() fuses the sigmoid into the loss: binary_crossentropy from logits (kind 1)
    z2 = f(B * 28 * 28, 1)
    out.append(("bce-logits fwd (core, used by fit)",
                lambda: _core.loss_forward(vals, yt2, z2, 1, 0.0)))
    out.append(("bce-logits bwd (core, used by fit)",
                lambda: _core.loss_backward(grad, yt2, z2, 1, 0.0)))
    return out, bce, yt, yp


def dae_cases(B):
    """The dense DAE's elementwise kernels: widths 512, 256, 196 and the whole Adam update."""
    rng = np.random.default_rng(0)
    f = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    out = []
    lrelu = activations.Activation("leaky_relu", 0.3)
    for C in (512, 256, 196):
        x, d = f(B, C), f(B, C)
        o = np.empty_like(x)
        out.append((f"leaky_relu fwd {B}x{C} (core)",
                    lambda x=x, o=o: _core.activation_forward(o, x, lrelu._kind, 0.3)))
        out.append((f"leaky_relu bwd {B}x{C} (core)",
                    lambda x=x, d=d, o=o: _core.activation_backward(o, d, x, None, lrelu._kind,
                                                                    0.3)))
        out.append((f"np.maximum {B}x{C} (reference)",
                    lambda x=x, o=o: np.maximum(x, np.float32(0.0), out=o)))
        g, b = f(C), f(C)
        mean, inv, var = (np.empty(C, np.float32) for _ in range(3))
        out.append((f"batchnorm fwd train {B}x{C} (core)",
                    lambda x=x, o=o, g=g, b=b, mean=mean, inv=inv, var=var:
                    _core.batchnorm_forward_train(o, mean, inv, var, x, g, b, 1e-3)))
        _core.batchnorm_forward_train(o, mean, inv, var, x, g, b, 1e-3)
        dg, db = np.empty(C, np.float32), np.empty(C, np.float32)
        out.append((f"batchnorm bwd train {B}x{C} (core)",
                    lambda x=x, d=d, o=o, g=g, dg=dg, db=db, mean=mean, inv=inv:
                    _core.batchnorm_backward(o, dg, db, d, x, mean, inv, g, True)))
        out.append((f"batchnorm fwd infer {B}x{C} (core)",
                    lambda x=x, o=o, g=g, b=b, mean=mean, var=var:
                    _core.batchnorm_forward_infer(o, x, g, b, mean, var, 1e-3)))
        m = (rng.random((B, 1, C)) < 0.8).astype(np.float32)
        x3, o3 = x.reshape(B, 1, C), o.reshape(B, 1, C)
        out.append((f"dropout mask_mul {B}x{C} (core)",
                    lambda x3=x3, o3=o3, m=m: _core.mask_mul(o3, x3, m, 1.25)))
    # Adam over the DAE's parameters (Dense kernels + biases, BN gamma/beta)
    widths = [784, 512, 512, 256, 196, 256, 512, 784]
    shapes = []
    for a, b in zip(widths[:-1], widths[1:]):
        shapes += [(a, b), (b,)] + ([(b,), (b,)] if b != 784 else [])
    params = [f(*s) * np.float32(0.01) for s in shapes]
    grads = [f(*s) * np.float32(0.001) for s in shapes]
    slots = []
    for s in shapes:
        slots += [np.zeros(s, np.float32), np.zeros(s, np.float32)]
    h = np.array([1e-3, 0.1, 0.001, 1e-7, 0.0], np.float32)
    n = sum(p.size for p in params)
    out.append((f"adam update {n} params (core)",
                lambda: _core.optim_update(1, params, grads, slots, h)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--model", choices=("denoiser", "dae"), default="denoiser")
    a = ap.parse_args()
    if a.model == "dae":
        rows = dae_cases(a.batch or 256)
    else:
        rows, bce, yt, yp = cases(a.batch or 128)
    print(f"{'kernel':36s} {'1T wall':>8s} {'1T cpu':>8s} {'2T wall':>8s} {'2T cpu':>8s}  (ms)")
    for name, fn in rows:
        res = []
        for t in (1, 2):
            aenn.set_num_threads(t) if hasattr(aenn, "set_num_threads") else _core.set_num_threads(t)
            res += timeit(fn, a.repeat)
        print(f"{name:36s} {res[0]:8.3f} {res[1]:8.3f} {res[2]:8.3f} {res[3]:8.3f}")


if __name__ == "__main__":
    main()
