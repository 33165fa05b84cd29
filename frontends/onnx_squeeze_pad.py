"""Squeeze, Unsqueeze and constant Pad on int8 tensors (QOperator form, where onnxruntime
runs them on the int8 data directly) and on dequantized or pending float tensors (QDQ
form, float islands): all three commute with a positive scale and with ``Q`` (which is
monotone with ``Q(0) == 0``), so they stay on the int8 data, exactly.

Squeeze / Unsqueeze are ``graph.reshape`` (row-major over ONNX's NCHW order, like
Reshape and Flatten: an NHWC tensor is transposed back first unless H = W = 1). Pad is
``graph.pad`` on the tensor in whatever layout it is kept, its pads permuted to match;
its value is an int8 level: ``Q(v)`` at the output scale, since
``Q(pad(t, v)) == pad(Q(t), Q(v))``. On dequantized data ``s * q`` whose scale has no
level equal to ``v`` the Pad is :class:`Pending` until its QuantizeLinear names that
scale. Only mode "constant" and non-negative pads are supported (one-line errors).
"""

from __future__ import annotations

import numpy as np
import onnx

from gemforge.dialects import graph as G
from gemforge.frontends import onnx_layout as L
from gemforge.frontends.onnx_ops import rescale
from gemforge.frontends.onnx_qdq import _lift
from gemforge.frontends.onnx_values import NCHW_TO_NHWC, Const, Deq, HostFloat, Pending, Quant


def opset(imp) -> int:
    """The model's default-domain opset (13 when it does not say)."""
    return next((o.version for o in imp.model.opset_import if o.domain in ("", "ai.onnx")), 13)


def _axes(imp, node: onnx.NodeProto, required: bool) -> list[int] | None:
    """``axes``: an attribute before opset 13, a constant second input from 13 on."""
    if opset(imp) < 13:
        axes = L.attrs(node).get("axes")
    elif len(node.input) > 1 and node.input[1]:
        axes = imp.const(node.input[1], "axes").reshape(-1)
    else:
        axes = None
    if axes is None and required:
        raise imp.error("Unsqueeze needs axes")
    return None if axes is None else [int(a) for a in axes]


def _normalized(imp, axes: list[int], rank: int) -> list[int]:
    out = sorted(a % rank if -rank <= a < rank else -1 for a in axes)
    if -1 in out or len(set(out)) != len(out):
        raise imp.error(f"axes {axes} are out of range or repeated for rank {rank}")
    return out


def squeeze(imp, node: onnx.NodeProto):
    axes = _axes(imp, node, required=False)

    def fn(q: Quant) -> Quant:
        shape = q.onnx_shape
        drop = [i for i, d in enumerate(shape) if d == 1] if axes is None else _normalized(imp, axes, len(shape))
        if any(shape[i] != 1 for i in drop):
            raise imp.error(f"cannot squeeze axes {axes} of shape {list(shape)} (not all of size 1)")
        return L.reshape(imp, q, tuple(d for i, d in enumerate(shape) if i not in drop))

    return _lift(imp, node, fn)


def unsqueeze(imp, node: onnx.NodeProto):
    axes = _axes(imp, node, required=True)

    def fn(q: Quant) -> Quant:
        shape = list(q.onnx_shape)
        insert = _normalized(imp, axes, len(shape) + len(axes))
        for a in insert:  # ascending, so every index refers to the output
            shape.insert(a, 1)
        return L.reshape(imp, q, tuple(shape))

    return _lift(imp, node, fn)


# --- Pad -------------------------------------------------------------------------------


def _pad_spec(imp, node: onnx.NodeProto, rank: int) -> tuple[list[int], object]:
    """(pads over all ONNX dims [b_0.., e_0..], constant value as given: None, a float or
    an int8 array)."""
    a = L.attrs(node)
    mode = a.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode != "constant":
        raise imp.error(f"Pad mode '{mode}' is not supported (only constant)")
    if opset(imp) < 11:
        pads, value = list(a.get("pads", [])), float(a.get("value", 0.0))
        axes = list(range(rank))
    else:
        pads = [int(p) for p in imp.const(node.input[1], "pads").reshape(-1)]
        value = _pad_value(imp, node.input[2]) if len(node.input) > 2 and node.input[2] else None
        axes = list(range(rank))
        if len(node.input) > 3 and node.input[3]:
            axes = _normalized(imp, [int(x) for x in imp.const(node.input[3], "axes").reshape(-1)], rank)
    if len(pads) != 2 * len(axes):
        raise imp.error(f"pads {pads} must hold 2 values per padded axis ({len(axes)} axes)")
    if any(p < 0 for p in pads):
        raise imp.error(f"negative pads (cropping) are not supported, got {pads}")
    full = [0] * (2 * rank)
    for i, axis in enumerate(axes):
        full[axis], full[axis + rank] = pads[i], pads[i + len(axes)]
    return full, value


