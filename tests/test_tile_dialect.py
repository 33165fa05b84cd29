"""The tile dialect from Python: builders, read-back, verifier errors, memory spaces."""

from __future__ import annotations

import io
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xdsl.builder import ImplicitBuilder
from xdsl.context import Context
from xdsl.dialects import arith, func, scf, test
from xdsl.dialects.builtin import Builtin, IndexType, ModuleOp, f32, i8, i32
from xdsl.ir import Block, Region
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from gemforge.dialects import get_all_dialects
from gemforge.dialects.tile import (
    Activation,
    AllocOp,
    FenceOp,
    LoadOp,
    MatmulOp,
    MemorySpace,
    Pool,
    SpaceAttr,
    StoreOp,
    Tile,
    View,
    buffer_rows,
    buffer_type,
    defining_allocs,
    element_position,
    memory_space,
    static_int,
)


def context() -> Context:
    ctx = Context()
    for dialect in (Builtin, func.Func, arith.Arith, scf.Scf, test.Test, Tile):
        ctx.load_dialect(dialect)
    return ctx


def text(op) -> str:
    out = io.StringIO()
    Printer(stream=out).print_op(op)
    return out.getvalue()


def generic_text(op) -> str:
    out = io.StringIO()
    Printer(stream=out, print_generic_format=True).print_op(op)
    return out.getvalue()


def index(value: int) -> arith.ConstantOp:
    return arith.ConstantOp.from_int_and_width(value, IndexType())


def dram(shape, elem=i8):
    return test.TestOp(result_types=[buffer_type(shape, elem, MemorySpace.DRAM)])


# Memory spaces and buffer layout -------------------------------------------------------------


def test_registry_returns_the_tile_dialect():
    assert get_all_dialects()["tile"]() is Tile
    assert {op.name for op in Tile.operations} == {"tile.alloc", "tile.load", "tile.store", "tile.matmul", "tile.fence"}


@pytest.mark.parametrize("space", list(MemorySpace))
def test_memory_space_attribute_round_trips_inside_a_memref(space):
    typ = buffer_type([32, 64], i8, space)
    assert str(typ) == f"memref<32x64xi8, #tile.space<{space.value}>>"
    parsed = Parser(context(), str(typ)).parse_attribute()
    assert parsed == typ
    assert memory_space(parsed) is space
    assert SpaceAttr(space.value).kind is space


def test_unknown_memory_space_is_rejected():
    with pytest.raises(ValueError):
        SpaceAttr("l2")
    assert memory_space(buffer_type([4, 4], i8, "spad").element_type) is None


@pytest.mark.parametrize(
    ("shape", "dim", "rows"),
    [((32, 64), 16, 128), ((32, 20), 16, 64), ((1, 5, 5, 16), 16, 25), ((3, 3, 16, 32), 16, 288), ((8, 16), 32, 8)],
)
def test_buffer_rows(shape, dim, rows):
    assert buffer_rows(buffer_type(shape, i8, "spad"), dim) == rows
    assert AllocOp.get(shape, i8, "spad").rows(dim) == rows


@settings(max_examples=60, deadline=None)
@given(
    shape=st.lists(st.integers(1, 6), min_size=2, max_size=4),
    dim=st.sampled_from([1, 2, 4, 8, 16]),
)
def test_element_positions_are_distinct_and_inside_the_buffer(shape, dim):
    typ = buffer_type(shape, i8, "spad")
    rows = buffer_rows(typ, dim)
    seen = set()
    for idx in itertools.product(*(range(n) for n in shape)):
        row, col = element_position(typ, dim, idx)
        assert 0 <= row < rows and 0 <= col < dim
        seen.add((row, col))
    assert len(seen) == len(list(itertools.product(*(range(n) for n in shape))))


def test_element_position_is_column_block_major():
    typ = buffer_type([4, 40], i8, "spad")  # 4 rows, 3 column blocks of 16
    assert element_position(typ, 16, (2, 5)) == (2, 5)
    assert element_position(typ, 16, (2, 21)) == (4 + 2, 5)
    assert element_position(typ, 16, (3, 39)) == (8 + 3, 7)
    with pytest.raises(IndexError):
        element_position(typ, 16, (4, 0))


# tile.alloc ---------------------------------------------------------------------------------


def test_alloc_builder_and_read_back():
    op = AllocOp.get([1, 5, 5, 16], i8, MemorySpace.SPAD)
    op.verify()
    assert (op.space, op.shape, op.element_type, op.row_count, op.cols) == (MemorySpace.SPAD, (1, 5, 5, 16), i8, 25, 16)
    assert op.address_value is None and op.bank_value is None
    op.set_placement(256, bank=2)
    assert (op.address_value, op.bank_value) == (256, 2)
    assert text(op).endswith("tile.alloc address 256 bank 2 : memref<1x5x5x16xi8, #tile.space<spad>>")


