"""Small float networks built here op by op, quantized by onnxruntime (both forms),
imported and checked bit-exactly against onnxruntime: every converter and layout rule
(strides, asymmetric pads, groups, dilation, ceil_mode, concat, reshape, transpose)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from gemforge.dialects import graph as G
from gemforge.frontends.onnx import load_model

FORMATS = ["qoperator", "qdq"]


class Net:
    """A tiny float ONNX graph builder with seeded weights."""

    def __init__(self, shape, seed=0):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.count = [], [], 0
        self.shape = shape
        self.inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))]

    def _name(self, stem):
        self.count += 1
        return f"{stem}{self.count}"

    def const(self, array):
        name = self._name("c")
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type, inputs, **attrs):
        out = self._name("t")
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=self._name("n"), **attrs))
        return out

    def conv(self, x, cin, cout, k, group=1, **attrs):
        w = self.rng.normal(0, np.sqrt(2 / (cin // group * k * k)), (cout, cin // group, k, k)).astype(np.float32)
        b = self.rng.uniform(-0.1, 0.1, cout).astype(np.float32)
        return self.op("Conv", [x, self.const(w), self.const(b)], kernel_shape=[k, k], group=group, **attrs)

    def gemm(self, x, k, n):
        w = self.rng.normal(0, np.sqrt(1 / k), (n, k)).astype(np.float32)
        return self.op("Gemm", [x, self.const(w), self.const(np.zeros(n, np.float32))], transB=1)

    def model(self, out):
        graph = helper.make_graph(
            self.nodes, "net", self.inputs, [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)], self.inits
        )
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 8
        return m


def _residual_net():
    n = Net((1, 3, 17, 15))
    a = n.op("Relu", [n.conv("x", 3, 8, 3, strides=[2, 2], pads=[1, 0, 2, 1])])
    b = n.op("Relu", [n.conv(a, 8, 8, 3, group=2, dilations=[2, 2], pads=[2, 2, 2, 2])])
    c = n.conv(b, 8, 8, 1)
    s = n.op("Relu", [n.op("Add", [a, c])])
    p = n.op("MaxPool", [s], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    q = n.op("AveragePool", [p], kernel_shape=[2, 2], strides=[1, 1], pads=[1, 1, 0, 0])
    d = n.conv(p, 8, 8, 3, group=8, pads=[1, 1, 1, 1])  # depthwise
    cat = n.op("Concat", [q, n.op("Relu", [d])], axis=1)
    g = n.op("GlobalAveragePool", [cat])
    f = n.op("Flatten", [g], axis=1)
    return n.model(n.gemm(f, 16, 10))


def _shuffle_net():
    n = Net((1, 4, 6, 6))
    a = n.op("Relu", [n.conv("x", 4, 8, 3, pads=[1, 1, 1, 1])])
    r = n.op("Reshape", [a, n.const(np.array([1, 2, 4, 6, 6], np.int64))])
    t = n.op("Transpose", [r], perm=[0, 2, 1, 3, 4])
    back = n.op("Reshape", [t, n.const(np.array([1, 8, 6, 6], np.int64))])
    b = n.conv(back, 8, 4, 3, strides=[2, 2], auto_pad="SAME_UPPER")
    f = n.op("Reshape", [b, n.const(np.array([1, -1], np.int64))])
    return n.model(n.op("Softmax", [n.gemm(f, 36, 5)], axis=-1))


@pytest.mark.parametrize("quant_format", FORMATS)
def test_residual_net(compare, quant_format):
    module, info = load_model(_residual_net(), quant_format=quant_format)
    assert sum(isinstance(op, G.Conv2DOp) for op in module.walk()) == 4
    compare(module, info)


@pytest.mark.parametrize("quant_format", FORMATS)
def test_reshape_transpose_softmax_net(compare, quant_format):
    compare(*load_model(_shuffle_net(), quant_format=quant_format))


@settings(max_examples=8, deadline=None)
@given(
    size=st.integers(5, 12),
    k=st.sampled_from([1, 2, 3, 5]),
    stride=st.integers(1, 3),
    pad=st.tuples(*[st.integers(0, 2)] * 4),
    groups=st.sampled_from([1, 2, 4]),
    seed=st.integers(0, 1000),
)
def test_random_conv_layers(size, k, stride, pad, groups, seed):
    from gemforge.frontends.onnx_check import diff, onnxruntime_outputs
    from gemforge.frontends.onnx import quantize_inputs, to_onnx_layout
    from gemforge.frontends.onnx_quantize import random_inputs
    from gemforge.graph_eval import evaluate

    if size + pad[0] + pad[2] < k or size + pad[1] + pad[3] < k:
        return
    n = Net((1, 4, size, size + 1), seed)
    y = n.conv("x", 4, 8, k, group=groups, strides=[stride, stride], pads=list(pad))
    module, info = load_model(n.model(n.op("Relu", [y])), seed=seed)
    feeds = random_inputs(info.quantized, seed=seed + 1, count=1)[0]
    ours = to_onnx_layout(info, evaluate(module, quantize_inputs(info, feeds)))
    theirs, _ = onnxruntime_outputs(info, feeds)
    for t in info.outputs:
        assert diff(ours[t.name], theirs[t.name]).count == 0


def test_user_calibration_sets_the_input_scale(compare):
    feeds = [{"x": np.full((1, 3, 17, 15), v, np.float32)} for v in (-2.54, 1.0)]
    module, info = load_model(_residual_net(), calibration=feeds)
    # Symmetric int8: the scale is max |x| / 127 over the calibration data.
    assert info.inputs[0].scale == pytest.approx(2.54 / 127, rel=1e-6)
    compare(module, info)


def _matmul_net():
    n = Net((1, 3, 8))
    w = n.rng.normal(0, 0.5, (8, 6)).astype(np.float32)
    a = n.op("Relu", [n.op("MatMul", ["x", n.const(w)])])
    t = n.op("Transpose", [a], perm=[0, 2, 1])
    return n.model(n.op("MatMul", [a, t]))


@pytest.mark.parametrize("quant_format", FORMATS)
def test_matmul_with_constant_and_activation_operands(compare, quant_format):
    module, info = load_model(_matmul_net(), quant_format=quant_format)
    assert sum(isinstance(op, G.MatmulOp) for op in module.walk()) == 2
    compare(module, info)
