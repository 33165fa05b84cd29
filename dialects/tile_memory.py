"""``tile.alloc`` (a local buffer) and ``tile.fence`` (wait for all data movement)."""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.arith import SelectOp
from xdsl.dialects.builtin import I64, IntegerAttr, MemRefType, i64
from xdsl.ir import Attribute, SSAValue
from xdsl.irdl import IRDLOperation, irdl_op_definition, opt_prop_def, result_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from gemforge.dialects.tile_attrs import (
    MemorySpace,
    buffer_row_count,
    buffer_rows,
    buffer_type,
    check_buffer_type,
    memory_space,
    type_text,
)

LOCAL_SPACES = (MemorySpace.SPAD, MemorySpace.ACC)


@irdl_op_definition
class AllocOp(IRDLOperation):
    """A buffer in the scratchpad or the accumulator.

    The result type ``memref<d0 x ... x C x T, #tile.space<spad|acc>>`` (static, rank >= 2,
    integer elements: int8 inputs in spad, int32 partial sums in acc; the widths are checked
    against the target by the passes that know it) is a matrix of ``prod(d0..)`` rows by
    ``C`` columns, stored in ``ceil(C / DIM)`` column blocks of that many rows each (see
    :mod:`gemforge.dialects.tile_attrs`); :meth:`rows` gives the local-memory rows it needs.

    ``address`` (first local row, relative to the start of its memory) and ``bank`` are
    absent until the allocate-scratchpad pass sets them. There is no dealloc: a buffer is
    live from its ``tile.alloc`` to the last op of the same block that uses it (an op
    whose regions use it counts as a use), so an allocator derives live ranges from uses.

    Syntax: ``%b = tile.alloc [address 128] [bank 1] : memref<32x64xi8, #tile.space<spad>>``
    """

    name = "tile.alloc"

    buffer = result_def(MemRefType)
    address = opt_prop_def(IntegerAttr[I64])
    bank = opt_prop_def(IntegerAttr[I64])

    def __init__(
        self,
        result_type: MemRefType,
        *,
        address: int | None = None,
        bank: int | None = None,
        attributes: dict[str, Attribute] | None = None,
    ):
        props: dict[str, Attribute] = {}
        if address is not None:
            props["address"] = IntegerAttr(address, i64)
        if bank is not None:
            props["bank"] = IntegerAttr(bank, i64)
        super().__init__(result_types=[result_type], properties=props, attributes=attributes)

    @staticmethod
    def get(
        shape: Sequence[int],
        element_type: Attribute,
        space: MemorySpace | str,
        *,
        address: int | None = None,
        bank: int | None = None,
    ) -> AllocOp:
        """``tile.alloc : memref<shape x element_type, #tile.space<space>>``."""
        return AllocOp(buffer_type(shape, element_type, space), address=address, bank=bank)

    @property
    def buffer_type(self) -> MemRefType:
        assert isinstance(self.buffer.type, MemRefType)
        return self.buffer.type

    @property
    def space(self) -> MemorySpace:
        space = memory_space(self.buffer.type)
        assert space is not None
        return space

    @property
    def shape(self) -> tuple[int, ...]:
        return self.buffer_type.get_shape()

    @property
    def element_type(self) -> Attribute:
        return self.buffer_type.element_type

    @property
    def row_count(self) -> int:
        """Logical rows (product of all but the last dimension)."""
        return buffer_row_count(self.buffer_type)

    @property
    def cols(self) -> int:
        return self.shape[-1]

    def rows(self, dim: int) -> int:
        """Local-memory rows this buffer occupies on a DIM-wide array."""
        return buffer_rows(self.buffer_type, dim)

    @property
    def address_value(self) -> int | None:
        return None if self.address is None else self.address.value.data

    @property
    def bank_value(self) -> int | None:
        return None if self.bank is None else self.bank.value.data

    def set_placement(self, address: int, bank: int | None = None) -> None:
        """Record the allocator's decision (first row, and bank if known)."""
        self.address = IntegerAttr(address, i64)
        if bank is not None:
            self.bank = IntegerAttr(bank, i64)

    def verify_(self) -> None:
        check_buffer_type(self.name, "result", self.buffer.type, LOCAL_SPACES)
        for what, value in (("address", self.address_value), ("bank", self.bank_value)):
            if value is not None and value < 0:
                raise VerifyException(f"{self.name}: {what} must be non-negative, got {value}")

    @classmethod
    def parse(cls, parser: Parser) -> AllocOp:
        address = bank = None
        if parser.parse_optional_keyword("address"):
            address = parser.parse_integer(allow_boolean=False)
        if parser.parse_optional_keyword("bank"):
            bank = parser.parse_integer(allow_boolean=False)
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        pos = parser.pos
        typ = parser.parse_type()
        if not isinstance(typ, MemRefType):
            parser.raise_error(f"tile.alloc: expected a memref type, got {type_text(typ)}", pos, parser.pos)
        return cls(typ, address=address, bank=bank, attributes=attributes)

    def print(self, printer: Printer) -> None:
        if self.address is not None:
            printer.print_string(f" address {self.address_value}")
        if self.bank is not None:
            printer.print_string(f" bank {self.bank_value}")
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.buffer.type)


def defining_allocs(buffer: SSAValue) -> list[AllocOp]:
    """The ``tile.alloc`` ops a buffer value may come from.

    A buffer operand is either a ``tile.alloc`` result or, after double buffering, an
    ``arith.select`` between buffers (ping / pong by iteration parity); anything else
    (a function argument: DRAM) gives an empty list.
    """
    owner = buffer.owner
    if isinstance(owner, AllocOp):
        return [owner]
    if isinstance(owner, SelectOp):
        return defining_allocs(owner.lhs) + defining_allocs(owner.rhs)
    return []


@irdl_op_definition
class FenceOp(IRDLOperation):
    """Wait until every tile op before it has completed.

    Tile ops have sequential semantics, so a fence changes no value; it is a request to
    the lowering for Gemmini's ``fence``. The hardware orders local-memory accesses by
    itself but not DRAM ones, so the lowering must fence where a ``tile.store`` is
    followed by a read of the same DRAM (a later ``tile.load`` or the host reading the
    result); ``tile.fence`` marks such points explicitly, typically once at the end of
    a program. The double-buffer pass needs no fence between its ping-pong buffers.

    Syntax: ``tile.fence``
    """

    name = "tile.fence"

    assembly_format = "attr-dict"

    def __init__(self):
        super().__init__()
