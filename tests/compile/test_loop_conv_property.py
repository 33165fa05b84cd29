"""Property tests of the LOOP_CONV_WS form: forced on random small dense convolutions.

Stride 1-2, padding, kernels 1-3 (1x1 only with padding or stride, else it is a
matmul), with and without bias, output scale and ReLU, random tiles and loop orders
(remainder tiles, halo pads at every border, a reduction split across steps, pinned
stationary operands, several kernel columns per scratchpad row for few channels); the
simulated result must equal gemforge.reference bit for bit.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gemforge.layers import ConvLayer

from compile_check import check_layer

CLASS = {"b": "weight", "oh": "weight", "ow": "weight", "oc": "input", "ic": "output"}


@settings(max_examples=30, deadline=None)
@given(
    hw=st.tuples(st.integers(1, 9), st.integers(1, 9)), c=st.integers(1, 40), oc=st.integers(1, 40),
    kernel=st.integers(1, 3), stride=st.integers(1, 2), pad=st.integers(0, 1), batch=st.integers(1, 2),
    bias=st.booleans(), relu=st.booleans(), scale=st.sampled_from([1e-3, 3e-3, 0.011, 0.05]), data=st.data(),
)
def test_loop_conv_form_matches_reference(hw, c, oc, kernel, stride, pad, batch, bias, relu, scale, data):
    h, w = hw
    if kernel == 1 and stride == 1 and pad == 0:
        pad = 1  # an unpadded 1x1 stride-1 convolution is a matmul (LOOP_WS)
    h, w = max(h, kernel), max(w, kernel)
    layer = ConvLayer(batch, h, w, c, oc, kernel, kernel, stride, pad)
    dims = {"b": batch, "oh": layer.out_h, "ow": layer.out_w, "oc": oc, "ic": c}
    forced: dict = {}
    if data.draw(st.booleans(), label="force tiles"):
        tiles = {d: data.draw(st.integers(max(1, n // 3), n), label=d) for d, n in dims.items()}
        looping = sorted({CLASS[d] for d, t in tiles.items() if t < dims[d]})
        if tiles["ic"] < c:  # a split reduction runs innermost in the loop form
            looping = ["output"]
        forced["tiles"] = ",".join(f"{d}={t}" for d, t in tiles.items())
        if looping:
            forced["stationary"] = data.draw(st.sampled_from(looping), label="stationary")
    check_layer(layer, data, form="loop", bias=bias, output_scale=scale, activation="relu" if relu else "none",
           seed=data.draw(st.integers(0, 99), label="seed"), **forced)


@settings(max_examples=4, deadline=None)
@given(hw=st.integers(7, 12), data=st.data())
def test_stem_like_conv_matches_reference(hw, data):
    """A 3-channel 7x7 stride-2 stem (several kernel columns per scratchpad row)."""
    check_layer(ConvLayer(1, hw, hw, 3, 20, 7, 7, 2, 3), data, form="loop", bias=True, output_scale=0.01,
           activation="relu")


@settings(max_examples=10, deadline=None)
@given(oh=st.integers(1, 5), ow=st.integers(1, 5), c=st.integers(1, 40), oc=st.integers(1, 40),
       batch=st.integers(1, 2), bias=st.booleans(), data=st.data())
def test_downsampled_pointwise_matches_reference(oh, ow, c, oc, batch, bias, data):
    """A 1x1 stride-2 convolution over an even image: the loop unit reads every other pixel."""
    layer = ConvLayer(batch, 2 * oh, 2 * ow, c, oc, 1, 1, 2, 0)
    forced: dict = {}
    if c > 1 and data.draw(st.booleans(), label="split"):  # one input channel cannot be split
        forced = {"tiles": f"oh={data.draw(st.integers(1, oh), label='oh')},ic={max(1, (c + 1) // 2)}",
                  "stationary": "output"}
    check_layer(layer, data, form="loop", bias=bias, output_scale=0.01, activation="relu", **forced)
