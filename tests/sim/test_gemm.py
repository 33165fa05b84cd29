"""Whole GEMMs written as instruction streams (fine-grained and LOOP_WS) equal numpy."""

import numpy as np
from hypothesis import given, settings, strategies as st

from gemforge import sim
from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.program import Program
from gemforge.sim import interpret
from gemforge.sim.programs import gemm_fine, gemm_loop_ws, gemm_reference
from gemforge.target import builtin, default

T = default()


def _inputs(seed, M, K, N, bias):
    rng = np.random.default_rng(seed)
    ins = {"A": rng.integers(-128, 128, (M, K)).astype(np.int8), "B": rng.integers(-128, 128, (K, N)).astype(np.int8)}
    if bias:
        ins["bias"] = rng.integers(-5000, 5000, N).astype(np.int32)
    return ins


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**31), M=st.integers(1, 70), K=st.integers(1, 70), N=st.integers(1, 70),
       bias=st.booleans(), relu=st.booleans(), scale=st.sampled_from([1.0, 0.02, 0.00390625]),
       tile=st.sampled_from([(1, 1, 1), (2, 1, 3), (2, 2, 2)]), loop_ws=st.booleans())
def test_random_gemm_is_exact(seed, M, K, N, bias, relu, scale, tile, loop_ws):
    build = gemm_loop_ws if loop_ws else gemm_fine
    p = build(M, K, N, T, tile=tile, bias=bias, scale=scale, relu=relu)
    ins = _inputs(seed, M, K, N, bias)
    out = sim.run(p, ins, T, timing=False).outputs["C"]
    assert np.array_equal(out, gemm_reference(ins["A"], ins["B"], ins.get("bias"), scale, relu))


def test_regular_fine_gemm_uses_program_loops_and_double_buffers():
    p = gemm_fine(128, 256, 128, T, tile=(2, 2, 2), bias=True, scale=0.01)
    assert p.count_insns() > 10 * len(p.items)
    ins = _inputs(3, 128, 256, 128, True)
    r = sim.run(p, ins, T)
    assert np.array_equal(r.outputs["C"], gemm_reference(ins["A"], ins["B"], ins["bias"], 0.01))


def test_batched_execution_equals_pair_by_pair(monkeypatch):
    p = gemm_loop_ws(80, 96, 72, T, tile=(2, 3, 2), bias=True, scale=0.05)
    ins = _inputs(5, 80, 96, 72, True)
    fast = sim.run(p, ins, T, timing=False).outputs["C"]
    monkeypatch.setattr(interpret.PairInfo, "batchable", lambda *a: False)
    slow = sim.run(p, ins, T, timing=False).outputs["C"]
    assert np.array_equal(fast, slow)


def test_loop_ws_transposed_a_and_full_c():
    M, K, N = 40, 48, 24
    rng = np.random.default_rng(7)
    a = rng.integers(-128, 128, (M, K)).astype(np.int8)
    b = rng.integers(-128, 128, (K, N)).astype(np.int8)
    p = Program(T.name)
    At = p.add_tensor("At", (K, M), "int8", "input")
    B = p.add_tensor("B", (K, N), "int8", "input")
    C = p.add_tensor("C", (M, N), "int32", "output")
    d = T.dim
    p.emit(isa.config_ex(isa.WEIGHT_STATIONARY, transpose_a=True), isa.config_ld(M, block_stride=d, which=0),
           isa.config_ld(N, block_stride=d, which=1), isa.config_st(N * 4))
    I, J, Kb = -(-M // d), -(-N // d), -(-K // d)
    p.emit(isa.loop_ws(I, J, Kb, I * d - M, J * d - N, Kb * d - K, At.addr, B.addr, 0, C.addr, M, N, 0, N,
                       1, 0, 1, 0, 0))
    out = sim.run(p, {"At": np.ascontiguousarray(a.T), "B": b}, T).outputs["C"]
    assert np.array_equal(out, a.astype(np.int64) @ b.astype(np.int64))


def test_gemm_on_a_32x32_target():
    t32 = builtin("gemmini-32x32")
    p = gemm_loop_ws(70, 90, 50, t32, tile=(2, 2, 2), scale=0.01, relu=True)
    ins = _inputs(9, 70, 90, 50, False)
    out = sim.run(p, ins).outputs["C"]
    assert np.array_equal(out, gemm_reference(ins["A"], ins["B"], None, 0.01, True))
