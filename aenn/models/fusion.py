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

The second: a ``Conv2D`` with ``activation="relu"`` whose output feeds only a
``MaxPooling2D((2, 2))`` at stride 2 (``padding="valid"``, or ``"same"`` on an even conv output)
runs with that pool. The ReLU output and its gradient are never written: ReLU + pool is one op
on the conv's pre-activation (`aenn._core.relu_maxpool2x2_forward/backward`, pool.h), and the
pool's backward and ReLU's backward are one pass that writes the conv's output gradient. With
one input channel, a kernel of 1-3 rows by 3, stride 1 and dilation 1 (the first layers of the
MNIST convnet and conv denoiser), conv + ReLU + pool is one op (`aenn._core.convpool_forward/
backward`, csrc/convpool.c) that writes neither the pre-activation nor any gradient of that
size. The Conv2D node computes the pool's output and argmax (the pool node keeps a placeholder
entry), and its backward reads the gradient of the pool's output. Both give the unfused layers'
bits exactly (pool.h and csrc/convpool.c say why). Same conditions on the graph as above (the
conv output used by the pool alone, not a model output or `add_loss` tensor, no activity
regularizer on either layer, fixed spatial sizes).

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


def convpool_mode(layer, out_shape):
    """How a Conv2D ending in the built-in ReLU, whose output (batch, OH, OW, N) has a known size,
    runs with the 2x2 max pool after it: "m1" (one input channel, KH <= 3 rows by 3, stride 1,
    dilation 1, a conv row of at most CONVPOOL_ROW_MAX floats: the whole conv + ReLU + pool in
    one op), "relu" (any other such conv: its own kernel, then ReLU + pool in one op), or None
    (not fusable)."""
    from ..activations import Activation
    from ..layers.conv import Conv2D

    if not (type(layer) is Conv2D and getattr(layer, "built", False)
            and layer.data_format == "channels_last" and type(layer.activation) is Activation
            and layer.activation.name == "relu" and layer.activity_regularizer is None):
        return None
    if len(out_shape) != 4 or any(not isinstance(n, int) for n in out_shape[1:]):
        return None
    _, oh, ow, n = out_shape
    if oh < 2 or ow < 2:
        return None
    if (layer.input_channels == 1 and layer.kernel_size[1] == 3
            and 1 <= layer.kernel_size[0] <= 3 and tuple(layer.strides) == (1, 1)
            and tuple(layer.dilation_rate) == (1, 1) and ow * n <= _core.CONVPOOL_ROW_MAX):
        return "m1"
    return "relu"


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
    """{id(conv node): (pool node, mode)} for every fusable conv + ReLU + max-pool pair of the
    graph (mode: see `convpool_mode`)."""
    modes = {id(n): convpool_mode(n.layer, n.outbound_tensors[0].shape) for n in model._nodes
             if n.single_output}
    pairs = _graph_pairs(model, lambda n: modes[id(n)] is not None,
                         lambda n: _eligible_pool(n.layer, n.inbound_tensors[0].shape))
    return {k: (pool, modes[k]) for k, pool in pairs.items()}


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


# ---- Conv2D(relu) + MaxPooling2D((2, 2)) -------------------------------------------------------

POOLED = "fused-maxpool"  # the cache of a max-pool node folded into its Conv2D


class ConvPoolRole:
    """The role of a Conv2D node that runs with its max pool: the pool layer, the id of the
    pool's output tensor (which this node writes, and whose gradient its backward reads), and
    the mode ("m1" or "relu", see `convpool_mode`)."""

    __slots__ = ("mode", "out_id", "pool")

    def __init__(self, pool, out_id, mode):
        self.pool, self.out_id, self.mode = pool, out_id, mode


class ConvPoolCache:
    """The Conv2D node's cache when it ran with its pool: the pool layer and its output's tensor
    id, the (4-D) input, the pool's output and argmax, the conv's kernel geometry, the shape of
    the conv's output, and whether the whole op ran in C (`m1`); or, when the input's size did
    not suit the fused kernels, the two layers' own caches (`unfused`)."""

    __slots__ = ("argmax", "geom", "m1", "out", "out_id", "pool", "pre_shape", "unfused", "x")

    def __init__(self, role, x=None, out=None, argmax=None, geom=None, pre_shape=None,
                 m1=False, unfused=None):
        self.pool, self.out_id = role.pool, role.out_id
        self.x, self.out, self.argmax, self.geom = x, out, argmax, geom
        self.pre_shape, self.m1, self.unfused = pre_shape, m1, unfused


def convpool_forward(conv, x, role):
    """(pooled output, ConvPoolCache) of conv -> ReLU -> role.pool on x (B,H,W,C)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim != 4 or x.shape[-1] != conv.input_channels:
        raise ValueError(f"{conv._who}: expected inputs of shape (batch, height, width, "
                         f"{conv.input_channels}), received shape {x.shape}")
    oh, ow = conv._spatial_out((None,) + x.shape[1:])
    if oh < 2 or ow < 2 or (role.pool.padding != "valid" and (oh % 2 or ow % 2)):
        # a size the graph did not promise (only Model.forward lets one in): the two layers
        # as they are
        y, c1 = conv.forward(x)
        out, c2 = role.pool.forward(y)
        return out, ConvPoolCache(role, unfused=(c1, c2))
    pre_shape = (x.shape[0], oh, ow, conv.filters)
    out = np.empty((x.shape[0], oh // 2, ow // 2, conv.filters), np.float32)
    argmax = np.empty(out.shape, np.int32)
    if role.mode == "m1" and ow * conv.filters <= _core.CONVPOOL_ROW_MAX:
        geom = conv._geometry(x, (oh, ow))
        bias = conv.bias.value if conv.bias is not None else None
        _core.convpool_forward(out, argmax, x, conv.kernel.value, bias, *geom[4:])
        return out, ConvPoolCache(role, x, out, argmax, geom, pre_shape, m1=True)
    pre, x4, geom = conv._pre_activation(x)
    _core.relu_maxpool2x2_forward(out, argmax, pre)
    return out, ConvPoolCache(role, x4, out, argmax, geom, pre_shape)


def convpool_backward(conv, dout, cache, need_dinputs):
    """(dx or None, [dkernel, dbias]) of the fused conv + ReLU + pool, from the gradient of the
    pool's output."""
    if cache.unfused is not None:
        c1, c2 = cache.unfused
        dy, _ = cache.pool.backward(dout, c2)
        return conv.backward(dy, c1, need_dinputs=need_dinputs)
    dout = np.ascontiguousarray(dout, dtype=np.float32)
    if cache.m1 and not need_dinputs:
        dkernel = np.empty_like(conv.kernel.value)
        dbias = np.empty(conv.filters, np.float32) if conv.bias is not None else None
        _core.convpool_backward(dkernel, dbias, dout, cache.out, cache.argmax, cache.x,
                                *cache.geom[4:])
        return None, [dkernel] + ([dbias] if dbias is not None else [])
    # The gradient of the conv's output through the pool and the ReLU in one pass, then the
    # conv's own backward (which then skips its activation: from_logits=True). Also the path
    # of a one-channel conv whose input needs a gradient.
    dpre = np.empty(cache.pre_shape, np.float32)
    _core.relu_maxpool2x2_backward(dpre, dout, cache.out, cache.argmax)
    return conv.backward(dpre, (cache.x, None, None, cache.geom), need_dinputs=need_dinputs,
                         from_logits=True)
