"""The gemmini dialect from Python: builders, read-back, verifier, exact round trips."""

from __future__ import annotations

import math
import struct
from io import StringIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xdsl.dialects.arith import ConstantOp
from xdsl.dialects.builtin import IndexType, IntegerAttr, ModuleOp, i64
from xdsl.dialects import test as xdsl_test
from xdsl.ir import Block, Region
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from gemforge.dialects import gemmini, get_all_dialects
from gemforge.dialects.gemmini import (
    Activation,
    ComputeAccumulatedOp,
    ComputePreloadedOp,
    ConfigExOp,
    ConfigLdOp,
    ConfigStOp,
    Dataflow,
    FenceOp,
    FlushOp,
    Local,
    LoopConvWsOp,
    LoopWsOp,
    Mvin2Op,
    Mvin3Op,
    MvinOp,
    MvoutOp,
    PreloadOp,
    Space,
)
from gemforge.dialects.gemmini_base import GemminiOp
from gemforge.testing import parse, print_ir

CONV_SIZES = dict(
    batch_size=1, in_row_dim=8, in_col_dim=8, in_channels=16, out_channels=32,
    out_row_dim=8, out_col_dim=8, pool_out_row_dim=8, pool_out_col_dim=8, kernel_dim=3,
    batches=1, porows=8, pocols=8, pochs=32, krows=3, kcols=3, kchs=16, orows=8, ocols=8,
    in_stride=16, weight_stride=32, out_stride=32,
)  # fmt: skip


@pytest.fixture
def values():
    """A test op yielding a DRAM address (i64) and two local rows (index)."""
    return xdsl_test.TestOp(result_types=[i64, IndexType(), IndexType()])


def round_trip(*ops):
    """Print the ops in a module (custom and generic syntax), parse both back, compare.

    Returns the gemmini ops parsed from the custom syntax.
    """
    module = ModuleOp(Region(Block(list(ops))))
    module.verify()
    text = print_ir(module)
    back = parse(text)
    assert print_ir(back) == text
    generic = StringIO()
    Printer(stream=generic, print_generic_format=True).print_op(module)
    assert print_ir(parse(generic.getvalue())) == text
    return [op for op in back.walk() if isinstance(op, GemminiOp)]


def test_registry_gives_the_dialect_with_every_op():
    dialect = get_all_dialects()["gemmini"]()
    assert dialect is gemmini.Gemmini
    names = {op.name for op in dialect.operations}
    assert names == {op.name for op in gemmini.OPS}
    assert len(names) == 14


def test_funct_numbers_follow_the_isa():
    functs = {op.name.split(".")[1]: op.FUNCT for op in gemmini.OPS}
    assert functs == {
        "config_ex": 0, "config_ld": 0, "config_st": 0, "mvin": 2, "mvin2": 1, "mvin3": 14,
        "mvout": 3, "preload": 6, "compute_preloaded": 4, "compute_accumulated": 5,
        "flush": 7, "fence": None, "loop_ws": 8, "loop_conv_ws": 15,
    }  # fmt: skip
    assert LoopWsOp.CONFIG_FUNCTS == (9, 10, 11, 12, 13)
    assert LoopConvWsOp.CONFIG_FUNCTS == (16, 17, 18, 19, 20, 21)
    assert [ConfigExOp.CONFIG_KIND, ConfigLdOp.CONFIG_KIND, ConfigStOp.CONFIG_KIND] == [0, 1, 2]
    assert {n: op.STATE_ID for n, op in gemmini.MVIN_BY_ID.items()} == {0: 0, 1: 1, 2: 2}


def test_config_ops_build_and_read_back():
    ex = ConfigExOp(dataflow="ws", activation="relu", acc_scale=0.5, transpose_b=True)
    assert (ex.dataflow, ex.activation, ex.acc_scale) == (Dataflow.WS, Activation.RELU, 0.5)
    assert (ex.a_stride, ex.c_stride, ex.in_shift) == (1, 1, 0)
    assert (ex.transpose_a, ex.transpose_b, ex.set_only_strides) == (False, True, False)
    ld = ConfigLdOp(stride=64, block_stride=16, id=2, scale=0.25, shrunk=True, pixel_repeats=3)
    assert (ld.stride, ld.block_stride, ld.id, ld.scale, ld.shrunk, ld.pixel_repeats) == (
        64, 16, 2, 0.25, True, 3,
    )  # fmt: skip
    store = ConfigStOp(stride=16, activation=Activation.RELU, pool_stride=2, pool_size=3, ocols=9)
    assert (store.stride, store.activation, store.pool_stride, store.pool_size) == (
        16, Activation.RELU, 2, 3,
    )  # fmt: skip
    assert (store.scale, store.ocols, store.orows, store.upad) == (1.0, 9, 0, 0)
    flush, fence = FlushOp(skip=True), FenceOp()
    assert flush.skip and not FlushOp().skip
    for op in (ex, ld, store, flush, fence):
        op.verify()
    assert [o.field_values() for o in round_trip(ex, ld, store, flush, fence)] == [
        o.field_values() for o in (ex, ld, store, flush, fence)
    ]


