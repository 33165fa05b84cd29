"""``double-buffer``: ping-pong buffers and one-iteration-ahead loads in tile loops.

A loop that loads a tile into a buffer and then computes on it::

    %x = tile.alloc : T
    scf.for %iv = %lb to %ub step %st {
      <index arithmetic>
      tile.load %src[f(%iv)] [g(%iv)] into %x[..]
      <ops reading / updating %x>
    }

becomes (the load for iteration i+1 issued before the compute of iteration i, into the
other buffer, so Gemmini's load queue moves tile i+1 while its execute queue works on i)::

    %x = tile.alloc : T                       // ping: even iterations
    %x_pong = tile.alloc : T                  // pong: odd iterations
    tile.load %src[f(%lb)] [g(%lb)] into %x[..]             // prologue (in scf.if lb < ub
    scf.for %iv = %lb to %ub step %st {                     //  unless known non-empty)
      %k = arith.divui (%iv - %lb), %st ; %par = arith.remui %k, 2
      %odd = arith.cmpi eq, %par, 1
      %cur = arith.select %odd, %x_pong, %x      // this iteration's tile
      %nxt = arith.select %odd, %x, %x_pong      // the next iteration's tile
      <index arithmetic>
      %next = arith.addi %iv, %st
      %more = arith.cmpi slt, %next, %ub
      scf.if %more { tile.load %src[f(%next)] [g(%next)] into %nxt[..] }
      <ops reading / updating %cur>
    }

Semantics are unchanged because each iteration's ops touch only ``%cur``, which the
previous iteration (or the prologue) filled with exactly the data the original load of
this iteration would have written, and nothing writes it in between. The pass only
rewrites a (loop, buffer) pair when that is provable:

* the ``tile.load`` sits directly in the ``scf.for`` body, its destination is a
  ``tile.alloc`` defined outside the loop, and it is the only load into that buffer;
* every other use of the buffer is a ``tile.matmul`` or ``tile.store`` inside the loop,
  after the load (so nothing in an iteration reads what an earlier iteration left, and
  nothing outside the loop sees the buffer);
* the load's offsets and sizes are computed from the induction variable and values
  defined outside the loop by side-effect-free ops without regions (so they can be
  evaluated for the next iteration);
* its DRAM source is defined outside the loop and no op in the loop may write it (no
  ``tile.store`` into the same memref, no op with unknown effects), so reading it one
  iteration early reads the same data.

An accumulator tile that no load fills (the first matmul of each iteration overwrites it,
e.g. with the bias as its D operand, and a store reads it at the end) is ping-ponged the
same way without a prefetch (:func:`analyse_written`): the matmuls of iteration i+1 then
do not wait for the store of iteration i.

It assumes, as tile IR does by construction, that ops after the load read only the part
of the buffer the load wrote in the same iteration, and that distinct DRAM memref values
do not alias. All prefetches of one loop share one ``scf.if`` (at the first load's
place) and one parity; their index arithmetic is cloned per load (``cse`` shares it). Option ``only-inputs`` (default
false) restricts the pass to scratchpad (A/B operand) buffers, leaving accumulator tiles
(bias loads) single-buffered. Doubling a buffer doubles its rows: the scheduler budgets
half of each memory per buffer, and ``allocate-scratchpad`` runs afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, scf
from xdsl.dialects.builtin import IndexType, IntegerAttr, ModuleOp
from xdsl.dialects.func import FuncOp
from xdsl.ir import Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.traits import is_side_effect_free

from gemforge.dialects.tile import AllocOp, FenceOp, LoadOp, MatmulOp, MemorySpace, StoreOp
from gemforge.dialects.tile_view import static_int


@dataclass(frozen=True)
class Candidate:
    """A load into ``alloc`` in ``loop`` that can be pipelined; ``index_ops`` compute its indices."""

    load: LoadOp
    alloc: AllocOp
    loop: scf.ForOp
    index_ops: list[Operation]


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


def analyse(load: LoadOp, *, only_inputs: bool = False) -> Candidate | str:
    """The double-buffering of ``load``'s destination in its loop if legal, else the reason
    it is not (see the module docstring for the conditions)."""
    alloc = load.dest.owner
    loop = load.parent_op()
    if not isinstance(alloc, AllocOp):
        return "the destination is not a tile.alloc (already double-buffered?)"
    if not isinstance(loop, scf.ForOp):
        return "the load is not directly in an scf.for body"
    if only_inputs and alloc.space is not MemorySpace.SPAD:
        return "only-inputs: an accumulator buffer"
    if _inside(alloc, loop):
        return "the buffer is allocated inside the loop"
    if not _defined_outside(load.source, loop):
        return "the DRAM source is defined inside the loop"
    body = loop.body.block
    order = {op: i for i, op in enumerate(body.ops)}
    for use in alloc.buffer.uses:
        user = use.operation
        if user is load:
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
        if order[top] < order[load]:
            return f"the buffer is read by {user.name} before the load (live across iterations)"
    if any(_may_write_dram(op, load.source) for op in loop.walk() if op is not loop):
        return "the loop may write the DRAM source of the load"
    index_ops = _index_slice(load, loop)
    if isinstance(index_ops, str):
        return index_ops
    return Candidate(load, alloc, loop, index_ops)


def candidate(load: LoadOp, *, only_inputs: bool = False) -> Candidate | None:
    """:func:`analyse` without the reason: the candidate, or None when illegal."""
    result = analyse(load, only_inputs=only_inputs)
    return result if isinstance(result, Candidate) else None


def _insert_before(anchor: Operation, *ops: Operation) -> None:
    block = anchor.parent_block()
    assert block is not None
    block.insert_ops_before(list(ops), anchor)


def _clone_load(c: Candidate, iv_value: SSAValue, dest: SSAValue) -> list[Operation]:
    """The index ops and the load, with the iv replaced by ``iv_value`` and a new dest."""
    mapper: dict[SSAValue, SSAValue] = {c.loop.body.block.args[0]: iv_value, c.alloc.buffer: dest}
    cloned = [op.clone(mapper, clone_name_hints=False) for op in c.index_ops]
    return [*cloned, c.load.clone(mapper, clone_name_hints=False)]


@dataclass
class _LoopState:
    """What a rewritten loop already has: its parity and the guarded prefetch block."""

    odd: SSAValue
    prefetch: Block | None = None
    next_iv: SSAValue | None = None


class _Rewriter:
    """Applies candidates, sharing constants, parities and prefetch blocks between them."""

    def __init__(self) -> None:
        self.loops: dict[scf.ForOp, _LoopState] = {}
        self.constants: dict[tuple[Block, int], SSAValue] = {}

    def constant(self, value: int, near: Operation) -> SSAValue:
        """An index constant at the top of the outermost block around ``near``."""
        top = near
        while (parent := top.parent_op()) is not None and not isinstance(parent, FuncOp | ModuleOp):
            top = parent
        block = top.parent_block()
        assert block is not None
        key = (block, value)
        if key not in self.constants:
            for existing in block.ops:
                if existing is top:
                    break  # a constant defined later would not dominate the loop
                if (
                    isinstance(existing, arith.ConstantOp)
                    and isinstance(existing.result.type, IndexType)
                    and static_int(existing.result) == value
                ):
                    self.constants[key] = existing.result
                    return existing.result
            op = arith.ConstantOp(IntegerAttr(value, IndexType()))
            op.result.name_hint = f"c{value}"
            first = block.first_op
            assert first is not None
            block.insert_op_before(op, first)
            self.constants[key] = op.result
        return self.constants[key]

    def state(self, loop: scf.ForOp) -> _LoopState:
        """The loop's state, computing ``odd`` (true on odd iterations) at the top of its body."""
        if loop not in self.loops:
            body = loop.body.block
            ops: list[Operation] = []
            rel: SSAValue = body.args[0]
            if static_int(loop.lb) != 0:
                sub = arith.SubiOp(rel, loop.lb)
                ops.append(sub)
                rel = sub.result
            count = arith.DivUIOp(rel, loop.step)
            parity = arith.RemUIOp(count, self.constant(2, loop))
            odd = arith.CmpiOp(parity, self.constant(1, loop), "eq")
            count.result.name_hint, parity.result.name_hint, odd.result.name_hint = "iter", "parity", "odd"
            ops += [count, parity, odd]
            first = body.first_op
            assert first is not None
            body.insert_ops_before(ops, first)
            self.loops[loop] = _LoopState(odd.result)
        return self.loops[loop]

    def prefetch_block(self, loop: scf.ForOp, where: Operation) -> tuple[Block, SSAValue]:
        """The body of ``scf.if (iv + step < ub)`` (made before ``where``) and ``iv + step``."""
        state = self.state(loop)
        if state.prefetch is None or state.next_iv is None:
            nxt = arith.AddiOp(loop.body.block.args[0], loop.step)
            nxt.result.name_hint = "next"
            more = arith.CmpiOp(nxt, loop.ub, "slt")
            more.result.name_hint = "has_next"
            guard = scf.IfOp(more, [], [scf.YieldOp()])
            _insert_before(where, nxt, more, guard)
            state.prefetch, state.next_iv = guard.true_region.block, nxt.result
        return state.prefetch, state.next_iv

    def ping_pong(self, alloc: AllocOp, loop: scf.ForOp) -> None:
        """Alternate ``alloc`` with a second buffer between iterations of ``loop`` (no prefetch)."""
        ping = alloc.buffer
        pong_op = AllocOp(alloc.buffer_type, attributes=dict(alloc.attributes))
        block = alloc.parent_block()
        assert block is not None
        block.insert_op_after(pong_op, alloc)
        if ping.name_hint:
            pong_op.buffer.name_hint = f"{ping.name_hint}_pong"
        uses = list(ping.uses)
        odd = self.state(loop).odd
        cur = arith.SelectOp(odd, pong_op.buffer, ping)
        if ping.name_hint:
            cur.result.name_hint = f"{ping.name_hint}_cur"
        odd_owner = odd.owner
        assert isinstance(odd_owner, Operation)
        loop.body.block.insert_ops_after([cur], odd_owner)
        for use in uses:
            use.operation.operands[use.index] = cur.result

    def apply(self, c: Candidate) -> None:
        """Rewrite the IR for one legal candidate (see the module docstring)."""
        loop, alloc, load = c.loop, c.alloc, c.load
        ping = alloc.buffer
        pong_op = AllocOp(alloc.buffer_type, attributes=dict(alloc.attributes))
        block = alloc.parent_block()
        assert block is not None
        block.insert_op_after(pong_op, alloc)
        pong = pong_op.buffer
        if ping.name_hint:
            pong.name_hint = f"{ping.name_hint}_pong"
        uses = [u for u in ping.uses if u.operation is not load]

        # Prologue: the first iteration's tile into ping, before the loop.
        prologue = _clone_load(c, loop.lb, ping)
        lb, ub = static_int(loop.lb), static_int(loop.ub)
        if lb is not None and ub is not None and lb < ub:
            _insert_before(loop, *prologue)
        else:
            nonempty = arith.CmpiOp(loop.lb, loop.ub, "slt")
            _insert_before(loop, nonempty, scf.IfOp(nonempty, [], [*prologue, scf.YieldOp()]))

        # This iteration's buffer and the next one's, right after the parity.
        odd = self.state(loop).odd
        cur = arith.SelectOp(odd, pong, ping)
        nxt = arith.SelectOp(odd, ping, pong)
        if ping.name_hint:
            cur.result.name_hint, nxt.result.name_hint = f"{ping.name_hint}_cur", f"{ping.name_hint}_next"
        odd_owner = odd.owner
        assert isinstance(odd_owner, Operation)
        loop.body.block.insert_ops_after([cur, nxt], odd_owner)
        for use in uses:
            use.operation.operands[use.index] = cur.result

        # The next iteration's tile into the other buffer, where the (first) load was.
        guarded, next_iv = self.prefetch_block(loop, load)
        yield_op = guarded.last_op
        assert yield_op is not None
        guarded.insert_ops_before(_clone_load(c, next_iv, nxt.result), yield_op)
        load.detach()
        load.erase()
        for op in reversed(c.index_ops):
            if all(not r.uses for r in op.results):
                op.detach()
                op.erase()


