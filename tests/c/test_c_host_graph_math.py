"""C versions of the arithmetic graph host kernels (backends/gemmini/c_host_graph_math.py):
``graph.add`` (int8 scaled, int32 wrapping; ReLU or clip), ``graph.relu``, ``graph.requantize``,
``graph.reshape``, ``graph.global_avgpool`` and ``graph.matmul`` (batched or shared rhs, bias,
residual, output scale or int32 result, ReLU or clip), built with -O2 -ffast-math and compared
with the simulator's numpy kernels bit for bit; malformed ops are one-line CBackendErrors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gemforge.backends.gemmini.c import render_c
from gemforge.backends.gemmini.c_host import supported_kinds
from gemforge.backends.gemmini.c_image import CBackendError

from c_host_case import one_op_program, run_c, run_sim
from c_roundtrip import needs_cc

_SCALE = st.floats(1e-3, 4.0).map(lambda v: float(np.float32(v)))
_SHAPE = st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple)
_ACT = st.sampled_from([{}, {"activation": "relu"}, {"clip": [-20, 90]}])


def _ints(rng, shape, dtype, lo=-128, hi=128):
    return rng.integers(lo, hi, shape).astype(dtype)


def _check(kind, operands, out_shape, out_dtype, **attrs):
    p = one_op_program(kind, operands, out_shape, out_dtype, **attrs)
    inputs = {name: data for name, data, role in operands if role == "input"}
    got, want = run_c(p, inputs), run_sim(p, inputs)
    np.testing.assert_array_equal(got, want)
    return want


@needs_cc
@settings(max_examples=15, deadline=None)
@given(_SHAPE, st.tuples(_SCALE, _SCALE, _SCALE), _ACT, st.integers(0, 2**32 - 1))
def test_add_int8_in_c(shape, scales, act, seed):
    rng = np.random.default_rng(seed)
    a, b = _ints(rng, shape, np.int8), _ints(rng, shape, np.int8)
    _check("graph.add", [("a", a, "input"), ("b", b, "input")], shape, "int8", lhs_scale=scales[0],
           rhs_scale=scales[1], output_scale=scales[2], activation=act.get("activation"), clip=act.get("clip"))


@needs_cc
@settings(max_examples=8, deadline=None)
@given(_SHAPE, _ACT, st.integers(0, 2**32 - 1))
def test_add_int32_wraps_in_c(shape, act, seed):
    rng = np.random.default_rng(seed)
    a, b = (_ints(rng, shape, np.int32, -2**31, 2**31) for _ in range(2))  # sums overflow: wrap like numpy
    clip = [-70_000, 2**31 - 1] if act.get("clip") else None
    _check("graph.add", [("a", a, "input"), ("b", b, "input")], shape, "int32", lhs_scale=None, rhs_scale=None,
           output_scale=None, activation=act.get("activation"), clip=clip)


@needs_cc
@settings(max_examples=15, deadline=None)
@given(_SHAPE, st.sampled_from(["int8", "int32"]), st.floats(1e-6, 3.0), st.integers(0, 2**32 - 1))
def test_requantize_in_c(shape, dtype, scale, seed):
    rng = np.random.default_rng(seed)
    x = _ints(rng, shape, dtype, *((-128, 128) if dtype == "int8" else (-2**31, 2**31)))
    if dtype == "int32":  # values around the int8 range after scaling too, to hit both saturation and ties
        x = (x // max(1, int(2**24 * scale))).astype(np.int32)
    _check("graph.requantize", [("x", x, "input")], shape, "int8", scale=float(np.float32(scale)))


@needs_cc
def test_requantize_ties_round_half_even_in_c():
    x = np.arange(-300, 300, dtype=np.int32)
    want = _check("graph.requantize", [("x", x, "input")], x.shape, "int8", scale=0.5)
    assert want[x == 1] == 0 and want[x == 3] == 2 and want.min() == -128 and want.max() == 127


@needs_cc
@pytest.mark.parametrize("dtype", ["int8", "int32", "float32"])
def test_relu_and_reshape_in_c(dtype):
    rng = np.random.default_rng(3)
    x = rng.normal(0, 50, (2, 3, 5)).astype(dtype)
    if dtype == "float32":
        x.reshape(-1)[:4] = [-0.0, 0.0, np.nan, -np.nan]  # np.maximum: NaN propagates, -0 gives +0
    for kind in ("graph.relu", "relu"):  # the generic kind follows graph.relu on floats
        relu = _check(kind, [("x", x, "input")], x.shape, dtype)
        assert (relu >= 0).sum() + np.isnan(relu).sum() == x.size
    _check("graph.reshape", [("x", x, "input")], (5, 6), dtype)


@needs_cc
@settings(max_examples=10, deadline=None)
@given(st.tuples(st.integers(1, 2), st.integers(1, 7), st.integers(1, 7), st.integers(1, 9)),
       st.floats(0.05, 4.0), st.integers(0, 2**32 - 1))
def test_global_avgpool_in_c(nhwc, scale, seed):
    x = _ints(np.random.default_rng(seed), nhwc, np.int8)
    _check("graph.global_avgpool", [("x", x, "input")], (nhwc[0], 1, 1, nhwc[3]), "int8",
           scale=float(np.float32(scale)))


_MATMUL = st.fixed_dictionaries({
    "batch": st.sampled_from([(), (2,), (2, 3)]), "m": st.integers(1, 6), "k": st.integers(1, 40),
    "n": st.integers(1, 7), "shared": st.booleans(), "bias": st.booleans(), "residual": st.booleans(),
    "output_scale": st.one_of(st.none(), st.floats(1e-4, 0.02).map(lambda v: float(np.float32(v)))),
    "act": st.sampled_from([None, "relu", "clip"])})


def matmul_case(c: dict, seed: int):
    """(operands, output shape, output dtype, attrs) of one host ``graph.matmul``."""
    rng = np.random.default_rng(seed)
    batch, m, k, n = c["batch"], c["m"], c["k"], c["n"]
    operands = [("a", _ints(rng, (*batch, m, k), np.int8), "input"),
                ("b", _ints(rng, (k, n) if c["shared"] else (*batch, k, n), np.int8), "constant")]
    if c["bias"]:  # large enough that the int32 result wraps now and then
        operands.append(("bias", rng.integers(-2**31, 2**31, n).astype(np.int32), "constant"))
    if c["residual"]:
        operands.append(("res", _ints(rng, (*batch, m, n), np.int8), "input"))
    scale = c["output_scale"]
    clip = None if c["act"] != "clip" else ([-20, 90] if scale is not None else [-70_000, 250_000])
    attrs = {"output_scale": scale, "activation": "relu" if c["act"] == "relu" else None, "clip": clip,
             "has_bias": c["bias"], "has_residual": c["residual"],
             "residual_scale": float(np.float32(rng.uniform(50, 5000))) if c["residual"] else None}
    return operands, (*batch, m, n), "int8" if scale is not None else "int32", attrs


@needs_cc
@settings(max_examples=20, deadline=None)
@given(_MATMUL, st.integers(0, 2**32 - 1))
def test_matmul_in_c(c, seed):
    operands, shape, dtype, attrs = matmul_case(c, seed)
    _check("graph.matmul", operands, shape, dtype, **attrs)


def _error(kind, operands, out_shape, out_dtype, **attrs) -> str:
    p = one_op_program(kind, operands, out_shape, out_dtype, **attrs)
    with pytest.raises(CBackendError) as err:
        render_c(p)
    message = str(err.value)
    names = ", ".join(name for name, _, _ in operands)
    assert f"{kind}({names})" in message and "\n" not in message, message
    return message


def test_kinds_registered():
    assert {"graph.add", "graph.relu", "graph.requantize", "graph.reshape", "graph.global_avgpool",
            "graph.matmul", "graph.softmax"} <= set(supported_kinds())


def test_malformed_ops_are_one_line_errors():
    i8 = np.zeros((2, 3), np.int8)
    adds = dict(lhs_scale=0.1, rhs_scale=0.1, output_scale=0.1)
    assert "element counts differ" in _error("graph.add", [("a", i8, "input"), ("b", np.zeros(5, np.int8), "input")],
                                             (2, 3), "int8", **adds)
    assert "element counts differ" in _error("graph.add", [("a", i8, "input"), ("b", i8, "input")], (7,), "int8",
                                             **adds)
    assert "need lhs_scale" in _error("graph.add", [("a", i8, "input"), ("b", i8, "input")], (2, 3), "int8")
    assert "element counts differ" in _error("graph.relu", [("x", i8, "input")], (5,), "int8")
    assert "element counts differ" in _error("graph.requantize", [("x", i8, "input")], (2, 4), "int8", scale=0.5)
    assert "expected int8" in _error("graph.requantize", [("x", i8, "input")], (2, 3), "int32", scale=0.5)
    assert "element type" in _error("graph.reshape", [("x", i8, "input")], (6,), "int32")
    assert "expected 6 ([N, 1, 1, C])" in _error("graph.global_avgpool", [("x", np.zeros((2, 4, 4, 3), np.int8),
                                                                          "input")], (2, 1, 1, 4), "int8", scale=1.0)
    mm = {"output_scale": 0.01, "activation": None, "clip": None, "has_bias": False, "has_residual": False}
    a, b = np.zeros((2, 4, 8), np.int8), np.zeros((8, 5), np.int8)
    assert "expected 40" in _error("graph.matmul", [("a", a, "input"), ("b", b, "input")], (2, 4, 6), "int8", **mm)
    assert "contraction" in _error("graph.matmul", [("a", a, "input"), ("b", b.T.copy(), "input")], (2, 4, 8),
                                   "int8", **mm)
    bias = np.zeros(4, np.int32)
    assert "bias bias has 4 elements, expected 5" in _error(
        "graph.matmul", [("a", a, "input"), ("b", b, "input"), ("bias", bias, "constant")], (2, 4, 5), "int8",
        **{**mm, "has_bias": True})
    assert "announced bias" in _error("graph.matmul", [("a", a, "input"), ("b", b, "input")], (2, 4, 5), "int8",
                                      **{**mm, "has_residual": True})
