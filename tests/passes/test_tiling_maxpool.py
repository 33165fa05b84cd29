"""A standalone graph.maxpool on Gemmini (passes/_tiling_maxpool.py, passes/_lowering_pool.py):
int8 rows moved into the accumulator and out through the pooled move-out equal a numpy max
pool bit for bit through the simulator; what the pooled move-out cannot do is a one-line
error naming the op."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gemforge.compile import compile_module, run
from gemforge.errors import GemforgeError
from gemforge.testing import parse, run_pipeline


def pool_text(shape, k, s, pads, dtype="i8", marked=True) -> str:
    n, h, w, c = shape
    top, left, bottom, right = pads
    ph, pw = (h + top + bottom - k) // s + 1, (w + left + right - k) // s + 1
    mark = " {gemforge.nonnegative_input}" if marked else ""
    x, y = f"tensor<{n}x{h}x{w}x{c}x{dtype}>", f"tensor<{n}x{ph}x{pw}x{c}x{dtype}>"
    return (f"func.func @pool(%x: {x}) -> {y} {{\n"
            f"  %0 = graph.maxpool %x kernel [{k}, {k}] stride [{s}, {s}] padding {list(pads)}{mark} : ({x}) -> {y}\n"
            f"  func.return %0 : {y}\n}}\n")


def numpy_maxpool(x: np.ndarray, k: int, s: int, pads) -> np.ndarray:
    """Max over each window's positions inside the input (padding takes no part)."""
    top, left, bottom, right = pads
    n, h, w, c = x.shape
    padded = np.full((n, h + top + bottom, w + left + right, c), -1 << 20, np.int64)
    padded[:, top:top + h, left:left + w] = x
    ph, pw = (h + top + bottom - k) // s + 1, (w + left + right - k) // s + 1
    out = np.full((n, ph, pw, c), -1 << 20, np.int64)
    for i in range(k):
        for j in range(k):
            out = np.maximum(out, padded[:, i:i + (ph - 1) * s + 1:s, j:j + (pw - 1) * s + 1:s])
    return out.astype(x.dtype)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 2), h=st.integers(3, 14), w=st.integers(3, 40), c=st.integers(1, 40),
       k=st.sampled_from([2, 3]), s=st.sampled_from([1, 2]), pad=st.integers(0, 1), seed=st.integers(0, 99))
@example(n=1, h=20, w=120, c=20, k=3, s=2, pad=1, seed=0)  # several row tiles (halo rows reloaded)
@example(n=1, h=9, w=300, c=70, k=3, s=2, pad=1, seed=1)  # wider than a pooled move-out: column tiles
def test_standalone_maxpool_is_bit_exact(n, h, w, c, k, s, pad, seed):
    pads = (pad, pad, pad, pad)
    rng = np.random.default_rng(seed)
    # Gemmini pools padding as 0: a padded pool is only placed on a non-negative input
    x = rng.integers(0 if pad else -128, 128, (n, h, w, c), dtype=np.int8)
    program = compile_module(parse(pool_text((n, h, w, c), k, s, pads)))
    result = run(program, {"x": x})
    np.testing.assert_array_equal(result.outputs["output"], numpy_maxpool(x, k, s, pads))
    assert result.cycles > 0


@pytest.mark.parametrize("shape, k, s, pads, kw, words", [
    ((1, 8, 8, 16), 3, 2, (1, 1, 1, 1), {"marked": False}, ["padding of a possibly negative input"]),
    ((1, 8, 8, 16), 4, 4, (0, 0, 0, 0), {}, ["4x4 window", "at most 3"]),
    ((1, 8, 8, 16), 2, 2, (0, 0, 0, 0), {"dtype": "i32"}, ["i32 input"]),
    ((1, 4, 600, 16), 2, 2, (0, 0, 0, 0), {}, ["pooled width 300", "at most 255"]),
])
def test_unsupported_pools_are_one_line_errors(shape, k, s, pads, kw, words):
    with pytest.raises(GemforgeError) as e:
        run_pipeline(pool_text(shape, k, s, pads, **kw), "convert-graph-to-tile")
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("graph.maxpool: ") and all(w in msg for w in words), msg


def test_pool_without_padding_needs_no_mark():
    # no window reaches outside the input: exact for any sign
    out = run_pipeline(pool_text((1, 7, 7, 16), 2, 2, (0, 0, 0, 0), marked=False), "convert-graph-to-tile")
    assert "pool 2 stride 2 pads [0, 0] sizes [1, 3, 3, 16]" in out
