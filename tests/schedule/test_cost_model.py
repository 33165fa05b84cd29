"""Sanity of the analytical cost model: monotone in the memory system, valid lower bounds."""

import dataclasses
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gemforge.layers import ConvLayer, MatmulLayer
from gemforge.passes.schedule.bnb import schedule
from gemforge.passes.schedule.cost import estimate, lower_bound
from gemforge.passes.schedule.space import Config, candidates, configs, fits, footprint, make_schedule, problem_of
from gemforge.passes.schedule.terms import DmaRates
from gemforge.target import default

T = default()
layers = st.one_of(
    st.builds(MatmulLayer, st.integers(1, 300), st.integers(1, 300), st.integers(1, 300)),
    st.builds(lambda h, ci, co, k, s: ConvLayer(1, h + k, h + k, ci, co, k, k, s, k // 2),
              st.integers(1, 30), st.integers(1, 80), st.integers(1, 80), st.integers(1, 5), st.integers(1, 2)),
    st.builds(lambda h, c, s: ConvLayer(1, h, h, c, c, 3, 3, s, 1, groups=c),
              st.integers(3, 30), st.integers(2, 80), st.integers(1, 2)),
)


def _random_schedule(layer, rnd):
    p = problem_of(layer)
    tiles = {d.name: rnd.choice(candidates(d, T)) for d in p.dims}
    return make_schedule(p, tiles, rnd.choice(configs(p, T)))


def _faster_memory(t):
    return dataclasses.replace(t, mem_bytes_per_cycle=t.mem_bytes_per_cycle * 2)


def _wider_bus(t):
    return dataclasses.replace(t, dma_bus_bytes=t.dma_bus_bytes * 2, dma_max_request_bytes=t.dma_max_request_bytes * 2)


def _more_inflight(t):
    return dataclasses.replace(t, dma_max_inflight=t.dma_max_inflight * 2)


@settings(max_examples=40, deadline=None)
@given(layers, st.integers(0, 10**6))
def test_more_bandwidth_never_costs_more(layer, seed):
    s = _random_schedule(layer, random.Random(seed))
    base = estimate(layer, s, T).cycles
    for faster in (_faster_memory, _wider_bus, _more_inflight):
        assert estimate(layer, s, faster(T)).cycles <= base * (1 + 1e-12)


@settings(max_examples=40, deadline=None)
@given(layers, st.integers(0, 10**6), st.integers(1, 400))
def test_more_memory_latency_never_costs_less(layer, seed, extra):
    s = _random_schedule(layer, random.Random(seed))
    slower = dataclasses.replace(T, mem_latency_cycles=T.mem_latency_cycles + extra)
    assert estimate(layer, s, slower).cycles >= estimate(layer, s, T).cycles * (1 - 1e-12)


@settings(max_examples=10, deadline=None)
@given(layers)
def test_optimum_is_monotone_in_the_memory_system(layer):
    base = schedule(layer, T)[1].cycles
    assert schedule(layer, _faster_memory(T))[1].cycles <= base * (1 + 1e-12)
    slower = dataclasses.replace(T, mem_latency_cycles=T.mem_latency_cycles * 3)
    assert schedule(layer, slower)[1].cycles >= base * (1 - 1e-12)


@settings(max_examples=30, deadline=None)
@given(layers, st.integers(0, 10**6))
def test_lower_bound_never_exceeds_a_completion(layer, seed):
    rnd = random.Random(seed)
    s = _random_schedule(layer, rnd)
    cost = estimate(layer, s, T).cycles
    tiles = dict(s.tiles)
    partial = {"tiles": {d: t for d, t in tiles.items() if rnd.random() < 0.5}}
    if rnd.random() < 0.5:
        partial["dataflow"] = s.dataflow
    assert lower_bound(layer, partial, T) <= cost * (1 + 1e-12)
    assert lower_bound(layer, {"tiles": tiles, **s.to_dict()}, T) <= cost * (1 + 1e-12)


def test_dma_request_cost_is_the_slowest_of_bus_memory_and_latency():
    d = DmaRates(T)
    # 64 B: 4 beats, 8 cycles of DRAM at 8 B/cycle, (100 + 4) / 16 = 6.5: memory-bound.
    assert d.request(64) == 8
    # 16 B: 1 beat, 2 cycles of DRAM, (latency + 1) / in-flight: latency-bound (latency is calibrated).
    assert d.request(16) == pytest.approx((T.mem_latency_cycles + 1) / T.dma_max_inflight)
    # A 100-element int8 row in mvins of at most 64 columns: chunks of 64 B and 36 B, one request each.
    assert d.row(100, 1, 4) == d.request(64) + d.request(36)
    # int32 rows (accumulator mvin, one DIM block each): 16 columns = 64 B per instruction.
    assert d.row(20, 4, 1) == d.request(64) + d.request(16)


def test_loop_form_needs_half_the_memories_and_issues_less():
    layer = MatmulLayer(256, 256, 256)
    p = problem_of(layer)
    half = {"m": 128, "n": 64, "k": 256}  # acc 4 blocks x 128 rows = 512 = half of 1024
    loop = estimate(layer, make_schedule(p, half, Config("WS", "loop", True, "red")), T, bias=False)
    fine = estimate(layer, make_schedule(p, half, Config("WS", "fine", True, "red")), T, bias=False)
    assert loop.fits and fine.fits and loop.issue < fine.issue
    full = {"m": 256, "n": 64, "k": 256}  # acc 1024 rows: only single-buffered
    assert estimate(layer, make_schedule(p, full, Config("WS", "fine", False, "red")), T, bias=False).fits
    assert not estimate(layer, make_schedule(p, full, Config("WS", "loop", True, "red")), T, bias=False).fits
    assert not estimate(layer, make_schedule(p, full, Config("WS", "fine", True, "red")), T, bias=False).fits


def test_fine_form_bias_block_takes_accumulator_rows():
    """With a bias, the fine form keeps DIM broadcast rows per column block resident: a tile
    that fills the accumulator half without it no longer fits; the loop form is unchanged."""
    layer = MatmulLayer(256, 256, 256)
    p = problem_of(layer)
    half = {"m": 128, "n": 64, "k": 256}
    fine = make_schedule(p, half, Config("WS", "fine", True, "red"))
    assert not estimate(layer, fine, T).fits and not fits(p, fine, T, bias=True) and fits(p, fine, T)
    smaller = make_schedule(p, {"m": 112, "n": 64, "k": 256}, Config("WS", "fine", True, "red"))
    assert estimate(layer, smaller, T).fits and fits(p, smaller, T, bias=True)
    assert footprint(p, {"m": 112, "n": 64, "k": 256}, T, bias_block=True)[1] == 4 * 112 + 4 * T.dim
    assert estimate(layer, make_schedule(p, half, Config("WS", "loop", True, "red")), T).fits


def test_bias_block_replaces_per_tile_bias_traffic():
    """The fine form moves the bias once per column tile (not into every output tile), so a
    small-K layer whose bias broadcast dominated the traffic gets cheaper loads than the
    same tiling in the loop form, which still broadcasts it per tile."""
    layer = MatmulLayer(3136, 64, 256)
    p = problem_of(layer)
    tiles = {"m": 64, "n": 64, "k": 64}

    def extra(form):  # load cycles the bias adds
        sched = make_schedule(p, tiles, Config("WS", form, True, "pix"))
        with_bias, without = estimate(layer, sched, T), estimate(layer, sched, T, bias=False)
        assert with_bias.fits
        return with_bias.load - without.load

    assert 0 < extra("fine") and 10 * extra("fine") < extra("loop")


def test_fine_form_host_stalls_only_on_bursts_beyond_a_reservation_station():
    """A weight tile moved in by far more mvins than the load station holds stalls the host
    (and so the execute unit) in the fine form; a deeper station removes the stall. A tiling
    whose bursts fit the stations is priced the same either way."""
    layer = MatmulLayer(512, 768, 128)
    p = problem_of(layer)
    deep = dataclasses.replace(T, rs_load=4096, rs_store=4096)

    def cycles(tiles, t):
        return estimate(layer, make_schedule(p, tiles, Config("WS", "fine", True, "pix")), t).cycles

    burst = {"m": 16, "n": 128, "k": 768}  # B: 768 rows x 128 columns = 96 mvins at once
    assert cycles(burst, deep) < cycles(burst, T)
    small = {"m": 16, "n": 64, "k": 64}  # B: 4 mvins, A: 1, C: 1 mvout per output tile
    assert cycles(small, deep) == cycles(small, T)
