"""ONNX attributes and data-movement ops on int8 tensors (layout NCHW -> NHWC).

Everything here is exact on int8 data and keeps the scale, so it serves both the
integer ops (QOperator form) and dequantized tensors (``MaxPool`` / ``Reshape`` between
``DequantizeLinear`` and ``QuantizeLinear``).
"""

from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import helper

from gemforge.dialects import graph as G
from gemforge.frontends.onnx_values import Quant

# ONNX axis of an NCHW tensor -> the same axis in NHWC.
NCHW_AXIS_IN_NHWC = (0, 3, 1, 2)


def attrs(node: onnx.NodeProto) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def window(imp, node: onnx.NodeProto, hw: tuple[int, int], kernel: tuple[int, int], allowed: set[str]):
    """(stride, padding [t, l, b, r], dilation) of a 2-D conv / pool node, auto_pad resolved.

    Attributes other than ``allowed`` and the window ones end in a one-line error.
    """
    a = attrs(node)
    unknown = set(a) - allowed - {"kernel_shape", "strides", "pads", "dilations", "auto_pad"}
    if unknown:
        raise imp.error(f"attribute(s) {', '.join(sorted(unknown))} not supported")
    if len(kernel) != 2:
        raise imp.error(f"only 2-D windows are supported, got kernel {list(kernel)}")
    stride = tuple(a.get("strides", (1, 1)))
    dilation = tuple(a.get("dilations", (1, 1)))
    auto_pad = a.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
    if auto_pad in ("NOTSET", "VALID"):
        pads = tuple(a.get("pads", (0, 0, 0, 0))) if auto_pad == "NOTSET" else (0, 0, 0, 0)
    elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for size, k, s, d in zip(hw, kernel, stride, dilation):
            total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
            small, big = total // 2, total - total // 2
            begin.append(small if auto_pad == "SAME_UPPER" else big)
            end.append(big if auto_pad == "SAME_UPPER" else small)
        pads = (*begin, *end)
    else:
        raise imp.error(f"auto_pad '{auto_pad}' not supported")
    if len(stride) != 2 or len(pads) != 4 or len(dilation) != 2:
        raise imp.error("only 2-D windows are supported")
    return stride, pads, dilation


def ceil_pads(hw, kernel, stride, pads) -> tuple[int, ...]:
    """Extra bottom/right padding that turns ONNX ``ceil_mode`` into the floor rule; the
    last window must still start inside the input or the left padding (ONNX's rule)."""
    top, left, bottom, right = pads
    extra = []
    for size, k, s, lo, hi in zip(hw, kernel, stride, (top, left), (bottom, right)):
        out_ceil = -(-(size + lo + hi - k) // s) + 1
        if (out_ceil - 1) * s >= size + lo:
            out_ceil -= 1
        extra.append(max(0, (out_ceil - 1) * s + k - (size + lo + hi)))
    return top, left, bottom + extra[0], right + extra[1]


def reshape(imp, x: Quant, shape: tuple[int, ...]) -> Quant:
    """ONNX Reshape / Flatten: row-major over the ONNX (NCHW) element order."""
    if x.nhwc and math.prod(x.ir_shape[1:3]) != 1:
        x = imp.plain(x)  # NHWC and NCHW orders differ unless H = W = 1
    out = Quant(imp.emit(G.ReshapeOp(x.value, list(shape))), x.scale, False)
    return out


def onnx_reshape_target(imp, in_shape: tuple[int, ...], spec: np.ndarray, allowzero: int = 0) -> tuple[int, ...]:
    """Resolve ONNX Reshape's shape input (0 copies a dim unless allowzero, -1 infers)."""
    dims = [int(d) for d in spec.reshape(-1)]
    out = [in_shape[i] if d == 0 and not allowzero else d for i, d in enumerate(dims)]
    if out.count(-1) > 1:
        raise imp.error(f"shape {dims} has more than one -1")
    if -1 in out:
        known = math.prod(d for d in out if d != -1)
        out[out.index(-1)] = math.prod(in_shape) // known
    if math.prod(out) != math.prod(in_shape):
        raise imp.error(f"cannot reshape {list(in_shape)} to {dims}")
    return tuple(out)


def transpose(imp, x: Quant, perm: tuple[int, ...]) -> Quant:
    """ONNX Transpose with ``perm`` over the ONNX dims."""
    if x.nhwc:
        # The ONNX NCHW dims [0, 1, 2, 3] sit at NHWC positions [0, 3, 1, 2].
        perm = tuple(NCHW_AXIS_IN_NHWC[p] for p in perm)
    result = imp.emit(G.TransposeOp(x.value, list(perm)))
    return Quant(result, x.scale, False)


def concat_axis(x: Quant, axis: int) -> int:
    rank = len(x.ir_shape)
    axis = axis % rank
    return NCHW_AXIS_IN_NHWC[axis] if x.nhwc else axis
