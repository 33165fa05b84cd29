"""The bit-exactness check both compile property-test files run on every example."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from gemforge.compile import compile_layer, run
from gemforge.target import default

TARGET = default()


def check_layer(layer, data, **kw):
    """Compile ``layer`` (``kw`` as for compile_layer), simulate it functionally on a
    drawn random input and require the exact numpy result."""
    program, info = compile_layer(layer, TARGET, **kw)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="input seed"))
    x = rng.integers(-128, 128, size=layer.input_shape, dtype=np.int8)
    out = run(program, {"input": x}, TARGET, timing=False).outputs["output"]
    expected = info.expected(x)
    assert out.dtype == expected.dtype and out.shape == expected.shape
    np.testing.assert_array_equal(out, expected)
