"""Property tests of the im2col form (``passes/_tiling_im2col.py``), forced on random small
convolutions with few input channels: strides 1-2, padding (border pixels with their own
weight variants, skipped kernel rows), odd and non-square sizes and kernels, batch 1-2,
more than DIM output channels, with and without bias, scale and ReLU, int32 outputs, and
every pixel phase count P (tiles of pixels P apart, border pixels in any phase, strided
stores); the simulated result must equal gemforge.reference bit for bit. Also: the unforced choice
takes the form for a ResNet-50-like stem and not for a convolution with 12 channels.
"""

from __future__ import annotations

from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gemforge.passes._tiling_im2col_cost as im2col_cost
from gemforge.errors import GemforgeError
from gemforge.layers import ConvLayer
from gemforge.passes._tiling_im2col import im2col_applies
from gemforge.passes._tiling_layers import ConvGeometry
from gemforge.target import default

from compile_check import TARGET, check_layer


def geometry(layer: ConvLayer) -> ConvGeometry:
    return ConvGeometry(layer.batch, layer.in_h, layer.in_w, layer.in_c, layer.out_c, layer.kernel_h, layer.kernel_w,
                        layer.out_h, layer.out_w, layer.stride, 1, layer.pad, layer.pad)


@settings(max_examples=40, deadline=None)
@given(
    hw=st.tuples(st.integers(3, 21), st.integers(3, 37)), c=st.integers(1, 6), oc=st.integers(1, 40),
    kernel=st.tuples(st.integers(1, 7), st.integers(1, 7)), stride=st.integers(1, 2), pad=st.integers(0, 3),
    batch=st.integers(1, 2), bias=st.booleans(), relu=st.booleans(), raw=st.booleans(),
    scale=st.sampled_from([1e-3, 3e-3, 0.011]), data=st.data(),
)
def test_im2col_form_matches_reference(hw, c, oc, kernel, stride, pad, batch, bias, relu, raw, scale, data):
    (h, w), (kh, kw) = hw, kernel
    if kh == kw == 1:
        kw = 2  # a 1x1 convolution is a matmul (no kernel columns to pack)
    h, w = max(h, kh), max(w, kw)
    layer = ConvLayer(batch, h, w, c, oc, kh, kw, stride, pad)
    if not im2col_applies(geometry(layer), TARGET.dim):  # a pixel whose whole window is padding
        with pytest.raises(GemforgeError, match="im2col"):
            check_layer(layer, data, form="im2col")
        return
    ow = layer.out_w
    phases = data.draw(st.sampled_from([p for p in range(1, ow + 1) if ow % p == 0]), label="pixel phases")
    with mock.patch.object(im2col_cost, "phase_candidates", lambda g, dim: [phases]):
        check_layer(layer, data, form="im2col", bias=bias, output_scale=None if raw else scale,
                    activation="relu" if relu and not raw else "none")


def test_phase_candidates_divide_the_width_and_keep_half_a_tile():
    g = geometry(ConvLayer(1, 224, 224, 3, 64, 7, 7, 2, 3))
    assert im2col_cost.phase_candidates(g, 16) == [1, 2, 4, 7, 8, 14]
    assert im2col_cost.phase_candidates(geometry(ConvLayer(1, 5, 9, 3, 16, 3, 3, 2, 1)), 16) == [1]


def test_cost_model_takes_phases_for_a_wide_stem():
    """The 224-wide stem's 16-pixel window mvins chain ~14 requests on one L2 line with
    consecutive pixels; the priced choice spreads a tile's pixels over the row."""
    g = geometry(ConvLayer(1, 224, 224, 3, 64, 7, 7, 2, 3))
    sched, cost, _ = im2col_cost.im2col_price(g, TARGET, True)
    assert sched.tile("owp") > 1
    assert im2col_cost.im2col_load_floor(g, TARGET, sched.tile("owp")) < im2col_cost.im2col_load_floor(g, TARGET, 1)


@pytest.mark.parametrize("layer, picked", [
    (ConvLayer(1, 64, 64, 3, 16, 7, 7, 2, 3), True),  # a ResNet-50-like stem (sim: im2col 114,998 vs loop 176,024)
    (ConvLayer(1, 16, 16, 12, 16, 3, 3, 1, 1), False),  # 12 channels: the packed rows buy little (sim: 10,239 vs 5,858)
])
def test_unforced_choice_follows_the_cost_model(monkeypatch, layer, picked):
    import gemforge.passes._tiling_im2col as im2col
    from gemforge.compile import compile_layer

    used = []
    run = im2col.Im2colConvTiler.run
    monkeypatch.setattr(im2col.Im2colConvTiler, "run", lambda self: (used.append(self.g), run(self)))
    compile_layer(layer, TARGET)
    assert bool(used) == picked
    assert not im2col_applies(geometry(ConvLayer(1, 56, 56, 64, 64, 3, 3, 1, 1)), default().dim)
