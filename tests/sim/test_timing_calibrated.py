"""Timing rules added while calibrating against FireSim (issue #4): the LoopConv store FSM's
interlock with the execute FSM, the L2's serialisation of requests to one cache line, and
the mesh's tag queue (at most mesh_tags matmuls in flight)."""

import dataclasses

import numpy as np

from gemforge import sim
from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.library import compile_layer
from gemforge.backends.gemmini.program import Program
from gemforge.layers import ConvLayer
from gemforge.sim.dma import Dma
from gemforge.target import default

T = default()


def test_conv_stores_start_after_the_execute_fsm_issued_its_last_command():
    # One LOOP_CONV_WS tile with two output-channel blocks: the first block's results are
    # final halfway through, but LoopConvSt only starts once LoopConvExecute is idle, and the
    # ex FSM can run at most rs_execute commands (rs_execute / 2 pairs) ahead of the unit.
    lay = ConvLayer(1, 16, 16, 16, 32, 3, 3, pad=1)
    p, info = compile_layer(lay, T, seed=0, bias=False)
    assert info.tiles == 1
    x = np.random.default_rng(0).integers(-9, 9, size=lay.input_shape).astype(np.int8)
    res = sim.run(p, {"input": x}, T, trace=True)
    computes = sorted(s for u, k, s, e in res.events if u == "execute" and k.startswith("compute"))
    stores = sorted(s for u, k, s, e in res.events if u == "store")
    ahead = T.rs_execute // 2
    assert len(computes) > 4 * ahead and stores
    assert stores[0] > computes[-ahead - 1]


def _l2_target(l2_latency):
    return dataclasses.replace(T, mem_l2_latency_cycles=l2_latency)


def test_requests_to_one_line_serialise_in_the_l2():
    # 16 two-byte rows in one 64-byte line (a 2-channel output) versus 16 rows in 16 lines.
    for lat in (10, 40):
        d = Dma(_l2_target(lat))
        _, same = d.transfer(0.0, 16, 2, True, misses=0, addr=4096, stride=2)
        d = Dma(_l2_target(lat))
        _, spread = d.transfer(0.0, 16, 2, True, misses=0, addr=4096, stride=64)
        assert same >= 16 * lat
        assert spread < same - 10 * lat


def test_a_transfer_continuing_on_the_previous_line_waits_for_it():
    d = Dma(_l2_target(30))
    _, first = d.transfer(0.0, 16, 2, True, misses=0, addr=4096, stride=2)  # bytes 0..31 of the line
    _, second = d.transfer(1.0, 16, 2, True, misses=0, addr=4096 + 32, stride=2)  # bytes 32..63
    assert second >= first + 16 * 30
    d = Dma(_l2_target(30))
    _, elsewhere = d.transfer(1.0, 16, 2, True, misses=0, addr=8192, stride=2)
    assert elsewhere < second


def test_no_l2_no_line_serialisation():
    d = Dma(dataclasses.replace(T, mem_l2_bytes=0))
    _, same = d.transfer(0.0, 16, 2, True, addr=4096, stride=2)
    d = Dma(dataclasses.replace(T, mem_l2_bytes=0))
    _, spread = d.transfer(0.0, 16, 2, True, addr=4096, stride=64)
    assert same <= spread


def _short_pairs(rows, n, t, trace=None):
    """n WS pairs that keep their weights (B garbage), each A of ``rows`` rows accumulating
    into its own accumulator rows."""
    p = Program(t.name)
    p.emit(isa.config_ex(isa.WEIGHT_STATIONARY))
    for k in range(n):
        c = isa.acc((k * t.dim) % t.acc_rows, accumulate=True)
        p.emit(isa.preload(isa.GARBAGE, c, t.dim, t.dim, rows, t.dim),
               isa.compute(isa.spad(k * t.dim % t.spad_bank_rows), isa.GARBAGE, rows, t.dim, t.dim, t.dim,
                           preloaded=False))
    return sim.run(p, {}, t, allow_uninitialized=True, trace=trace)


def test_short_pairs_wait_for_a_mesh_tag():
    # A pair's tag leaves the mesh with the next pair's results, so with mesh_tags tags pair k
    # starts after pair k - (mesh_tags - 1) completed: 4-row pairs (4 cycles each) are held to
    # one completion latency per mesh_tags - 1 pairs, while with many tags they run back to back.
    # (A fast host and a large reservation station, so that only the execute unit limits.)
    t = dataclasses.replace(T, host_issue_cycles=1, rs_execute=64)
    n, rows = 400, 4
    latency = t.lat_mesh_drain - (t.dim - rows)
    assert (t.mesh_tags - 1) * rows < latency  # the rule binds for such pairs
    few = _short_pairs(rows, n, t).cycles
    many = _short_pairs(rows, n, dataclasses.replace(t, mesh_tags=64)).cycles
    assert many < n * rows + 2 * latency
    assert few >= (n // (t.mesh_tags - 1) - 1) * latency
    assert few == _short_pairs(rows, n, t, trace=True).cycles  # numpy solver == exact loop
    # DIM-row pairs finish a completion latency's worth of work before the tag is needed
    assert (t.mesh_tags - 1) * t.dim >= t.lat_mesh_drain
    full = _short_pairs(t.dim, n, t).cycles
    assert full == _short_pairs(t.dim, n, dataclasses.replace(t, mesh_tags=64)).cycles