def test_move_ops_build_and_read_back(values):
    dram, row, _ = values.results
    mvin = MvinOp(dram, row, space="spad", rows=16, cols=64)
    assert (mvin.space, mvin.rows, mvin.cols, mvin.accumulate) == (Space.SPAD, 16, 64, False)
    assert mvin.dram_addr is dram and mvin.row is row
    assert mvin.dst == Local.spad(row, 16, 64)
    mvin2 = Mvin2Op(dram_addr=dram, dst=Local.acc(row, 4, 16, accumulate=True))
    assert (mvin2.space, mvin2.accumulate, mvin2.rows) == (Space.ACC, True, 4)
    mvin3 = Mvin3Op(dram, row, space=Space.ACC, rows=1, cols=16)
    mvout = MvoutOp(dram, row, space="acc", rows=16, cols=16, read_full=True)
    assert mvout.src == Local.acc(row, 16, 16, read_full=True)
    ops = [mvin, mvin2, mvin3, mvout]
    for op in ops:
        op.verify()
    back = round_trip(values, *ops)
    assert [o.field_values() for o in back] == [o.field_values() for o in ops]
    assert [type(o) for o in back] == [MvinOp, Mvin2Op, Mvin3Op, MvoutOp]


def test_execute_ops_with_garbage_addresses(values):
    _, a, c = values.results
    pre = PreloadOp(Local.garbage(16, 16), Local.acc(c, 16, 16, accumulate=True))
    assert pre.bd.is_garbage and pre.bd_row is None and pre.bd_space == Space.GARBAGE
    assert pre.c == Local.acc(c, 16, 16, accumulate=True) and pre.c_accumulate
    comp = ComputePreloadedOp(a=Local.spad(a, 8, 16), bd=Local.garbage(16, 16))
    assert (comp.a_rows, comp.a_cols, comp.bd.is_garbage) == (8, 16, True)
    acc = ComputeAccumulatedOp(Local.spad(a, 16, 16), Local.acc(c, 16, 16, read_full=True))
    assert acc.bd_read_full and acc.bd_row is c
    ops = [pre, comp, acc]
    for op in ops:
        op.verify()
    assert [o.field_values() for o in round_trip(values, *ops)] == [o.field_values() for o in ops]


def test_loop_ops_build_and_read_back(values):
    dram = values.results[0]
    ws = LoopWsOp(dram, dram, c=dram, i=4, j=3, k=2, pad_k=5, a_stride=64, b_stride=48,
                  c_stride=48, full_c=True, activation="relu", a_spad_id=1)  # fmt: skip
    assert ws.d is None and ws.c is dram
    assert (ws.i, ws.j, ws.k, ws.pad_i, ws.pad_k) == (4, 3, 2, 0, 5)
    assert (ws.full_c, ws.low_d) == (True, False)
    assert (ws.a_stride, ws.d_stride, ws.activation, ws.a_spad_id) == (64, 0, Activation.RELU, 1)
    conv = LoopConvWsOp(weights=dram, output=dram, input=dram, no_bias=True, stride=2, **CONV_SIZES)
    assert conv.bias is None and conv.stride == 2 and conv.kernel_dilation == 1
    assert conv.field_values()["pochs"] == 32 and conv.max_pixels_per_row == 1
    biased = LoopConvWsOp(dram, dram, dram, dram, dw=True, **CONV_SIZES)
    assert biased.bias is dram and biased.dw and not biased.no_bias
    ops = [ws, conv, biased]
    for op in ops:
        op.verify()
    back = round_trip(values, *ops)
    assert [o.field_values() for o in back] == [o.field_values() for o in ops]
    assert back[0].d is None and back[1].bias is None and back[2].bias is not None


