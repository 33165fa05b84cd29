"""Float islands in the middle of a quantized network: ops the quantizer leaves in float
between ``DequantizeLinear`` and ``QuantizeLinear`` (LRN; a BatchNormalization that
follows no convolution, often with a Caffe ``Scale`` layer's ``Mul`` after it).

Each island becomes one int8 -> int8 host op (:mod:`gemforge.dialects.graph_float`)
that computes the float ops in float32 in onnxruntime's order and quantizes like
``QuantizeLinear``. Like the other float ops over dequantized inputs, they are
:class:`Pending` until the ``QuantizeLinear`` after them names the output scale; ops
between the island and that ``QuantizeLinear`` that commute with a monotone
quantization (MaxPool, Relu, reshapes) are applied to the int8 result instead
(:func:`gemforge.frontends.onnx_qdq._lift`): ``Q(maxpool(t)) == maxpool(Q(t))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx

from gemforge.dialects import graph as G
from gemforge.frontends import onnx_layout as L
from gemforge.frontends.onnx_values import Const, Deq, Pending, Quant

F32 = np.float32


def _deq_quant(imp, name: str) -> Quant:
    value = imp.get(name)
    if isinstance(value, Deq) and isinstance(value.source, Quant):
        return Quant(value.source.value, value.scale, value.source.nhwc)
    raise imp.error(f"input '{name}' must be a dequantized int8 tensor, got {type(value).__name__}")


def _no_act(imp, act: str, q: Quant) -> Quant:
    """ReLU after the quantized island: it commutes with quantization (Q(0) = 0)."""
    if act != "none":
        q = Quant(imp.emit(G.ReluOp(q.value)), q.scale, q.nhwc)
    return q


def lrn(imp, node: onnx.NodeProto):
    """LRN across channels (onnxruntime's CPU kernel, float32) as ``graph.lrn``."""
    x = _deq_quant(imp, node.input[0])
    if len(x.onnx_shape) != 4:
        raise imp.error(f"LRN needs a 4-D NCHW input, got shape {list(x.onnx_shape)}")
    a = L.attrs(node)
    size = int(a["size"])
    alpha, beta, bias = (float(F32(a.get(k, d))) for k, d in (("alpha", 1e-4), ("beta", 0.75), ("bias", 1.0)))
    if size < 1 or size % 2 == 0:
        raise imp.error(f"LRN size must be a positive odd number, got {size}")

    def build(ys: float, act: str) -> Quant:
        q = imp.nhwc(x)
        op = G.LRNOp(q.value, size, alpha, beta, bias, input_scale=q.scale, output_scale=ys)
        return _no_act(imp, act, Quant(imp.emit(op), ys, True))

    return [Pending(_once(build), "LRN")]


def _once(build):
    """``build`` emitting its op once per (output scale, activation): two
    QuantizeLinear nodes at one scale (say, before and after a MaxPool) share it."""
    built: dict = {}

    def once(ys: float, act: str) -> Quant:
        key = (np.float32(ys), act)
        if key not in built:
            built[key] = build(ys, act)
        return built[key]

    return once


@dataclass
class Affine(Pending):
    """A pending ``graph.channel_affine``: ((x * scale) + shift) * multiplier per channel."""

    x: Quant | None = None
    scale: np.ndarray | None = None
    shift: np.ndarray | None = None
    multiplier: np.ndarray | None = None


def _affine(imp, x: Quant, scale, shift, multiplier, what: str) -> Affine:
    vectors = [np.ascontiguousarray(v, dtype=F32) for v in (scale, shift, multiplier)]

    def build(ys: float, act: str) -> Quant:
        q = imp.nhwc(x) if len(x.onnx_shape) == 4 else x
        consts = [imp.constant(v) for v in vectors]
        op = G.ChannelAffineOp(q.value, *consts, input_scale=q.scale, output_scale=ys)
        return _no_act(imp, act, Quant(imp.emit(op), ys, q.nhwc))

    return Affine(_once(build), what, "none", x, *vectors)


def _channels(imp, x: Quant) -> int:
    shape = x.onnx_shape
    if len(shape) not in (2, 4):
        raise imp.error(f"per-channel float ops need an NC or NCHW input, got shape {list(shape)}")
    return shape[1]


def batch_normalization(imp, node: onnx.NodeProto):
    """Inference BatchNormalization over a dequantized tensor, folded to per-channel
    ``scale`` / ``shift`` exactly as onnxruntime's CPU kernel folds it (float32:
    ``scale = (1 / sqrt(var + eps)) * gamma``, ``shift = beta - mean * scale``)."""
    a = L.attrs(node)
    if a.get("training_mode", 0) or len([o for o in node.output if o]) > 1:
        raise imp.error("BatchNormalization in training mode is not supported")
    x = _deq_quant(imp, node.input[0])
    c = _channels(imp, x)
    gamma, beta, mean, var = (imp.const(n, w).astype(F32).reshape(-1)
                              for n, w in zip(node.input[1:5], ("scale", "bias", "mean", "var")))
    if any(v.size != c for v in (gamma, beta, mean, var)):
        raise imp.error(f"scale, bias, mean and var must have {c} values (one per channel)")
    inv_std = F32(1) / np.sqrt(var + F32(a.get("epsilon", 1e-5)))
    scale = inv_std * gamma
    shift = beta - mean * scale
    return [_affine(imp, x, scale, shift, np.ones(c, F32), "BatchNormalization")]


def mul(imp, node: onnx.NodeProto):
    """A float Mul of a dequantized tensor (or a pending batch norm) by a per-channel
    constant: the multiplier of ``graph.channel_affine``."""
    values = [imp.get(n) for n in node.input]
    if not any(isinstance(v, Const) for v in values):
        raise imp.error("only Mul by a constant (per channel) is supported in float")
    k = 1 if isinstance(values[1], Const) else 0
    const, other = values[k].array, values[1 - k]
    if isinstance(other, Affine) and other.activation == "none" and not np.all(other.multiplier == 1):
        raise imp.error("a second Mul after a batch norm is not supported")
    x = other.x if isinstance(other, Affine) and other.activation == "none" else _deq_quant(imp, node.input[1 - k])
    c = _channels(imp, x)
    per_channel = _per_channel(imp, const, len(x.onnx_shape), c)
    if isinstance(other, Affine) and other.activation == "none":
        # Multiplying by the constant after the batch norm is a separate f32 rounding.
        return [_affine(imp, x, other.scale, other.shift, per_channel, "BatchNormalization+Mul")]
    # v * 1 + 0 == v exactly, so a lone Mul is the affine map with unit scale.
    return [_affine(imp, x, np.ones(c, F32), np.zeros(c, F32), per_channel, "Mul")]


def _per_channel(imp, const: np.ndarray, rank: int, c: int) -> np.ndarray:
    """The [C] vector of a constant broadcast along the channel axis (ONNX axis 1)."""
    if const.dtype != np.float32:
        raise imp.error(f"Mul constant must be float32, got {const.dtype}")
    shape = (1,) * (rank - const.ndim) + tuple(const.shape)
    if len(shape) != rank or any(d != 1 for i, d in enumerate(shape) if i != 1) or shape[1] not in (1, c):
        raise imp.error(f"Mul constant of shape {list(const.shape)} is not per channel for {c} channels")
    return np.broadcast_to(const.reshape(-1), (c,)).astype(F32)


CONVERTERS = {
    "LRN": lrn,
    "BatchNormalization": batch_normalization,
    "Mul": mul,
}
