"""Branch and bound: optimal under the cost model, within capacity, remainder tiles, forcing."""

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gemforge.layers import ConvLayer, MatmulLayer
from gemforge.passes.schedule.bnb import exhaustive, schedule
from gemforge.passes.schedule.cost import estimate
from gemforge.passes.schedule.space import ScheduleError, capacity, footprint, problem_of
from gemforge.target import default

# DIM 4 with a scratchpad of 64 rows and an accumulator of 16 rows: capacity binds on tiny layers.
TINY = dataclasses.replace(default(), dim=4, spad_capacity_bytes=4 * 64, acc_capacity_bytes=16 * 16,
                           dma_bus_bytes=4, dma_max_request_bytes=8, mem_latency_cycles=24, lat_mesh_drain=9)

matmuls = st.builds(MatmulLayer, st.integers(1, 19), st.integers(1, 19), st.integers(1, 19))
convs = st.builds(lambda b, h, ci, co, k, s, pad, dil: ConvLayer(b, h + dil * (k - 1), h + 1 + dil * (k - 1), ci, co,
                                                                 k, k, s, pad, 1, dil),
                  st.integers(1, 2), st.integers(1, 5), st.integers(1, 6), st.integers(1, 6), st.integers(1, 3),
                  st.integers(1, 2), st.integers(0, 1), st.integers(1, 2))
depthwise = st.builds(lambda h, c, k, s: ConvLayer(1, h, h, c, c, k, k, s, k // 2, groups=c),
                      st.integers(3, 6), st.integers(2, 6), st.integers(1, 3), st.integers(1, 2))


def _fits(layer, sched, target):
    spad, acc = footprint(problem_of(layer), dict(sched.tiles), target)
    cap_s, cap_a = capacity(target, sched.double_buffer)
    return spad <= cap_s and acc <= cap_a


@settings(max_examples=25, deadline=None)
@given(st.one_of(matmuls, convs, depthwise), st.sampled_from([None, ("WS",), ("OS",)]))
def test_bnb_matches_exhaustive(layer, dataflows):
    s1, c1, stats = schedule(layer, TINY, dataflows=dataflows)
    s2, c2, _ = exhaustive(layer, TINY, dataflows=dataflows)
    assert c1.cycles == pytest.approx(c2.cycles, rel=1e-9)
    assert c1.fits and _fits(layer, s1, TINY)
    assert stats["nodes"] >= stats["leaves"] >= 1
    if dataflows:
        assert s1.dataflow == dataflows[0]


@settings(max_examples=25, deadline=None)
@given(st.one_of(matmuls, convs, depthwise))
def test_schedule_respects_capacity(layer):
    for force in ({"double_buffer": True}, {"double_buffer": False}, {"form": "loop"}):
        sched, cost, _ = schedule(layer, TINY, force=force)
        spad, acc = footprint(problem_of(layer), dict(sched.tiles), TINY)
        cap_s, cap_a = capacity(TINY, sched.double_buffer)
        assert spad <= cap_s and acc <= cap_a
        if sched.double_buffer:  # the halves
            assert 2 * spad <= TINY.spad_rows and 2 * acc <= TINY.acc_rows
        if sched.form == "loop":
            assert sched.double_buffer and sched.dataflow == "WS"
        for k, v in force.items():
            assert getattr(sched, k) == v


def test_prime_dimension_gets_a_remainder_tile():
    t = default()
    layer = MatmulLayer(m=1031, k=64, n=64)  # 1031 is prime and too big for one accumulator tile
    sched, cost, _ = schedule(layer, t)
    tm = sched.tile("m")
    assert 1 < tm < 1031 and 1031 % tm != 0
    assert cost.fits


def test_remainder_tile_is_smaller_not_padded():
    t = default()
    layer = MatmulLayer(m=17, k=16, n=16)
    s17, _, _ = schedule(layer, t, force={"tiles": {"m": 17, "k": 16, "n": 16}, "form": "loop"})
    s16, _, _ = schedule(layer, t, force={"tiles": {"m": 16, "k": 16, "n": 16}, "form": "loop"})
    # WS: blocks of 16 and 1 rows cost 16 + max(1, 4); the second tile's weight shift-in
    # costs max(1, 16, 4) - max(1, 4) = 12 more; a tile padded to 32 rows would cost 32.
    assert estimate(layer, s17, t).compute == 20
    assert estimate(layer, s16, t).compute == 32
    os_sched, _, _ = schedule(layer, t, force={"tiles": {"m": 17, "k": 16, "n": 16}, "dataflow": "OS"})
    assert estimate(layer, os_sched, t).compute == 2 * t.dim  # OS: DIM per block


def test_forced_tiles_and_errors():
    t = default()
    layer = ConvLayer(1, 14, 14, 64, 64, 3, 3, pad=1, name="c3")
    sched, _, _ = schedule(layer, t, force={"tiles": {"oc": 48, "kh": 1}, "stationary": "weight"})
    assert sched.tile("oc") == 48 and sched.tile("kh") == 1 and sched.stationary == "weight"
    assert sched.order[-3:] == ("b", "oh", "ow")  # weight-stationary: pixel loops innermost
    with pytest.raises(ScheduleError, match="c3.*not loops"):
        schedule(layer, t, force={"tiles": {"m": 16}})
    with pytest.raises(ScheduleError, match="c3.*outside"):
        schedule(layer, t, force={"tiles": {"oc": 65}})
    big = MatmulLayer(4096, 4096, 4096, name="big")
    with pytest.raises(ScheduleError, match="big: no tiling fits.*forced tiles .* that leaves none"):
        schedule(big, t, force={"tiles": {"m": 4096, "n": 4096, "k": 4096}})
    # output-stationary with the whole reduction in one tile is empty: the error says so
    with pytest.raises(ScheduleError, match="forced stationary 'output' that leaves none"):
        schedule(MatmulLayer(64, 16, 64, name="mm"), t, force={"stationary": "output", "tiles": {"k": 16, "m": 16}})


def test_views_of_layers():
    assert problem_of(ConvLayer(2, 7, 7, 32, 64, 1, 1)).kind == "matmul"  # pointwise -> NHWC matmul
    p = problem_of(ConvLayer(2, 7, 7, 32, 64, 1, 1)).dim("m")
    assert p.size == 2 * 7 * 7
    assert problem_of(ConvLayer(1, 8, 8, 8, 8, 3, 3, groups=8)).kind == "depthwise"
    grouped = problem_of(ConvLayer(1, 8, 8, 8, 16, 3, 3, groups=2))
    assert grouped.names[0] == "g" and grouped.dim("oc").size == 8 and grouped.dim("ic").size == 4
    sched, cost, _ = schedule(ConvLayer(1, 8, 8, 8, 16, 3, 3, pad=1, groups=2), default())
    assert sched.tile("g") == 1 and cost.fits
