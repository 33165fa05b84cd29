"""Instruction selection for ``convert-tile-to-gemmini``: one tile op -> gemmini ops.

Views into local buffers must be static (the tiling pass emits them so: shapes vary
between loop runs, never inside one); DRAM offsets may be ``index`` values. Buffers map
to their first local row (``tile.alloc`` address, or an ``arith.select`` of two after
double buffering), DRAM memrefs to their byte address
(``memref.extract_aligned_pointer_as_index``).

* ``tile.load``: row segments (rows along the second-to-last dim, contiguous in DRAM at
  the tensor's row stride and in the buffer) in pieces of at most DIM rows and
  ``dma_max_*_mvin_blocks`` x DIM columns (int8 into the accumulator: the scratchpad's),
  one ``mvin`` each (A-side scratchpad loads
  ``mvin``, B-side ``mvin2``, accumulator loads ``mvin3``: separate config_ld state).
* ``tile.matmul`` (weight-stationary): for each DIM column block j of B/C and DIM
  reduction block k: ``preload`` B(k, j) with the first A-row block's C, then
  ``compute_preloaded``; each further A-row block is ``preload garbage`` + ``compute
  accumulated``. A rows advance by the view's row stride (config_ex ``a_stride``). With a
  bias view D, the computes of the first reduction block read D (Gemmini's WS D operand:
  an r-row piece of C adds D's first r rows of column block j).
* ``tile.store``: segments as for loads, ``mvout`` of at most DIM rows x
  ``dma_max_mvout_blocks`` x DIM columns (raw stores read full int32 rows); a pooled
  store is Gemmini's pooled move-out (:mod:`gemforge.passes._lowering_pool`).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

from xdsl.dialects import arith, memref
from xdsl.dialects.builtin import IndexType, IntegerAttr, IntegerType, MemRefType, StridedLayoutAttr
from xdsl.ir import Block, Operation, SSAValue

from gemforge.dialects import gemmini as gm
from gemforge.dialects.tile import AllocOp, LoadOp, MatmulOp, MemorySpace, StoreOp, memory_space
from gemforge.dialects.tile_view import View, static_int
from gemforge.errors import GemforgeError
from gemforge.passes._lowering_nest import NestEmitter, Seg, all_but_first, chunks, without_first
from gemforge.target import Target


class LoweringError(GemforgeError):
    """A tile op the lowering cannot turn into Gemmini instructions (one line)."""


def _width(typ: MemRefType) -> int:
    et = typ.element_type
    assert isinstance(et, IntegerType)
    return et.width.data // 8


def row_major_strides(shape: Sequence[int]) -> list[int]:
    out, acc = [], 1
    for n in reversed(shape):
        out.append(acc)
        acc *= n
    return out[::-1]


def dram_strides(typ: MemRefType) -> list[int]:
    """Element strides of a DRAM memref: its ``strided<...>`` layout (an overlapping
    view such as the im2col window of ``_tiling_im2col``) or row-major."""
    layout = typ.layout
    if isinstance(layout, StridedLayoutAttr):
        return [s.data for s in layout.strides]
    return row_major_strides(typ.get_shape())


def dram_offset(typ: MemRefType) -> int:
    """Static element offset of a DRAM memref's layout (0 when row-major)."""
    layout = typ.layout
    return layout.offset.data if isinstance(layout, StridedLayoutAttr) else 0


def static_list(op: Operation, what: str, values) -> list[int]:
    out = [static_int(v) for v in values]
    if None in out:
        raise LoweringError(f"{op.name}: dynamic {what} {list(values)} (local views must be static)")
    return out  # type: ignore[return-value]


