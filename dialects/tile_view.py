"""Views: a buffer with index offsets, sizes and (static) strides, shared by tile ops.

Every tile op names the part of a buffer it touches inline, as MLIR's slicing ops do,
instead of through ``memref.subview`` values: passes then find the buffer of each access
directly on the op. Offsets and sizes are *mixed* lists: each entry is a static integer
or an SSA value of type ``index`` (stored as a dense ``static_*`` array property whose
dynamic entries hold ``DYNAMIC_INDEX`` plus a variadic operand list). Strides are static.

Custom syntax of a view: ``%buf[%i, 0] [16, %n]`` (offsets then sizes) and, for matmul
operands, an optional `` strides [1, 2, 1]`` suffix, printed only when a stride is not 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import prod

from xdsl.dialects.arith import ConstantOp
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    DenseArrayBase,
    IndexType,
    IntegerAttr,
    MemRefType,
    i64,
)
from xdsl.dialects.utils.dynamic_index_list import (
    get_dynamic_index_list,
    parse_dynamic_index_list_without_types,
    print_dynamic_index_list,
    split_dynamic_index_list,
    verify_dynamic_index_list,
)
from xdsl.ir import Operation, SSAValue
from xdsl.parser import Parser, UnresolvedOperand
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

Mixed = int | SSAValue
"""An index that is either a static integer or an SSA value of type ``index``."""


def static_int(value: Mixed) -> int | None:
    """The integer of a static entry or of an ``arith.constant``; None if unknown."""
    if isinstance(value, int):
        return value
    owner = value.owner
    if isinstance(owner, ConstantOp) and isinstance(owner.value, IntegerAttr):
        return owner.value.value.data
    return None


def _ssa(value: Mixed | Operation) -> Mixed:
    return SSAValue.get(value) if isinstance(value, Operation) else value


def split_mixed(values: Sequence[Mixed | Operation]) -> tuple[DenseArrayBase, list[SSAValue]]:
    """A mixed list as (static dense array with DYNAMIC_INDEX markers, dynamic operands)."""
    static, dynamic = split_dynamic_index_list([_ssa(v) for v in values], DYNAMIC_INDEX)
    return DenseArrayBase.from_list(i64, static), dynamic


def join_mixed(static: DenseArrayBase | None, dynamic: Sequence[SSAValue]) -> tuple[Mixed, ...]:
    """The mixed list stored as ``static`` + ``dynamic`` (empty if ``static`` is None)."""
    if static is None:
        return ()
    return tuple(get_dynamic_index_list(static.get_values(), dynamic, DYNAMIC_INDEX))


@dataclass(frozen=True)
class View:
    """A strided window of a buffer: ``buffer[offsets + i * strides]`` for ``i < sizes``.

    ``strides`` is empty when every stride is 1. As a matrix, a view has
    ``rows = prod(sizes[:-1])`` (row-major over the leading dimensions) and
    ``cols = sizes[-1]``.
    """

    buffer: SSAValue
    offsets: tuple[Mixed, ...]
    sizes: tuple[Mixed, ...]
    strides: tuple[int, ...] = ()

    @staticmethod
    def of(
        buffer: SSAValue | Operation,
        offsets: Sequence[Mixed | Operation] | None = None,
        sizes: Sequence[Mixed | Operation] | None = None,
        strides: Sequence[int] = (),
    ) -> View:
        """A view; offsets default to zeros and sizes to the whole (static) buffer."""
        buf = SSAValue.get(buffer)
        assert isinstance(buf.type, MemRefType), "a view needs a memref buffer"
        shape = buf.type.get_shape()
        offs = tuple(_ssa(o) for o in offsets) if offsets is not None else (0,) * len(shape)
        szs = tuple(_ssa(s) for s in sizes) if sizes is not None else shape
        if all(s == 1 for s in strides):
            strides = ()
        return View(buf, offs, szs, tuple(strides))

    @property
    def type(self) -> MemRefType:
        assert isinstance(self.buffer.type, MemRefType)
        return self.buffer.type

    @property
    def rank(self) -> int:
        return len(self.sizes)

    @property
    def steps(self) -> tuple[int, ...]:
        """Strides with the implicit 1s filled in."""
        return self.strides or (1,) * self.rank

    @property
    def static_sizes(self) -> tuple[int | None, ...]:
        return tuple(static_int(s) for s in self.sizes)

    @property
    def static_offsets(self) -> tuple[int | None, ...]:
        return tuple(static_int(o) for o in self.offsets)

    @property
    def rows(self) -> int | None:
        """Rows of the view as a matrix, if all leading sizes are known."""
        lead = self.static_sizes[:-1]
        return None if None in lead else prod(lead)  # type: ignore[arg-type]

    @property
    def cols(self) -> int | None:
        return self.static_sizes[-1]


# ---------------------------------------------------------------------------------------
# Custom syntax.


@dataclass
class ParsedView:
    """A view as parsed, before the buffer's type is known (it follows the ``:``)."""

    buffer: UnresolvedOperand
    offsets: list[Mixed]
    sizes: list[Mixed]
    strides: list[int]

    def resolve(self, parser: Parser, typ: MemRefType) -> View:
        return View(parser.resolve_operand(self.buffer, typ), tuple(self.offsets), tuple(self.sizes), tuple(self.strides))


