"""LOOP_CONV_WS modes the vendor library uses: first-layer pixel packing, downsample,
operand reuse through a_spad_id / b_spad_id, no_bias, depthwise, config_ex acc_scale = 0.
Each is checked bit-exactly against numpy; the pixel repeater also against a direct model."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gemforge import sim
from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.library import ConvTiling, compile_layer
from gemforge.backends.gemmini.program import Program
from gemforge.layers import ConvLayer
from gemforge.sim.runner import expand
from gemforge.target import default

T = default()


def _run(layer, seed=0, **kw):
    program, info = compile_layer(layer, T, seed=seed, **kw)
    x = np.random.default_rng(seed + 1).integers(-128, 128, size=layer.input_shape, dtype=np.int8)
    res = sim.run(program, {"input": x}, T)
    return res, res.outputs["output"], info.expected(x), program


def _loop_words(program, field):
    s = expand(program, T)
    from gemforge.backends.gemmini.decode import decode

    words = [decode(f, a, b).fields for f, a, b in zip(s.funct.tolist(), s.rs1.tolist(), s.rs2.tolist())
             if f == isa.LOOP_CONV_WS or isa.LOOP_CONV_WS_CONFIG_1 <= f <= isa.LOOP_CONV_WS_CONFIG_6]
    return [w[field] for w in words if field in w]


@settings(max_examples=8, deadline=None)
@given(hw=st.integers(5, 14), cin=st.integers(1, 5), cout=st.integers(1, 24), kernel=st.sampled_from([3, 5, 7]),
       stride=st.integers(1, 2), bias=st.booleans(), seed=st.integers(0, 1000))
def test_first_layer_pixel_packing_is_exact(hw, cin, cout, kernel, stride, bias, seed):
    layer = ConvLayer(1, hw, hw, cin, cout, kernel, kernel, stride=stride, pad=kernel // 2)
    res, got, want, program = _run(layer, seed, bias=bias)
    assert max(_loop_words(program, "max_pixels_per_row")) > 1
    np.testing.assert_array_equal(got, want)
    # the same layer without the optimisation gives the same output and more computes
    res1, got1, _, _ = _run(layer, seed, bias=bias, first_layer_optimizations=False)
    np.testing.assert_array_equal(got1, want)
    assert res.counts.get("compute_preloaded", 0) + res.counts.get("compute_accumulated", 0) < \
        res1.counts.get("compute_preloaded", 0) + res1.counts.get("compute_accumulated", 0)


@pytest.mark.parametrize("hw,cin,cout", [(8, 24, 20), (14, 40, 70), (6, 64, 16)])
def test_downsample_is_exact_and_moves_half_the_rows(hw, cin, cout):
    layer = ConvLayer(1, hw, hw, cin, cout, 1, 1, stride=2, pad=0)
    res, got, want, program = _run(layer, 3)
    assert all(_loop_words(program, "downsample"))
    np.testing.assert_array_equal(got, want)


def test_operand_reuse_skips_the_loads_and_is_exact():
    # Two output-channel tiles over one input tile: the second reuses the input (null address).
    layer = ConvLayer(1, 6, 6, 16, 32, 3, 3, stride=1, pad=1)
    tiling = ConvTiling(batches=1, porows=6, pocols=6, pochs=16, krows=3, kcols=3, kchs=16)
    res, got, want, program = _run(layer, 5, tiling=tiling)
    np.testing.assert_array_equal(got, want)
    assert _loop_words(program, "a_spad_id") == [1, 1]
    res0, got0, _, _ = _run(layer, 5, tiling=tiling, operand_reuse=False)
    np.testing.assert_array_equal(got0, want)
    assert res.counts["mvin"] < res0.counts["mvin"]


@pytest.mark.parametrize("bias", [False, True])
def test_no_bias_starts_from_zero_and_split_kernel_accumulates(bias):
    # krows split: later tiles pass bias address 0 (accumulate onto the accumulator).
    layer = ConvLayer(1, 7, 7, 20, 18, 3, 3, stride=1, pad=1)
    tiling = ConvTiling(batches=1, porows=3, pocols=7, pochs=18, krows=1, kcols=2, kchs=20)
    _, got, want, program = _run(layer, 9, tiling=tiling, bias=bias)
    biases = _loop_words(program, "bias")
    assert 0 in biases and any(biases)  # first kernel tile loads (zeros / bias), the rest accumulate
    assert set(_loop_words(program, "no_bias")) == {int(not bias)}
    np.testing.assert_array_equal(got, want)


def _depthwise_program(h, c, k, stride, pad, pixels, scale):
    """gemmini.h's tiled_conv_dw with whole-image tiles: one LOOP_CONV_WS (dw = 1) per channel."""
    o = (h + 2 * pad - k) // stride + 1
    p = Program(T.name)
    x = p.add_tensor("X", (1, h, h, c), "int8", "input")
    w = p.add_tensor("W", (c, k, k), "int8", "input")
    b = p.add_tensor("B", (c,), "int32", "input")
    y = p.add_tensor("Y", (1, o, o, c), "int8", "output")
    p.emit(isa.config_st(c, scale=scale), isa.config_ex(isa.WEIGHT_STATIONARY, a_stride=stride, acc_scale=0.0))
    span = o * stride + k - 1
    far = max(0, span - pad - h)
    for ch in range(c):
        p.emit(*isa.loop_conv_ws(
            batch_size=1, in_row_dim=h, in_col_dim=h, in_channels=c, out_channels=c, out_row_dim=o, out_col_dim=o,
            pool_out_row_dim=o, pool_out_col_dim=o, stride=stride, padding=pad, kernel_dim=k, kernel_dilation=1,
            pool_size=1, pool_stride=1, pool_padding=0, batches=1, porows=o, pocols=o, pochs=1, krows=k, kcols=k,
            kchs=1, lpad=pad, rpad=far, upad=pad, dpad=far, plpad=0, prpad=0, pupad=0, pdpad=0, orows=o, ocols=o,
            weights=w.addr + ch * k * k, output=y.addr + ch, bias=b.addr + 4 * ch, input=x.addr + ch, no_bias=0,
            no_pool=1, downsample=0, wrot180=0, input_dilated=0, activation=0, trans_output_1203=0,
            trans_weight_1203=0, trans_weight_0132=0, trans_input_3120=0, max_pixels_per_row=pixels, in_stride=c,
            weight_stride=1, out_stride=c, dw=1, a_spad_id=0, b_spad_id=0))
    p.emit(isa.fence())
    return p, o


