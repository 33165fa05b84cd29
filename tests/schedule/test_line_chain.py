"""The cost model's L2 line-chain rule (``passes/schedule/line_chain.py``) against the
simulator's DMA (``sim/dma.py``, the ground truth), the im2col variant's load floor, and the
fine form's mvout widths (``passes/schedule/store_terms.py``)."""

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gemforge.compile import compile_layer, run
from gemforge.layers import ConvLayer, MatmulLayer
from gemforge.passes._tiling_im2col_cost import im2col_load_floor, im2col_price
from gemforge.passes._tiling_layers import ConvGeometry
from gemforge.passes.schedule.cost import QUANTITIES, estimate, with_load_floor
from gemforge.passes.schedule.line_chain import chain_floor, chain_length, dma_slots
from gemforge.passes.schedule.space import Config, make_schedule, problem_of
from gemforge.sim.dma import Dma
from gemforge.target import default

T = default()


@settings(max_examples=200, deadline=None)
@given(rows=st.integers(1, 16), row_bytes=st.integers(1, 200), stride=st.integers(0, 300), addr=st.integers(0, 4096))
def test_chain_length_is_the_simulators(rows, row_bytes, stride, addr):
    plan = Dma(T).plan(rows, row_bytes, None, addr, stride)
    assert chain_length(T, rows, row_bytes, stride) == plan[11]


@settings(max_examples=100, deadline=None)
@given(rows=st.integers(2, 16), row_bytes=st.integers(1, 63), stride=st.integers(1, 63))
def test_a_lone_chained_transfer_takes_at_least_the_chain(rows, row_bytes, stride):
    dma = Dma(T)
    _, done = dma.transfer(0.0, rows, row_bytes, False, addr=0, stride=stride)
    beats = -(-min(row_bytes, T.dma_max_request_bytes) // T.dma_bus_bytes)
    assert done >= chain_floor(T, rows, row_bytes, stride) - beats


def test_no_l2_no_chain():
    no_l2 = dataclasses.replace(T, mem_l2_bytes=0)
    assert chain_length(no_l2, 16, 3, 3) == 1
    assert chain_length(T, 16, 3, 3) == 16 and chain_length(T, 16, 64, 64) == 1
    assert dma_slots(T) == T.dma_max_inflight // T.dim + 1


def _quantity(layer, tiles, target, q, form="fine"):
    p = problem_of(layer)
    s = make_schedule(p, tiles, Config("WS", form, True, "pix"))
    from gemforge.passes.schedule.cost import _effective, _point_model

    m = _point_model(p, target, s.tiles, _effective(p, s), True, False)
    return m.quantities(m.term_row({d.name: 0 for d in p.dims})[None, :])[0, 0, QUANTITIES.index(q)]


def test_narrow_pixel_rows_chain_the_load_stream_and_longer_l2_latency_costs_more():
    layer = ConvLayer(1, 40, 40, 3, 32, 3, 3, 1, 1)
    tiles = {"b": 1, "oh": 4, "ow": 16, "oc": 32, "ic": 3, "kh": 3, "kw": 3}
    chained = _quantity(layer, tiles, T, "load_chain")
    assert chained > 0
    assert _quantity(layer, tiles, dataclasses.replace(T, mem_l2_bytes=0), "load_chain") == 0
    slower = dataclasses.replace(T, mem_l2_latency_cycles=2 * T.mem_l2_latency_cycles)
    assert _quantity(layer, tiles, slower, "load_chain") > chained
    wide = ConvLayer(1, 40, 40, 64, 64, 3, 3, 1, 1)  # 64-byte pixel and weight rows: a line apart
    assert _quantity(wide, {**tiles, "ic": 64, "oc": 64}, T, "load_chain") == 0


def test_fine_form_mvouts_are_wide_only_for_a_dim_row_buffer():
    # rn50_03's shape: m tiles of DIM store 4-block mvouts, others one block per mvout
    layer = MatmulLayer(3136, 64, 256)
    narrow = estimate(layer, make_schedule(problem_of(layer), {"m": 2 * T.dim, "n": 128, "k": 64},
                                           Config("WS", "fine", True, "pix")), T)
    wide = estimate(layer, make_schedule(problem_of(layer), {"m": T.dim, "n": 128, "k": 64},
                                         Config("WS", "fine", True, "pix")), T)
    assert wide.issue < narrow.issue and wide.store <= narrow.store


def test_with_load_floor_only_raises():
    layer = MatmulLayer(64, 64, 64)
    c = estimate(layer, make_schedule(problem_of(layer), {"m": 16, "n": 64, "k": 64},
                                      Config("WS", "fine", True, "pix")), T)
    assert with_load_floor(c, 0.0) == c
    raised = with_load_floor(c, 10 * c.cycles)
    assert raised.load == 10 * c.cycles and raised.cycles >= 10 * c.cycles


def test_im2col_price_tracks_the_simulator():
    """The im2col variant of few-channel convs is bound by its chained window mvins: the
    priced cycles stay near the simulated ones."""
    for layer in (ConvLayer(1, 32, 32, 2, 16, 5, 5, 1, 2), ConvLayer(1, 30, 64, 3, 16, 3, 3, 2, 1)):
        g = ConvGeometry(layer.batch, layer.in_h, layer.in_w, layer.in_c, layer.out_c, layer.kernel_h,
                         layer.kernel_w, layer.out_h, layer.out_w, layer.stride, 1, layer.pad, layer.pad)
        sched, cost, _ = im2col_price(g, T, True)
        assert cost.load >= im2col_load_floor(g, T, sched.tile("owp")) > 0
        program, info = compile_layer(layer, T, form="im2col")
        x = np.random.default_rng(0).integers(-128, 128, size=layer.input_shape, dtype=np.int8)
        res = run(program, {"input": x}, T)
        assert np.array_equal(res.outputs["output"], info.expected(x))
        assert abs(cost.cycles - res.cycles) <= 0.3 * res.cycles, (layer, cost.cycles, res.cycles)
