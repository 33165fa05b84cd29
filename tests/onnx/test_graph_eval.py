"""graph_eval against independent numpy references (gemforge.reference and naive
loops written from the op docstrings), and through the IR's print/parse round trip."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, ModuleOp, StringAttr, TensorType, i8
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Block, Region

from gemforge import reference
from gemforge.dialects import graph as G
from gemforge.errors import GemforgeError
from gemforge.graph_eval import NAME_KEY, evaluate
from gemforge.testing import parse, print_ir

F32 = np.float32


def _func(arg_shapes, build):
    """A module with ``main(args...)`` whose body ``build(block, args)`` fills; returns
    (module, input names)."""
    block = Block(arg_types=[TensorType(i8, s) for s in arg_shapes])

    def emit(op):
        block.add_op(op)
        return op.results[0]

    results = build(emit, block.args)
    block.add_op(ReturnOp(*results))
    names = [f"in{i}" for i in range(len(arg_shapes))]
    func = FuncOp(
        "main",
        ([a.type for a in block.args], [r.type for r in results]),
        Region(block),
        arg_attrs=ArrayAttr([DictionaryAttr({NAME_KEY: StringAttr(n)}) for n in names]),
    )
    return ModuleOp([func]), names


def _i8(rng, shape):
    return rng.integers(-128, 128, size=shape, dtype=np.int8)


@settings(max_examples=25, deadline=None)
@given(
    hw=st.tuples(st.integers(3, 9), st.integers(3, 9)),
    c=st.sampled_from([1, 2, 4]),
    co=st.sampled_from([2, 4]),
    k=st.integers(1, 3),
    stride=st.integers(1, 2),
    pad=st.integers(0, 2),
    dilation=st.integers(1, 2),
    depthwise=st.booleans(),
    scale=st.floats(1e-4, 0.05),
    seed=st.integers(0, 2**16),
)
def test_conv2d_matches_reference(hw, c, co, k, stride, pad, dilation, depthwise, scale, seed):
    rng = np.random.default_rng(seed)
    groups = c if depthwise else 1
    co = c * (co // 2) if depthwise else co
    if hw[0] + 2 * pad < dilation * (k - 1) + 1 or hw[1] + 2 * pad < dilation * (k - 1) + 1:
        return
    x, w = _i8(rng, (1, *hw, c)), _i8(rng, (k, k, c // groups, co))
    bias = rng.integers(-5000, 5000, co).astype(np.int32)
    module, names = _func(
        [x.shape],
        lambda emit, args: [
            emit(G.Conv2DOp(args[0], emit(G.ConstantOp.from_numpy(w)), emit(G.ConstantOp.from_numpy(bias)),
                            stride=(stride, stride), padding=(pad, pad), dilation=(dilation, dilation),
                            groups=groups, output_scale=scale, activation="relu"))
        ],
    )
    got = evaluate(module, {names[0]: x})["out0"]
    acc = reference.conv2d(x, w, bias, stride=stride, pad=pad, dilation=dilation, groups=groups)
    np.testing.assert_array_equal(got, reference.requantize(acc, scale, "relu"))


@settings(max_examples=20, deadline=None)
@given(pads=st.tuples(*[st.integers(0, 2)] * 4), seed=st.integers(0, 2**16))
def test_asymmetric_padding_equals_prepadding(pads, seed):
    rng = np.random.default_rng(seed)
    x, w = _i8(rng, (1, 5, 6, 3)), _i8(rng, (3, 3, 3, 4))
    top, left, bottom, right = pads
    module, names = _func([x.shape], lambda emit, args: [
        emit(G.Conv2DOp(args[0], emit(G.ConstantOp.from_numpy(w)), padding=pads)),
        emit(G.MaxPoolOp(args[0], (3, 3), (2, 2), padding=(min(top, 2), min(left, 2), min(bottom, 2), min(right, 2)))),
    ])
    out = evaluate(module, {names[0]: x})
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    np.testing.assert_array_equal(out["out0"], reference.conv2d(padded, w))
    t, l, b, r = (min(p, 2) for p in pads)
    low = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=-128)
    np.testing.assert_array_equal(out["out1"], reference.maxpool(low, 3, 2))


def _naive_avgpool(x, k, s, pads, include_pad, scale):
    n, h, w, c = x.shape
    top, left, bottom, right = pads
    oh, ow = (h + top + bottom - k) // s + 1, (w + left + right - k) // s + 1
    out = np.zeros((n, oh, ow, c), np.int8)
    for i in range(oh):
        for j in range(ow):
            rows = [r for r in range(i * s - top, i * s - top + k) if 0 <= r < h]
            cols = [q for q in range(j * s - left, j * s - left + k) if 0 <= q < w]
            total = x[:, rows][:, :, cols].astype(np.int64).sum(axis=(1, 2))
            count = k * k if include_pad else len(rows) * len(cols)
            out[:, i, j] = np.clip(np.rint(total.astype(F32) * (F32(scale) / F32(count))), -128, 127)
    return out


@settings(max_examples=20, deadline=None)
@given(k=st.integers(1, 3), s=st.integers(1, 2), pad=st.integers(0, 1), include=st.booleans(),
       scale=st.floats(0.3, 3.0), seed=st.integers(0, 2**16))
def test_pools_match_naive_loops(k, s, pad, include, scale, seed):
    if pad >= k:
        return
    rng = np.random.default_rng(seed)
    x = _i8(rng, (2, 5, 4, 3))
    pads = (pad, 0, pad, pad)
    module, names = _func([x.shape], lambda emit, args: [
        emit(G.AvgPoolOp(args[0], (k, k), (s, s), pads, count_include_pad=include, scale=scale)),
        emit(G.GlobalAvgPoolOp(args[0], scale=scale)),
    ])
    out = evaluate(module, {names[0]: x})
    np.testing.assert_array_equal(out["out0"], _naive_avgpool(x, k, s, pads, include, scale))
    total = x.astype(np.int64).sum(axis=(1, 2), keepdims=True).astype(F32)
    np.testing.assert_array_equal(out["out1"], np.clip(np.rint(total * (F32(scale) / F32(20))), -128, 127))


@settings(max_examples=20, deadline=None)
@given(scales=st.tuples(*[st.floats(0.01, 0.5)] * 3), seed=st.integers(0, 2**16))
def test_add_requantize_relu_elementwise(scales, seed):
    rng = np.random.default_rng(seed)
    a, b = _i8(rng, (1, 3, 4, 5)), _i8(rng, (1, 3, 4, 5))
    sa, sb, so = scales
    module, names = _func([a.shape, b.shape], lambda emit, args: [
        emit(G.AddOp(args[0], args[1], lhs_scale=sa, rhs_scale=sb, output_scale=so, activation="relu")),
        emit(G.RequantizeOp(args[0], sa / so)),
        emit(G.ClipOp(emit(G.ReluOp(args[1])), 0, 50)),
    ])
    out = evaluate(module, {names[0]: a, names[1]: b})
    ma, mb = F32(sa) / F32(so), F32(sb) / F32(so)
    expected = [max(0, min(127, max(-128, int(np.rint(F32(F32(x) * ma) + F32(F32(y) * mb)))))) for x, y in zip(a.flat, b.flat)]
    np.testing.assert_array_equal(out["out0"].reshape(-1), expected)
    np.testing.assert_array_equal(out["out1"], reference.requantize(a, sa / so))
    np.testing.assert_array_equal(out["out2"], np.clip(b, 0, 50))


def test_conv_epilogue_residual_and_pool_compose():
    rng = np.random.default_rng(3)
    x, w, res = _i8(rng, (1, 6, 6, 4)), _i8(rng, (3, 3, 4, 8)), _i8(rng, (1, 6, 6, 8))
    module, names = _func([x.shape, res.shape], lambda emit, args: [
        emit(G.Conv2DOp(args[0], emit(G.ConstantOp.from_numpy(w)), padding=(1, 1), output_scale=0.003,
                        activation="relu", residual=args[1], residual_scale=37.5,
                        pool_kernel=(3, 3), pool_stride=(2, 2), pool_padding=(1, 1))),
    ])
    got = evaluate(module, {names[0]: x, names[1]: res})["out0"]
    acc = reference.conv2d(x, w, pad=1).astype(np.int64) + np.rint(res.astype(F32) * F32(37.5)).astype(np.int64)
    y = reference.requantize(acc.astype(np.int32), 0.003, "relu")
    np.testing.assert_array_equal(got, reference.maxpool(y, 3, 2, pad=1))


def test_matmul_and_layout_ops():
    rng = np.random.default_rng(4)
    a, b = _i8(rng, (2, 3, 8)), _i8(rng, (8, 5))
    module, names = _func([a.shape], lambda emit, args: [
        emit(G.MatmulOp(args[0], emit(G.ConstantOp.from_numpy(b)))),
        emit(G.ConcatOp([emit(G.TransposeOp(args[0], (0, 2, 1))), emit(G.ReshapeOp(args[0], (2, 8, 3)))], 2)),
        emit(G.PadOp(args[0], (0, 1, 0, 1, 0, 2), value=-3)),
    ])
    out = evaluate(module, {names[0]: a})
    np.testing.assert_array_equal(out["out0"], a.astype(np.int32) @ b.astype(np.int32))
    np.testing.assert_array_equal(out["out1"], np.concatenate([a.transpose(0, 2, 1), a.reshape(2, 8, 3)], 2))
    np.testing.assert_array_equal(out["out2"], np.pad(a, ((0, 1), (1, 0), (0, 2)), constant_values=-3))


def test_imported_network_survives_print_and_parse(compare):
    """Printing then parsing the imported IR gives the same results."""
    from gemforge.frontends.onnx import load_model, quantize_inputs
    from gemforge.frontends.onnx_quantize import random_inputs

    module, info = load_model("squeezenet")
    reparsed = parse(print_ir(module))
    feeds = quantize_inputs(info, random_inputs(info.quantized, seed=9, count=1)[0])
    first, second = evaluate(module, feeds), evaluate(reparsed, feeds)
    assert first.keys() == second.keys()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])


def test_bad_inputs_are_one_line_errors():
    module, names = _func([(1, 2)], lambda emit, args: [emit(G.ReluOp(args[0]))])
    with pytest.raises(GemforgeError, match="missing input 'in0'"):
        evaluate(module, {})
    with pytest.raises(GemforgeError, match="must be int8"):
        evaluate(module, {"in0": np.zeros((1, 2), np.int32)})
