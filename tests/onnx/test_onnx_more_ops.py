"""Clip (ReLU6), constant Pad, Squeeze and Unsqueeze: small float networks quantized by
onnxruntime (both forms) and hand-built QDQ models in the old attribute forms, imported
and checked bit-exactly (0 LSB) against onnxruntime; unsupported variants end in
one-line errors that name the node."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from xdsl.context import Context

from gemforge.dialects import graph as G
from gemforge.errors import GemforgeError
from gemforge.frontends.onnx import load_model
from gemforge.frontends.onnx_import import import_model
from gemforge.frontends.onnx_quantize import quantize_model
from gemforge.graph_eval import evaluate
from gemforge.passes.fuse_activation import FuseActivation
from onnx_net import F32, Net  # tests/onnx/onnx_net.py

FORMATS = ["qoperator", "qdq"]




def _count(module, op_type) -> int:
    return sum(isinstance(op, op_type) for op in module.walk())


def _relu6_block():
    """MobileNet-style: conv -> ReLU6 -> depthwise conv -> ReLU6 -> pointwise conv."""
    n = Net((1, 4, 10, 10), seed=2)
    a = n.clip(n.conv("x", 4, 8, 3, pads=[1, 1, 1, 1], strides=[2, 2]), 0, 6)
    b = n.clip(n.conv(a, 8, 8, 3, group=8, pads=[1, 1, 1, 1]), 0, 6)
    return n.model(n.conv(b, 8, 4, 1))


@pytest.mark.parametrize("quant_format", FORMATS)
def test_relu6_block_matches_onnxruntime_and_fuses(compare, quant_format):
    feeds = [{"x": 4 * np.random.default_rng(s).standard_normal((1, 4, 10, 10)).astype(F32)} for s in (0, 1)]
    module, info = load_model(_relu6_block(), quant_format=quant_format, calibration=feeds)
    assert _count(module, G.ClipOp) == 2
    compare(module, info)
    # The clips sit right after their convs: fuse-activation folds them, bit-exactly.
    x = {"x": np.random.default_rng(5).integers(-128, 128, (1, 10, 10, 4), dtype=np.int8)}
    before = evaluate(module, x)
    FuseActivation().apply(Context(), module)
    assert _count(module, G.ClipOp) == 0
    assert sum(op.activation != "none" for op in module.walk() if isinstance(op, G.Conv2DOp)) == 2
    after = evaluate(module, x)
    for name in before:
        np.testing.assert_array_equal(before[name], after[name])


def _clip_pad_needing_output_scale():
    """Clip and Pad bounds / values that are no int8 level of their input's scale (the
    conv's range is wider than the clip's because the raw conv output is used too)."""
    n = Net((1, 4, 9, 9), seed=4)
    a = n.conv("x", 4, 8, 3, pads=[1, 1, 1, 1])
    c = n.op("Pad", [n.clip(a, -0.25, 0.5), n.axes([0, 0, 0, 0, 0, 0, 1, 1])])
    p = n.op("Pad", [a, n.axes([0, 0, 1, 0, 0, 0, 0, 1]), n.const(F32(0.3))])
    return n.model(n.conv(n.op("Concat", [c, p], axis=1), 16, 4, 1))


@pytest.mark.parametrize("quant_format", FORMATS)
def test_clip_and_pad_at_the_output_scale(compare, quant_format):
    module, info = load_model(_clip_pad_needing_output_scale(), quant_format=quant_format)
    assert _count(module, G.ClipOp) == 1 and _count(module, G.PadOp) == 2
    assert _count(module, G.RequantizeOp) >= 1  # clipped after the change of scale
    compare(module, info)


def _squeeze_pad_net():
    """Pad, an Unsqueeze/Squeeze round trip through 5-D, and the classifier's
    GlobalAveragePool -> Squeeze -> Gemm."""
    n = Net((1, 3, 8, 7), seed=6)
    a = n.clip(n.conv("x", 3, 8, 3, pads=[1, 1, 1, 1]), 0, 6)
    p = n.op("Pad", [a, n.axes([0, 0, 1, 2, 0, 0, 2, 1])], mode="constant")
    u = n.op("Unsqueeze", [p, n.axes([-3])])
    s = n.op("Squeeze", [u, n.axes([2])])
    d = n.op("Relu", [n.conv(s, 8, 8, 3)])
    g = n.op("Squeeze", [n.op("GlobalAveragePool", [d]), n.axes([2, 3])])
    w = n.rng.normal(0, 0.3, (8, 5)).astype(F32)
    return n.model(n.op("Gemm", [n.op("Unsqueeze", [n.op("Squeeze", [g]), n.axes([0])]), n.const(w)]))


@pytest.mark.parametrize("quant_format", FORMATS)
def test_squeeze_unsqueeze_pad_net(compare, quant_format):
    module, info = load_model(_squeeze_pad_net(), quant_format=quant_format)
    assert _count(module, G.PadOp) == 1 and _count(module, G.ReshapeOp) >= 3
    compare(module, info)


# --- hand-built QDQ models (old opsets, attribute forms, errors) -------------------------


def _qdq(middle, inits=(), opset=13, shape=(1, 3, 5, 6), extra_inputs=()):
    """x -> Q -> DQ -> ``middle`` nodes ('d' -> 'm') -> Q -> DQ -> y, scales 0.02 / 0.01."""
    inits = [
        numpy_helper.from_array(np.array(0.02, F32), "xs"), numpy_helper.from_array(np.array(0.01, F32), "ys"),
        numpy_helper.from_array(np.array(0, np.int8), "zp"), *inits,
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "xs", "zp"], ["xq"], name="qx"),
        helper.make_node("DequantizeLinear", ["xq", "xs", "zp"], ["d"], name="dqx"),
        *middle,
        helper.make_node("QuantizeLinear", ["m", "ys", "zp"], ["mq"], name="qm"),
        helper.make_node("DequantizeLinear", ["mq", "ys", "zp"], ["y"], name="dqm"),
    ]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape)), *extra_inputs]
    graph = helper.make_graph(nodes, "qdq", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 6 if opset <= 10 else 8
    return model


def test_opset10_attribute_forms(compare):
    """Pad (pads / value attributes), Unsqueeze / Squeeze (axes attribute) and Clip
    (min / max attributes) before opset 11; the Clip bound 0.5 is a level of neither scale."""
    middle = [
        helper.make_node("Pad", ["d"], ["p"], name="pad", pads=[0, 0, 2, 0, 0, 0, 1, 3], value=0.0),
        helper.make_node("Unsqueeze", ["p"], ["u"], name="unsq", axes=[0, 3]),
        helper.make_node("Squeeze", ["u"], ["s"], name="sq", axes=[0, 3]),
        helper.make_node("Clip", ["s"], ["m"], name="clip", min=-0.3, max=0.505),
    ]
    module, info = load_model(_qdq(middle, opset=10))
    assert [_count(module, t) for t in (G.PadOp, G.ClipOp, G.RequantizeOp)] == [1, 1, 1]
    compare(module, info)


def test_squeeze_without_axes_and_int8_pad_value(compare):
    middle = [
        helper.make_node("Unsqueeze", ["d", "ax"], ["u"], name="unsq"),
        helper.make_node("Squeeze", ["u"], ["s"], name="sq"),
        helper.make_node("Pad", ["s", "pads", "value"], ["m"], name="pad"),
    ]
    inits = [numpy_helper.from_array(np.array([1, -1], np.int64), "ax"),
             numpy_helper.from_array(np.array([0, 1, 0, 0, 2, 0], np.int64), "pads"),
             numpy_helper.from_array(np.array(0.04, F32), "value")]  # 4 levels of the output scale
    module, info = load_model(_qdq(middle, inits, shape=(3, 5, 6)))
    compare(module, info)


def _error(middle, inits=(), **kw) -> str:
    with pytest.raises(GemforgeError) as err:
        load_model(_qdq(middle, inits, **kw))
    message = str(err.value)
    assert "\n" not in message, message
    return message


def test_pad_reflect_is_a_one_line_error():
    pads = [numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads")]
    message = _error([helper.make_node("Pad", ["d", "pads"], ["m"], name="the_pad", mode="reflect")], pads)
    assert "'the_pad' (Pad)" in message and "reflect" in message


def test_negative_pads_are_a_one_line_error():
    pads = [numpy_helper.from_array(np.array([0, 0, -1, 0, 0, 0, 0, 0], np.int64), "pads")]
    message = _error([helper.make_node("Pad", ["d", "pads"], ["m"], name="crop")], pads)
    assert "'crop' (Pad)" in message and "negative" in message


@pytest.mark.parametrize("op_type", ["Squeeze", "Unsqueeze"])
def test_axes_that_are_not_constant_are_a_one_line_error(op_type):
    axes = helper.make_tensor_value_info("axes", TensorProto.INT64, [1])
    node = helper.make_node(op_type, ["d", "axes"], ["m"], name="the_axes_user")
    message = _error([node], extra_inputs=[axes])
    assert f"'the_axes_user' ({op_type})" in message and "constant" in message


def test_clip_with_min_above_max_is_a_one_line_error():
    bounds = [numpy_helper.from_array(np.array(v, F32), n) for n, v in (("lo", 1.0), ("hi", 0.5))]
    message = _error([helper.make_node("Clip", ["d", "lo", "hi"], ["m"], name="bad_clip")], bounds)
    assert "'bad_clip' (Clip)" in message and "greater" in message


def _without_qdq_before(model, op_type):
    """The QDQ ``model`` with the QuantizeLinear -> DequantizeLinear pair in front of
    every ``op_type`` node removed (the op then reads its producer's float result)."""
    producer = {out: node for node in model.graph.node for out in node.output}
    for node in [n for n in model.graph.node if n.op_type == op_type]:
        dq = producer[node.input[0]]
        q = producer[dq.input[0]]
        node.input[0] = q.input[0]
        model.graph.node.remove(dq)
        model.graph.node.remove(q)
    return model


def test_clip_right_after_a_float_conv_is_exact(compare):
    """Conv -> Clip -> QuantizeLinear with no quantization between them (as other
    quantizers emit it): the conv's epilogue at the Clip's output scale, then the clip."""
    feeds = [{"x": 4 * np.random.default_rng(s).standard_normal((1, 4, 10, 10)).astype(F32)} for s in (0, 1)]
    model = _without_qdq_before(quantize_model(_relu6_block(), quant_format="qdq", calibration=feeds), "Clip")
    module, info = import_model(model)
    info.quantized = model
    assert _count(module, G.ClipOp) == 2 and _count(module, G.RequantizeOp) == 0
    compare(module, info)


def test_global_average_pool_of_a_pending_conv_is_a_one_line_error():
    n = Net((1, 3, 6, 6))
    model = n.model(n.op("GlobalAveragePool", [n.conv("x", 3, 4, 3)]))
    model = _without_qdq_before(quantize_model(model, quant_format="qdq"), "GlobalAveragePool")
    with pytest.raises(GemforgeError) as err:
        import_model(model)
    message = str(err.value)
    assert "\n" not in message and "(GlobalAveragePool)" in message and "Conv" in message, message


def test_int8_clip_with_int8_bounds(compare):
    """QOperator-style Clip on the int8 tensor itself (int8 min / max constants)."""
    inits = [numpy_helper.from_array(np.array(v, t), n) for n, v, t in
             (("xs", 0.02, F32), ("zp", 0, np.int8), ("lo", -20, np.int8), ("hi", 90, np.int8))]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "xs", "zp"], ["xq"], name="qx"),
        helper.make_node("Clip", ["xq", "lo", "hi"], ["cq"], name="clip8"),
        helper.make_node("DequantizeLinear", ["cq", "xs", "zp"], ["y"], name="dq"),
    ]
    graph = helper.make_graph(nodes, "int8_clip", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    module, info = load_model(model)
    assert [(op.min, op.max) for op in module.walk() if isinstance(op, G.ClipOp)] == [(-20, 90)]
    compare(module, info)
