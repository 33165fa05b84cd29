"""The graph dialect from Python: builders infer result types, read-back properties,
constants round-trip bit-exactly, verifiers reject bad ops with one-line errors."""

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from xdsl.dialects.builtin import BytesAttr, DenseIntOrFPElementsAttr, IntegerAttr, ModuleOp, TensorType, f32, i8, i32
from xdsl.dialects import test as xdsl_test
from xdsl.utils.exceptions import VerifyException

from gemforge.dialects import graph
from gemforge.errors import GemforgeError
from gemforge.testing import parse, print_ir


def value(shape, element_type=i8):
    """A fresh SSA value of type tensor<shape x element_type>."""
    return xdsl_test.TestOp(result_types=[TensorType(element_type, list(shape))]).results[0]


def roundtrip(*ops):
    """Verify the ops in a module, print, parse, print again: the text must be stable."""
    producers = []
    for op in ops:
        for operand in op.operands:
            if operand.owner not in producers and operand.owner not in ops:
                producers.append(operand.owner)
    module = ModuleOp([*producers, *ops])
    module.verify()
    text = print_ir(module)
    assert print_ir(parse(text)) == text
    return text


def shape_of(op):
    return tuple(op.result_types[0].get_shape())


# --- builders: every op, result type inferred --------------------------------------


def test_conv2d_builder_infers_and_reads_back():
    x, w, b = value([1, 56, 56, 64]), value([3, 3, 64, 128]), value([128], i32)
    conv = graph.Conv2DOp(x, w, b, stride=(2, 2), padding=(1, 1), output_scale=0.02, activation="relu")
    assert conv.result.type == TensorType(i8, [1, 28, 28, 128])
    assert conv.stride == (2, 2) and conv.padding == (1, 1, 1, 1) and conv.dilation == (1, 1)
    assert conv.groups == 1 and conv.activation == "relu" and conv.clip is None
    assert conv.output_scale == float(np.float32(0.02))
    assert conv.bias is b and conv.residual is None and conv.pool_kernel is None
    text = roundtrip(conv)
    assert "graph.conv2d" in text and "activation relu" in text


def test_conv2d_raw_accumulators_depthwise_dilated():
    x, w = value([2, 9, 9, 8]), value([3, 3, 1, 16])
    conv = graph.Conv2DOp(x, w, groups=8, dilation=(2, 2), padding=(0, 0, 1, 1), stride=(1, 2))
    assert conv.result.type == TensorType(i32, [2, 6, 3, 16])
    roundtrip(conv)


def test_conv2d_full_epilogue_with_pool_and_residual():
    x, w, r = value([1, 8, 8, 16]), value([3, 3, 16, 32]), value([1, 8, 8, 32])
    conv = graph.Conv2DOp(
        x, w, padding=(1, 1), output_scale=0.5, residual=r, residual_scale=2.0,
        clip=(0, 100), pool_kernel=(3, 3), pool_stride=(2, 2), pool_padding=(1, 1),
    )
    assert conv.result.type == TensorType(i8, [1, 4, 4, 32])
    assert conv.activation == "clip" and conv.clip == (0, 100)
    assert conv.pool_padding == (1, 1, 1, 1) and conv.residual_scale == 2.0
    roundtrip(conv)


def test_conv2d_dense_groups_survives_printing_and_rebuilding():
    x, w = value([1, 8, 8, 16]), value([3, 3, 16, 32])
    conv = graph.Conv2DOp(x, w, padding=(1, 1), dense_groups=4, output_scale=0.5)
    assert conv.groups == 1 and conv.dense_groups == 4 and conv.options()["dense_groups"] == 4
    assert "groups 1 dense_groups 4 output_scale" in roundtrip(conv)
    # the fusion passes rebuild with with_options / options(): the mark must stay
    assert conv.with_options(activation="relu", pool_kernel=(2, 2)).dense_groups == 4
    assert graph.Conv2DOp(x, w).dense_groups is None


def test_conv2d_pool_defaults_stride_to_kernel():
    conv = graph.Conv2DOp(value([1, 8, 8, 4]), value([1, 1, 4, 4]), pool_kernel=(2, 2))
    assert conv.pool_stride == (2, 2) and conv.pool_padding == (0, 0, 0, 0)
    assert shape_of(conv) == (1, 4, 4, 4)


