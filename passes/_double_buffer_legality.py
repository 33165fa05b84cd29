"""Legality of ``double-buffer``'s rewrites (see :mod:`gemforge.passes.double_buffer`):
which loads can be prefetched one iteration ahead, and which accumulator tiles ping-pong."""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects import scf
from xdsl.ir import Block, Operation, SSAValue
from xdsl.traits import is_side_effect_free

from gemforge.dialects.tile import AllocOp, FenceOp, LoadOp, MatmulOp, MemorySpace, StoreOp

@dataclass(frozen=True)
class Candidate:
    """The loads filling ``alloc`` in ``loop`` that can be pipelined together; ``index_ops[i]``
    computes the indices of ``loads[i]``; ``hoist``: the alloc is in the loop body and moves
    in front of the loop."""

    loads: list[LoadOp]
    alloc: AllocOp
    loop: scf.ForOp
    index_ops: list[list[Operation]]
    hoist: bool = False

    @property
    def load(self) -> LoadOp:
        return self.loads[0]


def _inside(op: Operation, loop: Operation) -> bool:
    return loop.is_ancestor(op)


def _defined_outside(value: SSAValue, loop: Operation) -> bool:
    owner = value.owner
    op = owner.parent_op() if isinstance(owner, Block) else owner
    return op is None or not _inside(op, loop)


def _pure(op: Operation) -> bool:
    """No memory effects. arith ops qualify even when xDSL leaves them untraited (remui:
    division by zero is undefined, but a clone runs only where the original would)."""
    return op.name.startswith("arith.") or is_side_effect_free(op)


def _index_slice(load: LoadOp, loop: scf.ForOp) -> list[Operation] | str:
    """The body ops (in order) computing the load's indices from the iv, or why not."""
    body = loop.body.block
    iv = body.args[0]
    ops: set[Operation] = set()
    work = [*load.offsets, *load.sizes, *load.dest_offsets]
    while work:
        value = work.pop()
        if value is iv or _defined_outside(value, loop):
            continue
        owner = value.owner
        if not isinstance(owner, Operation):
            return "an index of the load is loop-carried (unknown one iteration ahead)"
        if owner.parent_block() is not body or owner.regions or not _pure(owner):
            return f"an index of the load comes from {owner.name}, which cannot be re-evaluated early"
        if owner not in ops:
            ops.add(owner)
            work.extend(owner.operands)
    return [op for op in body.ops if op in ops]


def _may_write_dram(op: Operation, source: SSAValue) -> bool:
    if isinstance(op, StoreOp):
        return op.dest is source
    if isinstance(op, LoadOp | MatmulOp | FenceOp | AllocOp | scf.ForOp | scf.IfOp | scf.YieldOp):
        return False
    return not _pure(op)


