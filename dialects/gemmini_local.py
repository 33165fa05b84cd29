"""Local (scratchpad / accumulator) addresses of gemmini ops, and DRAM address operands.

A Gemmini local address is 32 bits: bit 31 accumulator, bit 30 accumulate on write,
bit 29 read the full int32 row, bits 28:26 norm command, the low bits the row; all
ones is the *garbage* address (B/D: zeros, C: do not write). Next to it the
instruction word carries the block's rows and columns (16 bits each).

In the IR one such operand is a *slot*: the row is an SSA ``index`` value (so it can
be computed in ``scf.for`` loops) and the rest are typed fields named after the slot
(``space``, ``accumulate``, ``read_full``, ``rows``, ``cols``, prefixed for ops with
two slots: ``bd_rows``, ``c_space`` ...). Custom syntax of a slot::

    spad[%row] rows 16 cols 64
    acc[%row] accumulate full rows 16 cols 16
    garbage rows 16 cols 16

The norm command bits are always zero: gemforge does not target the norm unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xdsl.dialects.arith import ConstantOp
from xdsl.dialects.builtin import IndexType, IndexTypeConstr, IntegerAttr, i64
from xdsl.ir import Operation, SSAValue
from xdsl.irdl import irdl_to_attr_constraint
from xdsl.parser import Parser, UnresolvedOperand
from xdsl.printer import Printer

from gemforge.dialects.gemmini_fields import Field, Space, enum, flag, uint

if TYPE_CHECKING:
    from gemforge.dialects.gemmini_base import GemminiOp

#: A DRAM address operand is an ``i64`` or an ``index`` SSA value.
DRAM_ADDR = IndexTypeConstr | irdl_to_attr_constraint(i64)

#: Rows and columns of a block: 16-bit fields of the instruction word.
EXTENT_BITS = 16
#: Row bits of a local address: below the norm-command bits 28:26.
ROW_BITS = 26


@dataclass(frozen=True)
class Local:
    """One local address with its block extent, as builders take it and ops read it back.

    ``row`` is None exactly for the garbage address.
    """

    space: Space
    row: SSAValue | None
    rows: int
    cols: int
    accumulate: bool = False
    read_full: bool = False

    @staticmethod
    def spad(row: SSAValue | Operation, rows: int, cols: int) -> Local:
        return Local(Space.SPAD, SSAValue.get(row), rows, cols)

    @staticmethod
    def acc(
        row: SSAValue | Operation,
        rows: int,
        cols: int,
        *,
        accumulate: bool = False,
        read_full: bool = False,
    ) -> Local:
        return Local(Space.ACC, SSAValue.get(row), rows, cols, accumulate, read_full)

    @staticmethod
    def garbage(rows: int, cols: int) -> Local:
        return Local(Space.GARBAGE, None, rows, cols)

    @property
    def is_garbage(self) -> bool:
        return self.space == Space.GARBAGE


@dataclass(frozen=True)
class Slot:
    """Where an op keeps one local address: its field prefix and what is legal there."""

    name: str
    """Keyword of the builder and name of the read-back property ('dst', 'bd', ...)."""
    prefix: str
    """'' for ops with one local address; 'a_', 'bd_', 'c_' otherwise."""
    label: str
    """Name in verifier messages ('A', 'B/D', 'C', 'destination', 'source')."""
    writes: bool
    """The address is written, so 'accumulate' is legal (accumulator only)."""
    reads: bool
    """The address is read, so 'read_full' is legal (accumulator only)."""
    garbage_ok: bool

    @property
    def row_name(self) -> str:
        return f"{self.prefix}row"

    def fields(self) -> tuple[Field, ...]:
        p = self.prefix
        return (
            enum(f"{p}space", Space, doc=f"Memory of the {self.label} address."),
            flag(f"{p}accumulate", f"{self.label}: accumulate into the accumulator row."),
            flag(f"{p}read_full", f"{self.label}: read the full int32 accumulator row."),
            uint(f"{p}rows", EXTENT_BITS, minimum=1, doc=f"Rows of the {self.label} block."),
            uint(f"{p}cols", EXTENT_BITS, minimum=1, doc=f"Columns of the {self.label} block."),
        )

    def values(self, local: Local) -> dict[str, Any]:
        """Field values of ``local`` under this slot's names."""
        p = self.prefix
        return {
            f"{p}space": local.space,
            f"{p}accumulate": local.accumulate,
            f"{p}read_full": local.read_full,
            f"{p}rows": local.rows,
            f"{p}cols": local.cols,
        }

    def local_of(self, op: GemminiOp) -> Local:
        """The op's local address in this slot."""
        v = op.field_values()
        p = self.prefix
        row = getattr(op, self.row_name)
        return Local(
            v[f"{p}space"],
            row,
            v[f"{p}rows"],
            v[f"{p}cols"],
            v[f"{p}accumulate"],
            v[f"{p}read_full"],
        )

    def verify(self, op: GemminiOp) -> None:
        local = self.local_of(op)
        where = f"{self.label} address"
        if local.is_garbage:
            if not self.garbage_ok:
                raise op.fail(f"the {where} cannot be garbage")
            if local.row is not None:
                raise op.fail(f"a garbage {where} takes no row operand")
            if local.accumulate or local.read_full:
                raise op.fail(f"a garbage {where} takes no accumulate / full flag")
            return
        if local.row is None:
            raise op.fail(f"the {where} in {local.space.value} needs a row operand")
        if local.accumulate and not (self.writes and local.space == Space.ACC):
            raise op.fail(f"'accumulate' needs a written accumulator address ({where})")
        if local.read_full and not (self.reads and local.space == Space.ACC):
            raise op.fail(f"'full' needs an accumulator address that is read ({where})")
        row = constant_value(local.row)
        if row is not None and not 0 <= row < (1 << ROW_BITS):
            raise op.fail(f"{where} row {row} is outside [0, {(1 << ROW_BITS) - 1}]")

    def print(self, printer: Printer, op: GemminiOp) -> None:
        local = self.local_of(op)
        if local.is_garbage:
            printer.print_string("garbage")
        else:
            assert local.row is not None
            printer.print_string(f"{local.space.value}[")
            printer.print_ssa_value(local.row)
            printer.print_string("]")
            if local.accumulate:
                printer.print_string(" accumulate")
            if local.read_full:
                printer.print_string(" full")
        printer.print_string(f" rows {local.rows} cols {local.cols}")

    def parse(self, parser: Parser) -> tuple[dict[str, Any], UnresolvedOperand | None]:
        """Field values and the unresolved row operand (None for garbage)."""
        p = self.prefix
        pos = parser.pos
        space = parser.parse_str_enum(Space)
        if space == Space.GARBAGE and not self.garbage_ok:
            parser.raise_error(f"the {self.label} address cannot be garbage", pos, parser.pos)
        row = None
        flags = {"accumulate": False, "full": False}
        if space != Space.GARBAGE:
            parser.parse_punctuation("[")
            row = parser.parse_unresolved_operand()
            parser.parse_punctuation("]")
            while (word := parser.parse_optional_keyword_in(flags)) is not None:
                if flags[word]:
                    parser.raise_error(f"'{word}' given twice")
                flags[word] = True
        _, _, _, rows_field, cols_field = self.fields()
        parser.parse_keyword("rows")
        rows = rows_field.parse_value(parser)
        parser.parse_keyword("cols")
        cols = cols_field.parse_value(parser)
        values = {
            f"{p}space": space,
            f"{p}accumulate": flags["accumulate"],
            f"{p}read_full": flags["full"],
            f"{p}rows": rows,
            f"{p}cols": cols,
        }
        return values, row


def constant_value(value: SSAValue | None) -> int | None:
    """The integer a value holds when an ``arith.constant`` defines it, else None."""
    if value is not None and isinstance(value.owner, ConstantOp):
        attr = value.owner.value
        if isinstance(attr, IntegerAttr):
            return attr.value.data
    return None


def resolve_rows(
    parser: Parser, unresolved: dict[str, UnresolvedOperand | None]
) -> dict[str, SSAValue | None]:
    """Resolve parsed row operands as ``index`` values."""
    return {
        name: None if u is None else parser.resolve_operand(u, IndexType())
        for name, u in unresolved.items()
    }
