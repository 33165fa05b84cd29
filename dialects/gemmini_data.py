"""Data-movement and compute ops of the gemmini dialect.

``mvin`` / ``mvin2`` / ``mvin3`` (funct 2 / 1 / 14), ``mvout`` (3), ``preload`` (6),
``compute_preloaded`` (4) and ``compute_accumulated`` (5). Local addresses are slots
(see ``gemmini_local``)::

    gemmini.mvin %dram -> spad[%row] rows 16 cols 64 : i64
    gemmini.mvin2 %bias -> acc[%row] accumulate rows 16 cols 16 : index
    gemmini.mvout acc[%row] rows 16 cols 16 -> %dram : i64
    gemmini.preload spad[%b] rows 16 cols 16 -> acc[%c] accumulate rows 16 cols 16
    gemmini.preload garbage rows 16 cols 16 -> garbage rows 16 cols 16
    gemmini.compute_preloaded spad[%a] rows 16 cols 16, garbage rows 16 cols 16
"""

from __future__ import annotations

from typing import ClassVar

from typing_extensions import Self

from xdsl.dialects.builtin import IndexType
from xdsl.irdl import AttrSizedOperandSegments, irdl_op_definition, operand_def, opt_operand_def
from xdsl.parser import Parser
from xdsl.printer import Printer

from gemforge.dialects.gemmini_base import GemminiOp
from gemforge.dialects.gemmini_local import DRAM_ADDR, Slot, resolve_rows


class _MvinBase(GemminiOp):
    """Shared definition of the three move-ins (they differ in funct and config)."""

    ARGS: ClassVar[tuple[str, ...]] = ("dram_addr", "row")
    SLOTS: ClassVar[tuple[Slot, ...]] = (
        Slot("dst", "", "destination", writes=True, reads=False, garbage_ok=False),
    )
    STATE_ID: ClassVar[int] = 0

    dram_addr = operand_def(DRAM_ADDR)
    row = operand_def(IndexType)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_ssa_value(self.dram_addr)
        printer.print_string(" -> ")
        self.SLOTS[0].print(printer, self)
        printer.print_op_attributes(self.attributes, print_keyword=True)
        printer.print_string(" : ")
        printer.print_attribute(self.dram_addr.type)

    @classmethod
    def parse(cls, parser: Parser) -> Self:
        dram = parser.parse_unresolved_operand()
        parser.parse_punctuation("->")
        values, row = cls.SLOTS[0].parse(parser)
        _, attrs = cls.parse_fields(parser)
        parser.parse_punctuation(":")
        dram_type = parser.parse_type()
        operands = resolve_rows(parser, {"row": row})
        operands["dram_addr"] = parser.resolve_operand(dram, dram_type)
        return cls.make(operands, values, attrs)


@irdl_op_definition
class MvinOp(_MvinBase):
    """MVIN (funct 2): move ``rows`` x ``cols`` elements from DRAM into spad or acc.

    rs1 = DRAM address of the first row; rs2 = local address (rs2[31:0]), columns
    (rs2[47:32]) and rows (rs2[63:48]). Uses the stride, scale, block stride and
    pixel repeats set by ``config_ld`` with ``id 0``. Columns beyond DIM go to
    consecutive DIM-wide blocks ``block_stride`` rows apart. Into the accumulator
    with ``accumulate`` the data is added to the rows, otherwise it overwrites them.
    """

    name = "gemmini.mvin"
    FUNCT: ClassVar[int | None] = 2
    STATE_ID: ClassVar[int] = 0


@irdl_op_definition
class Mvin2Op(_MvinBase):
    """MVIN2 (funct 1): as ``mvin``, with the state of ``config_ld`` ``id 1``."""

    name = "gemmini.mvin2"
    FUNCT: ClassVar[int | None] = 1
    STATE_ID: ClassVar[int] = 1


@irdl_op_definition
class Mvin3Op(_MvinBase):
    """MVIN3 (funct 14): as ``mvin``, with the state of ``config_ld`` ``id 2``."""

    name = "gemmini.mvin3"
    FUNCT: ClassVar[int | None] = 14
    STATE_ID: ClassVar[int] = 2