def _pad_value(imp, name: str):
    """The constant value input: a constant, or (QDQ form) the DequantizeLinear of one."""
    value = imp.get(name)
    if isinstance(value, Deq) and isinstance(value.source, Const) and value.source.array.size == 1:
        return np.float32(value.source.array.reshape(())) * np.float32(value.scale)
    return imp.const(name, "constant value")


def _level(imp, value, scale: float, exact: bool) -> int | None:
    """The int8 level of the padding value at ``scale``: an int8 constant as it is; a
    float one is ``Q(value)``, or with ``exact`` the level ``k`` with
    ``f32(k * scale) == value`` (None if there is none)."""
    if value is None:
        return 0
    array = np.asarray(value)
    if array.size != 1:
        raise imp.error(f"constant value must be a scalar, got shape {list(array.shape)}")
    if array.dtype == np.int8:
        return int(array.reshape(()))
    v = np.float32(array.reshape(()))
    level = np.rint(v / np.float32(scale))
    if not exact:
        return int(np.clip(level, -128, 127))
    return int(level) if -128 <= level <= 127 and np.float32(level) * np.float32(scale) == v else None


def _build_pad(imp, q: Quant, full: list[int], level: int) -> Quant:
    if q.nhwc:  # IR (NHWC) dim j is ONNX dim NCHW_TO_NHWC[j]
        full = [full[NCHW_TO_NHWC[j]] for j in range(4)] + [full[4 + NCHW_TO_NHWC[j]] for j in range(4)]
    return Quant(imp.emit(G.PadOp(q.value, full, level)), q.scale, q.nhwc)


def pad(imp, node: onnx.NodeProto):
    """Constant Pad: ``Q(pad(t, v)) == pad(Q(t), Q(v))``. On dequantized data whose scale
    has no level equal to ``v`` the Pad waits (:class:`Pending`) for its output scale."""
    source = imp.get(node.input[0])
    if isinstance(source, Deq) and isinstance(source.source, Const):
        raise imp.error("padding a constant at run time is not supported")
    if isinstance(source, Deq) and isinstance(source.source, Quant):
        q = Quant(source.source.value, source.scale, source.source.nhwc)
        full, value = _pad_spec(imp, node, len(q.onnx_shape))
        if _level(imp, value, q.scale, exact=True) is None:
            def build(ys: float, act: str) -> Quant:
                r = _build_pad(imp, rescale(imp, q, ys), full, _level(imp, value, ys, exact=False))
                return Quant(imp.emit(G.ReluOp(r.value)), ys, r.nhwc) if act != "none" else r

            return pending_or_tail(imp, node, Pending(build, "Pad"))

    def fn(q: Quant) -> Quant:
        full, value = _pad_spec(imp, node, len(q.onnx_shape))
        if isinstance(source, Quant) and value is not None and np.asarray(value).dtype != np.int8:
            raise imp.error(f"padding an int8 tensor needs an int8 constant value, got {np.asarray(value).dtype}")
        return _build_pad(imp, q, full, _level(imp, value, q.scale, exact=not isinstance(source, Pending)))

    return _lift(imp, node, fn)


def pending_or_tail(imp, node: onnx.NodeProto, pending: Pending) -> list:
    """``pending`` if a QuantizeLinear will name its output scale; else the node runs in
    the host float tail (its result is a float network output)."""
    if imp._feeds_quantize(node):
        return [pending]
    imp.tail_nodes.append(node)
    return [HostFloat()]


CONVERTERS = {
    "Squeeze": squeeze,
    "Unsqueeze": unsqueeze,
    "Pad": pad,
}
