"""Instruction selection for a pooled ``tile.store``: Gemmini's pooled move-out.

A ``config_st`` with the pool fields makes each ``mvout`` from the accumulator write a
whole pooled window (StoreController's ``pooling`` state): for pooled pixel
``(pr, pc)`` the max over window element ``(wr, wc)`` of accumulator row
``local + orow * ocols + ocol`` (``orow = pr * pool_stride + wr - upad``, ``ocol``
likewise with ``lpad``; positions outside ``orows x ocols`` read as 0) after the
store's scale and activation, written to ``dram + (pr * pool_out_dim + pc) * stride``.
The ``rows`` of such an mvout are ignored by the hardware (1 here) and its columns are
at most DIM (no block move-outs while pooling).

So a pooled store ``src[..., 0:H, 0:W, c0:c0+n]`` becomes, per leading index and DIM
column block, one mvout from the block's first row; the view must span its buffer's
rows (``W`` = the buffer's width, so pixel rows are ``ocols`` apart). The config is
set right before the move-outs and the store's unpooled config right after them, so
nothing that follows pools by accident.
"""

from __future__ import annotations

from math import prod

from gemforge.dialects import gemmini as gm
from gemforge.dialects.tile import MemorySpace, StoreOp, memory_space
from gemforge.passes._lowering_nest import NestEmitter, Seg, chunks
from gemforge.passes._lowering_tile import LoweringError, dram_strides, flat_row, static_list

_LIMITS = gm.ConfigStOp.field_maxima()


def pool_fields(op: StoreOp) -> tuple:
    """The pool fields of ``op``'s config_st (sorted ``(gm.ConfigStOp field, value)`` pairs),
    checked against their ISA widths."""
    pool = op.pool
    assert pool is not None
    sizes = static_list(op, "sizes", op.mixed_sizes)
    psizes = static_list(op, "pool sizes", pool.sizes)
    upad, lpad = static_list(op, "pool pads", pool.pads)
    dst = dram_strides(op.dest.type)
    if dst[-3] % dst[-2]:
        raise LoweringError(f"tile.store: pooled destination rows are {dst[-3]} elements apart, not a multiple of its "
                    f"pixel stride {dst[-2]}")
    fields = {"pool_size": pool.window, "pool_stride": pool.stride, "upad": upad, "lpad": lpad,
              "pool_out_dim": dst[-3] // dst[-2], "porows": psizes[-3], "pocols": psizes[-2],
              "orows": sizes[-3], "ocols": sizes[-2]}
    for name, value in fields.items():
        if value > _LIMITS[name]:
            raise LoweringError(f"tile.store: pooled move-out field {name} = {value} exceeds its ISA limit "
                                f"{_LIMITS[name]}")
    return tuple(sorted(fields.items()))


def pooled_store(sel, op: StoreOp) -> None:
    """Emit ``op`` (pooled) through ``sel`` (a :class:`~gemforge.passes._lowering_tile.Selector`)."""
    v, dim = sel.v, sel.dim
    if memory_space(op.source) is not MemorySpace.ACC:
        raise LoweringError("tile.store: pooling reads the accumulator only")
    sshape = op.source.type.get_shape()
    sizes = static_list(op, "sizes", op.mixed_sizes)
    soffs = static_list(op, "offsets", op.mixed_offsets)
    if soffs[-1] % dim:
        raise LoweringError(f"tile.store: source column offset {soffs[-1]} is not a multiple of DIM={dim}")
    if sizes[-2] != sshape[-2] and sizes[-3] != 1:
        raise LoweringError(f"tile.store: a pooled view must span its buffer's width ({sizes[-2]} of {sshape[-2]} "
                    f"columns): Gemmini reads window rows ocols apart")
    cfg = sel.store_config(op)
    sel.config(cfg, 0)
    dst = op.dest.type
    es = dst.element_type.width.data // 8
    base_addr, base_static = v.dram_window(op.dest, op.mixed_dest_offsets)
    dstrides = dram_strides(dst)
    R = prod(sshape[:-1])
    lead = sizes[:-3]
    src_coef = [prod(sshape[d + 1:-1]) for d in range(len(lead))]
    srow0 = flat_row(sshape, soffs[:-1])
    col_blk = soffs[-1] // dim
    buf = v.row_of(op.source)
    nest = NestEmitter(v)

    def body(idx, tags) -> None:
        *li, ci = idx
        dram = nest.affine(base_addr, [*((x, c * es) for x, c in zip(li, dstrides)), (ci, dim * es)], base_static)
        row = nest.affine(buf, [*zip(li, src_coef), (ci, R)], col_blk * R + srow0)
        v.emit(gm.MvoutOp(dram_addr=dram, src=gm.Local.acc(row, 1, tags[-1])))

    nest.grid([[Seg(0, n)] for n in lead] + [chunks(sizes[-1], dim)], body)
    sel.config(cfg[:-1], 0)  # back to the store's unpooled state