def test_relu6_becomes_a_clip_in_output_units():
    conv = graph.Conv2DOp(value([1, 4, 4, 4]), value([1, 1, 4, 4]), output_scale=0.1, activation="relu6")
    assert conv.activation == "clip" and conv.clip == (0, 60)
    tiny = graph.MatmulOp(value([2, 4]), value([4, 3]), output_scale=0.01, activation="relu6")
    assert tiny.clip == (0, 127)  # 6 / 0.01 = 600 saturates at the int8 maximum
    with pytest.raises(GemforgeError, match="relu6 needs output_scale"):
        graph.MatmulOp(value([2, 4]), value([4, 3]), activation="relu6")


def test_with_options_rebuilds_for_fusion():
    x, w, b = value([1, 8, 8, 16]), value([3, 3, 16, 32]), value([32], i32)
    conv = graph.Conv2DOp(x, w, b, padding=(1, 1))
    fused = conv.with_options(output_scale=0.25, activation="relu")
    assert fused.input is x and fused.weight is w and fused.bias is b
    assert fused.result.type == TensorType(i8, [1, 8, 8, 32])
    assert fused.padding == conv.padding and fused.activation == "relu"
    assert conv.options()["output_scale"] is None  # the original is unchanged
    with pytest.raises(TypeError, match="no option"):
        conv.with_options(kernel=(3, 3))
    cat = graph.ConcatOp([value([1, 2]), value([1, 3])], axis=1)
    assert shape_of(cat.with_options(axis=1)) == (1, 5)


def every_graph_op():
    """One built instance of every op except graph.constant, on fresh operands."""
    x, w, b = value([1, 8, 8, 16]), value([3, 3, 16, 32]), value([32], i32)
    return [
        graph.Conv2DOp(x, w, b, padding=(1, 1), output_scale=0.5, clip=(-3, 3), pool_kernel=(2, 2)),
        graph.MatmulOp(value([4, 64]), value([64, 10]), residual=value([4, 10]), residual_scale=0.5),
        graph.AddOp(value([3]), value([3]), lhs_scale=1.0, rhs_scale=2.0, output_scale=4.0),
        graph.ReluOp(value([3], f32)),
        graph.ClipOp(value([3]), -1, 1),
        graph.RequantizeOp(value([3], i32), 0.5),
        graph.SoftmaxOp(value([2, 3]), 0, input_scale=0.1, output_scale=0.2),
        graph.MaxPoolOp(x, (2, 2)),
        graph.AvgPoolOp(x, (3, 3), (1, 1), (1, 1), count_include_pad=True, scale=0.5),
        graph.GlobalAvgPoolOp(x, scale=0.25),
        graph.ReshapeOp(x, (8, -1)),
        graph.TransposeOp(x, (3, 2, 1, 0)),
        graph.ConcatOp([x, x], 0),
        graph.PadOp(x, (0, 1, 1, 0, 0, 1, 1, 0), 5),
        graph.BatchNormOp(value([2, 3], i32), value([3], f32), value([3], f32)),
        graph.LRNOp(x, 5, 1e-4, 0.75, 1.0, input_scale=0.5, output_scale=0.25),
        graph.ChannelAffineOp(x, *(value([16], f32) for _ in range(3)), input_scale=0.5, output_scale=0.25),
        graph.LutOp(x, value([16, 256])),
        graph.LutOp([x, value([1, 8, 8, 4]), x], value([36, 256])),  # several inputs, channels joined
    ]


def test_with_options_without_changes_is_an_identical_op():
    ops = every_graph_op()
    assert {op.name for op in ops} | {"graph.constant"} == {op.name for op in graph.Graph.operations}
    for op in ops:
        copy = op.with_options()
        assert copy.result_types == op.result_types and copy.properties == op.properties, op.name
        assert list(copy.operands) == list(op.operands), op.name
    roundtrip(*ops)


def test_matmul_builders():
    a, w, b = value([4, 64]), value([64, 10]), value([10], i32)
    mm = graph.MatmulOp(a, w, b, output_scale=0.25, activation="relu")
    assert mm.result.type == TensorType(i8, [4, 10]) and mm.activation == "relu"
    batched = graph.MatmulOp(value([3, 4, 64]), value([3, 64, 10]))
    shared = graph.MatmulOp(value([3, 4, 64]), w, residual=value([3, 4, 10]), residual_scale=1.0)
    assert batched.result.type == TensorType(i32, [3, 4, 10]) == shared.result.type
    roundtrip(mm, batched, shared)


