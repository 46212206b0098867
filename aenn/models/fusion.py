"""Graph-level fusion rules of the functional Model.

Two rules. The first: ``UpSampling2D(size=(2, 2), interpolation="nearest")`` whose output feeds only
a ``Conv2D(kernel_size=3, padding="same", strides=1, dilation_rate=1)`` runs as one fused op
(`aenn._core.upconv_forward/backward`, csrc/upconv.c): the upsampled tensor is never built and
the convolution does 2.25x fewer multiply-adds. The Conv2D's bias and activation are applied as
usual; the backward routes the fused input gradient straight to the upsample's input and skips
the upsample node.

A pair is fused only when the upsample output is (in this model's graph) consumed by that one
Conv2D node and is neither a model output nor a `model.add_loss` tensor, and the upsample layer
has no activity regularizer. Both layers must be exactly UpSampling2D / Conv2D (not subclasses).

The second: a ``Conv2D`` with one input channel, a 3x3 kernel (or 1-3 rows by 3), stride 1,
dilation 1 and ``activation="relu"``, whose output feeds only a ``MaxPooling2D((2, 2))`` at
stride 2 (``padding="valid"``, or ``"same"`` on an even conv output), runs with that pool as one
op (`aenn._core.convpool_forward/backward`, csrc/convpool.c): the first layers of the MNIST
convnet and conv denoiser. Neither the conv's pre-activation nor its ReLU output, nor their
gradients, is ever written: the Conv2D node computes the pool's output and argmax (the pool
node keeps a placeholder entry), and its backward reads the gradient of the pool's output.
This fusion gives the unfused layers' bits exactly (csrc/convpool.c explains why). Same
conditions on the graph as above (the conv output used by the pool alone, not a model output
or `add_loss` tensor, no activity regularizer on either layer, fixed spatial sizes).

``AENN_FUSE=0`` in the environment disables fusion; it is read each time a forward pass starts,
so a process can compare fused and unfused runs. The upsample fusion changes the rounding (the
3x3 taps are summed into 2x2 kernels before multiplying), not the math; the conv + pool fusion
changes nothing; results stay bit-identical across thread counts and instruction sets
(docs/determinism.md).
"""

from __future__ import annotations

import os

import numpy as np

from .. import _core


def enabled():
    """False when the environment sets AENN_FUSE=0."""
    return os.environ.get("AENN_FUSE", "1").strip() != "0"


def _eligible_upsample(layer):
    from ..layers.upsampling import UpSampling2D

    return (type(layer) is UpSampling2D and tuple(layer.size) == (2, 2)
            and layer.interpolation == "nearest" and layer.activity_regularizer is None)


def _eligible_conv(layer):
    from ..layers.conv import Conv2D

    return (type(layer) is Conv2D and tuple(layer.kernel_size) == (3, 3)
            and layer.padding == "same" and tuple(layer.strides) == (1, 1)
            and tuple(layer.dilation_rate) == (1, 1) and layer.data_format == "channels_last"
            and getattr(layer, "built", False))


def _eligible_convpool_conv(layer, out_shape):
    """A built one-input-channel Conv2D (KH <= 3 rows by 3, stride 1, dilation 1) ending in
    the built-in ReLU, whose output (batch, OH, OW, N) has a known size the kernel takes."""
    from ..activations import Activation
    from ..layers.conv import Conv2D

    if not (type(layer) is Conv2D and getattr(layer, "built", False)
            and layer.input_channels == 1 and layer.kernel_size[1] == 3
            and 1 <= layer.kernel_size[0] <= 3 and tuple(layer.strides) == (1, 1)
            and tuple(layer.dilation_rate) == (1, 1) and layer.data_format == "channels_last"
            and type(layer.activation) is Activation and layer.activation.name == "relu"
            and layer.activity_regularizer is None):
        return False
    if len(out_shape) != 4 or any(not isinstance(n, int) for n in out_shape[1:]):
        return False
    _, oh, ow, n = out_shape
    return oh >= 2 and ow >= 2 and ow * n <= _core.CONVPOOL_ROW_MAX


