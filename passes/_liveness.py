"""Live ranges of ``tile.alloc`` buffers, as intervals over one program-order numbering.

Every op of a module gets a *span* ``(first, last)``: ``first`` is its position in a
pre-order walk and ``last`` the position of the last op nested inside it (``first`` for
an op without regions). A buffer is live from its ``tile.alloc`` to its last use; a
use nested in a region counts as a use of the whole ancestor op that sits in the
alloc's block (so a buffer read inside a loop is live for the whole loop: the loop
runs its body many times). Two buffers may share local memory iff their intervals are
disjoint; allocs in different functions never overlap (functions do not run nested).

Uses are followed through ops that forward the buffer (``arith.select`` between
ping-pong buffers, ``scf.for`` iter_args, any op with a memref result): the buffer is
live as long as any value that may be it.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects.builtin import MemRefType
from xdsl.ir import Block, Operation, SSAValue


@dataclass(frozen=True)
class Span:
    """Inclusive interval of op positions."""

    first: int
    last: int

    def overlaps(self, other: Span) -> bool:
        return self.first <= other.last and other.first <= self.last


def number_ops(root: Operation) -> dict[Operation, Span]:
    """The span of every op nested in ``root`` (root included), in program order."""
    spans: dict[Operation, Span] = {}
    counter = 0

    def visit(op: Operation) -> None:
        nonlocal counter
        first = counter
        counter += 1
        for region in op.regions:
            for block in region.blocks:
                for inner in block.ops:
                    visit(inner)
        spans[op] = Span(first, counter - 1)

    visit(root)
    return spans


def buffer_users(buffer: SSAValue) -> list[Operation]:
    """Every op that uses ``buffer`` or a value forwarded from it (memref results)."""
    seen_values: set[SSAValue] = set()
    users: list[Operation] = []
    seen_ops: set[Operation] = set()
    work = [buffer]
    while work:
        value = work.pop()
        if value in seen_values:
            continue
        seen_values.add(value)
        for use in value.uses:
            op = use.operation
            if op not in seen_ops:
                seen_ops.add(op)
                users.append(op)
            work.extend(r for r in op.results if isinstance(r.type, MemRefType))
    return users


def _ancestor_in(op: Operation, block: Block) -> Operation | None:
    """The ancestor of ``op`` (or ``op`` itself) whose parent block is ``block``."""
    current: Operation | None = op
    while current is not None and current.parent_block() is not block:
        current = current.parent_op()
    return current


def _common_block(a: Operation, b: Operation) -> Block | None:
    """The innermost block that contains both ``a`` and ``b`` (at any depth)."""
    blocks_of_a: list[Block] = []
    current: Operation | None = a
    while current is not None:
        block = current.parent_block()
        if block is None:
            break
        blocks_of_a.append(block)
        current = block.parent_op()
    current = b
    while current is not None:
        block = current.parent_block()
        if block is None:
            return None
        if block in blocks_of_a:
            return block
        current = block.parent_op()
    return None


def live_span(alloc: Operation, spans: dict[Operation, Span]) -> Span:
    """The interval over which the buffer made by ``alloc`` is live."""
    first = last = spans[alloc].first
    home = alloc.parent_block()
    for user in buffer_users(alloc.results[0]):
        block = home
        if home is None or _ancestor_in(user, home) is None:
            # The buffer escapes its block: widen to the innermost block holding both.
            block = _common_block(alloc, user)
        if block is None:
            continue
        at_user = _ancestor_in(user, block)
        at_alloc = _ancestor_in(alloc, block)
        assert at_user is not None and at_alloc is not None
        first = min(first, spans[at_alloc].first)
        last = max(last, spans[at_user].last)
    return Span(first, last)