def parse_mixed_list(parser: Parser) -> list[Mixed]:
    """``[%a, 3, -1]``: SSA entries are resolved as ``index`` values."""
    dynamic, static = parse_dynamic_index_list_without_types(parser, DYNAMIC_INDEX)
    resolved = [parser.resolve_operand(d, IndexType()) for d in dynamic]
    return get_dynamic_index_list(static, resolved, DYNAMIC_INDEX)


def print_mixed_list(printer: Printer, values: Sequence[Mixed]) -> None:
    static, dynamic = split_dynamic_index_list(list(values), DYNAMIC_INDEX)
    print_dynamic_index_list(printer, DYNAMIC_INDEX, dynamic, static)


def parse_view(parser: Parser, *, with_strides: bool = False) -> ParsedView:
    """``%buf[offsets] [sizes]`` (+ `` strides [..]`` when ``with_strides``)."""
    buffer = parser.parse_unresolved_operand()
    offsets = parse_mixed_list(parser)
    sizes = parse_mixed_list(parser)
    strides: list[int] = []
    if with_strides and parser.parse_optional_keyword("strides"):
        strides = parser.parse_comma_separated_list(Parser.Delimiter.SQUARE, parser.parse_integer)
    return ParsedView(buffer, offsets, sizes, strides)


def print_view(printer: Printer, view: View) -> None:
    printer.print_ssa_value(view.buffer)
    print_mixed_list(printer, view.offsets)
    printer.print_string(" ")
    print_mixed_list(printer, view.sizes)
    if any(s != 1 for s in view.strides):
        printer.print_string(" strides [" + ", ".join(str(s) for s in view.strides) + "]")


# ---------------------------------------------------------------------------------------
# Verification.


def check_mixed(op: str, what: str, static: DenseArrayBase | None, dynamic: Sequence[SSAValue]) -> None:
    """The number of dynamic markers in ``static`` matches the operands given."""
    values = static.get_values() if static is not None else ()
    verify_dynamic_index_list(values, dynamic, DYNAMIC_INDEX, f" in the {what} of {op}")


def check_view(
    op: str,
    role: str,
    view: View,
    *,
    pad_rows: bool = False,
) -> None:
    """Static checks of a view against its buffer: ranks, sizes, strides and bounds.

    Only static entries are checked; dynamic ones are the program's responsibility.
    With ``pad_rows`` the leading (row) dimensions may reach outside the buffer (those
    positions are zero padding); the last (column) dimension never may.
    """
    shape = view.type.get_shape()
    rank = len(shape)
    for what, n in (("offsets", len(view.offsets)), ("sizes", len(view.sizes))):
        if n != rank:
            raise VerifyException(f"{op}: {role} has {n} {what} but its buffer has rank {rank}")
    if view.strides and len(view.strides) != rank:
        raise VerifyException(f"{op}: {role} has {len(view.strides)} strides but its buffer has rank {rank}")
    steps = view.steps
    if any(s < 1 for s in steps):
        raise VerifyException(f"{op}: {role} strides must be positive, got {list(steps)}")
    if steps[-1] != 1:
        raise VerifyException(f"{op}: {role} stride of the last (column) dimension must be 1, got {steps[-1]}")
    for d, (off, size, step, extent) in enumerate(zip(view.offsets, view.sizes, steps, shape)):
        if isinstance(size, int) and size < 1:
            raise VerifyException(f"{op}: {role} size {size} of dimension {d} must be positive")
        if not isinstance(off, int) or not isinstance(size, int) or extent < 0:
            continue
        last = off + (size - 1) * step
        if pad_rows and d < rank - 1:
            continue
        if off < 0 or last >= extent:
            raise VerifyException(
                f"{op}: {role} dimension {d} reads {off}..{last} (offset {off}, size {size}"
                f"{f', stride {step}' if step != 1 else ''}), outside 0..{extent - 1}"
            )
