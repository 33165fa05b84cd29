"""C versions of the float-island host kernels (backends/gemmini/c_host_float.py), built with
gemmini-rocc-tests' flags (-O2 -ffast-math) and compared with the numpy kernels:
``graph.channel_affine`` bit for bit; ``graph.lrn`` bit for bit against the numpy kernel
with ``power`` taken from the host libm (the ``powf`` the C calls), and within the
documented bound (1 LSB on rare elements) against the numpy kernel itself."""

from __future__ import annotations

import ctypes
import ctypes.util
import unittest.mock

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gemforge import graph_eval_ops as K
from gemforge.backends.gemmini.c_host import supported_kinds
from gemforge.backends.gemmini.c_image import CBackendError
from gemforge.backends.gemmini.c import render_c

from c_host_case import one_op_program, run_c, run_sim
from c_roundtrip import needs_cc

_LIBM = ctypes.util.find_library("m")


def _libm_powf():
    fn = ctypes.CDLL(_LIBM).powf
    fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float, ctypes.c_float]
    return fn


class _NumpyWithLibmPow:
    """numpy, except ``power`` of float32 arrays is the host libm's ``powf`` element by element."""

    def __init__(self):
        self._powf = _libm_powf()

    def __getattr__(self, name):
        return getattr(np, name)

    def power(self, x, y):
        flat = [self._powf(float(v), float(y)) for v in np.asarray(x).reshape(-1)]
        return np.array(flat, np.float32).reshape(np.shape(x))


def lrn_with_libm_pow(x, attrs) -> np.ndarray:
    """``K.lrn`` with libm's powf in place of numpy's float32 power."""
    with unittest.mock.patch.object(K, "np", _NumpyWithLibmPow()):
        return K.lrn(x, attrs["size"], attrs["alpha"], attrs["beta"], attrs["bias"], attrs["input_scale"],
                     attrs["output_scale"])


def _f32(lo, hi):
    return st.floats(lo, hi).map(lambda v: float(np.float32(v)))


_LRN_ATTRS = st.fixed_dictionaries({
    "size": st.sampled_from([1, 3, 5, 7]), "alpha": _f32(1e-5, 2e-2), "beta": st.one_of(st.just(0.75), _f32(0.3, 1.2)),
    "bias": _f32(0.5, 3.0), "input_scale": _f32(0.005, 0.3), "output_scale": _f32(0.005, 0.3)})
_NHWC = st.tuples(st.integers(1, 2), st.integers(1, 4), st.integers(1, 4), st.integers(1, 24))


def _lrn_case(shape, attrs, seed):
    x = np.random.default_rng(seed).integers(-128, 128, shape).astype(np.int8)
    p = one_op_program("graph.lrn", [("x", x, "input")], shape, "int8", **attrs)
    return p, x, run_c(p, {"x": x})


def _diff(a: np.ndarray, b: np.ndarray) -> tuple[int, int]:
    d = np.abs(a.astype(np.int64) - b.astype(np.int64))
    return int((d > 0).sum()), int(d.max(initial=0))


@needs_cc
@pytest.mark.skipif(_LIBM is None, reason="no libm to load powf from")
@settings(max_examples=20, deadline=None)
@given(_NHWC, _LRN_ATTRS, st.integers(0, 2**32 - 1))
def test_lrn_in_c(shape, attrs, seed):
    p, x, got = _lrn_case(shape, attrs, seed)
    # Every step but pow is exact: against libm's powf the results are equal.
    np.testing.assert_array_equal(got, lrn_with_libm_pow(x, attrs).reshape(-1))
    # Against numpy's own power (possibly SIMD, ~1 ulp away): the documented bound.
    count, worst = _diff(got, run_sim(p, {"x": x}))
    assert worst <= 1 and count <= 1 + got.size // 1000, (count, worst)


@needs_cc
def test_lrn_at_alexnet_parameters():
    """A whole AlexNet LRN layer (its shape and parameters, random int8 data): prints the
    measured difference from numpy (pytest -s)."""
    attrs = {"size": 5, "alpha": 9.999999747378752e-05, "beta": 0.75, "bias": 1.0,
             "input_scale": 0.0546729601919651, "output_scale": 0.05462610721588135}
    p, x, got = _lrn_case((1, 54, 54, 96), attrs, seed=7)
    count, worst = _diff(got, run_sim(p, {"x": x}))
    print(f"lrn 1x54x54x96 vs numpy: {count} of {got.size} elements differ, max {worst} LSB")
    assert worst <= 1 and count <= got.size // 10_000


