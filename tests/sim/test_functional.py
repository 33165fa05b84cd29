"""Bit-exact semantics of single instructions, checked against numpy."""

import numpy as np
from hypothesis import given, settings, strategies as st

from gemforge import sim
from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.program import Program
from gemforge.target import default

T = default()
DIM = T.dim


def rne_sat(x, scale, lo=-128, hi=127):
    return np.clip(np.rint(np.asarray(x).astype(np.float32) * np.float32(scale)), lo, hi).astype(np.int64)


def run(p, inputs, **kw):
    return sim.run(p, inputs, T, timing=False, **kw).outputs


def roundtrip_program(shape_in, dt_in, shape_out, dt_out, body):
    p = Program(T.name)
    x = p.add_tensor("X", shape_in, dt_in, "input")
    y = p.add_tensor("Y", shape_out, dt_out, "output")
    body(p, x, y)
    return p


@settings(max_examples=25, deadline=None)
@given(data=st.data(), scale=st.floats(0.0009765625, 4.0, width=32), rows=st.integers(1, DIM), cols=st.integers(1, DIM))
def test_mvin_scale_rounds_half_even_and_saturates(data, scale, rows, cols):
    x = np.array(data.draw(st.lists(st.integers(-128, 127), min_size=rows * cols, max_size=rows * cols)),
                 np.int8).reshape(rows, cols)

    def body(p, X, Y):
        p.emit(isa.config_ld(cols, scale=scale, block_stride=DIM), isa.config_st(cols))
        p.emit(isa.mvin(X.addr, isa.spad(5), rows, cols), isa.mvout(Y.addr, isa.spad(5), rows, cols))

    out = run(roundtrip_program((rows, cols), "int8", (rows, cols), "int8", body), {"X": x})["Y"]
    assert np.array_equal(out, rne_sat(x, scale))


def test_round_half_even_ties():
    x = np.array([[1, 3, 5, -1, -3, 7, 127, -128]], np.int8)

    def body(p, X, Y):
        p.emit(isa.config_ld(8, scale=0.5, block_stride=DIM), isa.config_st(8))
        p.emit(isa.mvin(X.addr, isa.spad(0), 1, 8), isa.mvout(Y.addr, isa.spad(0), 1, 8))

    out = run(roundtrip_program((1, 8), "int8", (1, 8), "int8", body), {"X": x})["Y"]
    assert out.tolist() == [[0, 2, 2, 0, -2, 4, 64, -64]]


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31), scale=st.floats(0.0001220703125, 2.0, width=32), relu=st.booleans(),
       rows=st.integers(1, DIM), cols=st.integers(1, DIM))
def test_acc_mvin_int32_accumulate_and_scaled_mvout(seed, scale, relu, rows, cols):
    rng = np.random.default_rng(seed)
    x = rng.integers(-2**20, 2**20, (rows, cols)).astype(np.int32)

    def body(p, X, Y):
        p.emit(isa.config_ld(cols * 4, block_stride=DIM), isa.config_st(cols, act=int(relu), scale=scale))
        p.emit(isa.mvin(X.addr, isa.acc(3), rows, cols), isa.mvin(X.addr, isa.acc(3, accumulate=True), rows, cols))
        p.emit(isa.mvout(Y.addr, isa.acc(3), rows, cols))

    out = run(roundtrip_program((rows, cols), "int32", (rows, cols), "int8", body), {"X": x})["Y"]
    expect = rne_sat(2 * x.astype(np.int64), scale)
    assert np.array_equal(out, np.maximum(expect, 0) if relu else expect)


def test_acc_read_full_and_shrunk_mvin():
    x = np.array([[-5, 7, 127, -128]], np.int8)

    def body(p, X, Y):
        p.emit(isa.config_ld(4, scale=2.0, shrunk=True, block_stride=DIM), isa.config_st(16))
        p.emit(isa.mvin(X.addr, isa.acc(0), 1, 4), isa.mvout(Y.addr, isa.acc(0, read_full=True), 1, 4))

    out = run(roundtrip_program((1, 4), "int8", (1, 4), "int32", body), {"X": x})["Y"]
    assert out.tolist() == [[-10, 14, 127, -128]]  # shrunk: scaled and saturated to int8, then widened


