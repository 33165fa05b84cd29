"""The vendor-library baseline's instruction streams (structure; bit-exactness is in
tests/test_library_sim.py)."""

from __future__ import annotations

import numpy as np
import pytest

from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.library import (
    ConvTiling, MatmulTiling, TilingError, compile_layer,
)
from gemforge.backends.gemmini.program import Program
from gemforge.errors import GemforgeError
from gemforge.layers import ConvLayer, MatmulLayer
from gemforge.target import default


def _decoded(program: Program, funct: int):
    return [isa.decode(x.funct, x.rs1, x.rs2) for x in program.items if isinstance(x, isa.Insn) and x.funct == funct]


def test_matmul_stream_has_one_loop_ws_per_tile_bias_first_output_last():
    t = default()
    layer = MatmulLayer(100, 300, 90)
    program, info = compile_layer(layer, t, MatmulTiling(3, 2, 4))
    n_i, n_j, n_k = 3, 3, 5  # ceil(7/3), ceil(6/2), ceil(19/4) blocks
    assert info.tiles == n_i * n_j * n_k
    starts = _decoded(program, isa.LOOP_WS)
    dcs = _decoded(program, isa.LOOP_WS_CONFIG_ADDRS_DC)
    bounds = _decoded(program, isa.LOOP_WS_CONFIG_BOUNDS)
    assert len(starts) == len(dcs) == len(bounds) == info.tiles
    bias, out = program.tensor("bias"), program.tensor("output")
    for idx, (dc, bd) in enumerate(zip(dcs, bounds)):
        i0, j0, k0 = idx // (n_j * n_k), (idx // n_k) % n_j, idx % n_k
        assert (dc.D != 0) == (k0 == 0)
        if k0 == 0:
            assert dc.D == bias.addr + j0 * 2 * t.dim * 4
        assert (dc.C != 0) == (k0 == n_k - 1)
        if dc.C:
            assert dc.C == out.addr + i0 * 3 * t.dim * 90 + j0 * 2 * t.dim
        # Edge tiles are the remainder, and only they carry the padding.
        assert (bd.I, bd.pad_I) == ((1, 12) if i0 == 2 else (3, 0))
        assert (bd.K, bd.pad_K) == ((3, 4) if k0 == 4 else (4, 0))
    assert all(s.ex_accumulate for s in starts)  # with a bias every tile accumulates onto D
    assert program.items[-1].funct == isa.FENCE


def test_matmul_without_bias_overwrites_on_the_first_k_tile():
    program, info = compile_layer(MatmulLayer(32, 64, 32), default(), MatmulTiling(2, 2, 2), bias=False)
    starts = _decoded(program, isa.LOOP_WS)
    assert [s.ex_accumulate for s in starts] == [0, 1]
    assert "bias" not in program.tensors


def test_operand_reuse_follows_the_library_rule():
    # B spans J0*K0 = 1*2 tiles: reusable, so only the first row of I tiles loads B;
    # the two K tiles of B live in spad regions 1 and 2.
    program, _ = compile_layer(MatmulLayer(256, 32, 32), default(), MatmulTiling(2, 2, 1))
    ab = _decoded(program, isa.LOOP_WS_CONFIG_ADDRS_AB)
    starts = _decoded(program, isa.LOOP_WS)
    assert [x.B != 0 for x in ab] == [True, True] + [False] * 14
    assert [s.b_spad_id for s in starts] == [1, 2] * 8
    assert all(x.A != 0 for x in ab) and all(s.a_spad_id == 0 for s in starts)  # A spans 8*2 tiles
    program, _ = compile_layer(MatmulLayer(256, 32, 32), default(), MatmulTiling(2, 2, 1), operand_reuse=False)
    assert all(x.B != 0 for x in _decoded(program, isa.LOOP_WS_CONFIG_ADDRS_AB))


