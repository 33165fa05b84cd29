"""Host kernels of graph ops (gemforge.sim.host_graph) equal graph_eval bit for bit:
random ops the accelerator does not take, compiled as host nodes of a network Program,
simulated and compared with the numpy reference."""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gemforge.dialects import graph as G
from gemforge.network_build import ACCELERATOR, HOST
from gemforge.network_testing import build_module, check_network, const

SCALES = st.sampled_from([0.013, 0.05, 0.21, 0.9, 1.7])


def _host_only(net) -> None:
    assert all(n.where == HOST for n in net.nodes), [(n.name, n.where) for n in net.nodes]


@settings(max_examples=12, deadline=None)
@given(h=st.integers(3, 9), w=st.integers(3, 9), c=st.integers(1, 6), k=st.integers(1, 3), s=st.integers(1, 3),
       pads=st.lists(st.integers(0, 1), min_size=4, max_size=4), avg=st.booleans(), incl=st.booleans(),
       scale=SCALES, seed=st.integers(0, 99))
def test_pools(h, w, c, k, s, pads, avg, incl, scale, seed):
    pads = [min(p, k - 1) for p in pads]

    def body(args):
        if avg:
            op = G.AvgPoolOp(args[0], (k, k + 1 if w > k + 1 else k), (s, s), pads, count_include_pad=incl,
                             scale=scale)
        else:
            op = G.MaxPoolOp(args[0], (k, k), (s, 1), pads)
        return [op], [op.result]

    # the library schedule keeps every max pool on the host (bnb may pool on Gemmini)
    net, _ = check_network(build_module([(1, h, w, c)], body), seed=seed, schedule="library")
    _host_only(net)


@settings(max_examples=10, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=4, max_size=4), scales=st.tuples(SCALES, SCALES, SCALES),
       act=st.sampled_from(["none", "relu"]), seed=st.integers(0, 99))
def test_add_softmax_global_pool(shape, scales, act, seed):
    def body(args):
        add = G.AddOp(args[0], args[1], lhs_scale=scales[0], rhs_scale=scales[1], output_scale=scales[2],
                      activation=act)
        sm = G.SoftmaxOp(add.result, axis=-1, input_scale=scales[2], output_scale=1 / 128)
        gap = G.GlobalAvgPoolOp(add.result, scale=scales[0])
        return [add, sm, gap], [sm.result, gap.result, add.result]

    net, _ = check_network(build_module([shape, shape], body), seed=seed)
    _host_only(net)


@settings(max_examples=10, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=4, max_size=4), perm=st.permutations(range(4)),
       axis=st.integers(0, 3), pads=st.lists(st.integers(0, 2), min_size=8, max_size=8),
       lo=st.integers(-128, 0), hi=st.integers(0, 127), scale=SCALES, seed=st.integers(0, 99))
def test_layout_ops(shape, perm, axis, pads, lo, hi, scale, seed):
    def body(args):
        t = G.TransposeOp(args[0], perm)
        cat = G.ConcatOp([args[0], args[0]], axis)
        pad = G.PadOp(args[0], pads, -3)
        clip = G.ClipOp(pad.result, lo, hi)
        rq = G.RequantizeOp(clip.result, scale)
        relu = G.ReluOp(rq.result)
        rs = G.ReshapeOp(relu.result, [-1])
        return [t, cat, pad, clip, rq, relu, rs], [t.result, cat.result, rs.result]

    net, _ = check_network(build_module([shape], body), seed=seed)
    _host_only(net)
    # The input is both a result operand elsewhere and read by three host kernels.
    # (A transpose that moves no element is a no-op that fold-channel-shuffle removes.)
    index = np.arange(int(np.prod(shape))).reshape(shape)
    moves = not np.array_equal(np.transpose(index, perm), index)
    expected = {"graph.concat", "graph.pad", "graph.reshape"} | ({"graph.transpose"} if moves else set())
    assert {n.op for n in net.nodes} >= expected


@settings(max_examples=6, deadline=None)
@given(groups=st.sampled_from([2, 3]), k=st.integers(1, 3), stride=st.integers(1, 2), scale=SCALES,
       bias=st.booleans(), seed=st.integers(0, 99))
