"""Converters of integer ONNX ops (QOperator form) into graph ops, the op builders they
share with the QDQ patterns (:mod:`gemforge.frontends.onnx_qdq`), and ``CONVERTERS``
(op type -> converter) for the QOperator ops.

A converter takes the importer and the node and returns one value per node output.
"""

from __future__ import annotations

import numpy as np
import onnx

from gemforge.dialects import graph as G
from gemforge.frontends import onnx_layout as L
from gemforge.frontends import onnx_scales as S
from gemforge.frontends.onnx_values import NCHW_TO_NHWC, Const, Quant


# --- builders shared with the QDQ patterns --------------------------------------------


def build_conv(imp, node, x: Quant, w, w_scale, bias, y_scale: float, activation: str = "none") -> Quant:
    """int8 conv of ``x`` (ONNX OIHW int8 weights, optional int32 bias) requantized to
    ``y_scale`` exactly as onnxruntime's QLinearConv does."""
    if w.dtype != np.int8 or w.ndim != 4:
        raise imp.error(f"weights must be 4-D int8, got {w.dtype} {list(w.shape)}")
    x = imp.nhwc(x)
    a = L.attrs(node)
    groups = int(a.get("group", 1))
    stride, pads, dilation = L.window(imp, node, x.ir_shape[1:3], tuple(w.shape[2:]), {"group"})
    out_scale = S.matmul_output_scale(x.scale, w_scale, y_scale)
    op = G.Conv2DOp(
        x.value,
        imp.constant(w.transpose(2, 3, 1, 0)),  # OIHW -> HWIO
        None if bias is None else imp.constant(bias.astype(np.int32)),
        stride=stride,
        padding=pads,
        dilation=dilation,
        groups=groups,
        output_scale=out_scale,
        activation=activation,
    )
    return Quant(imp.emit(op), y_scale, True)


def build_matmul(imp, a: Quant, b, b_scale, bias, y_scale: float, activation: str = "none") -> Quant:
    """int8 ``a @ b`` (``b`` a [K, N] int8 array or Quant) + int32 bias, requantized."""
    a = imp.plain(a)
    rhs = imp.constant(b) if isinstance(b, np.ndarray) else imp.plain(b).value
    out_scale = S.matmul_output_scale(a.scale, b_scale, y_scale)
    bias_value = None if bias is None else imp.constant(bias.reshape(-1).astype(np.int32))
    op = G.MatmulOp(a.value, rhs, bias_value, output_scale=out_scale, activation=activation)
    return Quant(imp.emit(op), y_scale, False)


def build_gemm(imp, node, a: Quant, b, b_scale, bias, y_scale: float, activation: str = "none") -> Quant:
    """ONNX Gemm (alpha = beta = 1, no transA) as a matmul with [K, N] weights."""
    at = L.attrs(node)
    unknown = set(at) - {"transA", "transB", "alpha", "beta"}
    if unknown or at.get("transA", 0) or at.get("alpha", 1.0) != 1.0 or at.get("beta", 1.0) != 1.0:
        raise imp.error(f"only Gemm with alpha = beta = 1 and no transA is supported, got {at}")
    if not isinstance(b, np.ndarray):
        raise imp.error("Gemm needs a constant B")
    if at.get("transB", 0):
        b = b.T
    if bias is not None and bias.size != b.shape[1]:
        raise imp.error(f"bias of shape {list(bias.shape)} is not per output column (N = {b.shape[1]})")
    return build_matmul(imp, a, np.ascontiguousarray(b), b_scale, bias, y_scale, activation)


def broadcast_constant(imp, array: np.ndarray, like: Quant, scale: float) -> Quant:
    """An int8 constant operand broadcast (ONNX rules) to the shape and layout of
    ``like``: a constant per-channel bias of a QLinearAdd becomes a full tensor."""
    if array.dtype != np.int8:
        raise imp.error(f"constant operand must be int8, got {array.dtype}")
    try:
        full = np.broadcast_to(array, like.onnx_shape)
    except ValueError:
        raise imp.error(f"constant of shape {list(array.shape)} does not broadcast to {list(like.onnx_shape)}") from None
    full = full.transpose(NCHW_TO_NHWC) if like.nhwc else full
    return Quant(imp.constant(np.ascontiguousarray(full)), scale, like.nhwc)


