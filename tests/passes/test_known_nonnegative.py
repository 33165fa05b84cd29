"""known_nonnegative (passes/_sign.py): which int8 values are provably >= 0, so a
padded max pool of them is exact on Gemmini's pooled move-out (which pools padding as 0).
Each rule proves True on a non-negative source and False where a sign can slip through."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.dialects.builtin import TensorType, i8
from xdsl.ir import Block

from gemforge.dialects import graph as G
from gemforge.dialects.graph_syntax import to_attr
from gemforge.network_testing import const
from gemforge.passes._sign import known_nonnegative

SHAPE = (1, 6, 6, 8)


@pytest.fixture
def x():
    """A function argument: its sign is unknown."""
    return Block(arg_types=[TensorType(i8, SHAPE)]).args[0]


def relu(v):
    return G.ReluOp(v).result


def conv(v, **epilogue):
    w = const(np.ones((1, 1, SHAPE[3], SHAPE[3]), np.int8))
    return G.Conv2DOp(v, w.result, output_scale=0.01, **epilogue).result


def with_scale(op, scale):
    """``op`` with its ``scale`` property forced (the builders reject a negative one)."""
    op.properties["scale"] = to_attr("scale", scale)
    return op.result


def test_sources(x):
    assert not known_nonnegative(x)
    assert known_nonnegative(relu(x))
    assert known_nonnegative(conv(x, activation="relu"))
    assert known_nonnegative(conv(x, activation="relu6"))  # clip [0, hi]: the clip property alone
    assert known_nonnegative(conv(x, clip=(0, 100)))
    assert not known_nonnegative(conv(x, clip=(-5, 100)))
    assert not known_nonnegative(conv(x))
    add = dict(lhs_scale=0.5, rhs_scale=0.25, output_scale=0.5)
    assert known_nonnegative(G.AddOp(x, x, **add, activation="relu").result)  # whatever its inputs
    assert known_nonnegative(G.AddOp(x, x, **add, clip=(3, 9)).result)
    assert not known_nonnegative(G.AddOp(relu(x), relu(x), **add, clip=(-1, 9)).result)
    assert not known_nonnegative(G.AddOp(relu(x), relu(x), **add).result)  # a sum is not a carrier


def test_concat_needs_every_input(x):
    assert known_nonnegative(G.ConcatOp([relu(x), conv(x, activation="relu")], axis=3).result)
    assert not known_nonnegative(G.ConcatOp([relu(x), x], axis=3).result)
    assert not known_nonnegative(G.ConcatOp([conv(x), relu(x), relu(x)], axis=3).result)


@pytest.mark.parametrize("make", [
    lambda v: G.ReshapeOp(v, [1, 36, 8]).result,
    lambda v: G.TransposeOp(v, [0, 3, 1, 2]).result,
    lambda v: G.MaxPoolOp(v, (3, 3), (1, 1), (1, 1)).result,
    lambda v: G.AvgPoolOp(v, (3, 3), (1, 1), (1, 1), scale=0.7).result,
    lambda v: G.GlobalAvgPoolOp(v, scale=2.0).result,
    lambda v: G.RequantizeOp(v, 0.3).result,
    lambda v: G.PadOp(v, [0, 1, 1, 0, 0, 1, 1, 0], 0).result,
    lambda v: G.ClipOp(v, -10, 20).result,
], ids=["reshape", "transpose", "maxpool", "avgpool", "global_avgpool", "requantize", "pad", "clip-lo<0"])
def test_sign_carriers(x, make):
    assert known_nonnegative(make(relu(x)))
    assert not known_nonnegative(make(x))


@pytest.mark.parametrize("make", [
    lambda v: with_scale(G.AvgPoolOp(v, (3, 3), (1, 1), (1, 1)), -0.5),
    lambda v: with_scale(G.GlobalAvgPoolOp(v), -1.0),
    lambda v: with_scale(G.RequantizeOp(v, 0.5), -0.5),
    lambda v: with_scale(G.RequantizeOp(v, 0.5), float("nan")),
    lambda v: G.PadOp(v, [0, 1, 1, 0, 0, 1, 1, 0], -1).result,
    lambda v: G.ClipOp(v, -10, -2).result,  # every result is negative
    lambda v: G.SoftmaxOp(v, input_scale=0.1, output_scale=1 / 128).result,  # not a listed rule: unknown
], ids=["avgpool-neg-scale", "global-neg-scale", "requantize-neg-scale", "requantize-nan", "pad-negative",
        "clip-hi<0", "softmax"])
def test_sign_breakers(x, make):
    assert not known_nonnegative(make(relu(x)))


def test_clip_at_zero_needs_no_proof_of_its_input(x):
    assert known_nonnegative(G.ClipOp(x, 0, 127).result)
    assert not known_nonnegative(G.ClipOp(x, -1, 127).result)


def test_long_chains_do_not_recurse(x):
    v = relu(x)
    for i in range(2000):
        v = G.ReshapeOp(v, [1, 36, 8] if i % 2 == 0 else list(SHAPE)).result
    assert known_nonnegative(v)
    v = x
    for i in range(2000):
        v = G.ReshapeOp(v, [1, 36, 8] if i % 2 == 0 else list(SHAPE)).result
    assert not known_nonnegative(v)


def test_shared_inputs_are_visited_once(x):
    # 60 levels of maxpool(concat(v, v)): 2**60 paths back to the ReLU, 121 distinct values
    v = relu(x)
    for _ in range(60):
        v = G.MaxPoolOp(G.ConcatOp([v, v], axis=2).result, (1, 2)).result
    assert v.type.get_shape() == SHAPE
    assert known_nonnegative(v)
    assert not known_nonnegative(G.ConcatOp([v, x], axis=3).result)
