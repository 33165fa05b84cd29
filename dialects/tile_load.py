"""``tile.load``: move a window of a DRAM tensor into a scratchpad or accumulator buffer."""

from __future__ import annotations

import math
from collections.abc import Sequence

from xdsl.dialects.builtin import (
    DenseArrayBase,
    Float32Type,
    FloatAttr,
    IndexType,
    IntegerType,
    MemRefType,
    UnitAttr,
    f32,
    i64,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import (
    AttrSizedOperandSegments,
    IRDLOperation,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    var_operand_def,
)
from xdsl.parser import Parser, UnresolvedOperand
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from gemforge.dialects.tile_attrs import MemorySpace, check_buffer_type, memory_space, type_text
from gemforge.dialects.tile_view import (
    Mixed,
    ParsedView,
    View,
    check_mixed,
    check_view,
    join_mixed,
    parse_mixed_list,
    parse_view,
    print_mixed_list,
    print_view,
    split_mixed,
)


def parse_scale(parser: Parser) -> float | None:
    """`` scale <number>`` if present."""
    if not parser.parse_optional_keyword("scale"):
        return None
    return float(parser.parse_number())


def print_scale(printer: Printer, scale: FloatAttr | None) -> None:
    if scale is not None:
        printer.print_string(" scale ")
        printer.print_float(scale.value.data, f32)


def scale_attr(scale: float | None) -> FloatAttr | None:
    return None if scale is None else FloatAttr(scale, f32)


def check_scale(op: str, scale: FloatAttr | None) -> None:
    if scale is not None and not math.isfinite(scale.value.data):
        raise VerifyException(f"{op}: scale must be finite, got {scale.value.data}")


def int_width(typ: MemRefType) -> int:
    assert isinstance(typ.element_type, IntegerType)
    return typ.element_type.width.data


class TransferOp(IRDLOperation):
    """What ``tile.load`` and ``tile.store`` share: both copy the window
    ``source[offsets] [sizes]`` to ``dest[dest_offsets]`` with an optional ``scale``.

    Subclasses declare the IRDL fields themselves (``source``, ``offsets``, ``sizes``,
    ``dest``, ``dest_offsets``, their ``static_*`` properties and ``scale_attr``), since
    xDSL orders operands by declaration. Syntax: ``<source view> into %dest[offsets]
    <op options> {attrs} : <source type> -> <dest type>``.
    """

    # Read-back ---------------------------------------------------------------------------

    @property
    def mixed_offsets(self) -> tuple[Mixed, ...]:
        return join_mixed(self.static_offsets, self.offsets)

    @property
    def mixed_sizes(self) -> tuple[Mixed, ...]:
        return join_mixed(self.static_sizes, self.sizes)

    @property
    def mixed_dest_offsets(self) -> tuple[Mixed, ...]:
        return join_mixed(self.static_dest_offsets, self.dest_offsets)

    @property
    def scale(self) -> float | None:
        return None if self.scale_attr is None else self.scale_attr.value.data

    def _verify_mixed_lists(self) -> None:
        """Each static list agrees with its dynamic ``index`` operands."""
        check_mixed(self.name, "offsets", self.static_offsets, self.offsets)
        check_mixed(self.name, "sizes", self.static_sizes, self.sizes)
        check_mixed(self.name, "dest offsets", self.static_dest_offsets, self.dest_offsets)

    # Custom syntax -------------------------------------------------------------------------

    @staticmethod
    def _parse_head(parser: Parser) -> tuple[ParsedView, UnresolvedOperand, list[Mixed]]:
        """``%src[offsets] [sizes] into %dest[dest_offsets]`` (operands unresolved)."""
        src = parse_view(parser)
        parser.parse_keyword("into")
        dest = parser.parse_unresolved_operand()
        return src, dest, parse_mixed_list(parser)

    @staticmethod
    def _parse_tail(
        parser: Parser, head: tuple[ParsedView, UnresolvedOperand, list[Mixed]]
    ) -> tuple[tuple[SSAValue, list[Mixed], list[Mixed], SSAValue, list[Mixed]], dict[str, Attribute]]:
        """``{attrs} : <source type> -> <dest type>``; returns the constructor's positional
        arguments (source, offsets, sizes, dest, dest_offsets) and the attributes."""
        src, dest, dest_offsets = head
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        src_type = parser.parse_type()
        parser.parse_punctuation("->")
        dest_type = parser.parse_type()
        args = (
            parser.resolve_operand(src.buffer, src_type),
            src.offsets,
            src.sizes,
            parser.resolve_operand(dest, dest_type),
            dest_offsets,
        )
        return args, attributes

    def _print_head(self, printer: Printer) -> None:
        printer.print_string(" ")
        print_view(printer, View(self.source, self.mixed_offsets, self.mixed_sizes))
        printer.print_string(" into ")
        printer.print_ssa_value(self.dest)
        print_mixed_list(printer, self.mixed_dest_offsets)

    def _print_tail(self, printer: Printer) -> None:
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.source.type)
        printer.print_string(" -> ")
        printer.print_attribute(self.dest.type)