def test_field_maxima_are_the_encodings_limits():
    # config_st pool fields: 2-bit stride, size and padding, 8-bit dimensions (rs1 layout).
    limits = ConfigStOp.field_maxima()
    assert (limits["pool_stride"], limits["pool_size"], limits["upad"], limits["pool_out_dim"]) == (3, 3, 3, 255)
    assert "activation" not in limits and "scale" not in limits  # only unsigned fields have a maximum
    assert ConfigLdOp.field_maxima()["id"] == 2  # three move-in ids
    ConfigStOp(stride=16, pool_stride=2, pool_size=limits["pool_size"], porows=limits["porows"]).verify()


def test_builder_errors():
    with pytest.raises(TypeError, match="missing field 'dataflow'"):
        ConfigExOp()
    with pytest.raises(TypeError, match="unknown field"):
        ConfigStOp(stride=1, pooling=2)
    with pytest.raises(ValueError, match="wants one of os, ws"):
        ConfigExOp(dataflow="diagonal")
    with pytest.raises(TypeError, match="wants an int"):
        ConfigLdOp(stride=1.5, block_stride=16)
    with pytest.raises(TypeError, match="missing operand 'row'"):
        MvinOp(xdsl_test.TestOp(result_types=[i64]).results[0], None, space="spad", rows=1, cols=1)
    with pytest.raises(TypeError, match="at most 0 positional"):
        FlushOp(True)
    with pytest.raises(ValueError, match="does not fit an i64"):
        ConfigLdOp(stride=1 << 63, block_stride=16)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda d, r: ConfigExOp(dataflow="ws", a_stride=1 << 16), "a_stride = 65536 is outside"),
        (lambda d, r: ConfigLdOp(stride=1, block_stride=1, id=3), "id = 3 is outside [0, 2]"),
        (lambda d, r: ConfigStOp(stride=1, scale=float("nan")), "scale must be a finite f32"),
        (lambda d, r: MvinOp(d, r, space="spad", rows=0, cols=1), "rows = 0 is outside"),
        (lambda d, r: MvinOp(d, r, space="spad", rows=1, cols=1, accumulate=True), "'accumulate'"),
        (lambda d, r: MvoutOp(d, r, space="spad", rows=1, cols=1, read_full=True), "'full'"),
        (lambda d, r: PreloadOp(Local.acc(r, 1, 1, accumulate=True), Local.garbage(1, 1)),
         "'accumulate' needs a written accumulator address (B/D address)"),
        (lambda d, r: ComputePreloadedOp(Local.garbage(1, 1), Local.garbage(1, 1)),
         "missing operand 'a_row'"),
        (lambda d, r: LoopWsOp(d, d, i=0, j=1, k=1, a_stride=1, b_stride=1), "i = 0 is outside"),
        (lambda d, r: LoopConvWsOp(d, d, None, d, **CONV_SIZES), "needs 'no_bias'"),
    ],
)  # fmt: skip
def test_verifier_errors(values, build, message):
    dram, row, _ = values.results
    try:
        op = build(dram, row)
    except TypeError as e:  # builders reject what cannot even be built
        assert message in str(e)
        return
    with pytest.raises(VerifyException) as info:
        op.verify()
    assert message in str(info.value)


def test_constant_rows_are_range_checked():
    big = ConstantOp(IntegerAttr(1 << gemmini.ROW_BITS, IndexType()))
    ok = ConstantOp(IntegerAttr((1 << gemmini.ROW_BITS) - 1, IndexType()))
    dram = xdsl_test.TestOp(result_types=[i64]).results[0]
    MvinOp(dram, ok, space="acc", rows=1, cols=1).verify()
    with pytest.raises(VerifyException, match="row 67108864 is outside"):
        MvinOp(dram, big, space="acc", rows=1, cols=1).verify()
    garbage_row = PreloadOp.make({"bd_row": ok}, PreloadOp.SLOTS[0].values(Local.garbage(1, 1))
                                 | PreloadOp.SLOTS[1].values(Local.garbage(1, 1)))  # fmt: skip
    with pytest.raises(VerifyException, match="garbage B/D address takes no row operand"):
        garbage_row.verify()


# ---- property tests: every representable field value survives print -> parse exactly ----


def _f32(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits))[0]


#: Every finite f32 bit pattern (subnormals, -0.0 and the extremes included).
finite_f32 = st.integers(0, 0xFFFFFFFF).map(_f32).filter(math.isfinite)