@pytest.mark.parametrize(
    ("typ", "message"),
    [
        (buffer_type([4, 4], i8, "dram"), "result must be in #tile.space<spad> or #tile.space<acc>"),
        (buffer_type([16], i8, "spad"), "rank >= 2"),
        (buffer_type([4, 4], f32, "acc"), "element type must be an integer"),
        (buffer_type([-1, 4], i8, "spad"), "static shape"),
    ],
)
def test_alloc_verifier(typ, message):
    with pytest.raises(VerifyException, match=message):
        AllocOp(typ).verify()


def test_alloc_rejects_negative_address():
    with pytest.raises(VerifyException, match="address must be non-negative"):
        AllocOp.get([4, 4], i8, "spad", address=-1).verify()


# tile.load ----------------------------------------------------------------------------------


def test_load_with_dynamic_offsets_and_sizes_reads_back():
    x = dram([64, 64])
    buf = AllocOp.get([32, 64], i8, "spad")
    i, m = index(16), index(7)
    load = LoadOp(x, [i, 0], [m, 64], buf, scale=0.5)
    load.verify()
    assert load.mixed_offsets == (i.result, 0)
    assert load.mixed_sizes == (m.result, 64)
    assert load.mixed_dest_offsets == (0, 0)
    assert (load.scale, load.zero_pad, load.transpose) == (0.5, False, False)
    assert load.source_view == View(x.results[0], (i.result, 0), (m.result, 64))
    assert load.dest_view.static_sizes == (7, 64)  # arith.constant counts as static
    assert load.dest_view.static_offsets == (0, 0)
    assert load.dest_space is MemorySpace.SPAD
    assert static_int(m.result) == 7 and static_int(x.results[0]) is None


def test_load_broadcast_and_transpose_source_windows():
    bias = dram([48], i32)
    acc = AllocOp.get([32, 32], i32, "acc")
    load = LoadOp(bias, [16], [32, 32], acc)
    load.verify()
    assert load.source_view.sizes == (32,)
    w = dram([64, 48])
    spad = AllocOp.get([32, 64], i8, "spad")
    t = LoadOp(w, [0, 8], [32, 64], spad, transpose=True)
    t.verify()
    assert t.transpose and t.source_view.sizes == (64, 32)


def test_load_zero_pad_allows_rows_outside_the_source_only():
    x = dram([1, 8, 8, 16])
    buf = AllocOp.get([1, 4, 4, 16], i8, "spad")
    LoadOp(x, [0, -1, 6, 0], [1, 4, 4, 16], buf, zero_pad=True).verify()
    with pytest.raises(VerifyException, match="source window dimension 1 reads -1..2"):
        LoadOp(x, [0, -1, 6, 0], [1, 4, 4, 16], buf).verify()
    with pytest.raises(VerifyException, match="source window dimension 3 reads 8..23"):
        LoadOp(x, [0, 0, 0, 8], [1, 4, 4, 16], buf, zero_pad=True).verify()


@pytest.mark.parametrize(
    ("src", "dst", "sizes", "message"),
    [
        (("spad", [8, 8], i8), ("spad", [8, 8], i8), [8, 8], "source must be in #tile.space<dram>"),
        (("dram", [8, 8], i8), ("dram", [8, 8], i8), [8, 8], "destination must be in #tile.space<spad> or"),
        (("dram", [8, 8], i32), ("spad", [8, 8], i8), [8, 8], "element type mismatch: source i32, destination i8"),
        (("dram", [16, 8], i8), ("spad", [8, 8], i8), [9, 8], "destination window dimension 0 reads 0..8"),
        (("dram", [8, 8], i8), ("spad", [8, 8], i8), [8], "1 sizes given but the destination has rank 2"),
    ],
)
def test_load_verifier(src, dst, sizes, message):
    s = test.TestOp(result_types=[buffer_type(src[1], src[2], src[0])])
    d = test.TestOp(result_types=[buffer_type(dst[1], dst[2], dst[0])])
    with pytest.raises(VerifyException, match=message):
        LoadOp(s, [0, 0], sizes, d, [0] * len(sizes)).verify()


# tile.store ---------------------------------------------------------------------------------


def test_store_epilogue_read_back():
    acc = AllocOp.get([16, 16], i32, "acc")
    y = dram([64, 64])
    j = index(16)
    store = StoreOp(acc, [0, 0], [16, 16], y, [0, j], scale=0.25, clip=(0, 96))
    store.verify()
    assert (store.scale, store.activation, store.clip, store.raw, store.pool) == (0.25, Activation.CLIP, (0, 96), False, None)
    assert store.dest_view.offsets == (0, j.result)
    relu = StoreOp(acc, [0, 0], [16, 16], y, [0, 0], activation="relu")
    relu.verify()
    assert relu.activation is Activation.RELU and relu.clip is None and relu.scale is None


