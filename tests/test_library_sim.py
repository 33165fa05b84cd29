"""The vendor-library baseline runs bit-exactly on the simulator (against numpy)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import pytest

from gemforge import sim
from gemforge.backends.gemmini.library import ConvTiling, MatmulTiling, compile_layer
from gemforge.backends.gemmini.library.matmul_tiling import padded_blocks
from gemforge.layers import ConvLayer, MatmulLayer
from gemforge.sim.errors import SimError
from gemforge.target import builtin, default

TARGETS = {"default": default(), "32x32": builtin("gemmini-32x32")}


def _conv_support() -> str | None:
    """None if the simulator runs LOOP_CONV_WS, else its reason (it is being written)."""
    program, _ = compile_layer(ConvLayer(1, 3, 3, 1, 1, 1, 1), default())
    try:
        sim.run(program, {"input": np.zeros((1, 3, 3, 1), np.int8)}, default(), timing=False)
    except SimError as e:
        if "not supported" in str(e):
            return str(e).rsplit(": ", 1)[-1]
    return None


_CONV_MISSING = _conv_support()
needs_conv = pytest.mark.skipif(_CONV_MISSING is not None, reason=f"simulator: {_CONV_MISSING}")


def _run(layer, target, seed, **kw):
    program, info = compile_layer(layer, target, seed=seed, **kw)
    x = np.random.default_rng(seed + 7).integers(-128, 128, size=layer.input_shape, dtype=np.int8)
    result = sim.run(program, {"input": x}, target, timing=False)
    return result.outputs["output"], info.expected(x), info


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 70), k=st.integers(1, 70), n=st.integers(1, 70), bias=st.booleans(),
       act=st.sampled_from(["none", "relu"]), data=st.data(), seed=st.integers(0, 1000))
def test_matmul_bit_exact_with_explicit_tiles(m, k, n, bias, act, data, seed):
    t = default()
    tiling = MatmulTiling(*(data.draw(st.integers(1, padded_blocks(x, t.dim)), label=lbl)
                            for lbl, x in (("tile_i", m), ("tile_j", n), ("tile_k", k))))
    got, want, _ = _run(MatmulLayer(m, k, n), t, seed, tiling=tiling, bias=bias, activation=act)
    np.testing.assert_array_equal(got, want)


@settings(max_examples=6, deadline=None)
@given(m=st.integers(1, 200), k=st.integers(1, 300), n=st.integers(1, 200), tname=st.sampled_from(sorted(TARGETS)),
       seed=st.integers(0, 1000))
def test_matmul_bit_exact_with_auto_tiles(m, k, n, tname, seed):
    got, want, _ = _run(MatmulLayer(m, k, n), TARGETS[tname], seed)
    np.testing.assert_array_equal(got, want)


@needs_conv
@settings(max_examples=20, deadline=None)
@given(hw=st.integers(3, 12), cin=st.integers(1, 40), cout=st.integers(1, 40), kernel=st.sampled_from([1, 2, 3]),
       stride=st.integers(1, 2), batch=st.integers(1, 2), bias=st.booleans(), act=st.sampled_from(["none", "relu"]),
       data=st.data(), seed=st.integers(0, 1000))
def test_conv_bit_exact_with_explicit_tiles(hw, cin, cout, kernel, stride, batch, bias, act, data, seed):
    pad = data.draw(st.integers(0, kernel - 1), label="pad")
    layer = ConvLayer(batch, hw, hw, cin, cout, kernel, kernel, stride=stride, pad=pad)
    d = data.draw
    tiling = ConvTiling(batches=d(st.integers(1, batch)), porows=d(st.integers(1, layer.out_h)),
                        pocols=d(st.integers(1, layer.out_w)), pochs=d(st.integers(1, cout)),
                        krows=d(st.integers(1, kernel)), kcols=d(st.integers(1, kernel)), kchs=d(st.integers(1, cin)))
    got, want, _ = _run(layer, default(), seed, tiling=tiling, bias=bias, activation=act)
    np.testing.assert_array_equal(got, want)


@needs_conv
@settings(max_examples=6, deadline=None)
@given(hw=st.integers(4, 20), cin=st.integers(1, 70), cout=st.integers(1, 70), kernel=st.sampled_from([1, 3]),
       stride=st.integers(1, 2), tname=st.sampled_from(sorted(TARGETS)), seed=st.integers(0, 1000))
def test_conv_bit_exact_with_auto_tiles(hw, cin, cout, kernel, stride, tname, seed):
    layer = ConvLayer(1, hw, hw, cin, cout, kernel, kernel, stride=stride, pad=kernel // 2)
    got, want, _ = _run(layer, TARGETS[tname], seed)
    np.testing.assert_array_equal(got, want)


@needs_conv
def test_strided_1x1_conv_takes_the_downsample_path_and_is_exact():
    layer = ConvLayer(1, 8, 8, 24, 20, 1, 1, stride=2, pad=0)
    got, want, info = _run(layer, default(), 3)
    np.testing.assert_array_equal(got, want)


@needs_conv
@settings(max_examples=6, deadline=None)
@given(hw=st.integers(3, 10), ch=st.integers(1, 20), kernel=st.sampled_from([3, 5]), stride=st.integers(1, 2),
       act=st.sampled_from(["none", "relu"]), seed=st.integers(0, 1000))
def test_depthwise_bit_exact(hw, ch, kernel, stride, act, seed):
    if hw + 2 * (kernel // 2) < kernel:
        return
    layer = ConvLayer(1, hw, hw, ch, ch, kernel, kernel, stride=stride, pad=kernel // 2, groups=ch)
    got, want, _ = _run(layer, default(), seed, activation=act)
    np.testing.assert_array_equal(got, want)


def test_timing_run_reports_cycles():
    program, info = compile_layer(MatmulLayer(64, 64, 64), default())
    x = np.ones((64, 64), np.int8)
    result = sim.run(program, {"input": x}, default())
    np.testing.assert_array_equal(result.outputs["output"], info.expected(x))
    assert result.cycles > 64 * 64 * 64 // (16 * 16)


@needs_conv
@pytest.mark.parametrize("layer, pool", [(MatmulLayer(100, 70, 90), (1, 0, 0)),
                                         (ConvLayer(1, 14, 14, 40, 24, 3, 3, stride=1, pad=1), (3, 2, 1)),
                                         (ConvLayer(1, 8, 8, 24, 20, 1, 1, stride=2, pad=0), (1, 0, 0))])
def test_skipping_the_arithmetic_keeps_the_cycles(layer, pool):
    # network_pool compares candidate programs by cycles alone and skips the matmuls.
    kw = {"pool": pool} if isinstance(layer, ConvLayer) else {}
    program, _ = compile_layer(layer, default(), **kw)
    x = np.random.default_rng(5).integers(-128, 128, size=layer.input_shape, dtype=np.int8)
    full = sim.run(program, {"input": x}, default())
    fast = sim.run(program, {"input": x}, default(), arithmetic=False, allow_uninitialized=True)
    assert fast.cycles == full.cycles and fast.busy == full.busy
    assert not np.array_equal(fast.outputs["output"], full.outputs["output"])  # the matmuls really were skipped