def _eligible_pool(layer, in_shape):
    """MaxPooling2D((2, 2)) at stride 2 reading every window inside its input: 'valid', or
    'same' on an even input."""
    from ..layers.pooling import MaxPooling2D

    if not (type(layer) is MaxPooling2D and tuple(layer.pool_size) == (2, 2)
            and tuple(layer.strides) == (2, 2) and layer.data_format == "channels_last"
            and layer.activity_regularizer is None):
        return False
    return layer.padding == "valid" or (in_shape[1] % 2 == 0 and in_shape[2] % 2 == 0)


def _graph_pairs(model, first_ok, second_ok):
    """{id(first node): second node} for every node pair first -> second of the model's graph
    where the first's single output feeds the second alone and is neither a model output nor
    an `add_loss` tensor; first_ok(node) and second_ok(node) check the layers."""
    nodes = model._nodes
    outputs = {id(t) for t in model._outputs}
    loss = {id(t) for t in getattr(model, "_loss_tensors", ())}
    consumers = {}
    for n in nodes:
        for t in n.inbound_tensors:
            consumers.setdefault(id(t), []).append(n)
    pairs = {}
    for n in nodes:
        if not (n.single_input and n.single_output and first_ok(n)):
            continue
        t = n.outbound_tensors[0]
        users = consumers.get(id(t), [])
        if len(users) != 1 or id(t) in outputs or id(t) in loss:
            continue
        second = users[0]
        if second.single_input and len(second.inbound_tensors) == 1 and second_ok(second):
            pairs[id(n)] = second
    return pairs


def find_pairs(model):
    """{id(upsample node): conv node} for every fusable upsample + conv pair of the graph."""
    return _graph_pairs(model, lambda n: _eligible_upsample(n.layer),
                        lambda n: _eligible_conv(n.layer))


def find_convpools(model):
    """{id(conv node): pool node} for every fusable conv + ReLU + max-pool pair of the graph."""
    return _graph_pairs(
        model, lambda n: _eligible_convpool_conv(n.layer, n.outbound_tensors[0].shape),
        lambda n: _eligible_pool(n.layer, n.inbound_tensors[0].shape))


class FusedCache:
    """The Conv2D node's cache when it ran fused: the low-res input, the pre-activation, the
    output, and the id of the upsample's input tensor (where the backward sends dx)."""

    __slots__ = ("pre", "src_id", "x", "y")

    def __init__(self, x, pre, y, src_id):
        self.x, self.pre, self.y, self.src_id = x, pre, y, src_id


SKIPPED = "fused-upsample"  # the cache of an upsample node folded into its Conv2D


