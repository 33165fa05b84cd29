"""The vendor library's residual add (tiled_resadd_auto): tiling, numerics, stream, timing."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gemforge import sim
from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.library import (
    TilingError, emit_resadd, resadd_reference, resadd_scales, resadd_tiling,
)
from gemforge.backends.gemmini.program import Program
from gemforge.errors import GemforgeError
from gemforge.target import builtin, default

DEFAULT = default()
TARGETS = {"default": DEFAULT, "32x32": builtin("gemmini-32x32"),
           # 64 accumulator rows: forces multi-tile splits on small matrices
           "tiny-acc": dataclasses.replace(DEFAULT, acc_capacity_bytes=64 * DEFAULT.acc_row_bytes)}
SCALES = st.floats(0.05, 2.0, allow_nan=False, allow_infinity=False)
int8s = np.iinfo(np.int8)


def _literal_auto_tiling(I: int, J: int, dim: int, acc_rows: int) -> tuple[int, int]:
    """tiled_resadd_auto's loop, one decrement at a time."""
    ti, tj = I, J
    while -(-ti // dim) * dim * -(-tj // dim) > acc_rows:
        if ti >= tj:
            ti -= 1
        else:
            tj -= 1
    return ti, tj


def _program(shape, target, A, B, C, relu, tiles=None, dtype="int8"):
    p = Program(target.name, name="resadd")
    a = p.add_tensor("a", shape, dtype, "input")
    b = p.add_tensor("b", shape, "int8", "input")
    c = p.add_tensor("c", shape, "int8", "output")
    used = emit_resadd(p, "res1", a, b, c, A, B, C, relu, target, tiles)
    return p, used


def _data(shape, seed):
    rng = np.random.default_rng(seed)
    return (rng.integers(-128, 128, size=shape, dtype=np.int8), rng.integers(-128, 128, size=shape, dtype=np.int8))


def _direct(a, b, A, B, C, relu):
    """resadd_cpu's formula element by element (Python's round() is half-to-even)."""
    def mvin_scale(x, s):
        return int(x) if s == 1.0 else max(-128, min(127, round(float(np.float32(x) * np.float32(s)))))

    lo = 0 if relu else -128
    out = np.empty(a.shape, np.int8)
    for idx in np.ndindex(a.shape):
        acc = mvin_scale(a[idx], A) + mvin_scale(b[idx], B)
        out[idx] = max(lo, min(127, round(float(np.float32(acc) * np.float32(C)))))
    return out


# ------------------------------------------------------------------ simulated == reference
@settings(max_examples=30, deadline=None)
@given(I=st.integers(1, 40), J=st.integers(1, 80), A=SCALES, B=SCALES, C=SCALES, relu=st.booleans(),
       tname=st.sampled_from(sorted(TARGETS)), seed=st.integers(0, 10_000))
def test_simulated_resadd_is_bit_exact(I, J, A, B, C, relu, tname, seed):
    target = TARGETS[tname]
    p, tiles = _program((I, J), target, A, B, C, relu)
    assert tiles == resadd_tiling(I, J, target)
    a, b = _data((I, J), seed)
    got = sim.run(p, {"a": a, "b": b}, target, timing=False).outputs["c"]
    np.testing.assert_array_equal(got, resadd_reference(a, b, A, B, C, relu))


@settings(max_examples=15, deadline=None)
@given(I=st.integers(1, 40), J=st.integers(1, 80), ti=st.integers(1, 48), tj=st.integers(1, 48),
       seed=st.integers(0, 10_000))
def test_explicit_tiles_are_honoured_and_exact(I, J, ti, tj, seed):
    target = DEFAULT
    p, tiles = _program((I, J), target, 0.7, 1.3, 0.9, False, (ti, tj))
    assert tiles == (ti, tj)
    # one mvout per (DIM rows) x (<= MAX_BLOCK_LEN blocks) piece of every tile
    dim, mb = target.dim, target.dma_max_spad_mvin_blocks
    pieces = sum(-(-min(ti, I - i) // dim) * -(-min(tj, J - j) // (dim * min(mb, -(-min(tj, J - j) // dim))))
                 for i in range(0, I, ti) for j in range(0, J, tj))
    assert sum(x.funct == isa.MVOUT for x in p.items) == pieces
    a, b = _data((I, J), seed)
    got = sim.run(p, {"a": a, "b": b}, target, timing=False).outputs["c"]
    np.testing.assert_array_equal(got, resadd_reference(a, b, 0.7, 1.3, 0.9, False))


def test_nhwc_operands_flatten_to_pixels_by_channels():
    shape = (2, 3, 5, 24)  # I = 30, J = 24
    p, tiles = _program(shape, DEFAULT, 0.5, 0.25, 1.5, True)
    assert tiles == (30, 24)
    a, b = _data(shape, 3)
    got = sim.run(p, {"a": a, "b": b}, DEFAULT, timing=False).outputs["c"]
    np.testing.assert_array_equal(got, resadd_reference(a, b, 0.5, 0.25, 1.5, True))


def test_stream_matches_the_library():
    p, _ = _program((20, 70), DEFAULT, 0.5, 0.75, 2.0, True)
    st_, ex, ld0, ld1 = (isa.decode(*x) for x in p.items[:4])
    assert (st_.kind, st_.stride, st_.act, st_.scale) == ("config_st", 70, isa.RELU, 2.0)
    assert (ex.kind, ex.dataflow, ex.act) == ("config_ex", isa.WEIGHT_STATIONARY, isa.NO_ACTIVATION)
    for ld, which, scale in ((ld0, 0, 0.5), (ld1, 1, 0.75)):
        assert (ld.kind, ld.which, ld.stride, ld.scale, ld.shrunk, ld.block_stride) == (
            "config_ld", which, 70, scale, 1, DEFAULT.dim)
    body = p.items[4:-1]
    assert p.items[-1].funct == isa.FENCE
    # 2 row groups x 2 column pieces (64 + 6 columns), three phases in order
    assert [x.funct for x in body] == [isa.MVIN] * 4 + [isa.MVIN2] * 4 + [isa.MVOUT] * 4
    locals_ = [x.rs2 & 0xFFFFFFFF for x in body]
    rows = [0, 64, 5 * 16, 5 * 16 + 64]  # i * ceil(70/16) + j
    assert locals_ == [isa.acc(r) for r in rows] + [isa.acc(r, accumulate=True) for r in rows] + [
        isa.acc(r) for r in rows]
    assert [(x.rs2 >> 48, (x.rs2 >> 32) & 0xFFFF) for x in body[:4]] == [(16, 64), (16, 6), (4, 64), (4, 6)]


# ------------------------------------------------------------------ numerics
@settings(max_examples=10, deadline=None)
@given(shape=st.tuples(st.integers(1, 6), st.integers(1, 9)), A=SCALES, B=SCALES, C=SCALES, relu=st.booleans(),
       seed=st.integers(0, 10_000))
def test_reference_matches_the_formula(shape, A, B, C, relu, seed):
    a, b = _data(shape, seed)
    np.testing.assert_array_equal(resadd_reference(a, b, A, B, C, relu), _direct(a, b, A, B, C, relu))


def test_reference_saturates_in_the_mvin_scale_unit():
    # 100 * 2 = 200 saturates to 127 at move-in, so 127 + 127 = 254, then * 0.5 = 127
    a = np.array([[100]], np.int8)
    assert resadd_reference(a, a, 2.0, 2.0, 0.5, False)[0, 0] == 127
    assert resadd_reference(-a, a, 1.0, 0.0, 1.0, True)[0, 0] == 0


def _graph_add(a, b, sa, sb):
    y = np.rint(a.astype(np.float32) * np.float32(sa) + b.astype(np.float32) * np.float32(sb))
    return np.clip(y, -128, 127).astype(np.int64)


@settings(max_examples=40, deadline=None)
@given(sa=st.floats(0.01, 127.5 / 128), sb=st.floats(0.01, 127.5 / 128), seed=st.integers(0, 10_000))
def test_scales_without_saturation_are_within_one_lsb(sa, sb, seed):
    A, B, C = resadd_scales(sa, sb)
    assert (A, B, C) == (sa, sb, 1.0)
    a, b = _data((8, 32), seed)
    diff = np.abs(resadd_reference(a, b, A, B, C, False).astype(np.int64) - _graph_add(a, b, sa, sb))
    assert diff.max() <= 1


@settings(max_examples=40, deadline=None)
@given(sa=SCALES, sb=st.floats(1.0, 3.0), seed=st.integers(0, 10_000))
def test_large_scales_are_divided_and_within_the_documented_bound(sa, sb, seed):
    A, B, C = resadd_scales(sa, sb)
    k = max(sa, sb) * 128 / 127.5
    assert C == pytest.approx(k) and A == pytest.approx(sa / k) and B == pytest.approx(sb / k)
    assert max(A, B) * 128 <= 127.5 + 1e-9
    a, b = _data((8, 32), seed)
    diff = np.abs(resadd_reference(a, b, A, B, C, False).astype(np.int64) - _graph_add(a, b, sa, sb))
    assert diff.max() <= int(np.floor(k)) + 1


def test_the_resadd_form_is_lossy():
    one = np.ones((1, 1), np.int8)
    assert _graph_add(one, one, 0.5, 0.5)[0, 0] == 1
    assert resadd_reference(one, one, *resadd_scales(0.5, 0.5), False)[0, 0] == 0


# ------------------------------------------------------------------ tiling
@settings(max_examples=60, deadline=None)
@given(I=st.integers(1, 3000), J=st.integers(1, 600), acc_rows=st.sampled_from([16, 32, 48, 64, 256, 1024]),
       tname=st.sampled_from(["default", "32x32"]))
def test_tiling_follows_the_decrement_rule(I, J, acc_rows, tname):
    base = TARGETS[tname]
    target = dataclasses.replace(base, acc_capacity_bytes=max(acc_rows, base.dim) * base.acc_row_bytes)
    assert resadd_tiling(I, J, target) == _literal_auto_tiling(I, J, target.dim, target.acc_rows)


def test_accumulator_bound_forces_a_split():
    target = TARGETS["tiny-acc"]  # 64 rows = 4 blocks of 16 x 16
    assert resadd_tiling(16, 64, target) == (16, 64)  # 1 x 4 blocks: fits as is
    assert resadd_tiling(40, 20, target) == (32, 20)  # I is the larger: 40 -> 32 gives 2 x 2 blocks
    assert resadd_tiling(17, 64, target) == (17, 32)  # J is the larger: 64 -> 32 gives 2 x 2 blocks
    assert resadd_tiling(3136, 256, DEFAULT) == (128, 128)  # shrinks I, then J and I in turn
    p, tiles = _program((40, 20), target, 1.0, 1.0, 1.0, False)
    assert tiles == (32, 20)
    # tiles of 32 and 8 rows; per 16-row group one mvout of 20 columns
    assert sum(x.funct == isa.MVOUT for x in p.items) == 2 + 1


def test_too_small_accumulator_is_an_error():
    target = dataclasses.replace(DEFAULT, acc_capacity_bytes=8 * DEFAULT.acc_row_bytes)
    with pytest.raises(TilingError, match="accumulator rows"):
        resadd_tiling(4, 4, target)


@pytest.mark.parametrize("tiles, match", [((0, 16), "must be positive"), ((16, -1), "must be positive"),
                                          ((64, 64), "need 256 accumulator rows"), ((1, "x"), "not two integers")])
def test_bad_tiles_are_one_line_errors(tiles, match):
    with pytest.raises(TilingError, match=match) as e:
        _program((64, 64), TARGETS["tiny-acc"], 1.0, 1.0, 1.0, False, tiles)
    assert "res1" in str(e.value) and "\n" not in str(e.value)


def test_bad_operands_are_one_line_errors():
    with pytest.raises(GemforgeError, match="dtype int32") as e:
        _program((4, 4), DEFAULT, 1.0, 1.0, 1.0, False, dtype="int32")
    assert "res1" in str(e.value) and "\n" not in str(e.value)
    p = Program(DEFAULT.name)
    a = p.add_tensor("a", (4, 8), "int8", "input")
    b = p.add_tensor("b", (8, 4), "int8", "input")
    c = p.add_tensor("c", (4, 8), "int8", "output")
    with pytest.raises(GemforgeError, match="res2: shapes differ") as e:
        emit_resadd(p, "res2", a, b, c, 1.0, 1.0, 1.0, False, DEFAULT)
    assert "\n" not in str(e.value)


# ------------------------------------------------------------------ timing
@pytest.mark.parametrize("shape, tname", [((37, 80), "default"), ((200, 96), "tiny-acc"), ((64, 130), "32x32")])
def test_timing_moves_each_byte_once(shape, tname):
    target = TARGETS[tname]
    p, _ = _program(shape, target, 0.73, 0.64, 1.0, False)
    a, b = _data(shape, 1)
    r = sim.run(p, {"a": a, "b": b}, target)
    n = shape[0] * shape[1]
    assert r.cycles > 0
    assert (r.dma_bytes_read, r.dma_bytes_written) == (2 * n, n)
    np.testing.assert_array_equal(r.outputs["c"], resadd_reference(a, b, 0.73, 0.64, 1.0, False))