@settings(max_examples=8, deadline=None)
@given(h=st.integers(3, 12), c=st.integers(1, 20), k=st.sampled_from([3, 5]), stride=st.integers(1, 2),
       pixels=st.sampled_from([1, 3, 16]), seed=st.integers(0, 1000))
def test_depthwise_loops_are_exact(h, c, k, stride, pixels, seed):
    pad = k // 2
    p, o = _depthwise_program(h, c, k, stride, pad, min(pixels, k), 0.01)
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (1, h, h, c)).astype(np.int8)
    w = rng.integers(-128, 128, (c, k, k)).astype(np.int8)
    b = rng.integers(-3000, 3000, c).astype(np.int32)
    xp = np.pad(x.astype(np.int64), ((0, 0), (pad, pad + k), (pad, pad + k), (0, 0)))
    acc = np.zeros((o, o, c), np.int64) + b
    for i in range(k):
        for j in range(k):
            acc += xp[0, i:i + o * stride:stride, j:j + o * stride:stride, :] * w[:, i, j]
    want = np.clip(np.rint(acc.astype(np.int32).astype(np.float32) * np.float32(0.01)), -128, 127).astype(np.int8)
    got = sim.run(p, {"X": x, "W": w, "B": b}, T).outputs["Y"][0]
    np.testing.assert_array_equal(got, want)


@settings(max_examples=20, deadline=None)
@given(rows=st.integers(1, 16), cols=st.integers(1, 8), repeats=st.integers(2, 7), seed=st.integers(0, 99),
       at=st.sampled_from([0, 3, 8192, 8195, 200]))
def test_pixel_repeater_writes_shifted_copies(rows, cols, repeats, seed, at):
    dim = T.dim
    rows = min(rows, dim - at % dim)
    x = np.random.default_rng(seed).integers(-128, 128, (rows, cols)).astype(np.int8)
    base = at - at % dim
    want = np.zeros((dim, dim), np.int8)
    half = T.spad_rows // 2
    for i in range(rows):  # direct model of PixelRepeater: copy k of row i goes to row i - k, columns k*cols..
        for k in range(repeats - 1, -1, -1):
            dest = at + i - k
            if dest < (0 if at + i < half else half) or k * cols >= dim or not base <= dest < base + dim:
                continue
            c1 = min(dim, (k + 1) * cols)
            want[dest - base, k * cols:c1] = x[i, :c1 - k * cols]
    p = Program(T.name)
    src = p.add_tensor("src", (rows, cols), "int8", "input")
    out = p.add_tensor("out", (dim, dim), "int8", "output")
    zero = p.add_tensor("zero", (dim, dim), "int8", "input")
    p.emit(isa.config_ld(dim, block_stride=dim, which=1), isa.mvin(zero.addr, base, dim, dim, which=1),
           isa.config_ld(cols, block_stride=dim, pixel_repeats=repeats, which=0),
           isa.mvin(src.addr, at, rows, cols, which=0), isa.config_st(dim), isa.mvout(out.addr, base, dim, dim))
    res = sim.run(p, {"src": x, "zero": np.zeros((dim, dim), np.int8)}, T)
    np.testing.assert_array_equal(res.outputs["out"], want)


def test_config_ex_acc_scale_does_not_scale_mvout():
    # The library configures the execute unit with acc_scale = 0.0; only config_st's scale applies.
    layer = ConvLayer(1, 5, 5, 8, 8, 3, 3, stride=1, pad=1)
    program, _ = compile_layer(layer, T, seed=1)
    s = expand(program, T)
    from gemforge.backends.gemmini.decode import decode

    ex = [decode(f, a, b) for f, a, b in zip(s.funct.tolist(), s.rs1.tolist(), s.rs2.tolist())
          if f == isa.CONFIG and a & 3 == isa.CONFIG_EX]
    assert ex and all(e.acc_scale == 0.0 for e in ex)
    _, got, want, _ = _run(layer, 1)
    assert np.any(got != 0)
    np.testing.assert_array_equal(got, want)