def analyse(load: LoadOp, *, only_inputs: bool = False, hoist: bool = False, multi: bool = False) -> Candidate | str:
    """The double-buffering of ``load``'s destination in its loop if legal, else the reason
    it is not (see the module docstring for the conditions). ``load`` must be the first
    load into the buffer: the others are pipelined with it. ``hoist``: a buffer allocated
    at the top of the loop body (a tile peeled into its own buffer) qualifies too;
    ``multi``: a buffer filled by several loads (a window and its zero halo) qualifies."""
    alloc = load.dest.owner
    loop = load.parent_op()
    if not isinstance(alloc, AllocOp):
        return "the destination is not a tile.alloc (already double-buffered?)"
    if not isinstance(loop, scf.ForOp):
        return "the load is not directly in an scf.for body"
    if only_inputs and alloc.space is not MemorySpace.SPAD:
        return "only-inputs: an accumulator buffer"
    body = loop.body.block
    inner = _inside(alloc, loop)
    if inner and not (hoist and alloc.parent_block() is body):
        return "the buffer is allocated inside the loop"
    order = {op: i for i, op in enumerate(body.ops)}
    loads = [u.operation for u in alloc.buffer.uses if isinstance(u.operation, LoadOp)]
    if any(other.parent_block() is not body for other in loads):
        return "another load into the buffer is not directly in the loop body"
    loads.sort(key=order.__getitem__)
    if len(loads) > 1 and not multi:
        return "the buffer is filled by several loads"
    if loads[0] is not load:
        return "not the first load into the buffer (pipelined with the first)"
    for user in (u.operation for u in alloc.buffer.uses):
        if isinstance(user, LoadOp):
            continue
        if not _inside(user, loop):
            return f"the buffer is also used outside the loop (by {user.name})"
        if not isinstance(user, MatmulOp | StoreOp):
            return f"the buffer is also used in the loop by {user.name}"
        top = user
        while top.parent_block() is not body:
            parent = top.parent_op()
            assert parent is not None
            top = parent
        if order[top] < order[loads[-1]]:
            return f"the buffer is read by {user.name} before a load into it (live across iterations)"
    index_ops = []
    for each in loads:
        if not _defined_outside(each.source, loop):
            return "the DRAM source is defined inside the loop"
        if any(_may_write_dram(op, each.source) for op in loop.walk() if op is not loop):
            return "the loop may write the DRAM source of the load"
        ops = _index_slice(each, loop)
        if isinstance(ops, str):
            return ops
        index_ops.append(ops)
    return Candidate(loads, alloc, loop, index_ops, inner)


def candidate(load: LoadOp, *, only_inputs: bool = False, hoist: bool = False, multi: bool = False) -> Candidate | None:
    """:func:`analyse` without the reason: the candidate, or None when illegal."""
    result = analyse(load, only_inputs=only_inputs, hoist=hoist, multi=multi)
    return result if isinstance(result, Candidate) else None



def analyse_written(alloc: AllocOp, *, hoist: bool = False) -> scf.ForOp | str:
    """The loop in which an accumulator buffer without loads can be ping-ponged, else why not:
    every use is a tile.matmul writing it (as C) or a tile.store reading it, all inside one
    scf.for that does not contain the alloc, and the first use of each iteration is a matmul
    that overwrites it (not accumulating) outside any nested loop or branch. ``hoist``: an
    alloc at the top of a loop body (a peeled tile's accumulator) is ping-ponged in that
    loop (and moves in front of it)."""
    if alloc.space is not MemorySpace.ACC:
        return "not an accumulator buffer"
    uses = [u.operation for u in alloc.buffer.uses]
    if not uses:
        return "the buffer is not used"
    for user in uses:
        if isinstance(user, LoadOp):
            return "the buffer is loaded (handled as a load candidate)"
        if not (isinstance(user, MatmulOp) and user.c is alloc.buffer) and not (
                isinstance(user, StoreOp) and user.source is alloc.buffer):
            return f"the buffer is used by {user.name} other than as a matmul's C or a store's source"
    loop = uses[0].parent_op()
    while loop is not None and not isinstance(loop, scf.ForOp):
        loop = loop.parent_op()
    home = alloc.parent_op()
    if (loop is None or _inside(alloc, loop)) and hoist and isinstance(home, scf.ForOp) \
            and alloc.parent_block() is home.body.block:
        loop = home
    elif loop is None or _inside(alloc, loop):
        return "the first use is not in a loop around the buffer's alloc"
    if not all(_inside(u, loop) for u in uses):
        return "the buffer is used outside the loop"
    first = next(op for op in loop.walk() if op in uses)
    if not isinstance(first, MatmulOp) or first.accumulate or first.c is not alloc.buffer:
        return "an iteration does not start by overwriting the buffer"
    parent = first.parent_op()
    while parent is not loop:
        if isinstance(parent, scf.ForOp | scf.IfOp) or parent is None:
            return "the first write is inside a nested loop or branch"
        parent = parent.parent_op()
    return loop