@irdl_op_definition
class LoadOp(TransferOp):
    """Copy a window of a DRAM tensor into a spad/acc buffer (Gemmini ``mvin``).

    ``sizes`` (one per destination dimension, static or ``index`` values, so a remainder
    tile is just a smaller window) is the shape written into the destination at
    ``dest_offsets``; ``offsets`` (one per source dimension) is where the window starts in
    the source. With ``d`` ranging over ``sizes``::

        dest[dest_offsets + d] = convert(source[offsets + d[-rank(source):]])

    * Broadcast: a source of lower rank than the destination is read with the leading
      window indices dropped (DRAM stride 0). This is how a bias is set up: load a
      ``memref<N x i32, dram>`` vector into every row of an acc buffer, then accumulate
      matmuls on top of it.
    * ``zero_pad``: leading (row) window positions outside the source read as zero, so a
      convolution input window ``[n, h0:h0+th, w0:w0+tw, c0:c0+tc]`` with ``h0``/``w0``
      negative or past the edge zero-fills the padding pixels. The last (column)
      dimension must always lie inside the source. Without ``zero_pad`` the whole window
      must lie inside the source.
    * ``transpose`` (rank 2 only): ``dest[o + (i, j)] = source[s + (j, i)]``; the source
      window is ``sizes`` reversed. The lowering realises it with the array's transposer
      on the consuming matmul (or rejects it).
    * ``convert``: the value, times ``scale`` (f32, if given) rounded half to even, then
      saturated to the destination element type. An int8 source may be loaded into an
      int32 acc buffer (sign-extended); otherwise element types must be equal.

    Syntax: ``tile.load %src[%n, %h, %w, 0] [1, 8, 8, 64] into %buf[0, 0, 0, 0]
    [scale 0.5] [zero_pad] [transpose] : memref<..., #tile.space<dram>> -> memref<..., #tile.space<spad>>``
    """

    name = "tile.load"

    source = operand_def(MemRefType)
    offsets = var_operand_def(IndexType)
    sizes = var_operand_def(IndexType)
    dest = operand_def(MemRefType)
    dest_offsets = var_operand_def(IndexType)

    static_offsets = prop_def(DenseArrayBase.constr(i64))
    static_sizes = prop_def(DenseArrayBase.constr(i64))
    static_dest_offsets = prop_def(DenseArrayBase.constr(i64))
    scale_attr = opt_prop_def(FloatAttr[Float32Type], prop_name="scale")
    zero_pad_attr = opt_prop_def(UnitAttr, prop_name="zero_pad")
    transpose_attr = opt_prop_def(UnitAttr, prop_name="transpose")

    irdl_options = (AttrSizedOperandSegments(as_property=True),)

    def __init__(
        self,
        source: SSAValue | Operation,
        offsets: Sequence[Mixed | Operation],
        sizes: Sequence[Mixed | Operation],
        dest: SSAValue | Operation,
        dest_offsets: Sequence[Mixed | Operation] | None = None,
        *,
        scale: float | None = None,
        zero_pad: bool = False,
        transpose: bool = False,
        attributes: dict[str, Attribute] | None = None,
    ):
        if dest_offsets is None:
            dest_offsets = [0] * len(sizes)
        s_off, d_off = split_mixed(offsets)
        s_size, d_size = split_mixed(sizes)
        s_doff, d_doff = split_mixed(dest_offsets)
        super().__init__(
            operands=[source, d_off, d_size, dest, d_doff],
            properties={
                "static_offsets": s_off,
                "static_sizes": s_size,
                "static_dest_offsets": s_doff,
                "scale": scale_attr(scale),
                "zero_pad": UnitAttr() if zero_pad else None,
                "transpose": UnitAttr() if transpose else None,
            },
            attributes=attributes,
        )

    # Read-back ---------------------------------------------------------------------------

    @property
    def zero_pad(self) -> bool:
        return self.zero_pad_attr is not None

    @property
    def transpose(self) -> bool:
        return self.transpose_attr is not None

    @property
    def source_view(self) -> View:
        """The window read from DRAM (trailing sizes; reversed when transposed)."""
        sizes = self.mixed_sizes
        assert isinstance(self.source.type, MemRefType)
        sizes = sizes[::-1] if self.transpose else sizes[len(sizes) - self.source.type.get_num_dims() :]
        return View(self.source, self.mixed_offsets, sizes)

    @property
    def dest_view(self) -> View:
        return View(self.dest, self.mixed_dest_offsets, self.mixed_sizes)

    @property
    def dest_space(self) -> MemorySpace:
        space = memory_space(self.dest)
        assert space is not None
        return space

    # Verification --------------------------------------------------------------------------

    def verify_(self) -> None:
        op = self.name
        self._verify_mixed_lists()
        src = check_buffer_type(op, "source", self.source.type, (MemorySpace.DRAM,))
        dst = check_buffer_type(op, "destination", self.dest.type, (MemorySpace.SPAD, MemorySpace.ACC))
        nsizes, drank, srank = len(self.mixed_sizes), dst.get_num_dims(), src.get_num_dims()
        if nsizes != drank:
            raise VerifyException(f"{op}: {nsizes} sizes given but the destination has rank {drank}")
        if srank > drank:
            raise VerifyException(f"{op}: source rank {srank} exceeds destination rank {drank}")
        if self.transpose and not srank == drank == 2:
            raise VerifyException(f"{op}: transpose needs a rank-2 source and destination")
        if memory_space(dst) is MemorySpace.ACC:
            if int_width(src) > int_width(dst):
                raise VerifyException(
                    f"{op}: element type mismatch: {type_text(src.element_type)} source is wider "
                    f"than {type_text(dst.element_type)} accumulator"
                )
        elif src.element_type != dst.element_type:
            raise VerifyException(
                f"{op}: element type mismatch: source {type_text(src.element_type)}, "
                f"destination {type_text(dst.element_type)}"
            )
        check_view(op, "source window", self.source_view, pad_rows=self.zero_pad)
        check_view(op, "destination window", self.dest_view)
        check_scale(op, self.scale_attr)

    # Custom syntax -------------------------------------------------------------------------

    @classmethod
    def parse(cls, parser: Parser) -> LoadOp:
        head = cls._parse_head(parser)
        scale = parse_scale(parser)
        zero_pad = parser.parse_optional_keyword("zero_pad") is not None
        transpose = parser.parse_optional_keyword("transpose") is not None
        args, attributes = cls._parse_tail(parser, head)
        return cls(*args, scale=scale, zero_pad=zero_pad, transpose=transpose, attributes=attributes)

    def print(self, printer: Printer) -> None:
        self._print_head(printer)
        print_scale(printer, self.scale_attr)
        if self.zero_pad:
            printer.print_string(" zero_pad")
        if self.transpose:
            printer.print_string(" transpose")
        self._print_tail(printer)
