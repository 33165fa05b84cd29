"""Attributes of the ``tile`` dialect and the buffer layout they imply.

``#tile.space<dram|spad|acc>`` is the memory space of a builtin memref; every buffer the
tile dialect touches is a memref carrying one. ``#tile.activation<none|relu|clip>`` names
the activation of a ``tile.store`` epilogue.

Buffer layout (how a buffer maps onto DIM-wide local-memory rows). A spad or acc buffer
``memref<d0 x ... x d(r-2) x C x T, space>`` (rank >= 2) is a matrix of
``R = d0 * ... * d(r-2)`` rows (the leading dimensions flattened row-major: for an NHWC
tile the rows are pixels) by ``C`` columns (the last dimension: channels). A local-memory
row holds DIM elements, so the buffer is stored as ``ceil(C / DIM)`` column blocks, each
``R`` rows tall, one after the other ("column-block-major", the layout Gemmini's
``LOOP_CONV_WS`` uses for its input and weight tiles; mvin writes a block of more than DIM
columns at a block stride of ``R`` rows):

    element (r, c)  lives in row  address + (c // DIM) * R + r,  column  c % DIM

so the buffer occupies ``ceil(C / DIM) * R`` rows (:func:`buffer_rows`). ``C`` need not be
a multiple of DIM: the unused columns of the last block are simply never read. Rows of a
view that advance by a fixed stride stay within one column block, which is what lets a
matmul read convolution windows with Gemmini's A-row stride.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from math import prod

from xdsl.dialects.builtin import IntegerType, MemRefType, NoneAttr, StringAttr
from xdsl.dialects.utils.enum_attribute import EnumAttribute
from xdsl.ir import Attribute, ParametrizedAttribute, SSAValue
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException
from xdsl.utils.str_enum import StrEnum


class MemorySpace(StrEnum):
    """Where a buffer lives: host DRAM, the scratchpad, or the accumulator."""

    DRAM = "dram"
    SPAD = "spad"
    ACC = "acc"


@irdl_attr_definition
class SpaceAttr(ParametrizedAttribute):
    """``#tile.space<dram>`` / ``<spad>`` / ``<acc>``: the memory space of a memref."""

    name = "tile.space"

    space: StringAttr

    def __init__(self, space: MemorySpace | str):
        super().__init__(StringAttr(MemorySpace(space).value))

    @property
    def kind(self) -> MemorySpace:
        return MemorySpace(self.space.data)

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> tuple[StringAttr]:
        with parser.in_angle_brackets():
            pos = parser.pos
            word = parser.parse_identifier(" (a memory space: dram, spad or acc)")
            if word not in MemorySpace.__members__.values():
                parser.raise_error(
                    f"unknown memory space '{word}', expected dram, spad or acc", pos, parser.pos
                )
        return (StringAttr(word),)

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            printer.print_string(self.space.data)

    def verify(self) -> None:
        if self.space.data not in MemorySpace.__members__.values():
            raise VerifyException(f"#tile.space: unknown memory space '{self.space.data}'")


class Activation(StrEnum):
    """Activation applied by a ``tile.store`` epilogue after scaling and saturation."""

    NONE = "none"
    RELU = "relu"
    CLIP = "clip"


@irdl_attr_definition
class ActivationAttr(EnumAttribute[Activation]):
    """``#tile.activation<none|relu|clip>``."""

    name = "tile.activation"

    def print_parameter(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            super().print_parameter(printer)

    @classmethod
    def parse_parameter(cls, parser: AttrParser) -> Activation:
        with parser.in_angle_brackets():
            return parser.parse_str_enum(Activation)


DRAM = SpaceAttr(MemorySpace.DRAM)
SPAD = SpaceAttr(MemorySpace.SPAD)
ACC = SpaceAttr(MemorySpace.ACC)


def buffer_type(
    shape: Sequence[int], element_type: Attribute, space: MemorySpace | str
) -> MemRefType:
    """``memref<shape x element_type, #tile.space<space>>``."""
    return MemRefType(element_type, list(shape), NoneAttr(), SpaceAttr(space))


def memory_space(value: SSAValue | Attribute) -> MemorySpace | None:
    """The tile memory space of a memref value or type (None if it has none)."""
    typ = value.type if isinstance(value, SSAValue) else value
    if isinstance(typ, MemRefType) and isinstance(typ.memory_space, SpaceAttr):
        return typ.memory_space.kind
    return None


def buffer_row_count(typ: MemRefType) -> int:
    """Logical rows of a buffer: the product of all but its last dimension."""
    return prod(typ.get_shape()[:-1])


def buffer_rows(typ: MemRefType, dim: int) -> int:
    """Local-memory rows a spad/acc buffer occupies on an array of width ``dim``."""
    if dim < 1:
        raise ValueError(f"DIM must be positive, got {dim}")
    cols = typ.get_shape()[-1]
    return -(-cols // dim) * buffer_row_count(typ)


def element_position(typ: MemRefType, dim: int, index: Sequence[int]) -> tuple[int, int]:
    """(row offset from the buffer's address, column) of element ``index`` of a buffer."""
    shape = typ.get_shape()
    if len(index) != len(shape) or any(not 0 <= i < n for i, n in zip(index, shape)):
        raise IndexError(f"index {tuple(index)} outside buffer shape {shape}")
    row = 0
    for i, n in zip(index[:-1], shape[:-1]):
        row = row * n + i
    col = index[-1]
    return (col // dim) * buffer_row_count(typ) + row, col % dim


def type_text(typ: Attribute) -> str:
    """A type as it is printed in IR (for error messages)."""
    out = io.StringIO()
    Printer(stream=out).print_attribute(typ)
    return out.getvalue()


def check_buffer_type(
    op: str, role: str, typ: Attribute, spaces: Sequence[MemorySpace]
) -> MemRefType:
    """Verify ``typ`` is a memref in one of ``spaces`` with an integer element type.

    Local (spad/acc) buffers must also be static, rank >= 2 and use the identity layout.
    """
    allowed = " or ".join(f"#tile.space<{s.value}>" for s in spaces)
    if not isinstance(typ, MemRefType):
        raise VerifyException(f"{op}: {role} must be a memref in {allowed}, got {type_text(typ)}")
    space = memory_space(typ)
    if space not in spaces:
        got = "no memory space" if isinstance(typ.memory_space, NoneAttr) else type_text(typ.memory_space)
        raise VerifyException(f"{op}: {role} must be in {allowed}, got {got}")
    if not isinstance(typ.element_type, IntegerType):
        raise VerifyException(
            f"{op}: {role} element type must be an integer, got {type_text(typ.element_type)}"
        )
    if typ.get_num_dims() < 1:
        raise VerifyException(f"{op}: {role} must have rank >= 1, got {type_text(typ)}")
    if space is not MemorySpace.DRAM:
        if typ.get_num_dims() < 2:
            raise VerifyException(f"{op}: {role} must have rank >= 2 (rows x columns), got {type_text(typ)}")
        if any(d < 0 for d in typ.get_shape()):
            raise VerifyException(f"{op}: {role} must have a static shape, got {type_text(typ)}")
        if not isinstance(typ.layout, NoneAttr):
            raise VerifyException(f"{op}: {role} must use the identity layout, got {type_text(typ)}")
    return typ