def test_elementwise_builders():
    a, b, c = value([1, 4, 4, 8]), value([1, 4, 4, 8]), value([1, 4, 4, 8], i32)
    add8 = graph.AddOp(a, b, lhs_scale=0.1, rhs_scale=0.2, output_scale=0.25, activation="relu")
    add32 = graph.AddOp(c, c)
    assert add8.result.type == a.type and add32.result.type == c.type
    assert (add8.lhs_scale, add8.activation) == (float(np.float32(0.1)), "relu")
    relu = graph.ReluOp(a)
    clip = graph.ClipOp(c, -1000, 1000)
    assert (clip.min, clip.max) == (-1000, 1000)
    req = graph.RequantizeOp(c, 2.0**-10)
    assert req.result.type == TensorType(i8, [1, 4, 4, 8]) and req.scale == 2.0**-10
    sm = graph.SoftmaxOp(value([2, 10], f32))
    smq = graph.SoftmaxOp(value([2, 10]), axis=-1, input_scale=0.125, output_scale=1 / 256)
    assert sm.axis == 1 and smq.axis == 1 and smq.result.type == TensorType(i8, [2, 10])
    roundtrip(add8, add32, relu, clip, req, sm, smq)


def test_pool_builders():
    x = value([1, 7, 7, 8])
    mp = graph.MaxPoolOp(x, (3, 3), (2, 2), (1, 1))
    ap = graph.AvgPoolOp(x, (2, 2), count_include_pad=True, scale=0.75)
    gap = graph.GlobalAvgPoolOp(x, scale=0.5)
    assert shape_of(mp) == (1, 4, 4, 8) and mp.padding == (1, 1, 1, 1)
    assert shape_of(ap) == (1, 3, 3, 8) and ap.stride == (2, 2) and ap.count_include_pad
    assert not graph.AvgPoolOp(x, (2, 2)).count_include_pad
    assert gap.result.type == TensorType(i8, [1, 1, 1, 8]) and gap.scale == 0.5
    assert graph.MaxPoolOp(value([1, 7, 7, 8], i32), (2, 2)).result.type.element_type == i32
    roundtrip(mp, ap, gap)


def test_shape_builders():
    x = value([1, 1, 1, 2048])
    rs = graph.ReshapeOp(x, (1, -1))
    tr = graph.TransposeOp(value([1, 4, 4, 8]), (0, 3, 1, 2))
    cat = graph.ConcatOp([value([1, 4, 4, 8]), value([1, 4, 4, 16])], axis=-1)
    pad = graph.PadOp(value([2, 3], f32), (1, 0, 1, 2), value=-5)
    assert shape_of(rs) == (1, 2048) and shape_of(tr) == (1, 8, 4, 4)
    assert shape_of(cat) == (1, 4, 4, 24) and cat.axis == 3 and len(cat.inputs) == 2
    assert shape_of(pad) == (4, 5) and pad.pads == (1, 0, 1, 2) and pad.value == -5
    assert tr.perm == (0, 3, 1, 2)
    roundtrip(rs, tr, cat, pad)


# --- constants -------------------------------------------------------------------------

DTYPES = st.sampled_from([np.int8, np.int32, np.float32])


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(DTYPES, hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=7)))
@example(np.array([0.0, -0.0], np.float32))  # equal values, different bits: not a splat
@example(np.array([1000001.0], np.float32))  # xDSL would print 0x49742410 and read it as an integer
def test_constant_numpy_and_text_roundtrip_is_bit_exact(array):
    op = graph.ConstantOp.from_numpy(array)
    op.verify()
    back = op.to_numpy()
    assert back.dtype == array.dtype and back.shape == array.shape
    assert back.tobytes() == np.ascontiguousarray(array).tobytes()  # NaN, -0.0 included
    module = parse(print_ir(ModuleOp([op])))
    reparsed = next(iter(module.ops))
    assert isinstance(reparsed, graph.ConstantOp)
    assert reparsed.to_numpy().tobytes() == back.tobytes()


@settings(max_examples=20, deadline=None)
@given(st.integers(-128, 127), st.integers(101, 400))
def test_constant_splat_and_hex_forms(fill, n):
    splat = np.full(n, fill, np.int8)
    text = print_ir(ModuleOp([graph.ConstantOp.from_numpy(splat)]))
    assert f"dense<{fill}>" in text
    varied = splat.copy()
    varied[-1] = fill ^ 1
    text = print_ir(ModuleOp([graph.ConstantOp.from_numpy(varied)]))
    assert 'dense<"0x' in text
    assert next(iter(parse(text).ops)).to_numpy().tobytes() == varied.tobytes()


