"""Average pools on Gemmini as depthwise all-ones convolutions (gemforge/network_avgpool.py):
bit-exact against graph_eval, with a host pass over the windows that reach into the
padding exactly when they divide by fewer elements."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gemforge.dialects import graph as G
from gemforge.graph_eval_ops import window_counts
from gemforge.network_build import ACCELERATOR, HOST
from gemforge.network_testing import build_module, check_network


@settings(max_examples=10, deadline=None)
@given(hw=st.tuples(st.integers(6, 12), st.integers(6, 12)), c=st.integers(1, 40), k=st.integers(2, 3),
       s=st.integers(1, 2), pad=st.integers(0, 1), incl=st.booleans(),
       scale=st.sampled_from([0.37, 1.0, 1.00237036, 1.9]), seed=st.integers(0, 99))
def test_avgpool_runs_as_a_depthwise_conv(hw, c, k, s, pad, incl, scale, seed):
    (h, w), pads = hw, (pad, pad, pad, pad)

    def body(args):
        op = G.AvgPoolOp(args[0], (k, k), (s, s), pads, count_include_pad=incl, scale=scale)
        return [op], [op.result]

    net, _ = check_network(build_module([(1, h, w, c)], body), seed=seed)
    counts = window_counts(h, w, (k, k), (s, s), pads)
    partial = int((counts < k * k).sum()) if pad and not incl else 0
    if partial > counts.size - partial:  # mostly border: all on the host
        assert [(n.op, n.where) for n in net.nodes] == [("graph.avgpool", HOST)]
    else:
        assert [n.where for n in net.nodes] == [ACCELERATOR] + [HOST] * (partial > 0)
        assert all(n.op == "graph.avgpool" for n in net.nodes)


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 99))
def test_library_schedule_and_whole_input_pools_stay_on_the_host(seed):
    def body(args):
        pool = G.AvgPoolOp(args[0], (3, 3), (1, 1), (1, 1, 1, 1), scale=0.8)
        whole = G.AvgPoolOp(args[0], (7, 7), (1, 1), (0, 0, 0, 0), scale=0.8)
        return [pool, whole], [pool.result, whole.result]

    module = build_module([(1, 7, 7, 16)], body)
    net, _ = check_network(module, schedule="library", seed=seed)
    assert [n.where for n in net.nodes] == [HOST, HOST]
    net, _ = check_network(module, seed=seed)
    assert [n.where for n in net.nodes] == [ACCELERATOR, HOST, HOST]
    assert "global_avg_pool" in net.nodes[-1].reason
