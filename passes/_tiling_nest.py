"""Building blocks of ``convert-graph-to-tile``: index expressions, run splitting, loop nests.

Gemmini instructions carry their block shapes (rows, columns, padding) as constants, so
every tile the generated code touches must have a shape known at compile time. A tiled
dim therefore does not become one ``scf.for`` with ``arith.minsi`` remainders: its tile
indices are grouped into *runs* of consecutive indices that share a *signature* (the
tile's size, whether it is the first / last reduction tile, how many halo rows of a
convolution window fall into the padding ...). A run of one index is emitted inline
with a constant offset, a longer run as an ``scf.for`` over tile offsets. Interior
tiles share one signature, so a dim has few runs (typically 1 to 4).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from math import ceil

from xdsl.dialects import arith, scf
from xdsl.dialects.builtin import IndexType, IntegerAttr
from xdsl.ir import Block, Operation, SSAValue


@dataclass(frozen=True)
class Lin:
    """``const + sum(coef * value)`` over SSA index values (loop induction variables)."""

    const: int = 0
    terms: tuple[tuple[SSAValue, int], ...] = ()

    def __add__(self, other: Lin | int) -> Lin:
        if isinstance(other, int):
            return Lin(self.const + other, self.terms)
        coefs: dict[SSAValue, int] = dict(self.terms)
        for v, c in other.terms:
            coefs[v] = coefs.get(v, 0) + c
        return Lin(self.const + other.const, tuple((v, c) for v, c in coefs.items() if c))

    def __mul__(self, k: int) -> Lin:
        return Lin(self.const * k, tuple((v, c * k) for v, c in self.terms if c * k))

    @property
    def static(self) -> int | None:
        return None if self.terms else self.const


class Builder:
    """Appends ops to a current block; index constants are shared at the top of a function."""

    def __init__(self, top: Block):
        self.top = top
        self.block = top
        self._consts: dict[int, SSAValue] = {}
        self._const_ops: list[Operation] = []

    def add(self, op: Operation) -> Operation:
        self.block.add_op(op)
        return op

    def const(self, value: int) -> SSAValue:
        if value not in self._consts:
            op = arith.ConstantOp(IntegerAttr(value, IndexType()))
            op.result.name_hint = f"c{value}" if value >= 0 else f"cm{-value}"
            self._const_ops.append(op)
            self._consts[value] = op.result
        return self._consts[value]

    def value(self, e: Lin | int) -> SSAValue:
        """An SSA index value for ``e`` (constants shared, products and sums emitted here)."""
        if isinstance(e, int):
            return self.const(e)
        acc: SSAValue | None = None
        for v, c in e.terms:
            term = v if c == 1 else self.add(arith.MuliOp(v, self.const(c))).results[0]
            acc = term if acc is None else self.add(arith.AddiOp(acc, term)).results[0]
        if acc is None:
            return self.const(e.const)
        if e.const:
            acc = self.add(arith.AddiOp(acc, self.const(e.const))).results[0]
        return acc

    def mixed(self, e: Lin | int) -> int | SSAValue:
        """A static int where possible (for tile-op views), else an SSA value."""
        if isinstance(e, int):
            return e
        return e.const if e.static is not None else self.value(e)

    def finish(self) -> None:
        """Insert the shared constants at the top of the function body."""
        first = self.top.first_op
        for op in self._const_ops:
            if first is None:
                self.top.add_op(op)
            else:
                self.top.insert_op_before(op, first)


@dataclass(frozen=True)
class TiledDim:
    """One loop dim: ``size`` elements in tiles of ``tile``; ``sig(i)`` is tile i's signature."""

    name: str
    size: int
    tile: int
    signature: Callable[[int], Hashable]

    @property
    def count(self) -> int:
        return ceil(self.size / self.tile)

    def tile_size(self, i: int) -> int:
        return min(self.tile, self.size - i * self.tile)

    def runs(self) -> list[tuple[int, int, Hashable]]:
        """(first index, number of indices, signature) of each run of equal signatures."""
        out: list[tuple[int, int, Hashable]] = []
        for i in range(self.count):
            s = self.signature(i)
            if out and out[-1][2] == s:
                out[-1] = (out[-1][0], out[-1][1] + 1, s)
            else:
                out.append((i, 1, s))
        return out


@dataclass
class Point:
    """Where the nest is: per dim, the tile offset (elements) and the run's signature."""

    offset: dict[str, Lin] = field(default_factory=dict)
    sig: dict[str, Hashable] = field(default_factory=dict)
    index: dict[str, int | None] = field(default_factory=dict)  # tile index when inline


LevelHook = Callable[[Point], None]


def emit_nest(
    b: Builder,
    dims: Sequence[TiledDim],
    before_loop: Callable[[int], None],
    enter: Callable[[int, Point], None],
    leave: Callable[[int, Point], None],
    step: Callable[[Point], None],
    start: Point | None = None,
) -> None:
    """Emit the loop nest over ``dims`` (outer to inner), split into runs.

    For each run of the dim at level ``L``: ``before_loop(L)`` runs in the enclosing
    block (where buffers live that must stay outside the loop), then the loop (or the
    inline body) is opened and ``enter(L, point)`` / the inner levels / ``leave(L,
    point)`` run inside it; ``step(point)`` runs in the innermost body.
    """

    def level(lv: int, point: Point) -> None:
        if lv == len(dims):
            step(point)
            return
        d = dims[lv]
        for start, count, sig in d.runs():
            before_loop(lv)
            inner = Point(dict(point.offset), dict(point.sig), dict(point.index))
            inner.sig[d.name] = sig
            if count == 1:
                inner.offset[d.name] = Lin(start * d.tile)
                inner.index[d.name] = start
                enter(lv, inner)
                level(lv + 1, inner)
                leave(lv, inner)
                continue
            body = Block(arg_types=[IndexType()])
            iv = body.args[0]
            iv.name_hint = d.name
            lo, hi = b.const(start * d.tile), b.const((start + count) * d.tile)
            loop = scf.ForOp(lo, hi, b.const(d.tile), [], body)
            b.add(loop)
            outer_block, b.block = b.block, body
            inner.offset[d.name] = Lin(0, ((iv, 1),))
            inner.index[d.name] = None
            enter(lv, inner)
            level(lv + 1, inner)
            leave(lv, inner)
            b.add(scf.YieldOp())
            b.block = outer_block

    level(0, start or Point())
