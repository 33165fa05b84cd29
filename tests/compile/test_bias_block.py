"""The fine form's resident bias block and the row-aligned weights, end to end.

The bias is moved once per column tile into DIM broadcast accumulator rows and added by
the array (the D operand of the first reduction block), not broadcast into every output
tile; weight constants get request-aligned DRAM rows. Both must stay bit-exact.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gemforge.compile import compile_layer, run
from gemforge.layers import ConvLayer, MatmulLayer
from gemforge.passes._tiling_weights import aligned_width, pad_rows
from gemforge.target import default

from compile_check import check_layer

TARGET = default()


@pytest.mark.parametrize("form", ["fine", "loop"])
def test_bias_moves_once_per_column_tile_in_the_fine_form(form):
    """256 output rows x 32 columns: broadcasting the int32 bias into every output tile
    reads 256*32*4 bytes; the fine form's bias block reads DIM*32*4 once."""
    layer = MatmulLayer(256, 16, 32)
    program, info = compile_layer(layer, TARGET, form=form, tiles="m=32,n=32,k=16")
    x = np.random.default_rng(0).integers(-128, 128, size=layer.input_shape, dtype=np.int8)
    res = run(program, {"input": x}, TARGET)
    np.testing.assert_array_equal(res.outputs["output"], info.expected(x))
    a_and_b = 256 * 16 + 16 * 32
    broadcast = 256 * 32 * TARGET.acc_bytes
    if form == "fine":
        assert res.dma_bytes_read == a_and_b + TARGET.dim * 32 * TARGET.acc_bytes
    else:
        assert res.dma_bytes_read >= a_and_b + broadcast


@settings(max_examples=6, deadline=None)
@given(hw=st.integers(3, 9), c=st.integers(1, 20), oc=st.integers(1, 40), stride=st.integers(1, 2),
       depthwise=st.booleans(), data=st.data())
def test_fine_convs_with_bias_block_match_numpy(hw, c, oc, stride, depthwise, data):
    """Convolutions (dense and depthwise, forced fine, random tiles) with a bias: the bias
    joins the first kernel position of each output tile's first visit."""
    oc = c if depthwise else oc
    layer = ConvLayer(1, hw, hw, c, oc, 3, 3, stride, 1, groups=c if depthwise else 1)
    ch = "c" if depthwise else "ic"
    tiles = {"oh": data.draw(st.integers(1, layer.out_h), label="oh"),
             "ow": data.draw(st.integers(1, layer.out_w), label="ow")}
    if not depthwise:
        tiles[ch] = data.draw(st.integers(1, c), label="ic")
        tiles["oc"] = data.draw(st.integers(1, oc), label="oc")
    check_layer(layer, data, form="fine", bias=True, seed=data.draw(st.integers(0, 9), label="seed"),
                tiles=",".join(f"{d}={t}" for d, t in tiles.items()))


@given(n=st.integers(1, 3000), elem=st.sampled_from([1, 2, 4]))
def test_aligned_width_starts_every_row_on_a_request(n, elem):
    req = TARGET.dma_max_request_bytes
    w = aligned_width(n, elem, TARGET)
    row = w * elem
    assert w >= n and row % min(req, 1 << (n * elem - 1).bit_length()) == 0
    assert w == n or row - n * elem < (req if n * elem > req else n * elem)  # the least such padding


def test_pad_rows_keeps_the_data_and_zero_fills():
    w = np.arange(2 * 3 * 100, dtype=np.int32).astype(np.int8).reshape(2, 3, 100)
    p = pad_rows(w, TARGET)
    assert p.shape == (2, 3, 128) and (p[..., :100] == w).all() and not p[..., 100:].any()
    assert pad_rows(np.zeros((5, 64), np.int8), TARGET).shape == (5, 64)
    assert pad_rows(np.zeros((5, 24), np.int8), TARGET).shape == (5, 32)
