"""The C ``graph.softmax`` (backends/gemmini/c_host_softmax.py), built with -O2 -ffast-math:
bit for bit against the numpy kernel with ``exp`` taken from the host libm (the ``expf`` the
C calls), and within the documented bound against the numpy kernel itself (int8: 1 LSB on
rare elements; float32: a few ulp). Also a whole network (host matmul, softmax, int32 and
clipped adds, reshape, global average pool) that had no C writer before, emitted and run."""

from __future__ import annotations

import ctypes
import ctypes.util
import unittest.mock

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gemforge import graph_eval_ops as K, sim
from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.c import render_c
from gemforge.backends.gemmini.c_host import supported_kinds
from gemforge.backends.gemmini.c_image import CBackendError
from gemforge.backends.gemmini.program import HostOp
from gemforge.dialects import graph as G
from gemforge.network import compile_network
from gemforge.network_testing import build_module

from c_host_case import one_op_program, run_c, run_sim
from c_roundtrip import assert_same_stream, needs_cc

_LIBM = ctypes.util.find_library("m")
needs_libm = pytest.mark.skipif(_LIBM is None, reason="no libm to load expf from")
_TINY = np.float32(2.0**-126)  # below: subnormal, flushed to zero by -ffast-math's crtfastmath on x86


class _NumpyWithLibmExp:
    """numpy, except ``exp`` is the host libm's ``expf`` element by element."""

    def __init__(self):
        self._expf = ctypes.CDLL(_LIBM).expf
        self._expf.restype, self._expf.argtypes = ctypes.c_float, [ctypes.c_float]

    def __getattr__(self, name):
        return getattr(np, name)

    def exp(self, x):
        a = np.asarray(x)
        return np.array([self._expf(float(v)) for v in a.reshape(-1)], np.float32).reshape(a.shape)


def softmax_with_libm_exp(x, attrs) -> np.ndarray:
    with unittest.mock.patch.object(K, "np", _NumpyWithLibmExp()):
        return K.softmax(x, attrs["axis"], attrs.get("input_scale"), attrs.get("output_scale")).reshape(-1)


def _case(shape, attrs, seed, dtype="int8"):
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, shape).astype(np.int8) if dtype == "int8" else \
        rng.normal(0, 4, shape).astype(np.float32)
    out = "int8" if attrs.get("output_scale") is not None else "float32"
    p = one_op_program("graph.softmax", [("x", x, "input")], shape, out, **attrs)
    return p, x, run_c(p, {"x": x})


def _int8_bound(got, want):
    d = np.abs(got.astype(np.int64) - want.astype(np.int64))
    assert d.max(initial=0) <= 1 and (d > 0).sum() <= 1 + got.size // 1000, (int((d > 0).sum()), int(d.max()))


_SHAPES = st.lists(st.integers(1, 9), min_size=1, max_size=4).flatmap(
    lambda s: st.tuples(st.just(tuple(s)), st.integers(-len(s), len(s) - 1)))
_LONG_ROWS = st.tuples(st.integers(1, 3), st.sampled_from([7, 8, 9, 127, 128, 129, 300, 1000])).map(
    lambda s: (s, 1))  # pairwise sums: below one block, one block, split halves


@needs_cc
@needs_libm
@settings(max_examples=20, deadline=None)
@given(st.one_of(_SHAPES, _LONG_ROWS), st.floats(0.005, 0.5), st.sampled_from([1 / 128, 1 / 100, 0.004]),
       st.integers(0, 2**32 - 1))
def test_softmax_int8_in_c(shape_axis, in_scale, out_scale, seed):
    shape, axis = shape_axis
    attrs = {"axis": axis, "input_scale": float(np.float32(in_scale)), "output_scale": out_scale}
    p, x, got = _case(shape, attrs, seed)
    np.testing.assert_array_equal(got, softmax_with_libm_exp(x, attrs))
    _int8_bound(got, run_sim(p, {"x": x}))