def test_constant_non_finite_floats_print_as_hex_bits():
    special = np.array([np.nan, -np.inf, np.inf, -0.0], np.float32)
    text = print_ir(ModuleOp([graph.ConstantOp.from_numpy(special)]))
    assert 'dense<"0x' in text
    assert next(iter(parse(text).ops)).to_numpy().tobytes() == special.tobytes()


def test_constant_large_weights_roundtrip():
    rng = np.random.default_rng(0)
    weights = rng.integers(-128, 128, size=(3, 3, 512, 512), dtype=np.int8)
    text = print_ir(ModuleOp([graph.ConstantOp.from_numpy(weights)]))
    assert np.array_equal(next(iter(parse(text).ops)).to_numpy(), weights)


def test_constant_accepts_big_endian_and_rejects_other_dtypes():
    big = np.arange(6, dtype=">i4").reshape(2, 3)
    assert np.array_equal(graph.ConstantOp.from_numpy(big).to_numpy(), big)
    with pytest.raises(GemforgeError, match="unsupported numpy dtype int64"):
        graph.ConstantOp.from_numpy(np.zeros(3, np.int64))


def test_constant_to_numpy_is_read_only():
    arr = graph.ConstantOp.from_numpy(np.ones(4, np.int8)).to_numpy()
    with pytest.raises(ValueError):
        arr[0] = 2


def test_constant_verifier_checks_byte_count():
    bad = DenseIntOrFPElementsAttr(TensorType(i32, [2]), BytesAttr(b"\x00" * 5))
    with pytest.raises(VerifyException, match="holds 5 bytes, tensor<2xi32> needs 8"):
        graph.ConstantOp(bad).verify_()  # verify() would also try to print the broken op


# --- shape arithmetic against brute force -------------------------------------------------


