"""The vectorised functional paths (regions of pairs and move-ins, grouped move-ins and
move-outs) give exactly what one-instruction-at-a-time execution gives: outputs and every
timing statistic, or an error when the program is bad."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gemforge import sim
from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.program import Program
from gemforge.sim import interpret, mvin_group
from gemforge.sim.errors import SimError
from gemforge.target import default

T = default()
DIM = T.dim
X_ROWS, SPAD_USED, ACC_USED = 48, 6 * DIM, 4 * DIM


def _slow_paths(monkeypatch):
    monkeypatch.setattr(interpret, "run_region", lambda *a: None)
    monkeypatch.setattr(interpret, "mvin_group", lambda *a: False)
    monkeypatch.setattr(interpret, "mvout_group", lambda *a: False)
    monkeypatch.setattr(interpret.PairInfo, "batchable", lambda *a: False)


op = st.one_of(
    st.tuples(st.just("mvin"), st.integers(0, X_ROWS - DIM), st.integers(0, SPAD_USED - 2 * DIM),
              st.integers(1, DIM), st.sampled_from([DIM, 2 * DIM]), st.booleans()),
    st.tuples(st.just("bias"), st.integers(0, X_ROWS - DIM), st.integers(0, ACC_USED - DIM), st.integers(1, DIM),
              st.booleans(), st.booleans()),
    st.tuples(st.just("pair"), st.integers(0, SPAD_USED - DIM), st.one_of(st.none(), st.integers(0, SPAD_USED - DIM)),
              st.sampled_from([0, DIM, 2 * DIM, 3 * DIM, 5, 8]), st.booleans(), st.booleans(),
              st.sampled_from([DIM, DIM // 2, 3])))


def _program(ops, scale):
    p = Program(T.name, "fast_paths")
    x = p.add_tensor("X", (X_ROWS, 2 * DIM), "int8", "input")
    bias = p.add_tensor("D", (X_ROWS, DIM), "int32", "input")
    y = p.add_tensor("Y", (ACC_USED, DIM), "int8", "output")
    p.emit(isa.config_ex(isa.WEIGHT_STATIONARY), isa.config_ld(2 * DIM, block_stride=DIM, which=0),
           isa.config_ld(4 * DIM, block_stride=DIM, which=2), isa.config_st(DIM, scale=scale))
    for o in ops:
        if o[0] == "mvin":
            _, xr, row, rows, cols, zero = o
            p.emit(isa.mvin(0 if zero else x.addr + xr * 2 * DIM, isa.spad(row), rows, cols, 0))
        elif o[0] == "bias":
            _, xr, row, rows, acc, zero = o
            p.emit(isa.mvin(0 if zero else bias.addr + xr * 4 * DIM, isa.acc(row, accumulate=acc), rows, DIM, 2))
        else:
            _, a, b, c, acc, preloaded, n = o
            bd = isa.GARBAGE if b is None else isa.spad(b)
            p.emit(isa.preload(bd, isa.acc(c, accumulate=acc), DIM, n, n, n))
            p.emit(isa.compute(isa.spad(a), isa.GARBAGE, n, DIM, DIM, DIM, preloaded=preloaded))
    for r in range(0, ACC_USED, DIM):
        p.emit(isa.mvout(y.addr + r * DIM, isa.acc(r), DIM, DIM))
    p.emit(isa.fence())
    return p


def _run(p, ins, allow):
    try:
        r = sim.run(p, ins, T, allow_uninitialized=allow)
    except SimError as e:
        return str(e)
    return (r.outputs["Y"].tolist(), r.cycles, r.busy, r.counts, r.dma_bytes_read, r.dma_bytes_written)


@settings(max_examples=40, deadline=None)
@given(ops=st.lists(op, min_size=1, max_size=40), seed=st.integers(0, 2**31), allow=st.booleans(),
       scale=st.sampled_from([1.0, 0.01]))
def test_fast_paths_equal_one_at_a_time(ops, seed, allow, scale):
    p = _program(ops, scale)
    rng = np.random.default_rng(seed)
    ins = {"X": rng.integers(-128, 128, (X_ROWS, 2 * DIM)).astype(np.int8),
           "D": rng.integers(-50000, 50000, (X_ROWS, DIM)).astype(np.int32)}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mvin_group, "MIN_GROUP", 2)  # group even the short runs of move-ins drawn here
        fast = _run(p, ins, allow)
    with pytest.MonkeyPatch.context() as mp:
        _slow_paths(mp)
        slow = _run(p, ins, allow)
    if isinstance(fast, str) or isinstance(slow, str):
        # Both fail.  (The batcher lets independent move-ins run ahead of a pair run, so a
        # program with two faults may report the move-in's.)
        assert isinstance(fast, str) and isinstance(slow, str)
    else:
        assert fast == slow


def test_tiled_gemm_runs_as_regions(monkeypatch):
    """A double-buffered GEMM's pairs and reloads go through whole regions."""
    from gemforge.sim.programs import gemm_fine

    p = gemm_fine(64, 128, 64, T, tile=(2, 2, 2), scale=0.01)
    rng = np.random.default_rng(1)
    ins = {"A": rng.integers(-128, 128, (64, 128)).astype(np.int8),
           "B": rng.integers(-128, 128, (128, 64)).astype(np.int8)}
    regions = []
    real = interpret.run_region
    monkeypatch.setattr(interpret, "run_region", lambda *a: regions.append(real(*a)) or regions[-1])
    fast = sim.run(p, ins, T)
    assert regions and all(j is not None for j in regions)
    _slow_paths(monkeypatch)
    slow = sim.run(p, ins, T)
    assert np.array_equal(fast.outputs["C"], slow.outputs["C"]) and fast.cycles == slow.cycles
