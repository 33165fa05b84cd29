"""lrn_keeps_sign (passes/_sign.py): an LRN of a non-negative input is provably >= 0 when
its float32 window sum cannot reach 0, so a padded max pool after it (Inception-v1's
pool after its second LRN) is exact on Gemmini's pooled move-out."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st
from xdsl.dialects.builtin import TensorType, i8
from xdsl.ir import Block

from gemforge.dialects import graph as G
from gemforge.graph_eval_ops import lrn
from gemforge.passes._sign import known_nonnegative, lrn_keeps_sign

# AlexNet / CaffeNet / ZFNet / Inception-v1: size 5, alpha 1e-4, beta 0.75, bias 1 (or 2)
TYPICAL = dict(size=5, alpha=1e-4, beta=0.75, bias=1.0)


def arg(channels: int):
    return Block(arg_types=[TensorType(i8, (1, 3, 3, channels))]).args[0]


def make(x, size, alpha, beta, bias, s_in=0.05, s_out=0.01):
    return G.LRNOp(x, size, alpha, beta, bias, input_scale=s_in, output_scale=s_out)


def test_typical_lrn_of_a_relu_is_nonnegative():
    x = arg(192)
    op = make(G.ReluOp(x).result, **TYPICAL)
    assert lrn_keeps_sign(op)
    assert known_nonnegative(op.result)
    assert not known_nonnegative(make(x, **TYPICAL).result)  # the input's sign is unknown


def test_a_window_sum_that_can_reach_zero_proves_nothing():
    relu = G.ReluOp(arg(64)).result
    assert not lrn_keeps_sign(make(relu, 5, 1e-4, 0.75, 0.0))  # all-zero window: 0 * pow(0, -beta) is NaN
    # bias swamped by rounding: 1e-6 next to products of ~1e6, 2C additions
    assert not lrn_keeps_sign(make(relu, 5, 100.0, 0.75, 1e-6, s_in=1.0))
    # pow(bias, -beta) overflows float32: 0 * inf is NaN
    assert not lrn_keeps_sign(make(relu, 1, 1e-4, 4.0, 1e-12))


@settings(max_examples=150, deadline=None)
@given(size=st.sampled_from([1, 3, 5, 7, 9]),
       alpha=st.floats(-6, 2).map(lambda e: 10 ** e), beta=st.floats(0.05, 4.0),
       bias=st.floats(0.0, 3.0), s_in=st.floats(-3, 0.5).map(lambda e: 10 ** e), s_out=st.floats(1e-3, 1.0), channels=st.integers(1, 40),
       seed=st.integers(0, 2 ** 31 - 1))
@example(size=5, alpha=1e3, beta=0.75, bias=1e-3, s_in=4.0, s_out=1e-3, channels=40, seed=0)
def test_proven_lrns_never_go_negative(size, alpha, beta, bias, s_in, s_out, channels, seed):
    """Whenever the rule holds, the reference LRN (onnxruntime's float32 running sum) of
    random, all-zero, all-127 and alternating 0 / 127 inputs is >= 0 with no NaN on the way."""
    op = make(G.ReluOp(arg(channels)).result, size, alpha, beta, bias, s_in, s_out)
    if not lrn_keeps_sign(op):
        return
    rng = np.random.default_rng(seed)
    inputs = np.stack([rng.integers(0, 128, channels), np.zeros(channels), np.full(channels, 127),
                       np.arange(channels) % 2 * 127]).astype(np.int8).reshape(1, 4, 1, channels)
    with np.errstate(invalid="raise", divide="raise"):  # a NaN or pow(0, -beta) would raise here
        y = lrn(inputs, size, alpha, beta, bias, s_in, s_out)
    assert (y >= 0).all()
