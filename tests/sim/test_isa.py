"""ISA encoding: hand-checked bit patterns from gemmini.h and encode/decode round trips."""

import pytest
from hypothesis import given, settings, strategies as st

from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.affine import Affine
from gemforge.backends.gemmini.decode import LAYOUTS, decode


def test_mvin_matches_gemmini_h_formula():
    # gemmini_extended_mvin: rs2 = rows << (ADDR_LEN + 16) | cols << ADDR_LEN | spad_addr
    insn = isa.mvin(0x8000_1000, 0x123, rows=16, cols=64)
    assert insn == (isa.MVIN, 0x8000_1000, (16 << 48) | (64 << 32) | 0x123)
    assert isa.mvin(0, 0, 1, 1, which=1).funct == 1 and isa.mvin(0, 0, 1, 1, which=2).funct == 14


def test_config_words_match_gemmini_h():
    # gemmini_extended3_config_ex(WS, RELU, 3, 0.5, 2, 7, 1, 0, 0)
    rs1 = (0x3F000000 << 32) | (7 << 16) | (0 << 9) | (1 << 8) | (1 << 3) | (1 << 2) | 0
    assert isa.config_ex(1, 1, 7, 0.5, True, False, 2, 3) == (0, rs1, (2 << 48) | 3)
    # gemmini_extended5_config_ld(64, 2.0, 1, 16, 1, 2)
    rs1 = (0x40000000 << 32) | (16 << 16) | (1 << 8) | (2 << 3) | (1 << 2) | 1
    assert isa.config_ld(64, 2.0, True, 16, 1, 2) == (0, rs1, 64)
    # gemmini_extended2_config_st(128, RELU, 0.25, 2, 3, 5, 4, 4, 8, 8, 1, 1)
    rs1 = (8 << 56) | (8 << 48) | (4 << 40) | (4 << 32) | (5 << 24) | (1 << 10) | (1 << 8) | (3 << 6) | (2 << 4) | (1 << 2) | 2
    got = isa.config_st(128, act=1, scale=0.25, pool_stride=2, pool_size=3, pool_out_dim=5, porows=4, pocols=4,
                        orows=8, ocols=8, upad=1, lpad=1)
    assert got == (0, rs1, (0x3E800000 << 32) | 128)


def test_preload_compute_and_addresses():
    assert isa.acc(5, accumulate=True) == 0xC0000005
    assert isa.acc(5, read_full=True) == 0xA0000005
    pre = isa.preload(isa.GARBAGE, isa.acc(0), 16, 16, 4, 8)
    assert pre == (6, (16 << 48) | (16 << 32) | 0xFFFFFFFF, (4 << 48) | (8 << 32) | 0x80000000)
    comp = isa.compute(0x10, isa.GARBAGE, 4, 16, 16, 16, preloaded=False)
    assert comp.funct == isa.COMPUTE_ACCUMULATED


def test_loop_ws_words():
    words = isa.loop_ws(2, 3, 4, 1, 2, 3, 0xA, 0xB, 0xD, 0xC, 10, 11, 12, 13, 0, 1, 1, 0, 1, act=1)
    assert [w.funct for w in words] == [9, 10, 11, 12, 13, 8]
    assert words[0] == (9, (3 << 32) | (2 << 16) | 1, (4 << 32) | (3 << 16) | 2)
    assert words[5] == (8, (1 << 8) | (1 << 1) | 1, 1 << 1)


def test_loop_conv_ws_words():
    args = {name: 0 for name in isa.LOOP_CONV_ARGS}
    args.update(batch_size=1, in_row_dim=9, in_channels=3, out_channels=17, stride=2, weights=0x1000, input=0x2000,
                no_bias=1, activation=1, in_col_dim=7)
    words = isa.loop_conv_ws(**args)
    assert [w.funct for w in words] == [16, 17, 18, 19, 20, 21, 15]
    assert words[0].rs1 == (17 << 48) | (3 << 32) | (9 << 16) | 1
    assert words[0].rs2 == 2 << 48
    assert words[2].rs2 == 7
    assert words[4] == (20, 0x1000, 0) and words[5] == (21, 0, 0x2000)
    assert words[6] == (15, 1, 1 << 3)


def test_encoders_accept_affine_operands():
    i = Affine.var(0)
    insn = isa.mvin(0x1000 + i * 64, isa.spad(i * 16), 16, 16)
    assert insn.rs1.evaluate({0: 3}) == 0x1000 + 192
    assert insn.rs2.evaluate({0: 3}) == (16 << 48) | (16 << 32) | 48


def test_field_overflow_is_an_error():
    with pytest.raises(isa.IsaError, match="rows"):
        isa.mvin(0, 0, 1 << 16, 1)
    with pytest.raises(isa.IsaError, match="block_stride"):
        isa.config_ld(16)


def test_decode_errors():
    with pytest.raises(isa.IsaError, match="unknown funct 99"):
        decode(99, 0, 0)
    with pytest.raises(isa.IsaError, match="unused bits"):
        decode(isa.LOOP_WS, 1 << 40, 0)


_field_values = st.data()


@settings(max_examples=200, deadline=None)
@given(kind=st.sampled_from(sorted(LAYOUTS)), data=st.data())
def test_decode_encode_round_trip(kind, data):
    funct = {"mvin": isa.MVIN, "config_ex": 0, "config_ld": 0, "config_st": 0, "config_norm": 0}.get(kind)
    if funct is None:
        from gemforge.backends.gemmini.decode import KIND_OF_FUNCT
        funct = next(f for f, k in KIND_OF_FUNCT.items() if k == kind)
    regs = [0, 0, 0]
    fields = {}
    for name, reg, shift, width in LAYOUTS[kind]:
        if name == "cmd":
            v = {"config_ex": 0, "config_ld": 1, "config_st": 2, "config_norm": 3}[kind]
        else:
            v = data.draw(st.integers(0, (1 << width) - 1), label=name)
        fields[name] = v
        regs[reg] |= v << shift
    rec = decode(funct, regs[1], regs[2])
    assert rec.kind == kind and rec.fields == fields
    assert rec.encode() == (funct, regs[1], regs[2])


@settings(max_examples=100, deadline=None)
@given(rows=st.integers(1, 0xFFFF), cols=st.integers(1, 0xFFFF), local=st.integers(0, 0xFFFFFFFF),
       dram=st.integers(0, (1 << 64) - 1), which=st.integers(0, 2))
def test_mvin_round_trip(rows, cols, local, dram, which):
    rec = decode(*isa.mvin(dram, local, rows, cols, which))
    assert (rec.dram_addr, rec.local, rec.rows, rec.cols, rec.which) == (dram, local, rows, cols, which)


@settings(max_examples=100, deadline=None)
@given(scale=st.floats(width=32, allow_nan=False), stride=st.integers(0, 0xFFFF), df=st.integers(0, 1))
def test_config_scale_round_trip(scale, stride, df):
    assert decode(*isa.config_ld(stride, scale, block_stride=16)).scale == scale
    assert decode(*isa.config_st(stride, scale=scale)).scale == scale
    assert decode(*isa.config_ex(df, acc_scale=scale)).acc_scale == scale
