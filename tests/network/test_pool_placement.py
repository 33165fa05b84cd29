"""Where a max pool runs in a network (gemforge/network_pool.py). A conv's fused pool is
split off when the conv in its best form followed by a pool of its own is no slower
(both simulated); a pool of its own runs on Gemmini's pooled move-out when that is exact
(no window reaches outside the input, or the input comes from a ReLU), else on the host
with the reason. Every placement is bit-exact."""

from __future__ import annotations

import numpy as np
import pytest

from gemforge.dialects import graph as G
from gemforge.network_build import ACCELERATOR, HOST
from gemforge.network_testing import build_module, check_network, const


def pooled(h, c, oc, k, s, pad, act="relu"):
    w = const(np.random.default_rng(c * oc).integers(-128, 128, size=(k, k, c, oc), dtype=np.int8))

    def body(args):
        conv = G.Conv2DOp(args[0], w.result, stride=(s, s), padding=(pad, pad), output_scale=0.01,
                          activation=act, pool_kernel=(3, 3), pool_stride=(2, 2), pool_padding=(1, 1))
        return [w, conv], [conv.result]

    return build_module([(1, h, h, c)], body)


@pytest.mark.parametrize("shape", [(32, 3, 24, 3, 2, 1), (32, 16, 32, 3, 1, 1)])
def test_split_pool_runs_on_gemmini_after_relu(shape):
    # a few-channel stride-2 stem and a 16-channel 3x3 conv: the conv in its best form, then
    # Gemmini's pooled move-out, beats the loop form's fused pooling (which recomputes the
    # rows its tiles' windows share)
    net, _ = check_network(pooled(*shape), timing=True)
    assert [(n.op, n.where) for n in net.nodes] == [("graph.conv2d", ACCELERATOR), ("graph.maxpool", ACCELERATOR)]
    assert "cheaper" not in net.nodes[0].reason


def test_padded_pool_without_relu_stays_on_the_host():
    net, _ = check_network(pooled(16, 16, 16, 3, 1, 1, act="none"))
    assert [(n.op, n.where) for n in net.nodes] == [("graph.conv2d", ACCELERATOR), ("graph.maxpool", HOST)]
    assert "possibly negative" in net.nodes[1].reason


def relu_pool(shape, k, s, pad, relu: bool):
    def body(args):
        ops = [G.ReluOp(args[0])] if relu else []
        pool = G.MaxPoolOp(ops[-1].result if ops else args[0], (k, k), (s, s), (pad, pad))
        return [*ops, pool], [pool.result]

    return build_module([shape], body)


@pytest.mark.parametrize("relu, pad, where", [(True, 1, ACCELERATOR), (False, 0, ACCELERATOR), (False, 1, HOST)])
def test_relu_maxpool_graph(relu, pad, where):
    # int8 inputs of both signs: the padded pool is exact on Gemmini only after the ReLU
    net, _ = check_network(relu_pool((2, 13, 11, 40), 3, 2, pad, relu), timing=True)
    pool = next(n for n in net.nodes if n.op == "graph.maxpool")
    assert pool.where == where, pool.reason
    if where == HOST:
        assert "possibly negative" in pool.reason


def test_library_schedule_keeps_pools_on_the_host():
    net, _ = check_network(relu_pool((1, 8, 8, 16), 2, 2, 0, True), schedule="library")
    pool = next(n for n in net.nodes if n.op == "graph.maxpool")
    assert pool.where == HOST and "library" in pool.reason


def relu_lrn_pool(alpha: float, bias: float, input_scale: float):
    # Inception-v1's second LRN and the padded pool after it, on a small image
    def body(args):
        relu = G.ReluOp(args[0])
        lrn = G.LRNOp(relu.result, 5, alpha, 0.75, bias, input_scale=input_scale, output_scale=0.04)
        pool = G.MaxPoolOp(lrn.result, (3, 3), (2, 2), (1, 1))
        return [relu, lrn, pool], [pool.result]

    return build_module([(1, 12, 12, 24)], body)


def test_padded_pool_after_an_lrn_of_a_relu_runs_on_gemmini():
    # the LRN keeps the sign (its window sum stays >= bias = 1 in float32): the pool is exact
    net, _ = check_network(relu_lrn_pool(1e-4, 1.0, 0.05), timing=True)
    assert [(n.op, n.where) for n in net.nodes][-2:] == [("graph.lrn", HOST), ("graph.maxpool", ACCELERATOR)]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_padded_pool_after_an_lrn_with_a_swamped_bias_stays_on_the_host():
    # bias 1e-6 beside window sums up to ~1e6: float32 rounding takes the running sum to 0
    # (it does on this input: pow(0, -beta) is inf, times v = 0 is NaN), so nothing is proven
    net, _ = check_network(relu_lrn_pool(100.0, 1e-6, 1.0))
    pool = next(n for n in net.nodes if n.op == "graph.maxpool")
    assert pool.where == HOST and "possibly negative" in pool.reason