@needs_cc
@needs_libm
@settings(max_examples=10, deadline=None)
@given(st.one_of(_SHAPES, _LONG_ROWS), st.sampled_from(["int8", "float32"]), st.integers(0, 2**32 - 1))
def test_softmax_float_out_in_c(shape_axis, dtype, seed):
    shape, axis = shape_axis
    attrs = {"axis": axis, "input_scale": 0.05 if dtype == "int8" else None, "output_scale": None}
    p, x, got = _case(shape, attrs, seed, dtype)
    got = got.astype(np.float32)
    ref = softmax_with_libm_exp(x, attrs)
    normal = np.abs(ref) >= _TINY
    np.testing.assert_array_equal(got[normal], ref[normal])
    assert np.all((got[~normal] == 0) | (got[~normal] == ref[~normal]))  # flushed to zero or kept
    want = run_sim(p, {"x": x}).astype(np.float32)
    np.testing.assert_allclose(got[normal], want[normal], rtol=1e-6, atol=0)


@needs_cc
def test_softmax_bert_attention_rows():
    """BERT-base attention scores [1, 12, 128, 128] along the last axis: at most 1 LSB on rare
    elements against numpy's own exp (measured: none differ; see c_host_softmax.py)."""
    attrs = {"axis": 3, "input_scale": 0.125, "output_scale": 1 / 128}
    p, x, got = _case((1, 12, 128, 128), attrs, seed=1)
    want = run_sim(p, {"x": x})
    _int8_bound(got, want)
    assert want.max() >= 64  # peaked rows: a real comparison, not all zeros


def test_softmax_malformed_is_one_line_error():
    x = np.zeros((2, 5), np.int8)
    cases = [((11,), "int8", {"axis": 1, "input_scale": 0.1, "output_scale": 0.01}, "has 11 elements"),
             ((2, 5), "int8", {"axis": 2, "input_scale": 0.1, "output_scale": 0.01}, "axis 2"),
             ((2, 5), "int8", {"axis": 1, "input_scale": 0.1, "output_scale": None}, "expected float32"),
             ((2, 4), "int8", {"axis": 1, "input_scale": 0.1, "output_scale": 0.01}, "has 8 elements")]
    for shape, dtype, attrs, why in cases:
        p = one_op_program("graph.softmax", [("x", x, "input")], shape, dtype, **attrs)
        with pytest.raises(CBackendError) as err:
            render_c(p)
        assert "graph.softmax(x)" in str(err.value) and why in str(err.value) and "\n" not in str(err.value)


def _attention_module():
    def body(args):
        q, k, img = args
        scores = G.MatmulOp(q, k, output_scale=0.01)  # batched: runs on the host
        sm = G.SoftmaxOp(scores.result, axis=2, input_scale=0.1, output_scale=1 / 128)
        raw = G.MatmulOp(q, k)  # int32 accumulators
        twice = G.AddOp(raw.result, raw.result)  # the int32 (wrapping) form
        req = G.RequantizeOp(twice.result, 0.002)
        mixed = G.AddOp(sm.result, req.result, lhs_scale=1 / 128, rhs_scale=0.05, output_scale=0.04, clip=(-50, 60))
        nhwc = G.ReshapeOp(mixed.result, (1, 2, 8, 8))
        gap = G.GlobalAvgPoolOp(nhwc.result, scale=0.8)
        gap_img = G.GlobalAvgPoolOp(img, scale=1.3)
        return [scores, sm, raw, twice, req, mixed, nhwc, gap, gap_img], [sm.result, gap.result, gap_img.result]

    return build_module([(2, 8, 16), (2, 16, 8), (1, 4, 4, 8)], body)


@needs_cc
def test_attention_network_in_c(tmp_path):
    net = compile_network(_attention_module())
    kinds = {x.kind for x in net.program.items if isinstance(x, HostOp)}
    assert {"graph.matmul", "graph.softmax", "graph.add"} <= kinds <= set(supported_kinds())
    net.program.emit(isa.fence())  # one instruction, so the run records a stream
    rng = np.random.default_rng(11)
    inputs = {t.name: rng.integers(-128, 128, t.shape) for t in net.program.tensors_with_role("input")}
    stdout = assert_same_stream(net.program, tmp_path, inputs=inputs, defines=["GEMFORGE_DUMP_OUTPUTS"])
    dumps = {line.split()[1]: np.array([float(v) for v in line.split()[2:]])
             for line in stdout.splitlines() if line.startswith("dump ")}
    want = sim.run(net.program, {k: v.astype(np.int8) for k, v in inputs.items()}).outputs
    assert len(want) == 3
    for name, value in want.items():
        np.testing.assert_array_equal(dumps[name], value.reshape(-1), err_msg=name)