class Values:
    """SSA values the lowering shares: index constants, buffer rows and DRAM addresses."""

    def __init__(self, entry: Block):
        self.entry = entry
        self.consts: dict[int, SSAValue] = {}
        self.rows: dict[SSAValue, SSAValue] = {}
        self.addrs: dict[SSAValue, SSAValue] = {}
        self.pending: list[Operation] = []  # ops emitted for the current tile op

    def const(self, v: int) -> SSAValue:
        if v not in self.consts:
            op = arith.ConstantOp(IntegerAttr(v, IndexType()))
            first = self.entry.first_op
            if first is None:
                self.entry.add_op(op)
            else:
                self.entry.insert_op_before(op, first)
            self.consts[v] = op.result
        return self.consts[v]

    def emit(self, op: Operation) -> Operation:
        self.pending.append(op)
        return op

    def add(self, base: SSAValue, delta: int) -> SSAValue:
        if not delta:
            return base
        c = static_int(base)
        if c is not None:
            return self.const(c + delta)
        return self.emit(arith.AddiOp(base, self.const(delta))).results[0]

    def row_of(self, buffer: SSAValue) -> SSAValue:
        """First local row of a buffer (an index value)."""
        if buffer in self.rows:
            return self.rows[buffer]
        owner = buffer.owner
        if isinstance(owner, AllocOp):
            if owner.address_value is None:
                raise LoweringError("tile.alloc without an address: run allocate-scratchpad first")
            value = self.const(owner.address_value)
        elif isinstance(owner, arith.SelectOp):
            sel = arith.SelectOp(owner.cond, self.row_of(owner.lhs), self.row_of(owner.rhs))
            owner.parent_block().insert_op_after(sel, owner)
            value = sel.result
        else:
            raise LoweringError(f"a local buffer defined by {getattr(owner, 'name', 'a block argument')} "
                                "(expected tile.alloc or arith.select)")
        self.rows[buffer] = value
        return value

    def addr_of(self, mem: SSAValue) -> SSAValue:
        """Byte address of a DRAM memref (an index value)."""
        if mem not in self.addrs:
            op = memref.ExtractAlignedPointerAsIndexOp.get(mem)
            owner = mem.owner
            if isinstance(owner, Operation):
                owner.parent_block().insert_op_after(op, owner)
            else:
                first = self.entry.first_op
                self.entry.insert_op_before(op, first) if first else self.entry.add_op(op)
            self.addrs[mem] = op.results[0]
        return self.addrs[mem]

    def dram_window(self, mem: SSAValue, offsets) -> tuple[SSAValue, int]:
        """(dynamic byte address, static byte offset) of element ``offsets`` of ``mem``."""
        typ = mem.type
        es = _width(typ)
        strides = dram_strides(typ)
        addr, static = self.addr_of(mem), dram_offset(typ) * es
        for off, st in zip(offsets, strides):
            s = static_int(off)
            if s is not None:
                static += s * st * es
            else:
                term = self.emit(arith.MuliOp(off, self.const(st * es))).results[0]
                addr = self.emit(arith.AddiOp(addr, term)).results[0]
        return addr, static


def flat_row(shape: Sequence[int], index: Sequence[int]) -> int:
    """Row-major row number of ``index`` (leading dims only) in a buffer of ``shape``."""
    r = 0
    for i, n in zip(index, shape[:-1]):
        r = r * n + i
    return r