@needs_cc
@pytest.mark.skipif(_LIBM is None, reason="no libm to load powf from")
@settings(max_examples=10, deadline=None)
@given(st.sampled_from([1, 3, 5]), st.floats(0.2, 2.0), st.integers(0, 2**32 - 1))
def test_lrn_near_ties_in_c(size, absorbed, seed):
    """bias 4, beta 0.5, scales 1/32: y = rne(x * pow(d, -0.5)) with d = 4 exactly when the
    window terms are absorbed one by one (exact ties x/2: round half to even), just above 4
    when a reordered sum would not absorb them; so the sum order and the tie rule show."""
    v_max = 4.0  # |x| / 32
    alpha = absorbed * 2.0**-22 * size / v_max**2  # one term ~ `absorbed` half-ulps of 4
    attrs = {"size": size, "alpha": float(np.float32(alpha)), "beta": 0.5, "bias": 4.0,
             "input_scale": 1 / 32, "output_scale": 1 / 32}
    p, x, got = _lrn_case((1, 3, 3, 16), attrs, seed)
    np.testing.assert_array_equal(got, lrn_with_libm_pow(x, attrs).reshape(-1))
    count, worst = _diff(got, run_sim(p, {"x": x}))
    assert worst <= 1 and count <= 2, (count, worst)


_AFFINE_SCALES = st.tuples(_f32(0.001, 0.5), st.floats(0.05, 3.0)).map(
    lambda s: {"input_scale": s[0], "output_scale": float(np.float32(s[0] * s[1]))})  # outputs of a few steps or more


@needs_cc
@settings(max_examples=20, deadline=None)
@given(_NHWC, _AFFINE_SCALES, st.booleans(), st.integers(0, 2**32 - 1))
def test_channel_affine_in_c(shape, attrs, broadcast, seed):
    rng = np.random.default_rng(seed)
    c = 1 if broadcast else shape[-1]
    x = rng.integers(-128, 128, shape).astype(np.int8)
    vectors = [("scale", rng.normal(1.0, 0.7, c)), ("shift", rng.normal(0.0, 2.0, c)),
               ("multiplier", rng.normal(1.0, 0.5, c))]
    operands = [("x", x, "input")] + [(n, v.astype(np.float32), "constant") for n, v in vectors]
    p = one_op_program("graph.channel_affine", operands, shape, "int8", **attrs)
    got = run_c(p, {"x": x})
    want = run_sim(p, {"x": x})
    assert np.abs(want.astype(np.int64)).max() > 0  # not a vacuous all-zero comparison
    np.testing.assert_array_equal(got, want)


@needs_cc
@settings(max_examples=10, deadline=None)
@given(st.integers(-6, 0), _f32(0.01, 0.3), st.integers(0, 2**32 - 1))
def test_channel_affine_near_ties_in_c(exp2, out_scale, seed):
    """scale 1, shift half an output step, multiplier 2^k: t / output_scale lands within a few
    float32 roundings of a half-integer, so the result shows a fused multiply-add, a
    multiplication by the reciprocal or another rounding rule."""
    rng = np.random.default_rng(seed)
    c = 8
    x = rng.integers(-128, 128, (1, 4, 4, c)).astype(np.int8)
    f = np.float32
    ones = np.ones(c, f)
    shift = (f(0.5) * f(out_scale) * rng.integers(-3, 4, c).astype(f) + f(0.5) * f(out_scale)).astype(f)
    operands = [("x", x, "input"), ("scale", ones, "constant"), ("shift", shift, "constant"),
                ("multiplier", np.full(c, 2.0**exp2, f), "constant")]
    p = one_op_program("graph.channel_affine", operands, x.shape, "int8", input_scale=out_scale,
                       output_scale=out_scale * 2.0**-exp2)
    np.testing.assert_array_equal(run_c(p, {"x": x}), run_sim(p, {"x": x}))


def test_float_kinds_registered_and_errors_name_the_op():
    assert {"graph.lrn", "graph.channel_affine"} <= set(supported_kinds())
    x = np.zeros((1, 2, 2, 4), np.int8)
    vec = np.ones(3, np.float32)  # 3 values for 4 channels
    p = one_op_program("graph.channel_affine", [("x", x, "input"), ("s", vec, "constant"), ("b", vec, "constant"),
                                                ("m", vec, "constant")], x.shape, "int8", input_scale=0.1,
                       output_scale=0.1)
    with pytest.raises(CBackendError) as err:
        render_c(p)
    assert "graph.channel_affine(x, s, b, m)" in str(err.value) and "\n" not in str(err.value)