def test_mvin_columns_spill_into_blocks_at_block_stride():
    x = np.arange(4 * 3 * DIM).reshape(4, 3 * DIM).astype(np.int8)

    def body(p, X, Y):
        p.emit(isa.config_ld(3 * DIM, block_stride=100), isa.config_st(DIM))
        p.emit(isa.mvin(X.addr, isa.spad(10), 4, 3 * DIM))
        for b in range(3):
            p.emit(isa.mvout(Y.addr + b * 4 * DIM, isa.spad(10 + 100 * b), 4, DIM))

    out = run(roundtrip_program((4, 3 * DIM), "int8", (3, 4, DIM), "int8", body), {"X": x})["Y"]
    assert np.array_equal(out, x.reshape(4, 3, DIM).transpose(1, 0, 2))


def _matmul_program(ws, ta, tb, relu, a_rows, k, n, in_shift=0, c_to_spad=True):
    p = Program(T.name)
    A = p.add_tensor("A", (DIM, DIM), "int8", "input")
    B = p.add_tensor("B", (DIM, DIM), "int8", "input")
    D = p.add_tensor("D", (DIM, DIM), "int8", "input")
    C = p.add_tensor("C", (DIM, DIM), "int8", "output")
    p.emit(isa.config_ld(DIM, block_stride=DIM), isa.config_st(DIM))
    p.emit(isa.config_ex(1 if ws else 0, act=int(relu), transpose_a=ta, transpose_b=tb, in_shift=in_shift))
    for t, row in ((A, 0), (B, DIM), (D, 2 * DIM)):
        p.emit(isa.mvin(t.addr, isa.spad(row), DIM, DIM))
    c = isa.spad(3 * DIM)
    if ws:
        p.emit(isa.preload(isa.spad(DIM), c, k, n, a_rows, n),
               isa.compute(isa.spad(0), isa.spad(2 * DIM), a_rows, k, a_rows, n, preloaded=True))
    else:
        p.emit(isa.preload(isa.spad(2 * DIM), c, a_rows, n, a_rows, n),
               isa.compute(isa.spad(0), isa.spad(DIM), a_rows, k, k, n, preloaded=True))
    p.emit(isa.mvout(C.addr, c, a_rows, n))
    return p


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), ws=st.booleans(), transpose=st.sampled_from(["", "a", "b"]), relu=st.booleans(),
       a_rows=st.integers(1, DIM), k=st.integers(1, DIM), n=st.integers(1, DIM), shift=st.integers(0, 9))
def test_preload_compute_matches_numpy(seed, ws, transpose, relu, a_rows, k, n, shift):
    rng = np.random.default_rng(seed)
    a, b, d = (rng.integers(-128, 128, (DIM, DIM)).astype(np.int8) for _ in range(3))
    ta, tb = transpose == "a", transpose == "b"
    p = _matmul_program(ws, ta, tb, relu, a_rows, k, n, in_shift=0 if ws else shift)
    out = run(p, {"A": a, "B": b, "D": d})["C"][:a_rows, :n]
    A = (a[:k, :a_rows].T if ta else a[:a_rows, :k]).astype(np.int64)
    B = (b[:n, :k].T if tb else b[:k, :n]).astype(np.int64)
    D = d[:a_rows, :n].astype(np.int64)
    y = A @ B + D
    if not ws and shift:  # OS output: rounding right shift, half to even
        y = np.floor(y / 2**shift + 0.5).astype(np.int64)
        exact_half = (np.asarray(A @ B + D) % (2 ** shift)) == 2 ** (shift - 1)
        y = np.where(exact_half & (y % 2 == 1), y - 1, y)
    y = np.clip(y, -128, 127)
    if relu:
        y = np.maximum(y, 0)
    assert np.array_equal(out, y)