def test_store_pool_read_back():
    acc = AllocOp.get([1, 8, 8, 16], i32, "acc")
    y = dram([1, 4, 4, 16])
    top = index(1)
    store = StoreOp(acc, [0, 0, 0, 0], [1, 8, 8, 16], y, [0, 0, 0, 0], activation="relu", pool=Pool(3, 2, (top, 0), (1, 4, 4, 16)))
    store.verify()
    assert store.pool == Pool(3, 2, (top.result, 0), (1, 4, 4, 16))
    assert store.dest_view.sizes == (1, 4, 4, 16)
    assert store.source_view.sizes == (1, 8, 8, 16)


def test_store_raw_and_verifier():
    acc = AllocOp.get([16, 16], i32, "acc")
    StoreOp(acc, [0, 0], [16, 16], dram([16, 16], i32), [0, 0], raw=True).verify()
    with pytest.raises(VerifyException, match="raw store needs equal element types"):
        StoreOp(acc, [0, 0], [16, 16], dram([16, 16]), [0, 0], raw=True).verify()
    with pytest.raises(VerifyException, match="raw store takes no scale"):
        StoreOp(acc, [0, 0], [16, 16], dram([16, 16], i32), [0, 0], raw=True, scale=2.0).verify()
    spad = AllocOp.get([16, 16], i8, "spad")
    with pytest.raises(VerifyException, match="must be raw"):
        StoreOp(spad, [0, 0], [16, 16], dram([16, 16]), [0, 0]).verify()
    with pytest.raises(VerifyException, match=r"clip bounds must satisfy lo <= hi, got \(5, 1\)"):
        StoreOp(acc, [0, 0], [16, 16], dram([16, 16]), [0, 0], clip=(5, 1)).verify()
    with pytest.raises(VerifyException, match="pooling needs a view of rank >= 3"):
        StoreOp(acc, [0, 0], [16, 16], dram([16, 16]), [0, 0], pool=Pool(2, 2, (0, 0), (8, 16))).verify()


# tile.matmul --------------------------------------------------------------------------------


def test_matmul_views_read_back():
    a = AllocOp.get([1, 5, 5, 16], i8, "spad")
    w = AllocOp.get([3, 3, 16, 32], i8, "spad")
    acc = AllocOp.get([1, 2, 2, 32], i32, "acc")
    kh, th = index(1), index(2)
    mm = MatmulOp(
        View.of(acc, sizes=[1, th, 2, 32]),
        View.of(a, [0, kh, 2, 0], [1, th, 2, 16], strides=[1, 2, 2, 1]),
        View.of(w, [kh, 2, 0, 0], [1, 1, 16, 32]),
        accumulate=True,
    )
    mm.verify()
    assert mm.accumulate
    assert mm.a_view.strides == (1, 2, 2, 1) and mm.b_view.strides == () and mm.b_view.steps == (1, 1, 1, 1)
    assert mm.a_view.offsets == (0, kh.result, 2, 0)
    assert mm.c_view.sizes == (1, th.result, 2, 32)
    assert mm.static_mnk == (4, 32, 16)
    assert "strides [1, 2, 2, 1]" in text(mm)


def test_matmul_whole_buffer_views_and_overwrite():
    a = AllocOp.get([16, 64], i8, "spad")
    b = AllocOp.get([64, 16], i8, "spad")
    c = AllocOp.get([16, 16], i32, "acc")
    mm = MatmulOp(View.of(c), View.of(a), View.of(b), accumulate=False)
    mm.verify()
    assert not mm.accumulate and mm.static_mnk == (16, 16, 64)
    assert " = %" in text(mm) and "+=" not in text(mm)


@pytest.mark.parametrize(
    ("a_sizes", "b_sizes", "c_sizes", "message"),
    [
        ([16, 64], [64, 16], [8, 16], r"A rows \(16\) != C rows \(8\)"),
        ([16, 32], [64, 16], [16, 16], r"A columns \(32\) != B rows \(64\)"),
        ([16, 64], [64, 16], [16, 8], r"B columns \(16\) != C columns \(8\)"),
    ],
)
def test_matmul_shape_mismatch(a_sizes, b_sizes, c_sizes, message):
    a = AllocOp.get([16, 64], i8, "spad")
    b = AllocOp.get([64, 16], i8, "spad")
    c = AllocOp.get([16, 16], i32, "acc")
    mm = MatmulOp(View.of(c, sizes=c_sizes), View.of(a, sizes=a_sizes), View.of(b, sizes=b_sizes), accumulate=True)
    with pytest.raises(VerifyException, match=message):
        mm.verify()