@irdl_op_definition
class MvoutOp(GemminiOp):
    """MVOUT (funct 3): move ``rows`` x ``cols`` elements from spad or acc to DRAM.

    rs1 = DRAM address; rs2 = local address, columns and rows packed as for
    ``mvin``. Uses the stride, scale, activation and pooling set by ``config_st``.
    From the accumulator, ``full`` writes the raw int32 rows (no scale, no
    activation); otherwise rows are scaled, saturated to int8 and activated.
    """

    name = "gemmini.mvout"
    FUNCT: ClassVar[int | None] = 3
    ARGS: ClassVar[tuple[str, ...]] = ("dram_addr", "row")
    SLOTS: ClassVar[tuple[Slot, ...]] = (
        Slot("src", "", "source", writes=False, reads=True, garbage_ok=False),
    )

    dram_addr = operand_def(DRAM_ADDR)
    row = operand_def(IndexType)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        self.SLOTS[0].print(printer, self)
        printer.print_string(" -> ")
        printer.print_ssa_value(self.dram_addr)
        printer.print_op_attributes(self.attributes, print_keyword=True)
        printer.print_string(" : ")
        printer.print_attribute(self.dram_addr.type)

    @classmethod
    def parse(cls, parser: Parser) -> Self:
        values, row = cls.SLOTS[0].parse(parser)
        parser.parse_punctuation("->")
        dram = parser.parse_unresolved_operand()
        _, attrs = cls.parse_fields(parser)
        parser.parse_punctuation(":")
        dram_type = parser.parse_type()
        operands = resolve_rows(parser, {"row": row})
        operands["dram_addr"] = parser.resolve_operand(dram, dram_type)
        return cls.make(operands, values, attrs)


class _TwoSlotOp(GemminiOp):
    """An op with two local addresses, printed ``<slot> SEP <slot>``."""

    SEPARATOR: ClassVar[str] = ","

    def print(self, printer: Printer) -> None:
        first, second = self.SLOTS
        printer.print_string(" ")
        first.print(printer, self)
        printer.print_string(f"{self.SEPARATOR} ")
        second.print(printer, self)
        printer.print_op_attributes(
            self.attributes, print_keyword=True, reserved_attr_names=("operandSegmentSizes",)
        )

    @classmethod
    def parse(cls, parser: Parser) -> Self:
        first, second = cls.SLOTS
        values, row1 = first.parse(parser)
        parser.parse_punctuation(cls.SEPARATOR.strip())
        values2, row2 = second.parse(parser)
        _, attrs = cls.parse_fields(parser)
        operands = resolve_rows(parser, {first.row_name: row1, second.row_name: row2})
        return cls.make(operands, values | values2, attrs)


@irdl_op_definition
class PreloadOp(_TwoSlotOp):
    """PRELOAD (funct 6): load the next B (WS) or D (OS) tile and name where C goes.

    rs1 = B/D local address, columns, rows; rs2 = C local address, columns, rows
    (packed as for ``mvin``). WS: B is loaded into the array as the weights of the
    next ``compute_preloaded``; the results of that compute go to C (with
    ``accumulate``: added into accumulator rows). OS: D is preloaded into the array
    and C receives the outputs. A garbage B/D loads zeros; a garbage C writes
    nothing. ``bd_*`` and ``c_*`` fields hold the two addresses.
    """

    name = "gemmini.preload"
    FUNCT: ClassVar[int | None] = 6
    SEPARATOR: ClassVar[str] = " ->"
    ARGS: ClassVar[tuple[str, ...]] = ("bd", "c")
    SLOTS: ClassVar[tuple[Slot, ...]] = (
        Slot("bd", "bd_", "B/D", writes=False, reads=True, garbage_ok=True),
        Slot("c", "c_", "C", writes=True, reads=True, garbage_ok=True),
    )
    irdl_options = (AttrSizedOperandSegments(as_property=True),)

    bd_row = opt_operand_def(IndexType)
    c_row = opt_operand_def(IndexType)


class _ComputeBase(_TwoSlotOp):
    ARGS: ClassVar[tuple[str, ...]] = ("a", "bd")
    SLOTS: ClassVar[tuple[Slot, ...]] = (
        Slot("a", "a_", "A", writes=False, reads=True, garbage_ok=False),
        Slot("bd", "bd_", "B/D", writes=False, reads=True, garbage_ok=True),
    )
    irdl_options = (AttrSizedOperandSegments(as_property=True),)

    a_row = operand_def(IndexType)
    bd_row = opt_operand_def(IndexType)


@irdl_op_definition
class ComputePreloadedOp(_ComputeBase):
    """COMPUTE_PRELOADED (funct 4): multiply A by the freshly preloaded tile.

    rs1 = A local address, columns, rows; rs2 = D (WS: bias added to the output)
    or B (OS) local address, columns, rows. Switches the array to the weights of the
    last ``preload`` and writes results to that preload's C. A garbage D adds zeros.
    """

    name = "gemmini.compute_preloaded"
    FUNCT: ClassVar[int | None] = 4


@irdl_op_definition
class ComputeAccumulatedOp(_ComputeBase):
    """COMPUTE_ACCUMULATED (funct 5): multiply A again with the weights kept in the array.

    Operands as ``compute_preloaded``; the array keeps its current weights (WS) or
    keeps accumulating its outputs (OS); results go to the C of the last preload.
    """

    name = "gemmini.compute_accumulated"
    FUNCT: ClassVar[int | None] = 5
