"""The rounding rules that make imported ops reproduce onnxruntime's integer kernels,
checked against onnxruntime itself on exhaustive or large random inputs."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from gemforge import graph_eval_ops as K
from gemforge.frontends import onnx_scales as S
from gemforge.frontends.onnx_check import onnxruntime_session

F32 = np.float32


def _run(node, inputs: dict[str, np.ndarray], consts: dict[str, np.ndarray], out_shape):
    inits = [numpy_helper.from_array(v, k) for k, v in consts.items()]
    infos = [helper.make_tensor_value_info(k, TensorProto.INT8 if v.dtype == np.int8 else TensorProto.FLOAT, list(v.shape)) for k, v in inputs.items()]
    graph = helper.make_graph([node], "g", infos, [helper.make_tensor_value_info("y", TensorProto.INT8, list(out_shape))], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    return onnxruntime_session(model).run(["y"], inputs)[0]


def _scales(rng, n):
    return [np.array(s, F32) for s in rng.uniform(0.005, 0.3, n)]


ALL_PAIRS_A = np.repeat(np.arange(-128, 128, dtype=np.int8), 256).reshape(1, -1)
ALL_PAIRS_B = np.tile(np.arange(-128, 128, dtype=np.int8), 256).reshape(1, -1)


def test_qlinear_add_within_one_lsb_on_all_int8_pairs():
    """graph.add computes f32(a*ma) + f32(b*mb); onnxruntime's AVX2 kernel fuses one of
    the products into an FMA, so a few exact ties round differently (1 LSB)."""
    rng = np.random.default_rng(0)
    differing = total = 0
    for _ in range(8):
        sa, sb, sc = _scales(rng, 3)
        node = helper.make_node("QLinearAdd", ["a", "sa", "z", "b", "sb", "z", "sc", "z"], ["y"], domain="com.microsoft")
        consts = {"sa": sa, "sb": sb, "sc": sc, "z": np.array(0, np.int8)}
        theirs = _run(node, {"a": ALL_PAIRS_A, "b": ALL_PAIRS_B}, consts, ALL_PAIRS_A.shape)
        ours = K.add(ALL_PAIRS_A, ALL_PAIRS_B, float(sa), float(sb), float(sc), None, None)
        d = np.abs(ours.astype(int) - theirs.astype(int))
        assert d.max() <= 1
        differing += int(np.count_nonzero(d))
        total += d.size
    assert differing / total < 1e-4


def test_rescale_matches_dequantize_quantize_on_all_int8():
    rng = np.random.default_rng(1)
    x = np.arange(-128, 128, dtype=np.int8).reshape(1, -1)
    for _ in range(20):
        s_in, s_out = _scales(rng, 2)
        graph_nodes = [
            helper.make_node("DequantizeLinear", ["x", "si", "z"], ["f"]),
            helper.make_node("QuantizeLinear", ["f", "so", "z"], ["y"]),
        ]
        consts = {"si": s_in, "so": s_out, "z": np.array(0, np.int8)}
        inits = [numpy_helper.from_array(v, k) for k, v in consts.items()]
        graph = helper.make_graph(graph_nodes, "g", [helper.make_tensor_value_info("x", TensorProto.INT8, [1, 256])],
                                  [helper.make_tensor_value_info("y", TensorProto.INT8, [1, 256])], inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = 8
        theirs = onnxruntime_session(model).run(["y"], {"x": x})[0]
        m, bad = S.requant_scale(float(s_in), float(s_out))
        assert bad == 0
        np.testing.assert_array_equal(K.scale_to_i8(x, m), theirs)


@pytest.mark.parametrize("hw", [(7, 7), (13, 13), (4, 6)])
def test_global_average_pool_scale_reproduces_onnxruntime(hw):
    rng = np.random.default_rng(hw[0])
    x = rng.integers(-128, 128, (2, 64, *hw), dtype=np.int8)
    for _ in range(5):
        sx, sy = _scales(rng, 2)
        node = helper.make_node("QLinearGlobalAveragePool", ["x", "sx", "z", "sy", "z"], ["y"], domain="com.microsoft")
        theirs = _run(node, {"x": x}, {"sx": sx, "sy": sy, "z": np.array(0, np.int8)}, (2, 64, 1, 1))
        count = hw[0] * hw[1]
        scale = S.pool_scale(S.global_pool_factor(float(sx), float(sy), count), count)
        ours = K.global_avgpool(x.transpose(0, 2, 3, 1), scale).transpose(0, 3, 1, 2)
        np.testing.assert_array_equal(ours, theirs)


def test_conv_output_scale_is_onnxruntime_float32_expression():
    assert S.matmul_output_scale(0.1, 0.02, 0.3) == float(F32(F32(F32(0.1) * F32(0.02)) / F32(0.3)))


def test_input_quantization_divides_like_mlas():
    x = np.array([0.15, -0.05, 1e6, -1e6, 0.25], F32)
    np.testing.assert_array_equal(S.quantize_input(x, 0.1), [2, 0, 127, -128, 2])  # 1.5 -> 2, -0.5 -> -0, 2.5 -> 2
