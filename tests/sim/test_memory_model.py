"""The memory side of the timing model: DMA request splitting, the L2 hit/miss model, and
the unrollers' template cache (an optimisation that must not change any instruction)."""

import dataclasses

import numpy as np
from hypothesis import given, settings, strategies as st

from gemforge import sim
from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.library import compile_layer
from gemforge.backends.gemmini.program import Program
from gemforge.layers import ConvLayer, MatmulLayer
from gemforge.sim import unroll_cache
from gemforge.sim.dma import Dma, split_row
from gemforge.sim.runner import expand
from gemforge.target import default

T = default()


@settings(max_examples=200, deadline=None)
@given(offset=st.integers(0, 63), nbytes=st.integers(1, 256))
def test_split_row_covers_the_row_with_aligned_power_of_two_requests(offset, nbytes):
    # Reference: walk the row; each request is the aligned 16/32/64-byte block covering the
    # most remaining bytes (the smaller on a tie), as Gemmini's StreamReader picks it.
    a, left, n, beats = offset, nbytes, 0, 0
    while left:
        got, size = max(((min(s - a % s, left), -s) for s in (16, 32, 64)))
        n, beats, a, left = n + 1, beats - size // 16, a + got, left - got
    assert split_row(offset, nbytes, 16, 64) == (n, beats)
    assert beats * 16 >= nbytes


def _reload_program(rows_apart: int, copies: int = 2):
    """``copies`` identical 16-row move-ins of one DRAM block, then a fence."""
    p = Program(T.name)
    x = p.add_tensor("x", (T.dim * max(rows_apart, 1), 64), "int8", "input")
    p.emit(isa.config_ld(64, block_stride=T.dim, which=0))
    for c in range(copies):
        p.emit(isa.mvin(x.addr, c * 4 * T.dim, T.dim, 64, which=0))
    p.emit(isa.fence())
    return p, {"x": np.ones((T.dim * max(rows_apart, 1), 64), np.int8)}


def test_l2_serves_a_re_read_faster_than_dram():
    p, ins = _reload_program(1, copies=8)
    with_l2 = sim.run(p, ins, T).cycles
    no_l2 = sim.run(p, ins, dataclasses.replace(T, mem_l2_bytes=0)).cycles
    tiny_l2 = sim.run(p, ins, dataclasses.replace(T, mem_l2_bytes=T.mem_l2_line_bytes)).cycles
    assert with_l2 < no_l2
    assert tiny_l2 == no_l2  # one line cannot hold a 1 KiB block: every re-read misses


def test_l2_miss_counts():
    from gemforge.sim.functional import Machine
    from gemforge.sim.interpret import execute
    from gemforge.sim.l2 import l2_misses

    p, ins = _reload_program(1, copies=3)
    s = expand(p, T)
    m = Machine(p, T, ins, False)
    execute(m, s)
    misses = [v for _, v in sorted(l2_misses(s, m, T).items())]
    assert misses == [16, 0, 0]  # 16 lines of 64 B, then all hits


def test_template_cache_generates_the_same_instructions():
    programs = [compile_layer(lay, T, seed=1)[0] for lay in (
        ConvLayer(1, 12, 12, 3, 20, 7, 7, stride=2, pad=3), ConvLayer(1, 14, 14, 40, 36, 1, 1, stride=2, pad=0),
        ConvLayer(2, 10, 10, 70, 50, 3, 3, stride=1, pad=1), MatmulLayer(100, 200, 300))]
    orig = unroll_cache.TemplateCache.generate
    for p in programs:
        cached = expand(p, T)
        try:
            unroll_cache.TemplateCache.generate = lambda self, regs, state, fn: fn(regs)
            fresh = expand(p, T)
        finally:
            unroll_cache.TemplateCache.generate = orig
        for k in ("funct", "rs1", "rs2", "gen"):
            assert np.array_equal(getattr(cached, k), getattr(fresh, k)), k


def test_vectorised_execute_schedule_equals_the_loop():
    from gemforge.sim import timing_exec_vec
    from gemforge.sim.programs import conv_loop_conv_ws, gemm_fine

    rng = np.random.default_rng(3)
    cases = [(gemm_fine(128, 192, 128, T, tile=(2, 3, 2)), {"A": rng.integers(-9, 9, (128, 192)).astype(np.int8),
                                                          "B": rng.integers(-9, 9, (192, 128)).astype(np.int8)})]
    cases.append((conv_loop_conv_ws(1, 14, 14, 32, 32, 3, 1, 1, T), {
        "X": rng.integers(-9, 9, (1, 14, 14, 32)).astype(np.int8), "W": rng.integers(-9, 9, (3, 3, 32, 32)).astype(np.int8)}))
    for lay in (ConvLayer(1, 12, 12, 3, 20, 7, 7, stride=2, pad=3), MatmulLayer(100, 200, 300)):
        p, _ = compile_layer(lay, T, seed=1)
        cases.append((p, {"input": rng.integers(-9, 9, size=lay.input_shape).astype(np.int8)}))
    orig, min_pairs = timing_exec_vec.solve, timing_exec_vec._MIN_PAIRS
    solved = []
    for p, ins in cases:
        try:
            timing_exec_vec._MIN_PAIRS = 8  # vectorise short runs too
            timing_exec_vec.solve = lambda *a: solved.append(orig(*a)) or solved[-1]
            fast = sim.run(p, ins, T)
            timing_exec_vec.solve = lambda *a: None
            slow = sim.run(p, ins, T)
        finally:
            timing_exec_vec.solve, timing_exec_vec._MIN_PAIRS = orig, min_pairs
        assert fast.cycles == slow.cycles and fast.busy == slow.busy
    assert sum(x is not None for x in solved) > 10  # the vectorised path was taken


@settings(max_examples=40, deadline=None)
@given(lats=st.lists(st.integers(0, 300), min_size=2, max_size=2), bw=st.sampled_from([1.0, 3.0, 8.0, 16.0]),
       transfers=st.lists(st.tuples(st.integers(0, 400), st.integers(1, 16), st.sampled_from([16, 48, 64]),
                                    st.booleans(), st.integers(0, 16)), min_size=1, max_size=12))
def test_a_slower_memory_never_finishes_a_transfer_earlier(lats, bw, transfers):
    """The DMA model's own invariant (dma.py): with a longer latency or a lower bandwidth,
    every transfer of the same sequence is done no earlier. (A whole program may still save a
    few cycles through bank arbitration: test_timing.py's ANOMALY.)"""
    lo, hi = sorted(lats)
    runs = []
    for lat, b in ((lo, bw), (hi, bw), (hi, bw / 2)):
        d = Dma(dataclasses.replace(default(), mem_latency_cycles=lat, mem_bytes_per_cycle=b))
        t, done = 0.0, []
        for gap, rows, row_bytes, write, misses in transfers:
            nxt, end = d.transfer(t + gap, rows, row_bytes, write, min(misses, rows), addr=0x1000, stride=row_bytes)
            t = nxt
            done.append(end)
        runs.append(done)
    for faster, slower in zip(runs, runs[1:]):
        assert all(a <= b + 1e-9 for a, b in zip(faster, slower))
