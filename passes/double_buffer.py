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
  ``tile.alloc`` defined outside the loop, and it is the only load into that buffer
  (``multi``: every load into the buffer sits directly in the body before any reader,
  and all are prefetched together -- a window and its zero halo; ``hoist``: the alloc
  may also sit at the top of the body, a tile peeled into its own buffer, and moves in
  front of the loop);
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
do not wait for the store of iteration i (``hoist_acc``: also one allocated at the top of
the loop body, moved in front of it).

The pass option ``target`` turns these extensions on as far as the result still fits
that target's memories (``allocate-scratchpad`` is tried on a copy: hoisted buffers stay
live across the whole loop); ``gemforge-pipeline`` passes its target.

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

from gemforge.dialects.tile import AllocOp, LoadOp
from gemforge.dialects.tile_view import static_int
from gemforge.passes._double_buffer_legality import (  # noqa: F401 (re-exported: the pass's API)
    Candidate, _inside, analyse, analyse_written, candidate,
)
from gemforge.target import Target
from gemforge.target import load as load_target


def _insert_before(anchor: Operation, *ops: Operation) -> None:
    block = anchor.parent_block()
    assert block is not None
    block.insert_ops_before(list(ops), anchor)


def _clone_loads(c: Candidate, iv_value: SSAValue, dest: SSAValue) -> list[Operation]:
    """The index ops and the loads, with the iv replaced by ``iv_value`` and a new dest."""
    out: list[Operation] = []
    for load, index_ops in zip(c.loads, c.index_ops):
        mapper: dict[SSAValue, SSAValue] = {c.loop.body.block.args[0]: iv_value, c.alloc.buffer: dest}
        out += [op.clone(mapper, clone_name_hints=False) for op in index_ops]
        out.append(load.clone(mapper, clone_name_hints=False))
    return out


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

    @staticmethod
    def _pong(alloc: AllocOp, loop: scf.ForOp) -> SSAValue:
        """A second buffer like ``alloc``, right after it; an alloc inside ``loop`` (a peeled
        tile's, see ``hoist``) first moves in front of the loop."""
        if _inside(alloc, loop):
            alloc.detach()
            _insert_before(loop, alloc)
        pong_op = AllocOp(alloc.buffer_type, attributes=dict(alloc.attributes))
        block = alloc.parent_block()
        assert block is not None
        block.insert_op_after(pong_op, alloc)
        if alloc.buffer.name_hint:
            pong_op.buffer.name_hint = f"{alloc.buffer.name_hint}_pong"
        return pong_op.buffer

    def ping_pong(self, alloc: AllocOp, loop: scf.ForOp) -> None:
        """Alternate ``alloc`` with a second buffer between iterations of ``loop`` (no prefetch)."""
        pong = self._pong(alloc, loop)
        ping = alloc.buffer
        uses = list(ping.uses)
        odd = self.state(loop).odd
        cur = arith.SelectOp(odd, pong, ping)
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
        pong = self._pong(alloc, loop)  # (c.hoist: the alloc was in the loop body)
        ping = alloc.buffer
        uses = [u for u in ping.uses if not isinstance(u.operation, LoadOp)]

        # Prologue: the first iteration's tile into ping, before the loop.
        prologue = _clone_loads(c, loop.lb, ping)
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
        guarded.insert_ops_before(_clone_loads(c, next_iv, nxt.result), yield_op)
        for each, index_ops in zip(c.loads, c.index_ops):
            each.detach()
            each.erase()
            for op in reversed(index_ops):
                if op.parent is not None and all(not r.uses for r in op.results):
                    op.detach()
                    op.erase()



def double_buffer(module: ModuleOp, *, only_inputs: bool = False, hoist: bool = False, multi: bool = False,
                  hoist_acc: bool = False) -> int:
    """Double-buffer every legal (loop, buffer) pair of ``module``; return how many
    (``hoist``, ``multi``: see :func:`analyse`; ``hoist_acc``: see :func:`analyse_written`)."""
    rewriter = _Rewriter()
    done = 0
    for load in [op for op in module.walk() if isinstance(op, LoadOp)]:
        if load.parent is None:  # erased with the first load of its buffer
            continue
        c = candidate(load, only_inputs=only_inputs, hoist=hoist, multi=multi)
        if c is not None:
            rewriter.apply(c)
            done += 1
    if not only_inputs:
        for alloc in [op for op in module.walk() if isinstance(op, AllocOp)]:
            loop = analyse_written(alloc, hoist=hoist_acc)
            if isinstance(loop, scf.ForOp):
                rewriter.ping_pong(alloc, loop)
                done += 1
    return done


def _fits(module: ModuleOp, target: Target, **options) -> bool:
    """Whether ``module`` double-buffered with ``options`` fits the target's memories (tried
    on a copy with ``allocate-scratchpad``'s own placement)."""
    from gemforge.passes.allocate_scratchpad import ScratchpadOverflowError, allocate

    trial = module.clone()
    double_buffer(trial, **options)
    try:
        allocate(trial, target)
    except ScratchpadOverflowError:
        return False
    return True


def widest_fitting(module: ModuleOp, target: Target, *, only_inputs: bool = False) -> dict:
    """The most pipelining that still fits ``target``: peeled input and accumulator buffers
    hoisted and several loads per buffer, else without the accumulators, else several loads
    only, else one load per buffer."""
    for options in ({"hoist": True, "multi": True, "hoist_acc": True}, {"hoist": True, "multi": True},
                    {"multi": True}):
        if _fits(module, target, only_inputs=only_inputs, **options):
            return options
    return {}


@dataclass(frozen=True)
class DoubleBuffer(ModulePass):
    """Ping-pong buffers with next-iteration prefetch (see the module docstring).

    Option ``only-inputs`` (default false): leave accumulator buffers single-buffered.
    Option ``target`` (default: none): also pipeline buffers filled by several loads (a
    window and its zero halo) and the buffers of tiles peeled into a loop body (hoisted in
    front of the loop), as far as the result still fits that target's scratchpad and
    accumulator (:func:`widest_fitting`); without a target only single-load buffers.
    """

    name = "double-buffer"

    only_inputs: bool = False
    target: str = ""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        options = widest_fitting(op, load_target(self.target), only_inputs=self.only_inputs) if self.target else {}
        double_buffer(op, only_inputs=self.only_inputs, **options)
