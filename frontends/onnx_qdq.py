"""QuantizeLinear / DequantizeLinear and the float ops between them (the QDQ form, and
the float islands onnxruntime's QOperator form leaves around ReLU and MaxPool).

``DequantizeLinear`` does not compute anything: it marks its int8 input as "read as
float" (:class:`Deq`). Float ops that commute with a positive scale (ReLU, MaxPool,
Reshape, Flatten, Transpose, Identity) then stay on the int8 data, exactly. Float
Conv / Gemm / MatMul / Add / pools / Concat over dequantized inputs become
:class:`Pending` ops, built as int8 graph ops once the ``QuantizeLinear`` after them
names the output scale: the pattern ``DQ -> op -> Q`` is the quantized op.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

from gemforge.dialects import graph as G
from gemforge.frontends import onnx_layout as L
from gemforge.frontends import onnx_ops as O
from gemforge.frontends.onnx_values import Const, Deq, Pending, Quant


def quantize_linear(imp, node: onnx.NodeProto):
    imp.zero_point(node.input[2] if len(node.input) > 2 else None, "y zero point")
    zp_type = imp.const(node.input[2], "y zero point").dtype if len(node.input) > 2 and node.input[2] else np.uint8
    if zp_type != np.int8:
        raise imp.error(f"QuantizeLinear to {np.dtype(zp_type).name} is not supported (int8 only)")
    scale = imp.scalar(node.input[1], "y scale")
    if node.input[0] in imp.float_inputs:
        return [imp.argument(node.input[0], scale)]
    source = imp.get(node.input[0])
    if isinstance(source, Deq) and isinstance(source.source, Quant):
        return [O.rescale(imp, Quant(source.source.value, source.scale, source.source.nhwc), scale)]
    if isinstance(source, Pending):
        return [source.build(scale, source.activation)]
    if isinstance(source, Const):
        raise imp.error("quantizing a constant at run time is not supported (store it quantized)")
    raise imp.error(f"cannot quantize '{node.input[0]}' ({type(source).__name__})")


def dequantize_linear(imp, node: onnx.NodeProto):
    imp.zero_point(node.input[2] if len(node.input) > 2 else None, "x zero point")
    attrs = L.attrs(node)
    source = imp.get(node.input[0])
    scale_array = imp.const(node.input[1], "x scale")
    if scale_array.size != 1:
        raise imp.error(f"per-channel scales (axis {attrs.get('axis', 1)}) are not supported, only per-tensor")
    scale = float(scale_array.reshape(()))
    if isinstance(source, Const):
        if source.array.dtype not in (np.int8, np.int32):
            raise imp.error(f"dequantizing {source.array.dtype} data is not supported (int8 weights, int32 biases)")
        return [Deq(source, scale)]
    if isinstance(source, Quant):
        return [Deq(source, scale)]
    raise imp.error(f"cannot dequantize '{node.input[0]}' ({type(source).__name__})")


# --- exact ops on int8 data (directly, or on its dequantized view) ---------------------


def _lift(imp, node, fn):
    """Apply ``fn`` (Quant -> Quant) to an int8 tensor or to the int8 under a Deq."""
    value = imp.get(node.input[0])
    if isinstance(value, Deq) and isinstance(value.source, Quant):
        q = fn(Quant(value.source.value, value.scale, value.source.nhwc))
        return [Deq(q, value.scale)]
    if isinstance(value, Quant):
        return [fn(value)]
    if isinstance(value, Pending):
        # Exact on the quantized result too: Q is monotone and Q(0) == 0, so ReLU, max
        # pooling and reshapes commute with it (Conv -> Relu -> Q fuses the ReLU).
        if node.op_type == "Relu":
            return [Pending(value.build, value.what, "relu")]
        return [Pending(lambda ys, act: fn(value.build(ys, act)), value.what, value.activation)]
    raise imp.error(f"input '{node.input[0]}' is not an int8 tensor ({type(value).__name__})")


def relu(imp, node):
    return _lift(imp, node, lambda q: Quant(imp.emit(G.ReluOp(q.value)), q.scale, q.nhwc))


def maxpool(imp, node):
    if len([o for o in node.output if o]) > 1:
        raise imp.error("MaxPool with an Indices output is not supported")

    def fn(q: Quant) -> Quant:
        q = imp.nhwc(q)
        a = L.attrs(node)
        kernel = tuple(a["kernel_shape"])
        stride, pads, dilation = L.window(imp, node, q.ir_shape[1:3], kernel, {"ceil_mode", "storage_order"})
        if dilation != (1, 1):
            raise imp.error("dilated max pooling is not supported")
        if a.get("ceil_mode", 0):
            pads = L.ceil_pads(q.ir_shape[1:3], kernel, stride, pads)
        return Quant(imp.emit(G.MaxPoolOp(q.value, kernel, stride, pads)), q.scale, True)

    return _lift(imp, node, fn)


def reshape(imp, node):
    spec = imp.const(node.input[1], "shape")
    allowzero = int(L.attrs(node).get("allowzero", 0))
    return _lift(imp, node, lambda q: L.reshape(imp, q, L.onnx_reshape_target(imp, q.onnx_shape, spec, allowzero)))


def flatten(imp, node):
    def fn(q: Quant) -> Quant:
        axis = int(L.attrs(node).get("axis", 1)) % len(q.onnx_shape)
        shape = q.onnx_shape
        return L.reshape(imp, q, (int(np.prod(shape[:axis])), int(np.prod(shape[axis:]))))

    return _lift(imp, node, fn)


def transpose(imp, node):
    def fn(q: Quant) -> Quant:
        perm = L.attrs(node).get("perm") or list(reversed(range(len(q.onnx_shape))))
        return L.transpose(imp, q, tuple(perm))

    return _lift(imp, node, fn)


def constant(imp, node):
    """An ONNX Constant node: a tensor value like an initializer."""
    a = L.attrs(node)
    if "value" not in a:
        raise imp.error(f"only Constant with a tensor 'value' is supported, got {sorted(a)}")
    return [Const(numpy_helper.to_array(a["value"]))]


def identity(imp, node):
    if node.op_type == "Dropout" and len([o for o in node.output if o]) > 1:
        raise imp.error("Dropout with a mask output is not supported")
    return [imp.get(node.input[0])]


# --- float ops over dequantized inputs: pending until their QuantizeLinear -------------


def _deq_quant(imp, name: str) -> Quant:
    value = imp.get(name)
    if isinstance(value, Deq) and isinstance(value.source, Quant):
        return Quant(value.source.value, value.scale, value.source.nhwc)
    if isinstance(value, Pending):  # no int8 scale to compute it at (no exact int8 form)
        raise imp.error(f"input '{name}' is the float result of {value.what} with no QuantizeLinear after it; "
                        "quantize it first")
    raise imp.error(f"input '{name}' must come from a DequantizeLinear of an int8 tensor")


def _deq_const(imp, name: str, what: str, dtype) -> tuple[np.ndarray, float]:
    value = imp.get(name)
    if isinstance(value, Deq) and isinstance(value.source, Const) and value.source.array.dtype == dtype:
        return value.source.array, value.scale
    raise imp.error(f"{what} '{name}' must be a DequantizeLinear of a constant {np.dtype(dtype).name} tensor")


def _bias(imp, node, index: int, acc_scale: float):
    if len(node.input) <= index or not node.input[index]:
        return None
    bias, scale = _deq_const(imp, node.input[index], "bias", np.int32)
    if not np.isclose(scale, acc_scale, rtol=1e-6):
        raise imp.error(f"bias scale {scale} is not input scale x weight scale ({acc_scale})")
    return bias


def conv(imp, node):
    x = _deq_quant(imp, node.input[0])
    w, ws = _deq_const(imp, node.input[1], "weight", np.int8)
    bias = _bias(imp, node, 2, x.scale * ws)
    return [Pending(lambda ys, act: O.build_conv(imp, node, x, w, ws, bias, ys, act), "Conv")]


def gemm(imp, node):
    a = _deq_quant(imp, node.input[0])
    b, bs = _deq_const(imp, node.input[1], "B", np.int8)
    bias = _bias(imp, node, 2, a.scale * bs)
    return [Pending(lambda ys, act: O.build_gemm(imp, node, a, b, bs, bias, ys, act), "Gemm")]


def matmul(imp, node):
    a = _deq_quant(imp, node.input[0])
    value = imp.get(node.input[1])
    if isinstance(value, Deq) and isinstance(value.source, Const):
        b, bs = _deq_const(imp, node.input[1], "B", np.int8)
    else:
        b = _deq_quant(imp, node.input[1])
        bs = b.scale
    return [Pending(lambda ys, act: O.build_matmul(imp, a, b, bs, None, ys, act), "MatMul")]


def add(imp, node):
    operands = []  # (int8 tensor or constant array, the constant's scale)
    for name in node.input[:2]:
        value = imp.get(name)
        if isinstance(value, Deq) and isinstance(value.source, Const):
            operands.append((value.source.array, value.scale))  # broadcast by build_add
        else:
            operands.append((_deq_quant(imp, name), None))
    (a, sa), (b, sb) = operands
    return [Pending(lambda ys, act: O.build_add(imp, a, b, ys, act, scales=(sa, sb)), "Add")]


def average_pool(imp, node):
    x = _deq_quant(imp, node.input[0])
    return [Pending(lambda ys, act: _no_act(imp, act, O.build_avgpool(imp, node, x, ys)), "AveragePool")]


def global_average_pool(imp, node):
    x = _deq_quant(imp, node.input[0])
    return [Pending(lambda ys, act: _no_act(imp, act, O.build_global_avgpool(imp, x, ys)), "GlobalAveragePool")]


def concat(imp, node):
    xs = [_deq_quant(imp, n) for n in node.input]
    return [Pending(lambda ys, act: _no_act(imp, act, O.build_concat(imp, node, xs, ys)), "Concat")]


def softmax(imp, node):
    """A float Softmax between DequantizeLinear and QuantizeLinear: the int8 form of
    ``graph.softmax`` (float32 inside; onnxruntime's exp and summation order may move a
    result across a rounding boundary, by one step)."""
    x = _deq_quant(imp, node.input[0])
    opset = next((o.version for o in imp.model.opset_import if o.domain in ("", "ai.onnx")), 13)
    rank = len(x.onnx_shape)
    axis = int(L.attrs(node).get("axis", -1 if opset >= 13 else 1)) % rank
    if opset < 13 and axis != rank - 1:
        raise imp.error(f"Softmax before opset 13 flattens from axis {axis}; only the last axis is supported")
    ir_axis = L.concat_axis(x, axis)

    def build(ys: float, act: str) -> Quant:
        op = G.SoftmaxOp(x.value, ir_axis, input_scale=x.scale, output_scale=ys)
        return _no_act(imp, act, Quant(imp.emit(op), ys, x.nhwc))

    return [Pending(build, "Softmax")]


def _no_act(imp, act: str, q: Quant) -> Quant:
    if act != "none":
        q = Quant(imp.emit(G.ReluOp(q.value)), q.scale, q.nhwc)
    return q


CONVERTERS = {
    "QuantizeLinear": quantize_linear,
    "DequantizeLinear": dequantize_linear,
    "Relu": relu,
    "MaxPool": maxpool,
    "Reshape": reshape,
    "Flatten": flatten,
    "Transpose": transpose,
    "Identity": identity,
    "Constant": constant,
    "Dropout": identity,
    "Conv": conv,
    "Gemm": gemm,
    "MatMul": matmul,
    "Add": add,
    "AveragePool": average_pool,
    "GlobalAveragePool": global_average_pool,
    "Concat": concat,
    "Softmax": softmax,
}
