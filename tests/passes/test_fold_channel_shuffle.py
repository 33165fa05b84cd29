"""fold-channel-shuffle: the folded graph is bit-identical to the original
(gemforge.graph_eval) for random int8 inputs, whether the shuffle goes into its
producer (grouped, depthwise or dense) or its groups-1 consumer; a densified producer
records its groups as ``dense_groups`` so op_macs still counts the grouped conv's
multiply-accumulates; chains that are not channel permutations are left alone;
block_diagonal computes the grouped conv."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xdsl.context import Context
from xdsl.dialects.builtin import FunctionType, ModuleOp, TensorType, i8
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Block, Operation, Region, SSAValue

from gemforge import graph_eval_ops as K
from gemforge.dialects import graph as G
from gemforge.graph_eval import evaluate
from gemforge.network_build import op_macs
from gemforge.passes._densify import block_diagonal
from gemforge.passes.fold_channel_shuffle import FoldChannelShuffle, channel_permutation

EXAMPLES = settings(max_examples=30, deadline=None)


def shuffle(ops: list[Operation], x: SSAValue, groups: int) -> SSAValue:
    """Append ShuffleNet's five-op NHWC channel shuffle of ``x`` to ``ops``."""
    n, h, w, c = x.type.get_shape()
    steps = [
        lambda v: G.TransposeOp(v, (0, 3, 1, 2)),
        lambda v: G.ReshapeOp(v, (n, groups, c // groups, h, w)),
        lambda v: G.TransposeOp(v, (0, 2, 1, 3, 4)),
        lambda v: G.ReshapeOp(v, (n, c, h, w)),
        lambda v: G.TransposeOp(v, (0, 2, 3, 1)),
    ]
    for step in steps:
        ops.append(step(x))
        x = ops[-1].result
    return x


def constant(ops: list[Operation], data: np.ndarray) -> SSAValue:
    ops.append(G.ConstantOp.from_numpy(data))
    return ops[-1].result


def function(x_type: TensorType, build) -> ModuleOp:
    """``func @f(%arg0: x_type)`` whose body ``build(ops, arg)`` fills, returning the
    values it returns."""
    block = Block(arg_types=[x_type])
    ops: list[Operation] = []
    results = build(ops, block.args[0])
    block.add_ops([*ops, ReturnOp(*results)])
    ftype = FunctionType.from_lists([x_type], [r.type for r in results])
    return ModuleOp([FuncOp("f", ftype, Region(block))])


def fold(module: ModuleOp) -> ModuleOp:
    out = module.clone()
    FoldChannelShuffle().apply(Context(), out)
    out.verify()
    return out


def only_conv(module: ModuleOp) -> G.Conv2DOp:
    """The one graph.conv2d of ``module``'s function."""
    (conv,) = [op for op in next(iter(module.ops)).body.block.ops if isinstance(op, G.Conv2DOp)]
    return conv


def op_names(module: ModuleOp) -> list[str]:
    return [op.name for op in next(iter(module.ops)).body.block.ops if op.name not in ("graph.constant", "func.return")]


def assert_same(before: ModuleOp, after: ModuleOp, shape, rng, trials: int = 2) -> None:
    for _ in range(trials):
        x = rng.integers(-128, 128, size=shape, dtype=np.int8)
        want, got = evaluate(before, {"arg0": x}), evaluate(after, {"arg0": x})
        assert want.keys() == got.keys()
        for name in want:
            assert want[name].dtype == got[name].dtype
            np.testing.assert_array_equal(got[name], want[name])


def conv_options(draw_relu: bool, pool: bool, scaled: bool) -> dict:
    opts: dict = {"padding": (1, 1), "activation": "relu" if draw_relu else "none"}
    if scaled:
        opts["output_scale"] = 0.01
    if pool:
        opts["pool_kernel"] = (2, 2)
    return opts


def fold_shuffled_conv(x_shape, w, shuffle_groups: int, **conv_kwargs) -> tuple[ModuleOp, ModuleOp, G.Conv2DOp]:
    """(before, after fold, the folded conv) for ``conv(x, w, **conv_kwargs)`` followed
    by a channel shuffle of ``shuffle_groups``; the fold leaves the conv alone."""

    def build(ops, x):
        conv = G.Conv2DOp(x, constant(ops, w), **conv_kwargs)
        ops.append(conv)
        return [shuffle(ops, conv.result, shuffle_groups)]

    before = function(TensorType(i8, x_shape), build)
    after = fold(before)
    assert op_names(after) == ["graph.conv2d"]
    return before, after, only_conv(after)


@EXAMPLES
@given(
    seed=st.integers(0, 2**32 - 1),
    groups=st.sampled_from([1, 2, 3, 4]),
    per_group=st.integers(1, 4),
    in_per_group=st.integers(1, 3),
    shuffle_groups=st.sampled_from([1, 2, 3, 4]),
    hw=st.tuples(st.integers(2, 5), st.integers(2, 5)),
    relu=st.booleans(),
    pool=st.booleans(),
    scaled=st.booleans(),
    bias=st.booleans(),
)
def test_shuffle_folds_into_producer(seed, groups, per_group, in_per_group, shuffle_groups, hw, relu, pool, scaled, bias):
    rng = np.random.default_rng(seed)
    channels = groups * per_group
    if channels % shuffle_groups:
        shuffle_groups = groups
    x_shape = (1, *hw, groups * in_per_group)
    w = rng.integers(-128, 128, size=(3, 3, in_per_group, channels), dtype=np.int8)
    b = rng.integers(-3000, 3000, size=channels, dtype=np.int32)

    def build(ops, x):
        conv = G.Conv2DOp(x, constant(ops, w), constant(ops, b) if bias else None, groups=groups,
                          **conv_options(relu, pool, scaled))
        ops.append(conv)
        return [shuffle(ops, conv.result, shuffle_groups)]

    before = function(TensorType(i8, x_shape), build)
    after = fold(before)
    assert op_names(after) == ["graph.conv2d"]
    folded = only_conv(after)
    identity = shuffle_groups in (1, channels)  # one group, or groups of one channel
    if identity:  # the chain is dropped, the conv kept as it was
        assert folded.groups == groups and folded.weight.type.get_shape() == w.shape
        assert folded.dense_groups is None
    else:
        assert folded.groups == 1 and folded.weight.type.get_shape() == (3, 3, x_shape[-1], channels)
        assert folded.dense_groups == (groups if groups > 1 else None)
    # the dense form's zero blocks are not the model's multiply-accumulates
    assert op_macs(folded) == op_macs(only_conv(before))
    assert_same(before, after, x_shape, rng)


@EXAMPLES
@given(seed=st.integers(0, 2**32 - 1), channels=st.sampled_from([2, 4, 6, 8]), multiplier=st.integers(1, 2))
def test_shuffle_folds_into_depthwise_producer(seed, channels, multiplier):
    rng = np.random.default_rng(seed)
    x_shape = (1, 3, 4, channels)
    w = rng.integers(-128, 128, size=(3, 3, 1, channels * multiplier), dtype=np.int8)

    before, after, folded = fold_shuffled_conv(x_shape, w, 2, groups=channels, padding=(1, 1), output_scale=0.02)
    if channels * multiplier == 2:  # two groups of one channel: the identity, the conv kept
        assert folded.groups == channels and folded.dense_groups is None
    else:
        assert folded.groups == 1 and folded.dense_groups == channels
    assert op_macs(folded) == op_macs(only_conv(before)) == 12 * 9 * channels * multiplier
    assert_same(before, after, x_shape, rng)


@EXAMPLES
@given(seed=st.integers(0, 2**32 - 1), dense_groups=st.sampled_from([2, 4]), per_group=st.integers(1, 3))
def test_dense_producer_keeps_its_dense_groups(seed, dense_groups, per_group):
    """A groups-1 producer that is already a densified grouped conv stays one, with
    the same dense_groups (folding twice must not multiply it)."""
    rng = np.random.default_rng(seed)
    channels = dense_groups * per_group
    x_shape = (1, 3, 3, channels)
    grouped = rng.integers(-128, 128, size=(1, 1, per_group, channels), dtype=np.int8)

    before, after, folded = fold_shuffled_conv(x_shape, block_diagonal(grouped, dense_groups), dense_groups,
                                               dense_groups=dense_groups, output_scale=0.05)
    assert folded.groups == 1 and folded.dense_groups == dense_groups
    assert op_macs(folded) == op_macs(only_conv(before)) == 9 * channels * per_group
    assert_same(before, after, x_shape, rng)


@EXAMPLES
@given(
    seed=st.integers(0, 2**32 - 1),
    channels=st.sampled_from([2, 4, 6, 8, 12]),
    shuffle_groups=st.sampled_from([2, 3, 4]),
    out_channels=st.integers(1, 5),
    from_conv=st.booleans(),
    scaled=st.booleans(),
)
def test_shuffle_folds_into_consumer(seed, channels, shuffle_groups, out_channels, from_conv, scaled):
    """The chain's input is a function argument or a conv with a second use, so only
    the groups-1 consumer can absorb it."""
    rng = np.random.default_rng(seed)
    if channels % shuffle_groups:
        shuffle_groups = 2
    x_shape = (1, 4, 3, channels)
    w0 = rng.integers(-128, 128, size=(1, 1, 1, channels), dtype=np.int8)
    w1 = rng.integers(-128, 128, size=(3, 3, channels, out_channels), dtype=np.int8)
    b1 = rng.integers(-3000, 3000, size=out_channels, dtype=np.int32)

    def build(ops, x):
        results = []
        if from_conv:
            ops.append(G.Conv2DOp(x, constant(ops, w0), groups=channels, output_scale=0.5))
            x = ops[-1].result
            results.append(x)
        y = shuffle(ops, x, shuffle_groups)
        opts = {"output_scale": 0.003} if scaled else {}
        ops.append(G.Conv2DOp(y, constant(ops, w1), constant(ops, b1), padding=(1, 1), **opts))
        return [*results, ops[-1].result]

    before = function(TensorType(i8, x_shape), build)
    after = fold(before)
    assert op_names(after) == ["graph.conv2d"] * (2 if from_conv else 1)
    assert_same(before, after, x_shape, rng)


@EXAMPLES
@given(
    seed=st.integers(0, 2**32 - 1),
    perms=st.lists(st.permutations([0, 1, 2, 3]), min_size=1, max_size=3),
    square=st.booleans(),
)
def test_any_transpose_chain_stays_exact(seed, perms, square):
    """Random transposes of a conv result (H == W == C makes spatial and mixed
    permutations keep the shape): folded only when a channel permutation, and the
    graph's outputs never change."""
    rng = np.random.default_rng(seed)
    x_shape = (1, 3, 3, 2)
    channels = 3 if square else 4
    w = rng.integers(-128, 128, size=(1, 1, 2, channels), dtype=np.int8)

    def build(ops, x):
        ops.append(G.Conv2DOp(x, constant(ops, w), output_scale=0.1))
        value = ops[-1].result
        for perm in perms:
            ops.append(G.TransposeOp(value, perm))
            value = ops[-1].result
        return [value]

    before = function(TensorType(i8, x_shape), build)
    after = fold(before)
    total = np.arange(4)
    for perm in perms:
        total = total[list(perm)]
    ends_nhwc_channels = total[:3].tolist() == [0, 1, 2]
    if ends_nhwc_channels:
        assert op_names(after) == ["graph.conv2d"]
    else:
        assert "graph.transpose" in op_names(after)
    assert_same(before, after, x_shape, rng)


def test_channel_permutation_of_shuffle():
    """ShuffleNet's shuffle of 2 groups of 3: y[c] = x[P[c]], P = [0, 3, 1, 4, 2, 5]."""
    ops: list[Operation] = []
    x = Block(arg_types=[TensorType(i8, [1, 2, 2, 6])]).args[0]
    shuffle(ops, x, 2)
    np.testing.assert_array_equal(channel_permutation(ops), [0, 3, 1, 4, 2, 5])
    assert channel_permutation(ops[:1]) is None  # NHWC -> NCHW changes the shape


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    groups=st.integers(1, 4),
    in_per_group=st.integers(1, 3),
    out_per_group=st.integers(1, 3),
    kernel=st.integers(1, 3),
)
def test_block_diagonal_computes_the_grouped_conv(seed, groups, in_per_group, out_per_group, kernel):
    rng = np.random.default_rng(seed)
    w = rng.integers(-128, 128, size=(kernel, kernel, in_per_group, groups * out_per_group), dtype=np.int8)
    dense = block_diagonal(w, groups)
    assert dense.shape == (kernel, kernel, groups * in_per_group, groups * out_per_group)
    assert dense.dtype == w.dtype
    for g in range(groups):
        rows = slice(g * in_per_group, (g + 1) * in_per_group)
        cols = slice(g * out_per_group, (g + 1) * out_per_group)
        np.testing.assert_array_equal(dense[:, :, rows, cols], w[:, :, :, cols])
        dense[:, :, rows, cols] = 0
    assert not dense.any()  # off the diagonal blocks: zeros
    x = rng.integers(-128, 128, size=(2, 4, 3, groups * in_per_group), dtype=np.int8)
    args = ((1, 1), (1, 1, 1, 1), (1, 1))
    np.testing.assert_array_equal(K.conv2d(x, block_diagonal(w, groups), None, *args, 1),
                                  K.conv2d(x, w, None, *args, groups))


def test_block_diagonal_rejects_uneven_groups():
    with pytest.raises(ValueError, match="do not split into 3 groups"):
        block_diagonal(np.zeros((1, 1, 2, 4), np.int8), 3)