def brute_force_positions(size, kernel, stride, lo, hi, dilation):
    """Count window starts whose dilated taps all lie inside the padded extent."""
    return sum(
        1 for start in range(-lo, size + hi) if (start + lo) % stride == 0
        and start + dilation * (kernel - 1) <= size + hi - 1
    )


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 12), st.integers(1, 12), st.integers(1, 4), st.integers(1, 4),
    st.integers(1, 3), st.integers(1, 3), st.lists(st.integers(0, 3), min_size=4, max_size=4),
    st.integers(1, 3), st.sampled_from([1, 2, 4]),
)
def test_conv_output_shape_matches_brute_force(h, w, kh, kw, sh, sw, pads, dil, groups):
    expect_h = brute_force_positions(h, kh, sh, pads[0], pads[2], dil)
    expect_w = brute_force_positions(w, kw, sw, pads[1], pads[3], dil)
    x, wt = value([1, h, w, 4]), value([kh, kw, 4 // groups, 8])
    build = lambda: graph.Conv2DOp(x, wt, stride=(sh, sw), padding=pads, dilation=(dil, dil), groups=groups)
    if expect_h < 1 or expect_w < 1:
        with pytest.raises(VerifyException, match="does not fit"):
            build()
    else:
        assert shape_of(build()) == (1, expect_h, expect_w, 8)


# --- verifier errors from builders and from modified ops ---------------------------------

BAD_BUILDS = [
    (lambda: graph.Conv2DOp(value([1, 8, 8, 16]), value([3, 3, 8, 32])), "weight \\(HWIO\\) has 8 input channels"),
    (lambda: graph.Conv2DOp(value([1, 8, 8, 16]), value([3, 3, 16, 32]), activation="gelu"), "unknown activation 'gelu'"),
    (lambda: graph.Conv2DOp(value([1, 8, 8, 16]), value([3, 3, 16, 32]), activation="relu", clip=(0, 6)), "clip bounds given with activation relu"),
    (lambda: graph.Conv2DOp(value([1, 8, 8, 16]), value([3, 3, 16, 32]), output_scale=math.nan), "output_scale must be a finite positive"),
    (lambda: graph.Conv2DOp(value([1, 8, 8, 16]), value([3, 3, 16, 32]), output_scale=math.inf), "output_scale must be a finite positive"),
    (lambda: graph.Conv2DOp(value([1, 8, 8, 16]), value([3, 3, 16, 32]), dense_groups=1), "dense_groups must be at least 2, got 1"),
    (lambda: graph.Conv2DOp(value([1, 8, 8, 16]), value([3, 3, 4, 32]), groups=4, dense_groups=4), "dense_groups 4 needs groups 1, got groups 4"),
    (lambda: graph.Conv2DOp(value([1, 8, 8, 12]), value([3, 3, 12, 32]), dense_groups=3), "dense_groups 3 must divide input channels 12 and output channels 32"),
    (lambda: graph.MatmulOp(value([4, 64]), value([32, 10])), "contraction mismatch"),
    (lambda: graph.AddOp(value([4]), value([4])), "int8 operands need lhs_scale"),
    (lambda: graph.ClipOp(value([4]), 0, 300), "need -128 <= min <= max <= 127"),
    (lambda: graph.RequantizeOp(value([4], f32), 1.0), "input must have element type i8 or i32"),
    (lambda: graph.SoftmaxOp(value([4]), axis=1), "axis 1 is out of range for rank 1"),
    (lambda: graph.MaxPoolOp(value([1, 4, 4, 2]), (2, 2), padding=(2, 2)), "padding \\[2, 2, 2, 2\\] must be smaller"),
    (lambda: graph.ReshapeOp(value([2, 8]), (3, -1)), "cannot infer -1"),
    (lambda: graph.TransposeOp(value([2, 3]), (0, 0)), "not a permutation"),
    (lambda: graph.ConcatOp([], axis=0), "needs at least one input"),
    (lambda: graph.PadOp(value([2, 3]), (1, 1)), "pads must have 4 values"),
    (lambda: graph.ConstantOp.from_numpy(np.zeros(2, np.float64)), "unsupported numpy dtype"),
    (lambda: graph.LutOp(value([2, 3], i32), value([3, 256])), "input must have element type i8"),
    (lambda: graph.LutOp(value([2, 3]), value([3, 256], i32)), "table must have element type i8"),
    (lambda: graph.LutOp(value([2, 3]), value([3, 255])), "table must be tensor<3x256xi8> or tensor<1x256xi8>"),
    (lambda: graph.LutOp(value([2, 3]), value([256])), "table must be tensor<3x256xi8>"),
    (lambda: graph.LutOp(value([2, 3]), value([2, 256])), "table has 2 rows, expected 1 \\(shared\\) or 3"),
    (lambda: graph.LutOp([], value([1, 256])), "graph.lut: needs at least one input"),
    (lambda: graph.LutOp([value([2, 3]), value([3, 3])], value([1, 256])), "input 1 tensor<3x3xi8> does not match input 0"),
    (lambda: graph.LutOp([value([2, 3]), value([2, 4], i32)], value([1, 256])), "input 1 must have element type i8"),
    (lambda: graph.LutOp([value([2, 3]), value([2, 4])], value([3, 256])), "table has 3 rows, expected 1 \\(shared\\) or 7"),
]


@pytest.mark.parametrize("build, message", BAD_BUILDS)
def test_builders_reject_bad_arguments(build, message):
    with pytest.raises(VerifyException, match=message) as info:
        build()
    assert isinstance(info.value, GemforgeError) and "\n" not in str(info.value)
    assert str(info.value).startswith("graph.")


def test_verify_catches_an_op_edited_after_building():
    x, w = value([1, 8, 8, 16]), value([3, 3, 16, 32])
    conv = graph.Conv2DOp(x, w)
    conv.properties["groups"] = IntegerAttr(3, 64)
    with pytest.raises(VerifyException, match="groups 3 must divide"):
        conv.verify()
    relu = graph.ReluOp(value([4]))
    relu.operands = [value([5])]
    with pytest.raises(VerifyException, match="result type tensor<4xi8> does not match the expected tensor<5xi8>"):
        relu.verify()


def test_dialect_lists_every_op():
    names = {op.name for op in graph.Graph.operations}
    assert names == {
        "graph.constant", "graph.conv2d", "graph.matmul", "graph.add", "graph.relu", "graph.clip",
        "graph.requantize", "graph.softmax", "graph.maxpool", "graph.avgpool", "graph.global_avgpool",
        "graph.reshape", "graph.transpose", "graph.concat", "graph.pad", "graph.batch_norm",
        "graph.lrn", "graph.channel_affine", "graph.lut",
    }
    for op in graph.Graph.operations:
        assert op.__doc__ and len(op.__doc__) > 40, op.name
