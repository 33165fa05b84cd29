"""The vendor-library baseline's tile selection (tiled_matmul_auto / tiled_conv_auto).

The FireSim CSV records the tilings the real library chose; every row must be
reproduced exactly. The CSV lives outside the repository (../shared relative to the
repository root); the test is skipped when it is absent.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gemforge.backends.gemmini.library.conv_tiling import (
    ConvGeometry, ConvTiling, check_conv_tiling, conv_auto_tiling, conv_rows, downsamples,
)
from gemforge.backends.gemmini.library.firesim import DEFAULT_CSV, load_rows
from gemforge.backends.gemmini.library.matmul_tiling import (
    MatmulTiling, TilingError, acc_rows_needed, check_matmul_tiling, matmul_auto_tiling, padded_blocks, spad_rows_needed,
)
from gemforge.layers import ConvLayer, MatmulLayer
from gemforge.target import builtin, default

TARGETS = [default(), builtin("gemmini-32x32")]


def _auto_string(layer, target, downsample: bool = False) -> str:
    """The measured runs' library had the strided-1x1 downsample switched off (calibration.py)."""
    if isinstance(layer, MatmulLayer):
        return matmul_auto_tiling(layer, target).auto_tiling_string(target.dim)
    return conv_auto_tiling(layer, target, downsample=downsample).auto_tiling_string()


@pytest.mark.skipif(not DEFAULT_CSV.exists(), reason=f"FireSim calibration CSV not found at {DEFAULT_CSV}")
def test_every_firesim_row_reproduces_the_recorded_auto_tiling():
    rows = load_rows(DEFAULT_CSV)
    assert len(rows) > 100
    target = default()
    mismatches = [(r.line, r.layer.name, _auto_string(r.layer, target), r.auto_tiling) for r in rows
                  if _auto_string(r.layer, target) != r.auto_tiling]
    assert mismatches == []
    assert {type(r.layer) for r in rows} == {ConvLayer, MatmulLayer}
    # With the current library's shortcut the strided 1x1 rows would not match: the evidence
    # that the measured library had it off.
    assert any(_auto_string(r.layer, target, downsample=True) != r.auto_tiling for r in rows if isinstance(r.layer, ConvLayer) and downsamples(r.layer))


def test_known_matmul_tilings():
    t = default()
    # BERT 128x768x768: the accumulator-bounded 5x5 start cannot grow (scratchpad full).
    assert matmul_auto_tiling(MatmulLayer(128, 768, 768), t) == MatmulTiling(5, 5, 48)
    assert matmul_auto_tiling(MatmulLayer(128, 64, 128), t) == MatmulTiling(5, 6, 4)
    assert matmul_auto_tiling(MatmulLayer(1, 2048, 1000), t) == MatmulTiling(1, 8, 56)


def _matmul_fits(tiling, layer, target):
    d = target.dim
    return (spad_rows_needed(tiling.tile_i, tiling.tile_j, tiling.tile_k, d) <= target.spad_rows // 2
            and acc_rows_needed(tiling.tile_i, tiling.tile_j, d) <= target.acc_rows // 2)


@settings(max_examples=150, deadline=None)
@given(m=st.integers(1, 3000), k=st.integers(1, 3000), n=st.integers(1, 3000), ti=st.sampled_from(range(len(TARGETS))))
def test_matmul_auto_tiling_fits_and_is_maximal(m, k, n, ti):
    target = TARGETS[ti]
    layer = MatmulLayer(m, k, n)
    tiling = matmul_auto_tiling(layer, target)
    check_matmul_tiling(layer, tiling, target)  # the library's own checks accept it
    d = target.dim
    # No single dimension can grow by one block (the greedy loop ran to a fixed point).
    for name, full in (("tile_i", padded_blocks(m, d)), ("tile_j", padded_blocks(n, d)), ("tile_k", padded_blocks(k, d))):
        bigger = MatmulTiling(**{**tiling.__dict__, name: getattr(tiling, name) + 1})
        assert getattr(bigger, name) > full or not _matmul_fits(bigger, layer, target)


@settings(max_examples=120, deadline=None)
@given(
    batch=st.integers(1, 3), hw=st.integers(1, 80), cin=st.integers(1, 600), cout=st.integers(1, 600),
    kernel=st.sampled_from([1, 2, 3, 5, 7]), stride=st.integers(1, 2), ti=st.sampled_from(range(len(TARGETS))),
)
def test_conv_auto_tiling_fits_and_is_maximal(batch, hw, cin, cout, kernel, stride, ti):
    target = TARGETS[ti]
    pad = kernel // 2
    if hw + 2 * pad < kernel:
        return
    layer = ConvLayer(batch, hw, hw, cin, cout, kernel, kernel, stride=stride, pad=pad)
    tiling = conv_auto_tiling(layer, target)
    check_conv_tiling(layer, tiling, target)
    geom = ConvGeometry(stride=stride, downsample=downsamples(layer))
    full = [batch, layer.out_h, layer.out_w, cout, kernel, kernel, cin]
    for i, arg in enumerate(tiling.as_args()):
        grown = tiling.as_args()
        grown[i] += 1
        spad, acc = conv_rows(grown, geom, target.dim)
        assert arg == full[i] or spad > target.spad_rows // 2 or acc > target.acc_rows // 2


def test_depthwise_tiles_one_channel():
    layer = ConvLayer(1, 112, 112, 32, 32, 3, 3, stride=1, pad=1, groups=32)
    tiling = conv_auto_tiling(layer, default())
    assert (tiling.pochs, tiling.kchs) == (1, 1)
    check_conv_tiling(layer, tiling, default())


def test_tiling_reads_sizes_from_the_target():
    layer = MatmulLayer(1024, 1024, 1024)
    small, big = matmul_auto_tiling(layer, TARGETS[0]), matmul_auto_tiling(layer, TARGETS[1])
    assert small != big
    conv = ConvLayer(1, 56, 56, 64, 64, 3, 3, pad=1)
    assert conv_auto_tiling(conv, TARGETS[0]) != conv_auto_tiling(conv, TARGETS[1])


def test_explicit_tilings_are_checked():
    t = default()
    layer = MatmulLayer(64, 64, 64)
    check_matmul_tiling(layer, MatmulTiling(4, 4, 4), t)
    with pytest.raises(TilingError, match="tile_i = 5 blocks exceeds"):
        check_matmul_tiling(layer, MatmulTiling(5, 1, 1), t)
    with pytest.raises(TilingError, match="accumulator rows"):
        check_matmul_tiling(MatmulLayer(1024, 64, 1024), MatmulTiling(8, 8, 1), t)
    conv = ConvLayer(1, 56, 56, 64, 64, 3, 3, pad=1)
    with pytest.raises(TilingError, match="scratchpad rows"):
        check_conv_tiling(conv, ConvTiling(1, 56, 56, 64, 3, 3, 64), t)
    with pytest.raises(TilingError, match="accumulator rows"):
        check_conv_tiling(conv, ConvTiling(1, 16, 16, 64, 1, 1, 16), t)
    with pytest.raises(TilingError, match="pocols = 0"):
        check_conv_tiling(conv, ConvTiling(1, 2, 0, 16, 3, 3, 16), t)
