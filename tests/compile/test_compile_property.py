"""Property tests of the optimizing path: random layers compile and simulate to numpy's result.

Each example builds a one-layer graph module (odd sizes, strides, padding, dilation,
depthwise, with and without bias / scale / ReLU), runs ``gemforge-pipeline`` with the
scheduler's choice or a forced tiling and loop order (which exercises remainder tiles,
halo tiles, and partial sums spilled between reduction visits), encodes the Program,
simulates it (functional model only) and compares bit for bit with gemforge.reference.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gemforge.layers import ConvLayer, MatmulLayer

from compile_check import check_layer


def _epilogue(data) -> dict:
    kw: dict = {"bias": data.draw(st.booleans(), label="bias"), "seed": data.draw(st.integers(0, 99), label="seed")}
    if data.draw(st.integers(0, 4), label="int32 result") == 0:
        kw["output_scale"] = None
    else:
        kw["output_scale"] = data.draw(st.sampled_from([1e-3, 3e-3, 0.011, 0.05]), label="scale")
        kw["activation"] = data.draw(st.sampled_from(["none", "relu"]), label="activation")
    return kw


CLASS = {"m": "weight", "b": "weight", "oh": "weight", "ow": "weight", "n": "input", "oc": "input",
         "k": "output", "ic": "output"}


def _forced(data, dims: dict[str, int]) -> dict:
    """Sometimes force a tiling (each dim to a random size, not too small to keep the
    programs short) and a loop order whose stationary class really loops."""
    if not data.draw(st.booleans(), label="force"):
        return {}
    tiles = {d: data.draw(st.integers(max(1, n // 3), n), label=d) for d, n in dims.items()}
    looping = sorted({CLASS[d] for d, t in tiles.items() if t < dims[d] and d in CLASS})
    out = {"tiles": ",".join(f"{d}={t}" for d, t in tiles.items())}
    if looping:
        out["stationary"] = data.draw(st.sampled_from(looping), label="stationary")
    return out


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 70), k=st.integers(1, 80), n=st.integers(1, 70), data=st.data())
def test_random_matmuls_match_numpy(m, k, n, data):
    check_layer(MatmulLayer(m, k, n), data, **_epilogue(data), **_forced(data, {"m": m, "n": n, "k": k}))


@settings(max_examples=25, deadline=None)
@given(
    hw=st.tuples(st.integers(1, 9), st.integers(1, 9)), c=st.integers(1, 36), oc=st.integers(1, 36),
    kernel=st.sampled_from([1, 2, 3, 5]), stride=st.integers(1, 2), pad=st.integers(0, 2),
    dilation=st.sampled_from([1, 1, 2]), batch=st.integers(1, 2), depthwise=st.booleans(), data=st.data(),
)
def test_random_convs_match_numpy(hw, c, oc, kernel, stride, pad, dilation, batch, depthwise, data):
    h, w = hw
    span = dilation * (kernel - 1) + 1
    if h + 2 * pad < span or w + 2 * pad < span:
        pad = max(pad, (span - min(h, w) + 1) // 2)
    depthwise = depthwise and c > 1
    groups = c if depthwise else 1
    layer = ConvLayer(batch, h, w, c, c if depthwise else oc, kernel, kernel, stride, pad, groups, dilation)
    dims = {"b": batch, "oh": layer.out_h, "ow": layer.out_w}
    if depthwise:
        pass  # the channel tile is left to the scheduler (multiples of DIM only)
    elif not (kernel == 1 and stride == 1 and pad == 0):
        dims.update(oc=oc, ic=c)
    else:
        dims = {"m": batch * h * w, "n": oc, "k": c}
    check_layer(layer, data, **_epilogue(data), **_forced(data, dims))


@settings(max_examples=20, deadline=None)
@given(m=st.integers(1, 70), k=st.integers(1, 80), n=st.integers(1, 70), pointwise=st.booleans(), data=st.data())
def test_loop_ws_form_matches_numpy(m, k, n, pointwise, data):
    """The LOOP_WS form (forced), with random tiles and loop orders: remainder tiles (pads),
    a reduction split across steps, stationary operands reused through the spad ids."""
    if pointwise:  # a 1x1 convolution is a matmul over the flattened pixels
        h = data.draw(st.integers(1, 6), label="h")
        layer = ConvLayer(1, h, max(1, m // h), k, n, 1, 1, 1, 0)
        dims = {"m": layer.out_h * layer.out_w, "n": n, "k": k}
    else:
        layer = MatmulLayer(m, k, n)
        dims = {"m": m, "n": n, "k": k}
    forced = _forced(data, dims)
    if forced.get("stationary", "output") != "output" and "k=" in forced.get("tiles", ""):
        tk = int(forced["tiles"].split("k=")[1].split(",")[0])
        if tk < k:  # a split reduction runs innermost in the loop form
            forced["stationary"] = "output"
    check_layer(layer, data, form="loop", **_epilogue(data), **forced)


@settings(max_examples=15, deadline=None)
@given(oh=st.integers(1, 5), ow=st.integers(1, 5), stride=st.integers(2, 3), c=st.integers(1, 40),
       oc=st.integers(1, 40), batch=st.integers(1, 2), data=st.data())
def test_strided_pointwise_matches_numpy(oh, ow, stride, c, oc, batch, data):
    """1x1 convolutions of stride > 1 read a strided view of the input (only their pixels)."""
    layer = ConvLayer(batch, oh * stride, ow * stride, c, oc, 1, 1, stride, 0)
    dims = {"b": batch, "oh": oh, "ow": ow, "oc": oc, "ic": c}
    check_layer(layer, data, **_epilogue(data), **_forced(data, dims))