def field_values(op_type: type[GemminiOp], draw, skip=()) -> dict:
    """Random in-range values for every keyword field of ``op_type``."""
    out = {}
    for f in op_type.FIELDS:
        if f.name in skip:
            continue
        if f.kind == "uint":
            out[f.name] = draw(st.integers(f.minimum, f.maximum))
        elif f.kind == "flag":
            out[f.name] = draw(st.booleans())
        elif f.kind == "f32":
            out[f.name] = draw(finite_f32)
        else:
            out[f.name] = draw(st.sampled_from(list(f.enum)))
    return out


@st.composite
def locals_(draw, row, garbage_ok: bool, writes: bool, reads: bool):
    space = draw(st.sampled_from([Space.SPAD, Space.ACC] + ([Space.GARBAGE] if garbage_ok else [])))
    rows, cols = draw(st.integers(1, 0xFFFF)), draw(st.integers(1, 0xFFFF))
    if space == Space.GARBAGE:
        return Local.garbage(rows, cols)
    acc = space == Space.ACC
    return Local(space, row, rows, cols, acc and writes and draw(st.booleans()),
                 acc and reads and draw(st.booleans()))  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_random_ops_round_trip_exactly(data):
    src = xdsl_test.TestOp(result_types=[i64, IndexType(), IndexType()])
    dram, r1, r2 = src.results
    draw = data.draw
    ops = [
        ConfigExOp(**field_values(ConfigExOp, draw)),
        ConfigLdOp(**field_values(ConfigLdOp, draw)),
        ConfigStOp(**field_values(ConfigStOp, draw)),
        FlushOp(**field_values(FlushOp, draw)),
        MvinOp(dram, dst=draw(locals_(r1, False, True, False))),
        MvoutOp(dram, src=draw(locals_(r2, False, False, True))),
        PreloadOp(draw(locals_(r1, True, False, True)), draw(locals_(r2, True, True, True))),
        ComputeAccumulatedOp(
            draw(locals_(r1, False, False, True)), draw(locals_(r2, True, False, True))
        ),
        LoopWsOp(dram, dram, dram, dram, **field_values(LoopWsOp, draw)),
        LoopConvWsOp(dram, dram, dram, dram, **field_values(LoopConvWsOp, draw)),
    ]
    back = round_trip(src, *ops)
    assert [o.field_values() for o in back] == [o.field_values() for o in ops]


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_out_of_range_fields_never_verify(data):
    with_uints = [ConfigExOp, ConfigLdOp, ConfigStOp, LoopWsOp, LoopConvWsOp]
    op_type = data.draw(st.sampled_from(with_uints))
    uints = [f for f in op_type.FIELDS if f.kind == "uint"]
    bad = data.draw(st.sampled_from(uints))
    too_big = st.integers(bad.maximum + 1, min(bad.maximum + 1000, (1 << 63) - 1))
    too_small = st.integers(bad.minimum - 1000, bad.minimum - 1)
    wrong = data.draw(too_big if bad.maximum < (1 << 63) - 1 else too_small)
    kwargs = field_values(op_type, data.draw) | {bad.name: wrong}
    dram = xdsl_test.TestOp(result_types=[i64]).results[0]
    operands = {"LoopWsOp": (dram, dram), "LoopConvWsOp": (dram, dram, dram, dram)}
    op = op_type(*operands.get(op_type.__name__, ()), **kwargs)
    with pytest.raises(VerifyException, match=f"{bad.name} = {wrong} is outside"):
        op.verify()


@pytest.mark.parametrize("scale", [2044107.0, -2044107.0, 123456792.0])
def test_a_scale_printed_as_its_bits_parses_back(scale):
    # xDSL prints an f32 whose nine significant digits have no '.' as its bits (0x...)
    text = print_ir(parse(f"gemmini.config_st stride 0 scale {scale}"))
    value = struct.unpack("<f", struct.pack("<f", scale))[0]
    assert "0x" in text and print_ir(parse(text)) == text
    op = next(o for o in parse(text).walk() if isinstance(o, ConfigStOp))
    assert op.field_values()["scale"] == value


def test_too_many_bits_for_an_f32_scale_is_an_error():
    with pytest.raises(Exception, match="is not the bits of an f32"):
        parse("gemmini.config_st stride 0 scale 0x1FFFFFFFF")
