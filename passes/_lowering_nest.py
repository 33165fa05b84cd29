"""Loop nests of gemmini instructions for ``convert-tile-to-gemmini``.

A tile op expands to a regular grid of instructions (A-row blocks x column blocks x
reduction blocks of a matmul, row segments x DIM-row chunks x column chunks of a
move). Emitting one op per instruction costs ~1 ms of op construction each and makes
the IR as long as the instruction stream, so the grid is emitted as ``scf.for`` nests:
an *axis* is a list of :class:`Seg` (a run of consecutive indices whose instructions
share their static fields: block rows, columns, flags), each segment with more than
one index becomes a loop, and every address is an affine function of the indices
(``arith.muli`` / ``arith.addi``, which the encoder evaluates into Program loop operands).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from itertools import product

from xdsl.dialects import arith, scf
from xdsl.dialects.builtin import IndexType
from xdsl.ir import Block, SSAValue

Index = int | SSAValue


@dataclass(frozen=True)
class Seg:
    """Indices ``start .. start+count-1`` of one axis, sharing ``tag`` (their static shape)."""

    start: int
    count: int
    tag: Hashable = None


def chunks(total: int, size: int, tag=lambda n: n) -> list[Seg]:
    """Segments of ``total`` elements cut into pieces of ``size``: the full ones and the rest;
    a segment's tag is ``tag(piece size)``."""
    q, r = divmod(total, size)
    out = [Seg(0, q, tag(size))] if q else []
    if r:
        out.append(Seg(q, 1, tag(r)))
    return out


def without_first(segs: Sequence[Seg]) -> list[Seg]:
    """The segments minus the axis's first index."""
    first, rest = segs[0], list(segs[1:])
    return ([Seg(first.start + 1, first.count - 1, first.tag)] if first.count > 1 else []) + rest


def all_but_first(axes: Sequence[Sequence[Seg]]) -> list[list[Sequence[Seg]]]:
    """A partition of the grid ``axes`` minus its first point (every axis at its first
    index) into grids: grid p fixes axes ``< p`` at their first index and drops axis
    p's first index. The grids come in the lexicographic order of their points."""
    out = []
    for p in reversed(range(len(axes))):
        head = [[Seg(a[0].start, 1, a[0].tag)] for a in axes[:p]]
        rest = without_first(axes[p])
        if rest:
            out.append([*head, rest, *axes[p + 1:]])
    return out


class NestEmitter:
    """Emits loop nests into a :class:`~gemforge.passes._lowering_tile.Values` op list."""

    def __init__(self, values):
        self.v = values

    def loop(self, seg: Seg, body: Callable[[Index], None]) -> None:
        """``body(index)`` for the segment: inline for one index, else inside an ``scf.for``."""
        v = self.v
        if seg.count == 1:
            body(seg.start)
            return
        block = Block(arg_types=[IndexType()])
        saved, v.pending = v.pending, []
        body(block.args[0])
        block.add_ops(v.pending)
        block.add_op(scf.YieldOp())
        v.pending = saved
        v.emit(scf.ForOp(v.const(seg.start), v.const(seg.start + seg.count), v.const(1), [], block))

    def grid(self, axes: Sequence[Sequence[Seg]], body: Callable[[list[Index], list], None]) -> None:
        """``body(indices, tags)`` over every point of the grid, one nest per segment combination."""
        for combo in product(*axes):
            tags = [s.tag for s in combo]

            def level(i: int, idx: list[Index], combo=combo, tags=tags) -> None:
                if i == len(combo):
                    body(idx, tags)
                    return
                self.loop(combo[i], lambda x: level(i + 1, [*idx, x]))

            level(0, [])

    def affine(self, base: SSAValue, terms: Sequence[tuple[Index, int]], const: int = 0) -> SSAValue:
        """``base + const + sum(index * coef)`` as an index value."""
        v = self.v
        value = base
        for x, coef in terms:
            if isinstance(x, int):
                const += x * coef
            elif coef:
                t = x if coef == 1 else v.emit(arith.MuliOp(x, v.const(coef))).results[0]
                value = v.emit(arith.AddiOp(value, t)).results[0]
        return v.add(value, const)