def test_grouped_conv_runs_group_by_group(groups, k, stride, scale, bias, seed):
    rng = np.random.default_rng(seed)
    c, co = 2 * groups, 3 * groups
    w = const(rng.integers(-128, 128, size=(k, k, c // groups, co), dtype=np.int8))
    b = const(rng.integers(-500, 500, size=(co,), dtype=np.int32)) if bias else None

    def body(args):
        conv = G.Conv2DOp(args[0], w.result, b.result if b else None, stride=(stride, stride), padding=(1, 1),
                          groups=groups, output_scale=scale * 0.01, activation="relu")
        return [w, *([b] if b else []), conv], [conv.result]

    module = build_module([(1, 6, 5, c)], body)
    with patch("gemforge.network_build.dense_pays", return_value=False):  # the split, not the dense form
        net, _ = check_network(module, seed=seed)
    ops = [n.op for n in net.nodes]
    assert ops == ["slice_channels", "graph.conv2d"] * groups + ["graph.concat"]
    assert [n.where for n in net.nodes if n.op == "graph.conv2d"] == [ACCELERATOR] * groups
    # small groups: the zero blocks cost less than the copies, so by default it runs dense, as one layer
    net, _ = check_network(module, seed=seed)
    assert [(n.op, n.where) for n in net.nodes] == [("graph.conv2d", ACCELERATOR)]


@settings(max_examples=4, deadline=None)
@given(groups=st.sampled_from([2, 3]), pool=st.sampled_from([(2, 2), (3, 2)]), schedule=st.sampled_from(["bnb", "library"]),
       seed=st.integers(0, 99))
def test_grouped_conv_with_fused_pool_splits_the_pool_then_the_groups(groups, pool, schedule, seed):
    # Neither generator lowers a grouped conv with a fused pool (AlexNet's conv2 and conv5): the pool
    # is split off, the conv runs group by group, then the pool (Gemmini under bnb, else the host).
    rng = np.random.default_rng(seed)
    c, co = 2 * groups, 3 * groups
    w = const(rng.integers(-128, 128, size=(3, 3, c // groups, co), dtype=np.int8))
    k, st_ = pool

    def body(args):
        conv = G.Conv2DOp(args[0], w.result, padding=(1, 1), groups=groups, output_scale=0.004, activation="relu",
                          pool_kernel=(k, k), pool_stride=(st_, st_))
        return [w, conv], [conv.result]

    module = build_module([(1, 9, 8, c)], body)
    with patch("gemforge.network_build.dense_pays", return_value=False):  # the split, not the dense form
        net, _ = check_network(module, schedule=schedule, seed=seed)
    ops = [n.op for n in net.nodes]
    assert ops == ["slice_channels", "graph.conv2d"] * groups + ["graph.concat", "graph.maxpool"]
    assert [n.where for n in net.nodes if n.op == "graph.conv2d"] == [ACCELERATOR] * groups
    assert net.nodes[-1].where == (ACCELERATOR if schedule == "bnb" else HOST)
    net, _ = check_network(module, schedule=schedule, seed=seed)  # by default dense: no copies
    assert "slice_channels" not in [n.op for n in net.nodes] and net.nodes[0].where == ACCELERATOR


@settings(max_examples=6, deadline=None)
@given(batch=st.integers(1, 3), m=st.integers(1, 7), k=st.integers(1, 9), n=st.integers(1, 9), scale=SCALES,
       relu=st.booleans(), seed=st.integers(0, 99))
def test_unsupported_matmul_falls_back_to_the_host(batch, m, k, n, scale, relu, seed):
    rng = np.random.default_rng(seed)
    w = const(rng.integers(-128, 128, size=(batch, k, n), dtype=np.int8))  # batched right-hand side

    def body(args):
        mm = G.MatmulOp(args[0], w.result, output_scale=scale * 0.01, activation="relu" if relu else "none")
        return [w, mm], [mm.result]

    net, _ = check_network(build_module([(batch, m, k)], body), seed=seed)
    (node,) = net.nodes
    assert node.where == HOST and "batched" in node.reason and node.macs == batch * m * k * n


@settings(max_examples=8, deadline=None)
@given(h=st.integers(1, 6), w=st.integers(1, 6), c=st.integers(1, 12), size=st.sampled_from([1, 3, 5]),
       scales=st.tuples(SCALES, SCALES), seed=st.integers(0, 99))
def test_float_islands_on_the_host(h, w, c, size, scales, seed):
    """graph.lrn and graph.channel_affine run as host nodes, equal to graph_eval, and
    are charged their documented element visits (6 per element for the LRN; the
    channel_affine with constant vectors becomes a ``lut`` (fold-lut) charged 1, while
    its own kernel charges 4)."""
    rng = np.random.default_rng(seed)
    vectors = [const(rng.normal(0, 1, c).astype(np.float32)) for _ in range(3)]

    def body(args):
        lrn = G.LRNOp(args[0], size, 0.01, 0.75, 1.0, input_scale=scales[0], output_scale=scales[1])
        aff = G.ChannelAffineOp(lrn.result, *(v.result for v in vectors), input_scale=scales[1],
                                output_scale=scales[0])
        return [*vectors, lrn, aff], [aff.result, lrn.result]

    net, result = check_network(build_module([(1, h, w, c)], body), seed=seed, timing=True)
    _host_only(net)
    assert [n.op for n in net.nodes] == ["graph.lrn", "graph.lut"]
    from gemforge.sim.host import KERNELS
    from gemforge.target import resolve

    t = resolve(None)
    cycles = {x.op: x.cycles for x in result.layers}
    assert cycles["graph.lrn"] >= 6 * h * w * c * t.host_element_cycles
    assert h * w * c * t.host_element_cycles <= cycles["graph.lut"] < cycles["graph.lrn"]
    x = rng.integers(-128, 128, (1, h, w, c)).astype(np.int8)
    out = np.empty_like(x)
    affine = KERNELS["graph.channel_affine"]([x, *(v.to_numpy() for v in vectors)], [out],
                                             {"input_scale": scales[1], "output_scale": scales[0]})
    assert affine == (4 * x.size, 0)