def build_add(imp, a: Quant | np.ndarray, b: Quant | np.ndarray, y_scale: float, activation: str = "none",
              scales: tuple[float, float] | None = None) -> Quant:
    """int8 ``a + b`` requantized; one operand may be an int8 constant (with its scale
    in ``scales``) that broadcasts to the other's shape."""
    if isinstance(a, np.ndarray):
        a = broadcast_constant(imp, a, b, scales[0])
    if isinstance(b, np.ndarray):
        b = broadcast_constant(imp, b, a, scales[1])
    if a.onnx_shape != b.onnx_shape:
        raise imp.error(f"broadcasting add of {list(a.onnx_shape)} and {list(b.onnx_shape)} is not supported")
    if a.nhwc != b.nhwc:
        a, b = imp.nhwc(a), imp.nhwc(b)
    op = G.AddOp(a.value, b.value, lhs_scale=a.scale, rhs_scale=b.scale, output_scale=y_scale, activation=activation)
    return Quant(imp.emit(op), y_scale, a.nhwc)


def build_avgpool(imp, node, x: Quant, y_scale: float) -> Quant:
    """AveragePool; onnxruntime averages dequantized floats, the graph op an exact
    integer sum: they agree except when float rounding crosses a .5 boundary."""
    x = imp.nhwc(x)
    a = L.attrs(node)
    kernel = tuple(a["kernel_shape"])
    stride, pads, dilation = L.window(imp, node, x.ir_shape[1:3], kernel, {"ceil_mode", "count_include_pad"})
    if dilation != (1, 1):
        raise imp.error("dilated pooling is not supported")
    include_pad = bool(a.get("count_include_pad", 0))
    if a.get("ceil_mode", 0):
        if include_pad:
            raise imp.error("ceil_mode with count_include_pad is not supported")
        pads = L.ceil_pads(x.ir_shape[1:3], kernel, stride, pads)
    scale = float(np.float32(x.scale) / np.float32(y_scale))
    op = G.AvgPoolOp(x.value, kernel, stride, pads, count_include_pad=include_pad, scale=scale)
    return Quant(imp.emit(op), y_scale, True)


def build_global_avgpool(imp, x: Quant, y_scale: float) -> Quant:
    x = imp.nhwc(x)
    count = x.ir_shape[1] * x.ir_shape[2]
    scale = S.pool_scale(S.global_pool_factor(x.scale, y_scale, count), count)
    return Quant(imp.emit(G.GlobalAvgPoolOp(x.value, scale=scale)), y_scale, True)


def rescale(imp, x: Quant, y_scale: float) -> Quant:
    """``x`` at scale ``y_scale`` (``graph.requantize``; nothing if the scales are equal)."""
    if np.float32(x.scale) == np.float32(y_scale):
        return Quant(x.value, y_scale, x.nhwc)
    m, bad = S.requant_scale(x.scale, y_scale)
    if bad:
        imp.info.notes.append(f"{imp.node.name}: rescale {x.scale} -> {y_scale} differs from onnxruntime on {bad}/256 int8 inputs")
    return Quant(imp.emit(G.RequantizeOp(x.value, m)), y_scale, x.nhwc)


def build_concat(imp, node, xs: list[Quant], y_scale: float) -> Quant:
    axis = int(L.attrs(node).get("axis", 1))
    if any(x.nhwc for x in xs):
        xs = [imp.nhwc(x) for x in xs]
    xs = [rescale(imp, x, y_scale) for x in xs]
    op = G.ConcatOp([x.value for x in xs], L.concat_axis(xs[0], axis))
    return Quant(imp.emit(op), y_scale, xs[0].nhwc)