class Selector:
    """Lowers tile ops to gemmini ops; configs are requested through ``config``."""

    def __init__(self, target: Target, values: Values, config):
        self.t, self.v, self.config = target, values, config
        self.dim = target.dim

    # -- loads ------------------------------------------------------------------------
    def load_config(self, op: LoadOp) -> tuple:
        src, dst = op.source.type, op.dest.type
        sr = src.get_num_dims()
        row_stride = dram_strides(src)[sr - 2] * _width(src) if sr >= 2 else 0
        space = memory_space(dst)
        shrunk = space is MemorySpace.ACC and _width(src) < _width(dst)
        return ("ld", row_stride, prod(dst.get_shape()[:-1]), op.scale if op.scale is not None else 1.0, shrunk)

    def load(self, op: LoadOp, role: int) -> None:
        if op.transpose:
            raise LoweringError("tile.load transpose is not lowered")
        v, dim = self.v, self.dim
        dst = op.dest.type
        dshape = dst.get_shape()
        sizes = static_list(op, "sizes", op.mixed_sizes)
        doffs = static_list(op, "destination offsets", op.mixed_dest_offsets)
        src = op.source.type
        sr, r = src.get_num_dims(), len(sizes)
        es = _width(src)
        sstrides = dram_strides(src)
        row_stride = sstrides[sr - 2] if sr >= 2 else 0
        if doffs[-1] % dim:
            raise LoweringError(f"tile.load: destination column offset {doffs[-1]} is not a multiple of DIM={dim}")
        space = memory_space(op.dest)
        acc = space is MemorySpace.ACC
        full_acc = acc and _width(src) == _width(dst)  # int32 rows; "shrunk" int8 ones move like spad rows
        maxcols = (self.t.dma_max_acc_mvin_blocks if full_acc else self.t.dma_max_spad_mvin_blocks) * dim
        base_addr, base_static = v.dram_window(op.source, op.mixed_offsets)
        R = prod(dshape[:-1])
        buf = v.row_of(op.dest)
        which = self.config(self.load_config(op), role)
        mvin = gm.MVIN_BY_ID[which]
        lead = sizes[:-2]
        seg = sizes[-2] if r >= 2 else 1
        # DRAM element coefficient of each leading index (dropped source dims broadcast).
        shift = r - sr
        if sr < 2:
            src_coef = [0] * len(lead)
        elif shift >= 0:
            src_coef = [sstrides[d - shift] if d >= shift else 0 for d in range(len(lead))]
        else:
            src_coef = [sstrides[d] for d in range(len(lead))]
        dst_coef = [prod(dshape[d + 1:-1]) for d in range(len(lead))]
        drow0 = flat_row(dshape, doffs[:-1])
        col_blk = doffs[-1] // dim
        nest = NestEmitter(v)
        axes = [[Seg(0, n)] for n in lead] + [chunks(seg, dim), chunks(sizes[-1], maxcols)]

        def body(idx, tags) -> None:
            *li, ri, ci = idx
            rows, cols = tags[-2], tags[-1]
            dram = nest.affine(base_addr, [*((x, c * es) for x, c in zip(li, src_coef)),
                                           (ri, dim * row_stride * es), (ci, maxcols * es)], base_static)
            row = nest.affine(buf, [*zip(li, dst_coef), (ri, dim), (ci, (maxcols // dim) * R)],
                              col_blk * R + drow0)
            local = gm.Local.acc(row, rows, cols) if acc else gm.Local.spad(row, rows, cols)
            v.emit(mvin(dram_addr=dram, dst=local))

        nest.grid(axes, body)

    # -- stores -----------------------------------------------------------------------
    def store_config(self, op: StoreOp) -> tuple:
        dst = op.dest.type
        # The DRAM row stride: the strided layout's (a view storing rows apart) or row-major.
        stride = (dram_strides(dst)[-2] if dst.get_num_dims() >= 2 else dst.get_shape()[-1]) * _width(dst)
        if op.raw:
            return ("st", stride, gm.Activation.NONE, 1.0)
        act = {"none": gm.Activation.NONE, "relu": gm.Activation.RELU}.get(op.activation.value)
        if act is None:
            raise LoweringError(f"tile.store: activation {op.activation.value} has no Gemmini equivalent")
        cfg = ("st", stride, act, op.scale if op.scale is not None else 1.0)
        if op.pool is not None:  # the pool fields ride along as a fifth entry
            from gemforge.passes._lowering_pool import pool_fields  # (it imports this module)

            return (*cfg, pool_fields(op))
        return cfg

    def store(self, op: StoreOp) -> None:
        if op.pool is not None:
            from gemforge.passes._lowering_pool import pooled_store  # (it imports this module)

            pooled_store(self, op)
            return
        v, dim = self.v, self.dim
        src = op.source.type
        if memory_space(op.source) is not MemorySpace.ACC:
            raise LoweringError("tile.store from the scratchpad is not lowered")
        sshape = src.get_shape()
        sizes = static_list(op, "sizes", op.mixed_sizes)
        soffs = static_list(op, "offsets", op.mixed_offsets)
        if soffs[-1] % dim:
            raise LoweringError(f"tile.store: source column offset {soffs[-1]} is not a multiple of DIM={dim}")
        dst = op.dest.type
        es = _width(dst)
        dstrides = dram_strides(dst)
        base_addr, base_static = v.dram_window(op.dest, op.mixed_dest_offsets)
        self.config(self.store_config(op), 0)
        R = prod(sshape[:-1])
        # A multi-block mvout reads its column blocks DIM rows apart: only a buffer of
        # DIM rows has its blocks there.
        maxcols = (1 if op.raw or R != dim else self.t.dma_max_mvout_blocks) * dim
        buf = v.row_of(op.source)
        lead = sizes[:-2]
        seg = sizes[-2] if len(sizes) >= 2 else 1
        src_coef = [prod(sshape[d + 1:-1]) for d in range(len(lead))]
        srow0 = flat_row(sshape, soffs[:-1])
        col_blk = soffs[-1] // dim
        row_stride = dstrides[-2] if len(dstrides) >= 2 else 0
        nest = NestEmitter(v)
        axes = [[Seg(0, n)] for n in lead] + [chunks(seg, dim), chunks(sizes[-1], maxcols)]

        def body(idx, tags) -> None:
            *li, ri, ci = idx
            rows, cols = tags[-2], tags[-1]
            dram = nest.affine(base_addr, [*((x, c * es) for x, c in zip(li, dstrides)),
                                           (ri, dim * row_stride * es), (ci, maxcols * es)], base_static)
            row = nest.affine(buf, [*zip(li, src_coef), (ri, dim), (ci, (maxcols // dim) * R)], col_blk * R + srow0)
            v.emit(gm.MvoutOp(dram_addr=dram, src=gm.Local.acc(row, rows, cols, read_full=op.raw)))

        nest.grid(axes, body)

    # -- matmuls ----------------------------------------------------------------------
    def matmul_config(self, op: MatmulOp) -> tuple:
        a = op.a_view
        return ("ex", a.steps[-2] if a.rank >= 2 else 1)

    def matmul(self, op: MatmulOp) -> None:
        v, dim = self.v, self.dim
        a, b, c = op.a_view, op.b_view, op.c_view
        sa, sb, sc = (static_list(op, "sizes", x.sizes) for x in (a, b, c))
        oa, ob, oc = (static_list(op, "offsets", x.offsets) for x in (a, b, c))
        if sa[:-1] != sc[:-1] or any(s != 1 for s in c.steps) or any(s != 1 for s in b.steps):
            raise LoweringError("tile.matmul: A and C must have the same leading sizes; B and C unit strides")
        if any(n != 1 for n in sb[:-2]):
            raise LoweringError("tile.matmul: B must be a matrix (leading sizes 1)")
        for what, off in (("A", oa[-1]), ("B", ob[-1]), ("C", oc[-1])):
            if off % dim:
                raise LoweringError(f"tile.matmul: {what} column offset {off} is not a multiple of DIM={dim}")
        self.config(self.matmul_config(op), 0)
        ashape, bshape, cshape = a.type.get_shape(), b.type.get_shape(), c.type.get_shape()
        RA, RB, RC = prod(ashape[:-1]), prod(bshape[:-1]), prod(cshape[:-1])
        abuf, bbuf, cbuf = v.row_of(a.buffer), v.row_of(b.buffer), v.row_of(c.buffer)
        K, N = sa[-1], sb[-1]
        b_row0 = flat_row(bshape, ob[:-1])
        # A-row blocks: a grid of the leading dims of A/C x DIM-row chunks of the last one.
        lead, seg = sa[:-2], sa[-2]
        ast = a.steps
        a_coef = [ast[d] * prod(ashape[d + 1:-1]) for d in range(len(lead))] + [dim * ast[-2]]
        c_coef = [prod(cshape[d + 1:-1]) for d in range(len(lead))] + [dim]
        a_row0, c_row0 = flat_row(ashape, oa[:-1]), flat_row(cshape, oc[:-1])
        blocks = [[Seg(0, n)] for n in lead] + [chunks(seg, dim)]
        first_rows = blocks[-1][0].tag
        nest = NestEmitter(v)
        # Column blocks j, reduction blocks k (the first one overwrites unless accumulating).
        j_axis = chunks(N, dim)
        k_axis = chunks(K, dim, lambda n: (n, True))
        if not op.accumulate:
            k_axis = [Seg(0, 1, (k_axis[0].tag[0], False)), *[Seg(s.start, s.count, s.tag)
                                                             for s in without_first(k_axis)]]
        a_blk, b_blk, c_blk = oa[-1] // dim, ob[-1] // dim, oc[-1] // dim
        d_at = self._bias_operand(op, first_rows, seg)
        if d_at is not None:  # the first reduction block reads D: its own segment
            k_axis = [Seg(0, 1, (*k_axis[0].tag, True)),
                      *[Seg(s.start, s.count, (*s.tag, False)) for s in without_first(k_axis)]]
        else:
            k_axis = [Seg(s.start, s.count, (*s.tag, False)) for s in k_axis]

        def step(jk, tags) -> None:
            j, k = jk
            nw, (kw, accumulate, with_d) = tags
            bias = d_at(nest, j) if with_d else None

            def d_local(rows):
                return gm.Local.acc(bias, rows, nw) if with_d else garbage

            b_local = gm.Local.spad(nest.affine(bbuf, [(j, RB), (k, dim)], b_blk * RB + b_row0), kw, nw)
            a_base = nest.affine(abuf, [(k, RA)], a_blk * RA + a_row0)
            c_base = nest.affine(cbuf, [(j, RC)], c_blk * RC + c_row0)
            v.emit(gm.PreloadOp(bd=b_local, c=gm.Local.acc(c_base, first_rows, nw, accumulate=accumulate)))
            v.emit(gm.ComputePreloadedOp(a=gm.Local.spad(a_base, first_rows, kw), bd=d_local(first_rows)))

            def block(idx, btags) -> None:
                rows = btags[-1]
                c_local = gm.Local.acc(nest.affine(c_base, list(zip(idx, c_coef))), rows, nw, accumulate=accumulate)
                a_local = gm.Local.spad(nest.affine(a_base, list(zip(idx, a_coef))), rows, kw)
                v.emit(gm.PreloadOp(bd=gm.Local.garbage(kw, nw), c=c_local))
                v.emit(gm.ComputeAccumulatedOp(a=a_local, bd=d_local(rows)))

            for grid in all_but_first(blocks):
                nest.grid(grid, block)

        garbage = gm.Local.garbage(dim, dim)
        nest.grid([j_axis, k_axis], step)

    def _bias_operand(self, op: MatmulOp, first_rows: int, seg: int):
        """For a matmul with a bias view D: a function (nest, column block j) -> D's first
        row of block j (its accumulator row); None without D."""
        d = op.d_view
        if d is None:
            return None
        dim = self.dim
        sd, od = static_list(op, "sizes", d.sizes), static_list(op, "offsets", d.offsets)
        if od[-1] % dim:
            raise LoweringError(f"tile.matmul: D column offset {od[-1]} is not a multiple of DIM={dim}")
        if prod(sd[:-1]) < min(dim, seg) or any(s != 1 for s in d.steps):
            raise LoweringError(f"tile.matmul: D must have unit strides and at least min(DIM, {seg}) rows, "
                                f"has {prod(sd[:-1])}")
        dshape = d.type.get_shape()
        RD = prod(dshape[:-1])
        dbuf = self.v.row_of(d.buffer)
        base = (od[-1] // dim) * RD + flat_row(dshape, od[:-1])
        return lambda nest, j: nest.affine(dbuf, [(j, RD)], base)
