"""Graph-level fusion rules of the functional Model.

One rule today: ``UpSampling2D(size=(2, 2), interpolation="nearest")`` whose output feeds only
a ``Conv2D(kernel_size=3, padding="same", strides=1, dilation_rate=1)`` runs as one fused op
(`aenn._core.upconv_forward/backward`, csrc/upconv.c): the upsampled tensor is never built and
the convolution does 2.25x fewer multiply-adds. The Conv2D's bias and activation are applied as
usual; the backward routes the fused input gradient straight to the upsample's input and skips
the upsample node.

A pair is fused only when the upsample output is (in this model's graph) consumed by that one
Conv2D node and is neither a model output nor a `model.add_loss` tensor, and the upsample layer
has no activity regularizer. Both layers must be exactly UpSampling2D / Conv2D (not subclasses).

``AENN_FUSE=0`` in the environment disables fusion; it is read each time a forward pass starts,
so a process can compare fused and unfused runs. Fusion changes the rounding (the 3x3 taps are
summed into 2x2 kernels before multiplying), not the math; results stay bit-identical across
thread counts and instruction sets (docs/determinism.md).
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


def find_pairs(model):
    """{id(upsample node): conv node} for every fusable pair of the model's graph."""
    nodes = model._nodes
    outputs = {id(t) for t in model._outputs}
    loss = {id(t) for t in getattr(model, "_loss_tensors", ())}
    consumers = {}
    for n in nodes:
        for t in n.inbound_tensors:
            consumers.setdefault(id(t), []).append(n)
    pairs = {}
    for n in nodes:
        if not (_eligible_upsample(n.layer) and n.single_input and n.single_output):
            continue
        t = n.outbound_tensors[0]
        users = consumers.get(id(t), [])
        if len(users) != 1 or id(t) in outputs or id(t) in loss:
            continue
        conv = users[0]
        if conv.single_input and len(conv.inbound_tensors) == 1 and _eligible_conv(conv.layer):
            pairs[id(n)] = conv
    return pairs


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