def test_compute_accumulated_keeps_weights_and_garbage_c_is_not_written():
    rng = np.random.default_rng(1)
    a, b = (rng.integers(-8, 8, (DIM, DIM)).astype(np.int8) for _ in range(2))
    p = Program(T.name)
    A, B = p.add_tensor("A", (DIM, DIM), "int8", "input"), p.add_tensor("B", (DIM, DIM), "int8", "input")
    C = p.add_tensor("C", (2, DIM, DIM), "int32", "output")
    p.emit(isa.config_ld(DIM, block_stride=DIM), isa.config_st(DIM * 4), isa.config_ex(1))
    p.emit(isa.mvin(A.addr, isa.spad(0), DIM, DIM), isa.mvin(B.addr, isa.spad(DIM), DIM, DIM))
    p.emit(isa.preload(isa.spad(DIM), isa.acc(0), DIM, DIM, DIM, DIM),
           isa.compute(isa.spad(0), isa.GARBAGE, DIM, DIM, DIM, DIM, preloaded=True))
    p.emit(isa.preload(isa.GARBAGE, isa.acc(DIM), DIM, DIM, DIM, DIM),  # B garbage: keeps weights
           isa.compute(isa.spad(0), isa.GARBAGE, DIM, DIM, DIM, DIM, preloaded=False))
    p.emit(isa.preload(isa.GARBAGE, isa.acc(0, accumulate=True), DIM, DIM, DIM, DIM),
           isa.compute(isa.spad(0), isa.GARBAGE, DIM, DIM, DIM, DIM, preloaded=False))
    p.emit(isa.preload(isa.GARBAGE, isa.GARBAGE, DIM, DIM, DIM, DIM),
           isa.compute(isa.spad(0), isa.GARBAGE, DIM, DIM, DIM, DIM, preloaded=False))
    for h in range(2):
        p.emit(isa.mvout(C.addr + h * DIM * DIM * 4, isa.acc(h * DIM, read_full=True), DIM, DIM))
    out = run(p, {"A": a, "B": b})["C"]
    ab = a.astype(np.int64) @ b.astype(np.int64)
    assert np.array_equal(out[0], 2 * ab) and np.array_equal(out[1], ab)


def test_max_pool_on_mvout():
    rng = np.random.default_rng(2)
    x = rng.integers(-2000, 2000, (5 * 5, DIM)).astype(np.int32)  # a 5x5 image, DIM channels, in acc rows
    p = Program(T.name)
    X = p.add_tensor("X", x.shape, "int32", "input")
    Y = p.add_tensor("Y", (3, 3, DIM), "int8", "output")
    p.emit(isa.config_ld(DIM * 4, block_stride=DIM))
    for r in range(0, 25, DIM):
        p.emit(isa.mvin(X.addr + r * DIM * 4, isa.acc(r), min(DIM, 25 - r), DIM))
    p.emit(isa.config_st(DIM, act=1, scale=0.1, pool_stride=2, pool_size=3, pool_out_dim=3, porows=3, pocols=3,
                         orows=5, ocols=5, upad=1, lpad=1))
    p.emit(isa.mvout(Y.addr, isa.acc(0), 1, DIM))
    out = run(p, {"X": x})["Y"]
    img = np.maximum(rne_sat(x, 0.1), 0).reshape(5, 5, DIM)
    pad = np.zeros((7, 7, DIM), np.int64)
    pad[1:6, 1:6] = img
    expect = np.array([[pad[2 * i:2 * i + 3, 2 * j:2 * j + 3].max(axis=(0, 1)) for j in range(3)] for i in range(3)])
    assert np.array_equal(out, expect)


def test_host_kernel_runs_in_order():
    p = Program(T.name)
    X = p.add_tensor("X", (4, DIM), "int8", "input")
    Y = p.add_tensor("Y", (4, DIM), "int8", "output")
    p.emit(isa.config_ld(DIM, block_stride=DIM), isa.config_st(DIM))
    p.emit(isa.mvin(X.addr, isa.spad(0), 4, DIM), isa.mvout(Y.addr, isa.spad(0), 4, DIM))
    p.host("relu", ["Y"], ["Y"])
    x = np.arange(-32, 32).reshape(4, DIM).astype(np.int8)
    res = sim.run(p, {"X": x}, T)
    assert np.array_equal(res.outputs["Y"], np.maximum(x, 0))
    assert res.busy["host"] >= 4 * DIM * T.host_element_cycles