# --- QOperator converters --------------------------------------------------------------


def _qparams(imp, node, scale_index: int, what: str) -> float:
    imp.zero_point(node.input[scale_index + 1] if len(node.input) > scale_index + 1 else None, f"{what} zero point")
    return imp.scalar(node.input[scale_index], f"{what} scale")


def qlinear_conv(imp, node: onnx.NodeProto):
    x = imp.quant(node.input[0])
    xs, ws, ys = (_qparams(imp, node, i, w) for i, w in ((1, "x"), (4, "w"), (6, "y")))
    bias = imp.const(node.input[8], "bias") if len(node.input) > 8 and node.input[8] else None
    return [build_conv(imp, node, x, imp.const(node.input[3], "weight"), ws, bias, ys)]


def qlinear_matmul(imp, node: onnx.NodeProto):
    a = imp.quant(node.input[0])
    as_, bs, ys = (_qparams(imp, node, i, w) for i, w in ((1, "a"), (4, "b"), (6, "y")))
    b = imp.get(node.input[3])
    b = b.array if isinstance(b, Const) else imp.quant(node.input[3], "B")
    return [build_matmul(imp, a, b, bs, None, ys)]


def qgemm(imp, node: onnx.NodeProto):
    if len(node.input) < 8 or not node.input[7]:
        raise imp.error("QGemm without y_scale (float output) is not supported")
    a = imp.quant(node.input[0])
    _qparams(imp, node, 1, "a")
    bs = _qparams(imp, node, 4, "b")
    ys = _qparams(imp, node, 7, "y")
    bias = imp.const(node.input[6], "bias C") if node.input[6] else None
    return [build_gemm(imp, node, a, imp.const(node.input[3], "weight"), bs, bias, ys)]


def _operand(imp, node, index: int, what: str) -> Quant:
    """The int8 operand at ``index`` with the scale the node gives it (at index + 1)."""
    x = imp.quant(node.input[index], what)
    return Quant(x.value, _qparams(imp, node, index + 1, what), x.nhwc)


def qlinear_add(imp, node: onnx.NodeProto):
    consts = [isinstance(imp.get(node.input[i]), Const) for i in (0, 3)]
    if all(consts):
        raise imp.error("adding two constants at run time is not supported")
    a, b = (imp.const(node.input[i], "constant operand") if c else _operand(imp, node, i, w)
            for i, c, w in ((0, consts[0], "A"), (3, consts[1], "B")))
    scales = (_qparams(imp, node, 1, "A"), _qparams(imp, node, 4, "B"))
    return [build_add(imp, a, b, _qparams(imp, node, 6, "C"), scales=scales)]


def qlinear_avgpool(imp, node: onnx.NodeProto):
    _check_channels_first(imp, node)
    return [build_avgpool(imp, node, _operand(imp, node, 0, "x"), _qparams(imp, node, 3, "y"))]


def qlinear_global_avgpool(imp, node: onnx.NodeProto):
    _check_channels_first(imp, node)
    return [build_global_avgpool(imp, _operand(imp, node, 0, "x"), _qparams(imp, node, 3, "y"))]


def qlinear_concat(imp, node: onnx.NodeProto):
    ys = _qparams(imp, node, 0, "y")
    xs = [_operand(imp, node, i, f"input {i // 3}") for i in range(2, len(node.input), 3)]
    return [build_concat(imp, node, xs, ys)]


def _check_channels_first(imp, node):
    if L.attrs(node).get("channels_last", 0):
        raise imp.error("channels_last = 1 is not supported")


CONVERTERS = {
    "QLinearConv": qlinear_conv,
    "QLinearMatMul": qlinear_matmul,
    "QGemm": qgemm,
    "QLinearAdd": qlinear_add,
    "QLinearAveragePool": qlinear_avgpool,
    "QLinearGlobalAveragePool": qlinear_global_avgpool,
    "QLinearConcat": qlinear_concat,
}
