"""Small mixed networks through compile_network: the partition, one Program with shared
DRAM tensors, bit-exact results for both schedules, per-layer and whole-Program runs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gemforge.backends.gemmini.program import HostOp, Program
from gemforge.dialects import graph as G
from gemforge.errors import GemforgeError
from gemforge.network import compile_network
from gemforge.network_build import ACCELERATOR, HOST
from gemforge.network_testing import build_module, check_network, const, random_inputs

RNG = np.random.default_rng(7)


def _w(*shape):
    return const(RNG.integers(-128, 128, size=shape, dtype=np.int8))


def _b(n):
    return const(RNG.integers(-2000, 2000, size=(n,), dtype=np.int32))


def residual_block():
    """conv+relu -> maxpool -> two convs -> add -> concat -> global pool -> matmul -> softmax."""
    w1, b1, w2, w3, wf, bf = _w(3, 3, 8, 16), _b(16), _w(1, 1, 16, 16), _w(3, 3, 16, 16), _w(32, 10), _b(10)

    def body(args):
        c1 = G.Conv2DOp(args[0], w1.result, b1.result, padding=(1, 1), output_scale=0.004, activation="relu")
        mp = G.MaxPoolOp(c1.result, (2, 2), (2, 2))
        c2 = G.Conv2DOp(mp.result, w2.result, output_scale=0.01)
        c3 = G.Conv2DOp(mp.result, w3.result, padding=(1, 1), output_scale=0.003, activation="relu")
        add = G.AddOp(c2.result, c3.result, lhs_scale=0.5, rhs_scale=0.25, output_scale=0.5, activation="relu")
        cat = G.ConcatOp([add.result, mp.result], axis=3)
        gap = G.GlobalAvgPoolOp(cat.result, scale=1.0)
        flat = G.ReshapeOp(gap.result, [1, 32])
        fc = G.MatmulOp(flat.result, wf.result, bf.result, output_scale=0.002)
        sm = G.SoftmaxOp(fc.result, axis=-1, input_scale=0.1, output_scale=1 / 128)
        ops = [w1, b1, w2, w3, wf, bf, c1, mp, c2, c3, add, cat, gap, flat, fc, sm]
        return ops, [sm.result, fc.result]

    return build_module([(1, 12, 10, 8)], body)


@pytest.mark.parametrize("schedule", ["bnb", "library"])
def test_mixed_network_is_bit_exact(schedule):
    module = residual_block()
    net, result = check_network(module, schedule=schedule, timing=True)
    where = {n.name: n.where for n in net.nodes}
    on_acc = [n for n in net.nodes if n.where == ACCELERATOR]
    # the convs, the classifier and (bnb) the max pool after the ReLU conv on Gemmini's pooled move-out
    pooled = schedule == "bnb"
    assert {n.op for n in on_acc} == {"graph.conv2d", "graph.matmul"} | ({"graph.maxpool"} if pooled else set())
    assert len(on_acc) == 4 + pooled
    assert {n.op for n in net.nodes if n.where == HOST} >= {"graph.add", "graph.concat", "graph.softmax",
                                                            "graph.global_avgpool"}
    # One Program: every network value is a DRAM tensor, the host kernels are HostOps in order.
    p = net.program
    assert [t.name for t in p.tensors_with_role("input")] == ["x0"]
    assert {t.name for t in p.tensors_with_role("output")} == {"out0", "out1"}
    hosts = [x for x in p.items if isinstance(x, HostOp) and x.kind != "autotile"]
    assert len(hosts) == sum(1 for v in where.values() if v == HOST)
    searches = [x for x in p.items if isinstance(x, HostOp) and x.kind == "autotile"]
    assert len(searches) == (3 if schedule == "library" else 0)  # the library searches per conv call
    # Per-layer cycles add up to the total; accelerator layers report a utilisation.
    assert result.total_cycles == sum(x.cycles for x in result.layers) > 0
    assert all(x.cycles > 0 for x in result.layers)
    assert all(0 < x.utilization <= 1 for x in result.layers if x.where == ACCELERATOR and x.macs)
    assert all(x.utilization == 0 for x in result.layers if not x.macs)  # a pool multiplies nothing
    assert "total:" in result.table()


def test_whole_program_run_equals_per_layer_run(tmp_path):
    module = residual_block()
    net = compile_network(module)
    inputs = random_inputs(module, 3)
    per_layer = net.run(inputs, timing=False)
    whole = net.run(inputs, timing=True, per_layer=False)
    for name in per_layer.outputs:
        np.testing.assert_array_equal(per_layer.outputs[name], whole.outputs[name])
    assert whole.total_cycles > 0
    # The saved Program runs on its own (after a round trip through the file).
    net.save(tmp_path)
    from gemforge import sim

    again = sim.run(Program.load(tmp_path / "program.npz"), inputs, timing=False)
    for name in per_layer.outputs:
        np.testing.assert_array_equal(again.outputs[name], per_layer.outputs[name])
    meta = json.loads((tmp_path / "partition.json").read_text())
    assert meta["inputs"] == ["x0"] and len(meta["nodes"]) == len(net.nodes)


def test_trace_has_a_layer_track(tmp_path):
    module = residual_block()
    net = compile_network(module)
    result = net.run(random_inputs(module), trace=True)
    result.write_trace(tmp_path / "t.json")
    events = json.loads((tmp_path / "t.json").read_text())["traceEvents"]
    layer_spans = [e for e in events if e.get("ph") == "X" and e["name"] in {n.name for n in net.nodes}]
    assert len(layer_spans) == len(net.nodes)
    assert max(e["ts"] + e["dur"] for e in layer_spans) == pytest.approx(result.total_cycles, abs=1)


def test_returned_argument_and_duplicate_results_are_copied():
    def body(args):
        relu = G.ReluOp(args[0])
        return [relu], [relu.result, args[0], relu.result]

    net, _ = check_network(build_module([(1, 3, 3, 4)], body))
    assert sum(1 for n in net.nodes if n.op == "copy") == 2


def test_unknown_schedule_is_an_error():
    with pytest.raises(GemforgeError, match="schedule"):
        compile_network(residual_block(), schedule="fastest")