def analyse_written(alloc: AllocOp) -> scf.ForOp | str:
    """The loop in which an accumulator buffer without loads can be ping-ponged, else why not:
    every use is a tile.matmul writing it (as C) or a tile.store reading it, all inside one
    scf.for that does not contain the alloc, and the first use of each iteration is a matmul
    that overwrites it (not accumulating) outside any nested loop or branch."""
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
    if loop is None or _inside(alloc, loop):
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


def double_buffer(module: ModuleOp, *, only_inputs: bool = False) -> int:
    """Double-buffer every legal (loop, buffer) pair of ``module``; return how many."""
    rewriter = _Rewriter()
    done = 0
    for load in [op for op in module.walk() if isinstance(op, LoadOp)]:
        c = candidate(load, only_inputs=only_inputs)
        if c is not None:
            rewriter.apply(c)
            done += 1
    if not only_inputs:
        for alloc in [op for op in module.walk() if isinstance(op, AllocOp)]:
            loop = analyse_written(alloc)
            if isinstance(loop, scf.ForOp):
                rewriter.ping_pong(alloc, loop)
                done += 1
    return done


@dataclass(frozen=True)
class DoubleBuffer(ModulePass):
    """Ping-pong buffers with next-iteration prefetch (see the module docstring).

    Option ``only-inputs`` (default false): leave accumulator buffers single-buffered.
    """

    name = "double-buffer"

    only_inputs: bool = False

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        double_buffer(op, only_inputs=self.only_inputs)