def forward(conv, x, src_id):
    """The fused forward of upsample(2, nearest) -> conv on the low-res input x (B,H,W,C)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim != 4 or x.shape[-1] != conv.input_channels:
        raise ValueError(
            f"{conv._who}: expected inputs of shape (batch, height, width, "
            f"{conv.input_channels}) before its 2x upsampling, received shape {x.shape}"
        )
    B, H, W, _ = x.shape
    bias = conv.bias.value if conv.bias is not None else None
    pre = np.empty((B, 2 * H, 2 * W, conv.filters), np.float32)
    _core.upconv_forward(pre, x, conv.kernel.value, bias)
    y = pre if conv.activation.is_linear else conv.activation.forward(pre)
    return y, FusedCache(x, pre, y, src_id)


def backward(conv, dout, cache, need_dinputs=True, from_logits=False):
    """(dx for the upsample's input, [dkernel, dbias]) of the fused pair."""
    dout = np.ascontiguousarray(dout, dtype=np.float32)
    if not (from_logits or conv.activation.is_linear):
        dout = np.ascontiguousarray(conv.activation.backward(dout, cache.pre, cache.y),
                                    dtype=np.float32)
    dinp = np.empty_like(cache.x) if need_dinputs else None
    dkernel = np.empty_like(conv.kernel.value)
    dbias = np.empty(conv.filters, np.float32) if conv.bias is not None else None
    _core.upconv_backward(dinp, dkernel, dbias, dout, cache.x, conv.kernel.value)
    grads = [dkernel]
    if conv.bias is not None:
        grads.append(dbias)
    return dinp, grads


# ---- Conv2D (one input channel) + ReLU + MaxPooling2D((2, 2)) --------------------------------

POOLED = "fused-maxpool"  # the cache of a max-pool node folded into its Conv2D


class ConvPoolRole:
    """The role of a Conv2D node that runs with its max pool: the pool layer and the id of the
    pool's output tensor (which this node writes, and whose gradient its backward reads)."""

    __slots__ = ("out_id", "pool")

    def __init__(self, pool, out_id):
        self.pool, self.out_id = pool, out_id


class ConvPoolCache:
    """The Conv2D node's cache when it ran with its pool: the pool layer and its output's
    tensor id, the image, the pool's output and argmax, the conv's padding (top, bottom, left,
    right); or, when the input's size did not suit the kernel, the two layers' own caches
    (`unfused`)."""

    __slots__ = ("argmax", "out", "out_id", "pads", "pool", "unfused", "x")

    def __init__(self, role, x=None, out=None, argmax=None, pads=None, unfused=None):
        self.pool, self.out_id = role.pool, role.out_id
        self.x, self.out, self.argmax = x, out, argmax
        self.pads, self.unfused = pads, unfused


def convpool_forward(conv, x, role):
    """(pooled output, ConvPoolCache) of conv -> ReLU -> role.pool on x (B,H,W,1)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim != 4 or x.shape[-1] != 1:
        raise ValueError(f"{conv._who}: expected inputs of shape (batch, height, width, 1), "
                         f"received shape {x.shape}")
    oh, ow = conv._spatial_out((None,) + x.shape[1:])
    if oh < 2 or ow < 2 or ow * conv.filters > _core.CONVPOOL_ROW_MAX or (
            role.pool.padding != "valid" and (oh % 2 or ow % 2)):
        # a size the graph did not promise: run the two layers as they are
        y, c1 = conv.forward(x)
        out, c2 = role.pool.forward(y)
        return out, ConvPoolCache(role, unfused=(c1, c2))
    pads = conv._geometry(x, (oh, ow))[4:]
    out = np.empty((x.shape[0], oh // 2, ow // 2, conv.filters), np.float32)
    argmax = np.empty(out.shape, np.int32)
    bias = conv.bias.value if conv.bias is not None else None
    _core.convpool_forward(out, argmax, x, conv.kernel.value, bias, *pads)
    return out, ConvPoolCache(role, x, out, argmax, pads)


def convpool_backward(conv, dout, cache, need_dinputs):
    """(dx or None, [dkernel, dbias]) of the fused conv + ReLU + pool, from the gradient of the
    pool's output."""
    if cache.unfused is not None:
        c1, c2 = cache.unfused
        dy, _ = cache.pool.backward(dout, c2)
        return conv.backward(dy, c1, need_dinputs=need_dinputs)
    dout = np.ascontiguousarray(dout, dtype=np.float32)
    dkernel = np.empty_like(conv.kernel.value)
    dbias = np.empty(conv.filters, np.float32) if conv.bias is not None else None
    dx = None
    if not need_dinputs:
        _core.convpool_backward(dkernel, dbias, dout, cache.out, cache.argmax, cache.x,
                                *cache.pads)
    else:
        # The image needs a gradient too (a one-channel conv after another layer): build the
        # conv's output gradient with the pool's and ReLU's kernels and run the conv's backward.
        # ReLU's backward asks whether pre > 0; off the argmax cells the pool's gradient is
        # +0.0 whatever the answer, and at them pre > 0 exactly where the pooled output is, so
        # the pooled output scattered to its argmax cells stands in for pre.
        x, pads = cache.x, cache.pads
        oh, ow = conv._spatial_out((None,) + x.shape[1:])
        pre_shape = (x.shape[0], oh, ow, conv.filters)
        dy = np.empty(pre_shape, np.float32)
        _core.maxpool2d_backward(dy, dout, cache.argmax, 2, 2, 2, 2, 0, 0)
        at_max = np.empty(pre_shape, np.float32)
        _core.maxpool2d_backward(at_max, cache.out, cache.argmax, 2, 2, 2, 2, 0, 0)
        dpre = conv.activation._backward_kernel(dy, at_max, None)
        dx = np.empty_like(x)
        _core.conv2d_backward(dx, dkernel, dbias, dpre, x, conv.kernel.value, 1, 1, 1, 1, *pads)
    grads = [dkernel]
    if conv.bias is not None:
        grads.append(dbias)
    return dx, grads
