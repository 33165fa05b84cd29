"""Float islands (LRN; a batch norm after no convolution, with a Caffe Scale's Mul and
Add) in small float networks quantized by onnxruntime, and the two kernels alone against
onnxruntime's own DequantizeLinear -> op -> QuantizeLinear.

Rounding rule: ``graph.channel_affine`` is bit-exact. ``graph.lrn`` uses libm's powf
where onnxruntime uses Eigen's vectorized pow (a few float32 ulps apart), so an int8
result may differ by 1 where the scaled value lies within those ulps of a .5 boundary:
measured 2 of 738,048 elements (2.7e-6) on four parameter sets, far inside the check's
bound of 1 LSB on at most 0.1 % of elements.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from gemforge import graph_eval_ops as K
from gemforge.dialects import graph as G
from gemforge.frontends.onnx import load_model
from onnx_net import F32, Net  # tests/onnx/onnx_net.py

FORMATS = ["qoperator", "qdq"]




def _count(module, op_type) -> int:
    return sum(isinstance(op, op_type) for op in module.walk())


def _lrn_net(after_pool: bool):
    """AlexNet's conv -> relu -> LRN -> maxpool, or GoogLeNet's maxpool -> LRN."""
    n = Net((1, 3, 20, 20), seed=3)
    a = n.op("Relu", [n.conv("x", 3, 16, 3, pads=[1, 1, 1, 1])])
    if after_pool:
        a = n.op("LRN", [n.op("MaxPool", [a], kernel_shape=[2, 2], strides=[2, 2])], size=5, alpha=1e-2, beta=0.75)
    else:
        a = n.op("MaxPool", [n.op("LRN", [a], size=3, alpha=0.5, beta=0.75, bias=2.0)], kernel_shape=[3, 3],
                 strides=[2, 2])
    return n.model(n.conv(a, 16, 8, 1))


@pytest.mark.parametrize("quant_format", FORMATS)
@pytest.mark.parametrize("after_pool", [False, True])
def test_lrn_mid_network_matches_onnxruntime(compare, quant_format, after_pool):
    module, info = load_model(_lrn_net(after_pool), quant_format=quant_format)
    assert _count(module, G.LRNOp) == 1
    compare(module, info, max_lsb=1, max_fraction=1e-3)


def _densenet_block(with_mul: bool):
    """DenseNet's concat -> BatchNormalization -> Mul -> Add (Caffe Scale) -> Relu -> conv."""
    n = Net((1, 4, 12, 12), seed=5)
    c = 12
    a = n.op("Concat", [n.op("Relu", [n.conv("x", 4, 8, 3, pads=[1, 1, 1, 1])]), "x"], axis=1)
    stats = [n.rng.uniform(0.5, 1.5, c), n.rng.normal(0, 0.2, c), n.rng.normal(0, 0.3, c), n.rng.uniform(0.5, 2, c)]
    a = n.op("BatchNormalization", [a, *(n.const(s.astype(F32)) for s in stats)], epsilon=1e-5)
    if with_mul:
        a = n.op("Mul", [a, n.const(n.rng.uniform(0.2, 1.0, (c, 1, 1)).astype(F32))])
        a = n.op("Add", [a, n.const(n.rng.normal(0, 0.3, (c, 1, 1)).astype(F32))])
    return n.model(n.conv(n.op("Relu", [a]), c, 8, 1))


@pytest.mark.parametrize("quant_format", FORMATS)
@pytest.mark.parametrize("with_mul", [False, True])
def test_standalone_batch_norm_is_bit_exact(compare, quant_format, with_mul):
    module, info = load_model(_densenet_block(with_mul), quant_format=quant_format)
    assert _count(module, G.ChannelAffineOp) == 1
    compare(module, info)


def _qdq_run(nodes, x, scales, extra_inits=()):
    """onnxruntime on int8 x -> DequantizeLinear -> nodes ('xf' to 'yf') -> QuantizeLinear -> int8."""
    inits = [numpy_helper.from_array(F32(scales[0]), "si"), numpy_helper.from_array(F32(scales[1]), "so"),
             numpy_helper.from_array(np.int8(0), "z"), *extra_inits]
    nodes = [helper.make_node("DequantizeLinear", ["x", "si", "z"], ["xf"]), *nodes,
             helper.make_node("QuantizeLinear", ["yf", "so", "z"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.INT8, list(x.shape))],
                              [helper.make_tensor_value_info("y", TensorProto.INT8, list(x.shape))], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.add_session_config_entry("session.qdqisint8allowed", "1")
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def _nhwc(x):
    return x.transpose(0, 2, 3, 1)


@settings(max_examples=15, deadline=None)
@given(size=st.sampled_from([1, 3, 5, 7]), alpha=st.floats(1e-4, 4.0), beta=st.floats(0.1, 1.5),
       bias=st.floats(0.5, 3.0), s_in=st.floats(1e-3, 0.5), s_out=st.floats(1e-3, 0.5),
       channels=st.integers(1, 24), seed=st.integers(0, 2**16))
def test_lrn_kernel_against_onnxruntime(size, alpha, beta, bias, s_in, s_out, channels, seed):
    x = np.random.default_rng(seed).integers(-128, 128, (1, channels, 6, 7), dtype=np.int8)
    node = helper.make_node("LRN", ["xf"], ["yf"], size=size, alpha=alpha, beta=beta, bias=bias)
    want = _qdq_run([node], x, (s_in, s_out))
    f = lambda v: float(F32(v))  # noqa: E731  (the attributes are float32 in ONNX)
    got = K.lrn(_nhwc(x), size, f(alpha), f(beta), f(bias), f(s_in), f(s_out)).transpose(0, 3, 1, 2)
    d = np.abs(got.astype(np.int64) - want)
    assert d.max(initial=0) <= 1 and np.count_nonzero(d) <= max(1, d.size // 1000), (d.max(), np.count_nonzero(d))


@settings(max_examples=15, deadline=None)
@given(s_in=st.floats(1e-3, 0.5), s_out=st.floats(1e-3, 0.5), channels=st.integers(1, 24), eps=st.floats(1e-6, 1e-2),
       seed=st.integers(0, 2**16))
def test_channel_affine_kernel_is_bit_exact_against_onnxruntime(s_in, s_out, channels, eps, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (1, channels, 5, 6), dtype=np.int8)
    gamma, beta, mean = (rng.normal(0, 1, channels).astype(F32) for _ in range(3))
    var = rng.uniform(0.01, 3, channels).astype(F32)
    mul = rng.normal(0, 0.5, (channels, 1, 1)).astype(F32)
    inits = [numpy_helper.from_array(a, n) for a, n in ((gamma, "g"), (beta, "b"), (mean, "m"), (var, "v"), (mul, "k"))]
    nodes = [helper.make_node("BatchNormalization", ["xf", "g", "b", "m", "v"], ["t"], epsilon=eps),
             helper.make_node("Mul", ["t", "k"], ["yf"])]
    want = _qdq_run(nodes, x, (s_in, s_out), inits)
    inv_std = F32(1) / np.sqrt(var + F32(eps))  # onnxruntime's folding, float32
    scale = inv_std * gamma
    got = K.channel_affine(_nhwc(x), scale, beta - mean * scale, mul.reshape(-1), float(F32(s_in)), float(F32(s_out)))
    np.testing.assert_array_equal(got.transpose(0, 3, 1, 2), want)