def test_matmul_memory_spaces_and_strides():
    a = AllocOp.get([16, 64], i8, "spad")
    b = AllocOp.get([64, 16], i8, "spad")
    c = AllocOp.get([16, 16], i32, "acc")
    wrong = AllocOp.get([16, 64], i32, "acc")
    with pytest.raises(VerifyException, match="operand A must be in #tile.space<spad>, got #tile.space<acc>"):
        MatmulOp(View.of(c), View.of(wrong), View.of(b), accumulate=True).verify()
    with pytest.raises(VerifyException, match="operand C must be in #tile.space<acc>"):
        MatmulOp(View.of(a, sizes=[16, 16]), View.of(a), View.of(b), accumulate=True).verify()
    with pytest.raises(VerifyException, match="stride of the last"):
        MatmulOp(View.of(c), View.of(a, sizes=[16, 32], strides=[1, 2]), View.of(b, sizes=[32, 16]), accumulate=True).verify()
    with pytest.raises(VerifyException, match=r"operand A dimension 0 reads 0..30 \(offset 0, size 16, stride 2\)"):
        MatmulOp(View.of(c), View.of(a, strides=[2, 1]), View.of(b), accumulate=True).verify()


# A whole program built from Python ----------------------------------------------------------


def build_tiled_matmul() -> ModuleOp:
    """C[100x48] = relu(A[100x64] x B[64x48] + bias), 32x32 tiles, built with the API."""
    args = [buffer_type([100, 64], i8, "dram"), buffer_type([64, 48], i8, "dram"), buffer_type([48], i32, "dram"), buffer_type([100, 48], i8, "dram")]
    block = Block(arg_types=args)
    A, B, bias, C = block.args
    with ImplicitBuilder(block):
        c0, c32, c48, c100 = index(0), index(32), index(48), index(100)
        a = AllocOp.get([32, 64], i8, "spad")
        b = AllocOp.get([64, 32], i8, "spad")
        acc = AllocOp.get([32, 32], i32, "acc")
        outer = Block(arg_types=[IndexType()])
        scf.ForOp(c0, c100, c32, [], outer)
        with ImplicitBuilder(outer):
            i = outer.args[0]
            m = arith.MinSIOp(arith.SubiOp(c100, i), c32)
            LoadOp(A, [i, 0], [m, 64], a)
            inner = Block(arg_types=[IndexType()])
            scf.ForOp(c0, c48, c32, [], inner)
            with ImplicitBuilder(inner):
                j = inner.args[0]
                n = arith.MinSIOp(arith.SubiOp(c48, j), c32)
                LoadOp(B, [0, j], [64, n], b)
                LoadOp(bias, [j], [m, n], acc)
                MatmulOp(View.of(acc, sizes=[m, n]), View.of(a, sizes=[m, 64]), View.of(b, sizes=[64, n]), accumulate=True)
                StoreOp(acc, [0, 0], [m, n], C, [i, j], scale=0.125, activation=Activation.RELU)
                scf.YieldOp()
            scf.YieldOp()
        FenceOp()
        func.ReturnOp()
    fn = func.FuncOp("tiled_matmul", (args, []), Region(block))
    return ModuleOp([fn])


def test_program_built_in_python_verifies_and_round_trips():
    module = build_tiled_matmul()
    module.verify()
    printed = text(module)
    reparsed = Parser(context(), printed).parse_module()
    reparsed.verify()
    assert text(reparsed) == printed
    generic = Parser(context(), generic_text(module)).parse_module()
    assert text(generic) == printed
    ops = [op.name for op in reparsed.walk() if op.name.startswith("tile.")]
    assert ops == ["tile.alloc"] * 3 + ["tile.load"] * 3 + ["tile.matmul", "tile.store", "tile.fence"]
    allocs = [op for op in reparsed.walk() if isinstance(op, AllocOp)]
    (mm,) = [op for op in reparsed.walk() if isinstance(op, MatmulOp)]
    assert [mm.a_view.buffer, mm.b_view.buffer, mm.c_view.buffer] == [x.buffer for x in allocs]
    m, n = mm.c_view.sizes
    assert isinstance(m.owner, arith.MinSIOp) and isinstance(n.owner, arith.MinSIOp)
    assert mm.a_view.sizes == (m, 64) and mm.b_view.sizes == (64, n) and mm.static_mnk == (None, None, 64)


def test_defining_allocs_follows_select():
    ping = AllocOp.get([16, 64], i8, "spad")
    pong = AllocOp.get([16, 64], i8, "spad")
    cond = arith.ConstantOp.from_int_and_width(1, 1)
    select = arith.SelectOp(cond, pong, ping)
    assert defining_allocs(select.result) == [pong, ping]
    assert defining_allocs(ping.buffer) == [ping]
    assert defining_allocs(dram([4, 4]).results[0]) == []
