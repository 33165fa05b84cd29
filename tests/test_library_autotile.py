"""The vendor library's run-time tile search: counted by the baseline, charged by the simulator."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gemforge import sim
from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.library import ConvTiling, compile_layer, conv_auto_search, conv_auto_tiling
from gemforge.backends.gemmini.library import conv_tiling
from gemforge.backends.gemmini.program import HostOp, Program
from gemforge.errors import GemforgeError
from gemforge.layers import ConvLayer
from gemforge.target import default

T = default()


def autotile_ops(program: Program) -> list[HostOp]:
    return [x for x in program.items if isinstance(x, HostOp) and x.kind == "autotile"]


def test_a_layer_that_fits_whole_checks_one_candidate():
    tiling, candidates = conv_auto_search(ConvLayer(1, 2, 2, 256, 36, 3, 3, 1, 1), T)
    assert candidates == 1 and tiling == conv_auto_tiling(ConvLayer(1, 2, 2, 256, 36, 3, 3, 1, 1), T)


def test_every_candidate_is_one_check_of_the_rows(monkeypatch):
    calls = []
    real = conv_tiling.conv_rows
    monkeypatch.setattr(conv_tiling, "conv_rows", lambda *a: calls.append(a) or real(*a))
    layer = ConvLayer(1, 7, 7, 2048, 256, 1, 1, 1, 0)
    tiling, candidates = conv_auto_search(layer, T, downsample=False)
    assert candidates == len(calls) == 1022
    # the FireSim CSV's recorded auto tiling of this layer (R_S_Q_P_C_K_N 1_1_7_7_624_160_1)
    assert (tiling.kchs, tiling.pochs, tiling.porows, tiling.pocols) == (624, 160, 7, 7)


def test_the_auto_entry_point_searches_before_it_issues_anything():
    layer = ConvLayer(1, 7, 7, 256, 256, 3, 3, 1, 1)  # 35 candidates, 9 tiles
    program, info = compile_layer(layer, T, bias=False)
    ops = autotile_ops(program)
    assert len(ops) == 1 and ops[0].attrs["candidates"] == conv_auto_search(layer, T)[1] > 1
    first_insn = next(i for i, x in enumerate(program.items) if isinstance(x, isa.Insn))
    assert program.items.index(ops[0]) < first_insn
    explicit, _ = compile_layer(layer, T, ConvTiling(*info.tiling.as_args()), bias=False)
    assert autotile_ops(explicit) == []  # tiled_conv with given tile sizes does not search


@pytest.mark.parametrize("per_candidate", [0.0, 37.5, 250.0])
def test_the_simulator_charges_each_candidate(per_candidate):
    layer = ConvLayer(1, 7, 7, 256, 256, 3, 3, 1, 1)  # 35 candidates, 9 tiles
    program, _ = compile_layer(layer, T, bias=False)
    candidates = autotile_ops(program)[0].attrs["candidates"]
    x = np.random.default_rng(0).integers(-128, 128, size=layer.input_shape, dtype=np.int8)
    base = sim.run(program, {"input": x}, dataclasses.replace(T, host_autotile_eval_cycles=0.0))
    run = sim.run(program, {"input": x}, dataclasses.replace(T, host_autotile_eval_cycles=per_candidate))
    assert run.cycles - base.cycles == pytest.approx(candidates * per_candidate, abs=1)
    assert np.array_equal(run.outputs["output"], base.outputs["output"])


def test_an_autotile_op_with_data_is_refused():
    p = Program(T.name)
    p.add_tensor("x", (4,), "int8", "input")
    p.host("autotile", ["x"], [], candidates=3)
    with pytest.raises(GemforgeError, match="autotile reads and writes no tensors"):
        sim.run(p, {"x": np.zeros(4, np.int8)}, T)


def test_a_library_network_searches_once_per_conv():
    from gemforge.dialects import graph as G
    from gemforge.network import compile_network
    from gemforge.network_testing import build_module, check_network, const

    rng = np.random.default_rng(3)

    def body(args):
        w1, w2 = (const(rng.integers(-4, 5, size=s, dtype=np.int8)) for s in ((3, 3, 32, 32), (1, 1, 32, 16)))
        c1 = G.Conv2DOp(args[0], w1.result, padding=(1, 1), output_scale=0.01, activation="relu")
        c2 = G.Conv2DOp(c1.result, w2.result, output_scale=0.02)
        return [w1, w2, c1, c2], [c2.result]

    module = build_module([(1, 8, 8, 32)], body)
    net, _ = check_network(module, schedule="library")  # bit-exact with the searches in the stream
    assert len(autotile_ops(net.program)) == len(net.accelerator_nodes) == 2
    assert autotile_ops(compile_network(module, schedule="bnb").program) == []  # tiles fixed at compile time
