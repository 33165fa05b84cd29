"""Timing rules added while calibrating against FireSim (issue #4): the LoopConv store FSM's
interlock with the execute FSM, and the L2's serialisation of requests to one cache line."""

import dataclasses

import numpy as np

from gemforge import sim
from gemforge.backends.gemmini.library import compile_layer
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
