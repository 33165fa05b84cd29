"""``allocate-scratchpad``: give every ``tile.alloc`` a first row (and bank) in local memory.

Scratchpad (``#tile.space<spad>``) and accumulator (``#tile.space<acc>``) buffers are
placed independently, each in its memory's rows as the target describes them
(``spad_rows`` in ``spad_banks`` banks, ``acc_rows`` in ``acc_banks`` banks). A buffer
occupies ``AllocOp.rows(dim)`` rows (column-block-major layout). Buffers whose live
ranges (see :mod:`gemforge.passes._liveness`) do not overlap may share rows; buffers
read as the A and as the B operand of one ``tile.matmul`` are kept in different
scratchpad banks when room allows (same-bank operands serialise on Gemmini), then the
two buffers of a ping-pong pair (``arith.select``) too (the DMA fills one while the
array reads the other), and no buffer spans more banks than it must unless nothing
else fits.

The result is recorded with ``AllocOp.set_placement``: ``address`` is the first row
from the start of the buffer's memory and ``bank`` the bank of that row (a buffer larger
than a bank continues into the following banks). Existing placements are overwritten,
so running the pass twice gives the same IR. Run it after ``double-buffer``: the
ping-pong copies are then two buffers live at the same time.

Element types must have the target's widths (``input_bits`` in the scratchpad,
``acc_bits`` in the accumulator). A buffer that cannot be placed ends the pass with a
one-line :class:`ScratchpadOverflowError` naming the alloc, e.g. ``tile.alloc %a : memref<...> in @f: needs 20000 scratchpad
rows, only 16384 free (capacity 16384)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.arith import SelectOp
from xdsl.dialects.builtin import IntegerType, MemRefType, ModuleOp
from xdsl.dialects.func import FuncOp
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException

from gemforge.dialects.tile import AllocOp, MatmulOp, MemorySpace, defining_allocs
from gemforge.dialects.tile_attrs import type_text
from gemforge.errors import GemforgeError
from gemforge.passes._liveness import live_span, number_ops
from gemforge.passes._placement import DoesNotFit, Memory, Request, place
from gemforge.target import Target, load


class ScratchpadOverflowError(PassFailedException, GemforgeError):
    """A buffer cannot be placed: it does not fit, or its element width does not match
    the target (one line, names the ``tile.alloc``)."""


_MEMORY_NAME = {MemorySpace.SPAD: "scratchpad", MemorySpace.ACC: "accumulator"}


def describe_alloc(alloc: AllocOp) -> str:
    """``tile.alloc %name : memref<...> in @function`` for messages."""
    name = alloc.buffer.name_hint
    text = f"tile.alloc {'%' + name + ' ' if name else ''}: {type_text(alloc.buffer.type)}"
    parent = alloc.parent_op()
    while parent is not None and not isinstance(parent, FuncOp):
        parent = parent.parent_op()
    return f"{text} in @{parent.sym_name.data}" if parent is not None else text


def memory_of(space: MemorySpace, target: Target) -> Memory:
    """The rows and banks of a local memory of ``target``."""
    if space is MemorySpace.SPAD:
        return Memory(target.spad_rows, target.spad_bank_rows)
    return Memory(target.acc_rows, target.acc_bank_rows)


def check_element_width(alloc: AllocOp, target: Target) -> None:
    """A local row holds DIM elements of the target's width: other widths have no layout."""
    bits = target.input_bits if alloc.space is MemorySpace.SPAD else target.acc_bits
    element = alloc.element_type
    if not isinstance(element, IntegerType) or element.width.data != bits:
        raise ScratchpadOverflowError(
            f"{describe_alloc(alloc)}: {_MEMORY_NAME[alloc.space]} elements must be i{bits} "
            f"on target {target.name}, got {type_text(element)}"
        )


def operand_partners(module: ModuleOp) -> dict[AllocOp, set[AllocOp]]:
    """For each buffer read as a matmul A (B) operand, the buffers read as B (A) with it."""
    partners: dict[AllocOp, set[AllocOp]] = {}
    for op in module.walk():
        if isinstance(op, MatmulOp):
            a_allocs, b_allocs = defining_allocs(op.a), defining_allocs(op.b)
            for a in a_allocs:
                for b in b_allocs:
                    if a is not b:
                        partners.setdefault(a, set()).add(b)
                        partners.setdefault(b, set()).add(a)
    return partners


def ping_pong_siblings(module: ModuleOp) -> dict[AllocOp, set[AllocOp]]:
    """For each buffer selected between by an ``arith.select``, the other candidates."""
    siblings: dict[AllocOp, set[AllocOp]] = {}
    for op in module.walk():
        if isinstance(op, SelectOp) and isinstance(op.result.type, MemRefType):
            allocs = defining_allocs(op.result)
            for a in allocs:
                siblings.setdefault(a, set()).update(b for b in allocs if b is not a)
    return siblings


def allocate(module: ModuleOp, target: Target, *, separate_operands: bool = True) -> None:
    """Place every spad/acc ``tile.alloc`` of ``module`` (see the module docstring)."""
    spans = number_ops(module)
    allocs = [op for op in module.walk() if isinstance(op, AllocOp)]
    partners = operand_partners(module) if separate_operands else {}
    siblings = ping_pong_siblings(module) if separate_operands else {}
    for alloc in allocs:
        check_element_width(alloc, target)
    for space in (MemorySpace.SPAD, MemorySpace.ACC):
        group = [a for a in allocs if a.space is space]
        index = {a: i for i, a in enumerate(group)}
        requests = [
            Request(
                a.rows(target.dim),
                live_span(a, spans),
                frozenset(index[p] for p in partners.get(a, ()) if p in index),
                frozenset(index[p] for p in siblings.get(a, ()) if p in index),
            )
            for a in group
        ]
        memory = memory_of(space, target)
        try:
            addresses = place(requests, memory)
        except DoesNotFit as e:
            raise _overflow(group[e.index], requests[e.index].rows, e, space, memory) from None
        for alloc, address in zip(group, addresses):
            alloc.set_placement(address, address // memory.bank_rows)


def _overflow(alloc: AllocOp, rows: int, e: DoesNotFit, space: MemorySpace, memory: Memory) -> ScratchpadOverflowError:
    free = f"{e.free} contiguous" if e.contiguous else str(e.free)
    plural = "s" if e.live_count != 1 else ""
    held = f"; {e.live_rows} held by {e.live_count} other live buffer{plural}" if e.live_count else ""
    return ScratchpadOverflowError(
        f"{describe_alloc(alloc)}: needs {rows} {_MEMORY_NAME[space]} rows, only {free} free "
        f"(capacity {memory.capacity}{held})"
    )


@dataclass(frozen=True)
class AllocateScratchpad(ModulePass):
    """Assign local-memory addresses to ``tile.alloc`` buffers (see the module docstring).

    Options: ``target`` (a built-in target name or a TOML path; default
    ``gemmini-default``), ``separate-operands`` (keep matmul A and B buffers, then
    ping-pong pairs, in different banks when possible; default true).
    """

    name = "allocate-scratchpad"

    target: str = "gemmini-default"
    separate_operands: bool = True

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        allocate(op, load(self.target), separate_operands=self.separate_operands)
