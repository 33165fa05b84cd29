"""The C version of the generic ``lut`` host kernel (backends/gemmini/c_host.py): one or
several inputs (their channels joined in order), per-channel and shared tables, built with
-O2 -ffast-math and compared with numpy's indexing of the concatenation and with the
simulator's kernel bit for bit; malformed ops are one-line CBackendErrors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gemforge.backends.gemmini.c import render_c
from gemforge.backends.gemmini.c_host import supported_kinds
from gemforge.backends.gemmini.c_image import CBackendError
from gemforge.sim.host import KERNELS

from c_host_case import one_op_program, run_c, run_sim
from c_roundtrip import needs_cc

_SHAPE = st.lists(st.integers(1, 5), min_size=0, max_size=3).map(tuple)


def _numpy_lut(x: np.ndarray, table: np.ndarray) -> np.ndarray:
    """table[c or 0, x + 128] written out channel by channel (not the kernel's indexing)."""
    y = np.empty_like(x)
    for c in range(x.shape[-1]):
        y[..., c] = table[c if table.shape[0] > 1 else 0][x[..., c].astype(np.int64) + 128]
    return y


@needs_cc
@settings(max_examples=12, deadline=None)
@given(_SHAPE, st.lists(st.integers(1, 12), min_size=1, max_size=4), st.booleans(), st.integers(0, 2**32 - 1))
def test_lut_in_c_matches_numpy(lead, widths, shared, seed):
    rng = np.random.default_rng(seed)
    xs = [rng.integers(-128, 128, (*lead, c)).astype(np.int8) for c in widths]
    xs[0].reshape(-1)[0] = -128  # both ends of the table
    xs[-1].reshape(-1)[-1] = 127
    x = np.concatenate(xs, axis=-1)
    table = rng.integers(-128, 128, (1 if shared else x.shape[-1], 256)).astype(np.int8)
    names = [f"x{i}" for i in range(len(xs))]
    p = one_op_program("lut", [*((n, v, "input") for n, v in zip(names, xs)), ("table", table, "constant")],
                       x.shape, "int8")
    want = _numpy_lut(x, table).reshape(-1)
    np.testing.assert_array_equal(run_sim(p, dict(zip(names, xs))), want)
    np.testing.assert_array_equal(run_c(p, dict(zip(names, xs))), want)


def test_lut_kind_is_known_to_simulator_and_c():
    assert "lut" in KERNELS and "lut" in supported_kinds()


@pytest.mark.parametrize("table_shape, table_dtype, message", [
    ((3, 256), np.int8, "needs int8 inputs"),   # 3 rows for 4 channels
    ((4, 255), np.int8, "table \\(4, 255\\)"),
    ((1, 256), np.int32, "an int8 table"),
])
def test_lut_rejects_malformed_tables(table_shape, table_dtype, message):
    x = np.zeros((2, 4), np.int8)
    p = one_op_program("lut", [("x", x, "input"), ("table", np.zeros(table_shape, table_dtype), "constant")],
                       x.shape, "int8")
    with pytest.raises(CBackendError, match=message) as info:
        render_c(p)
    assert "\n" not in str(info.value) and "lut(x, table)" in str(info.value)


def test_lut_rejects_inputs_with_different_leading_extents():
    a, b = np.zeros((2, 4), np.int8), np.zeros((3, 1), np.int8)
    p = one_op_program("lut", [("a", a, "input"), ("b", b, "input"), ("table", np.zeros((1, 256), np.int8), "constant")],
                       (2, 5), "int8")
    with pytest.raises(CBackendError, match="equal leading extents") as info:
        render_c(p)
    assert "\n" not in str(info.value) and "lut(a, b, table)" in str(info.value)
