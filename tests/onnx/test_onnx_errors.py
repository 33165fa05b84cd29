"""Bad ONNX input ends in one-line GemforgeErrors that name the node and op type."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from gemforge.errors import GemforgeError
from gemforge.frontends.onnx import load_model
from gemforge.frontends.onnx_import import import_model


def _one_line(err) -> str:
    message = str(err.value)
    assert "\n" not in message, message
    return message


def _model(nodes, inits, inputs, out, domain_ms=False):
    opsets = [helper.make_opsetid("", 13)] + ([helper.make_opsetid("com.microsoft", 1)] if domain_ms else [])
    graph = helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    return model


def _init(name, value, dtype):
    return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)


def _float_conv_model(middle_op: str, **attrs):
    rng = np.random.default_rng(0)
    w1 = rng.normal(0, 0.3, (4, 3, 3, 3)).astype(np.float32)
    w2 = rng.normal(0, 0.3, (4, 4, 1, 1)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["a"], name="conv_a", kernel_shape=[3, 3]),
        helper.make_node(middle_op, ["a"], ["b"], name="the_odd_one", **attrs),
        helper.make_node("Conv", ["b", "w2"], ["y"], name="conv_b", kernel_shape=[1, 1]),
    ]
    inits = [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")]
    return _model(nodes, inits, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])], "y")


@pytest.mark.parametrize("quant_format", ["qoperator", "qdq"])
def test_unsupported_op_in_the_middle_names_node_and_type(quant_format):
    with pytest.raises(GemforgeError) as err:
        load_model(_float_conv_model("Erf"), quant_format=quant_format)
    message = _one_line(err)
    assert "the_odd_one" in message and "(Erf)" in message and "not supported" in message


def _qlinear_conv(x_zp=0, zp_type=np.int8, w_scale=(0.02,)):
    inits = [
        _init("xs", 0.1, np.float32), _init("xz", x_zp, zp_type),
        _init("w", np.ones((2, 3, 1, 1)), np.int8), _init("ws", w_scale, np.float32), _init("wz", 0, np.int8),
        _init("ys", 0.2, np.float32), _init("yz", 0, zp_type),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"], name="quant_x"),
        helper.make_node("QLinearConv", ["xq", "xs", "xz", "w", "ws", "wz", "ys", "yz"], ["yq"], name="qconv"),
        helper.make_node("DequantizeLinear", ["yq", "ys", "yz"], ["y"], name="dequant_y"),
    ]
    return _model(nodes, inits, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])], "y")


def test_well_formed_qlinear_conv_imports():
    module, info = import_model(_qlinear_conv())
    assert info.inputs[0].scale == pytest.approx(0.1) and info.outputs[0].nhwc


def test_nonzero_zero_point_is_rejected():
    with pytest.raises(GemforgeError) as err:
        import_model(_qlinear_conv(x_zp=3))
    message = _one_line(err)
    assert "quant_x" in message and "zero point" in message and "symmetric" in message


def test_uint8_quantization_is_rejected():
    with pytest.raises(GemforgeError) as err:
        import_model(_qlinear_conv(zp_type=np.uint8))
    assert "uint8" in _one_line(err)


def test_per_channel_weight_scale_is_rejected():
    with pytest.raises(GemforgeError) as err:
        import_model(_qlinear_conv(w_scale=(0.02, 0.03)))
    message = _one_line(err)
    assert "qconv" in message and "per-tensor" in message


def test_unsupported_attribute_is_named():
    model = _float_conv_model("MaxPool", kernel_shape=[2, 2], dilations=[2, 2])
    with pytest.raises(GemforgeError) as err:
        load_model(model)
    message = _one_line(err)
    assert "(MaxPool)" in message and "dilated" in message


def test_missing_and_garbage_files(tmp_path):
    with pytest.raises(GemforgeError) as err:
        load_model(tmp_path / "nope.onnx")
    assert "nope.onnx" in _one_line(err)
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00not a protobuf\xff" * 3)
    with pytest.raises(GemforgeError) as err:
        load_model(bad)
    assert "bad.onnx" in _one_line(err)


def test_bad_quant_format():
    with pytest.raises(GemforgeError) as err:
        load_model(_float_conv_model("Relu"), quant_format="int4")
    assert "int4" in _one_line(err)