def test_conv_stream_walks_tiles_in_library_order():
    t = default()
    layer = ConvLayer(1, 12, 12, 40, 24, 3, 3, stride=1, pad=1)
    tiling = ConvTiling(batches=1, porows=5, pocols=12, pochs=16, krows=2, kcols=3, kchs=32)
    program, info = compile_layer(layer, t, tiling)
    # 3 row tiles x 1 col tile x 2 och tiles x 2 krow tiles x 1 kcol tile x 2 kch tiles
    assert info.tiles == 3 * 2 * 2 * 2
    c1 = _decoded(program, isa.LOOP_CONV_WS_CONFIG_1)
    c3 = _decoded(program, isa.LOOP_CONV_WS_CONFIG_3)
    c5 = _decoded(program, isa.LOOP_CONV_WS_CONFIG_5)
    c6 = _decoded(program, isa.LOOP_CONV_WS_CONFIG_6)
    assert len(c1) == len(c3) == len(c5) == len(c6) == info.tiles
    firsts = [(c6_.bias != 0) for c6_ in c6]
    lasts = [(c5_.output != 0) for c5_ in c5]
    # Innermost order kch, then krow: only (krow 0, kch 0) has the bias, only (krow 2, kch 32) the output.
    assert firsts == [True, False, False, False] * 6
    assert lasts == [False, False, False, True] * 6
    # The first row tile starts above the image: one row of top padding, none at the bottom.
    assert (c3[0].upad, c3[0].lpad, c3[0].rpad) == (1, 1, 1)
    assert c3[-1].dpad == 1 and c3[-1].upad == 0


def test_depthwise_uses_one_channel_per_tile():
    layer = ConvLayer(1, 8, 8, 4, 4, 3, 3, pad=1, groups=4)
    program, info = compile_layer(layer, default())
    starts = _decoded(program, isa.LOOP_CONV_WS)
    assert info.tiles == 4 and all(s.dw for s in starts)
    w = program.tensor("weights")
    assert w.shape == (4, 3, 3)
    np.testing.assert_array_equal(w.data[2], info.weights[:, :, 0, 2])


def test_bad_requests_are_one_line_errors():
    t = default()
    with pytest.raises(TilingError, match="layer mm: tiling"):
        compile_layer(MatmulLayer(16, 16, 16, name="mm"), t, MatmulTiling(2, 1, 1))
    with pytest.raises(TilingError, match="needs a ConvTiling"):
        compile_layer(ConvLayer(1, 8, 8, 4, 4, 3, 3), t, MatmulTiling(1, 1, 1))
    with pytest.raises(GemforgeError, match="weights have shape"):
        compile_layer(MatmulLayer(16, 16, 16), t, weights=np.zeros((3, 3), np.int8))
    with pytest.raises(GemforgeError, match="grouped conv"):
        compile_layer(ConvLayer(1, 8, 8, 4, 8, 3, 3, groups=2), t)
    with pytest.raises(GemforgeError, match="activation"):
        compile_layer(MatmulLayer(16, 16, 16), t, activation="gelu")


def test_an_explicit_1x1_pool_turns_the_strided_1x1_shortcut_off_in_tiling_and_stream_alike():
    # tiled_conv downsamples a strided 1x1 conv only without pooling (pool_stride == 0);
    # a 1x1 pool of stride 1 is pooling. The tile sizes and the emitted loops must agree,
    # or the tile is sized for half the input rows the loop moves in.
    t = default()
    layer = ConvLayer(1, 28, 28, 512, 1024, 1, 1, stride=2, pad=0)
    shortcut, plain = compile_layer(layer, t, bias=False)
    pooled, pooled_info = compile_layer(layer, t, bias=False, pool=(1, 1, 0))
    _, without = compile_layer(layer, t, bias=False, downsample=False)
    assert all(s.downsample for s in _decoded(shortcut, isa.LOOP_CONV_WS))
    assert not any(s.downsample for s in _decoded(pooled, isa.LOOP_CONV_WS))
    assert pooled_info.tiling == without.tiling != plain.tiling
