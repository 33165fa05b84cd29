"""The C version of a host ``graph.conv2d`` (backends/gemmini/c_host_conv.py): random grouped,
strided, dilated, padded convolutions with optional bias, residual, output scale (else an
int32 result), ReLU or clip and fused max pool, built with -O2 -ffast-math and compared with
the numpy kernels (the simulator) bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from gemforge.backends.gemmini.c import render_c
from gemforge.backends.gemmini.c_image import CBackendError
from gemforge.backends.gemmini.program import HostOp

from c_host_case import one_op_program, run_c, run_sim
from c_roundtrip import needs_cc

_GEOMETRY = st.fixed_dictionaries({
    "n": st.integers(1, 2), "h": st.integers(1, 6), "w": st.integers(1, 6), "groups": st.integers(1, 3),
    "cg": st.integers(1, 4), "og": st.integers(1, 4), "kh": st.integers(1, 3), "kw": st.integers(1, 3),
    "stride": st.tuples(st.integers(1, 2), st.integers(1, 2)),
    "dilation": st.tuples(st.integers(1, 2), st.integers(1, 2)),
    "padding": st.tuples(*[st.integers(0, 2)] * 4)})
_EPILOGUE = st.fixed_dictionaries({
    "bias": st.booleans(), "residual": st.booleans(),
    "output_scale": st.one_of(st.none(), st.floats(1e-3, 0.05).map(lambda v: float(np.float32(v)))),
    "act": st.sampled_from([None, "relu", "clip"]),
    "pool": st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 2), st.tuples(*[st.integers(0, 1)] * 4)))})


def _out_hw(size, lo, hi, k, s, d=1):
    return (size + lo + hi - d * (k - 1) - 1) // s + 1


def conv_case(g: dict, e: dict, seed: int):
    """(program, inputs) of one host conv; None when the geometry leaves no output."""
    rng = np.random.default_rng(seed)
    top, left, bottom, right = g["padding"]
    oh = _out_hw(g["h"], top, bottom, g["kh"], g["stride"][0], g["dilation"][0])
    ow = _out_hw(g["w"], left, right, g["kw"], g["stride"][1], g["dilation"][1])
    co = g["og"] * g["groups"]
    if oh < 1 or ow < 1:
        return None
    x = rng.integers(-128, 128, (g["n"], g["h"], g["w"], g["cg"] * g["groups"])).astype(np.int8)
    wt = rng.integers(-128, 128, (g["kh"], g["kw"], g["cg"], co)).astype(np.int8)
    operands = [("x", x, "input"), ("w", wt, "constant")]
    if e["bias"]:
        operands.append(("bias", rng.integers(-2**20, 2**20, co).astype(np.int32), "constant"))
    if e["residual"]:
        operands.append(("res", rng.integers(-128, 128, (g["n"], oh, ow, co)).astype(np.int8), "input"))
    scale = e["output_scale"]
    clip = None
    if e["act"] == "clip":
        clip = [-20, 90] if scale is not None else [-70_000, 250_000]
    attrs = {"stride": list(g["stride"]), "padding": list(g["padding"]), "dilation": list(g["dilation"]),
             "groups": g["groups"], "output_scale": scale, "activation": "relu" if e["act"] == "relu" else None,
             "clip": clip, "has_bias": e["bias"], "has_residual": e["residual"],
             "residual_scale": float(np.float32(rng.uniform(50, 5000))) if e["residual"] else None,
             "pool_kernel": None, "pool_stride": None, "pool_padding": None}
    out = (g["n"], oh, ow, co)
    if e["pool"] is not None:
        k, s, (pt, pl, pb, pr) = e["pool"]
        out = (g["n"], _out_hw(oh, pt, pb, k, s), _out_hw(ow, pl, pr, k, s), co)
        if out[1] < 1 or out[2] < 1:
            return None
        attrs.update(pool_kernel=[k, k], pool_stride=[s, s], pool_padding=[pt, pl, pb, pr])
    p = one_op_program("graph.conv2d", operands, out, "int8" if scale is not None else "int32", **attrs)
    return p, {name: data for name, data, role in operands if role == "input"}


@needs_cc
@settings(max_examples=25, deadline=None)
@given(_GEOMETRY, _EPILOGUE, st.integers(0, 2**32 - 1))
def test_host_conv2d_in_c(g, e, seed):
    case = conv_case(g, e, seed)
    assume(case is not None)
    p, inputs = case
    got, want = run_c(p, inputs), run_sim(p, inputs)
    np.testing.assert_array_equal(got, want)


def test_conv2d_bad_groups_is_one_line_error():
    g = {"n": 1, "h": 4, "w": 4, "groups": 1, "cg": 3, "og": 2, "kh": 3, "kw": 3, "stride": (1, 1),
         "dilation": (1, 1), "padding": (1, 1, 1, 1)}
    p, _ = conv_case(g, {"bias": False, "residual": False, "output_scale": 0.01, "act": None, "pool": None}, 0)
    op = next(x for x in p.items if isinstance(x, HostOp))
    op.attrs["groups"] = 2  # 3 input channels do not split into 2 groups
    with pytest.raises(CBackendError) as err:
        render_c(p)
    assert "graph.conv2d(x, w)" in str(err.value) and "groups" in str(err.value) and "\n" not in str(err.value)
