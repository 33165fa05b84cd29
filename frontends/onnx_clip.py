"""ONNX Clip (ReLU6 = Clip(0, 6) in MobileNet-style models) as ``graph.clip``.

``Q`` (QuantizeLinear at scale ``s``: ``sat_i8(rne(v / s))``) is monotone, so
``Q(clip(v, lo, hi)) == clip(Q(v), Q(lo), Q(hi))``: a Clip is exact on int8 data once
its bounds are expressed as int8 levels of the scale the result is stored at.

- int8 input (QOperator form, bounds int8 constants): ``graph.clip`` as it is.
- dequantized input ``s * q`` whose bounds are exact levels of ``s`` (or lie beyond the
  int8 range, so they cut nothing): ``graph.clip`` on ``q``, still dequantized at ``s``.
- otherwise (a dequantized input with, say, ``6 / s`` not an integer; a pending float
  conv): the Clip is :class:`Pending` until its ``QuantizeLinear`` names the output
  scale ``ys``; then the input is quantized to ``ys`` (a rescale, or the pending op
  itself) and clipped to ``[Q(lo), Q(hi)]``. After a conv / matmul / add that clip is
  folded into the producer's epilogue by the ``fuse-activation`` pass (exact).

A float Clip that needs an output scale but reaches no QuantizeLinear runs in the host
float tail (:mod:`gemforge.frontends.onnx_tail`), like a final Softmax.
"""

from __future__ import annotations

import numpy as np
import onnx

from gemforge.dialects import graph as G
from gemforge.frontends import onnx_layout as L
from gemforge.frontends.onnx_ops import rescale
from gemforge.frontends.onnx_squeeze_pad import opset, pending_or_tail
from gemforge.frontends.onnx_values import Const, Deq, Pending, Quant

F32 = np.float32
I8_MIN, I8_MAX = -128, 127


def _bounds(imp, node: onnx.NodeProto) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(min, max) as 0-d arrays in the type ONNX gives them (None: unbounded)."""
    if opset(imp) < 11:
        a = L.attrs(node)
        return (None if "min" not in a else np.asarray(a["min"], F32),
                None if "max" not in a else np.asarray(a["max"], F32))
    out = []
    for index, what in ((1, "min"), (2, "max")):
        if len(node.input) <= index or not node.input[index]:
            out.append(None)
            continue
        array = imp.const(node.input[index], what)
        if array.size != 1:
            raise imp.error(f"{what} '{node.input[index]}' must be a scalar, got shape {list(array.shape)}")
        out.append(array.reshape(()))
    return out[0], out[1]


def _quantized(bound, scale: float, default: int) -> int:
    """``Q(bound)`` at ``scale`` (``sat_i8(rne(f32(bound) / f32(scale)))``)."""
    if bound is None:
        return default
    return int(np.clip(np.rint(F32(bound) / F32(scale)), I8_MIN, I8_MAX))


def _exact_level(bound, scale: float, default: int) -> int | None:
    """The int8 level ``k`` with ``f32(k * scale) == bound``, ``default`` for a bound that
    no int8 level crosses (``None`` included), else None."""
    if bound is None:
        return default
    b, s = F32(bound), F32(scale)
    if (default == I8_MIN and b <= F32(I8_MIN) * s) or (default == I8_MAX and b >= F32(I8_MAX) * s):
        return default
    k = np.rint(b / s)
    return int(k) if I8_MIN <= k <= I8_MAX and F32(k) * s == b else None


def _clip(imp, q: Quant, lo: int, hi: int) -> Quant:
    if (lo, hi) == (I8_MIN, I8_MAX):
        return q
    return Quant(imp.emit(G.ClipOp(q.value, lo, hi)), q.scale, q.nhwc)


def _relu(imp, act: str, q: Quant) -> Quant:
    """A Relu after the pending Clip (it commutes with Q too)."""
    return Quant(imp.emit(G.ReluOp(q.value)), q.scale, q.nhwc) if act != "none" else q


def clip(imp, node: onnx.NodeProto):
    lo, hi = _bounds(imp, node)
    if lo is not None and hi is not None and F32(lo) > F32(hi):
        raise imp.error(f"min {float(lo)} is greater than max {float(hi)}")
    source = imp.get(node.input[0])
    if isinstance(source, Quant):
        if any(b is not None and b.dtype != np.int8 for b in (lo, hi)):
            raise imp.error("Clip of an int8 tensor needs int8 min and max constants")
        return [_clip(imp, source, I8_MIN if lo is None else int(lo), I8_MAX if hi is None else int(hi))]
    if any(b is not None and b.dtype != np.float32 for b in (lo, hi)):
        raise imp.error("Clip of a float tensor needs float32 min and max constants")
    if isinstance(source, Deq) and isinstance(source.source, Quant):
        q = Quant(source.source.value, source.scale, source.source.nhwc)
        levels = (_exact_level(lo, q.scale, I8_MIN), _exact_level(hi, q.scale, I8_MAX))
        if None not in levels:
            return [Deq(_clip(imp, q, *levels), q.scale)]
        def build(ys: float, act: str) -> Quant:
            r = rescale(imp, q, ys)
            return _relu(imp, act, _clip(imp, r, _quantized(lo, ys, I8_MIN), _quantized(hi, ys, I8_MAX)))

        return pending_or_tail(imp, node, Pending(build, "Clip"))
    if isinstance(source, Pending):
        def build_after(ys: float, act: str) -> Quant:
            r = source.build(ys, source.activation)
            return _relu(imp, act, _clip(imp, r, _quantized(lo, ys, I8_MIN), _quantized(hi, ys, I8_MAX)))

        return [Pending(build_after, f"{source.what}+Clip")]
    if isinstance(source, (Const, Deq)):
        raise imp.error("clipping a constant at run time is not supported")
    raise imp.error(f"input '{node.input[0]}' is not an int8 tensor ({type(source).__name__})")


CONVERTERS = {"Clip": clip}
