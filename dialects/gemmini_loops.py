"""The hardware loop ops of the gemmini dialect: ``loop_ws`` and ``loop_conv_ws``.

Each is ONE op carrying every field of every config word of its loop; the encoder
expands it to the config words followed by the loop command (``loop_ws``: funct 9,
10, 11, 12, 13 then 8; ``loop_conv_ws``: funct 16 .. 21 then 15). The vendor
library baseline emits them (issue "Vendor-library baseline"). Syntax: labelled DRAM
address operands, keyword fields (defaults elided), operand types::

    gemmini.loop_ws a %a, b %b, c %c i 4 j 4 k 2 a_stride 64 b_stride 64 c_stride 64
        : i64, i64, i64
"""

from __future__ import annotations

from typing import ClassVar

from typing_extensions import Self

from xdsl.irdl import (
    AttrSizedOperandSegments,
    OptOperandDef,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer

from gemforge.dialects.gemmini_base import GemminiOp
from gemforge.dialects.gemmini_fields import Activation, Field, enum, flag, uint
from gemforge.dialects.gemmini_local import DRAM_ADDR


class _LoopBase(GemminiOp):
    """Labelled-operand syntax shared by the loop ops (labels = operand names)."""

    irdl_options = (AttrSizedOperandSegments(as_property=True),)

    def print(self, printer: Printer) -> None:
        present = [
            (name, getattr(self, name))
            for name, _ in self.get_irdl_definition().operands
            if getattr(self, name) is not None
        ]
        printer.print_string(" ")
        printer.print_list(present, lambda p: self._print_labelled(printer, *p))
        self.print_fields(printer)
        printer.print_string(" : ")
        printer.print_list([v.type for _, v in present], printer.print_attribute)

    @staticmethod
    def _print_labelled(printer: Printer, name: str, value) -> None:
        printer.print_string(f"{name} ")
        printer.print_ssa_value(value)

    @classmethod
    def parse(cls, parser: Parser) -> Self:
        order = [name for name, _ in cls.get_irdl_definition().operands]

        def labelled():
            pos = parser.pos
            name = parser.parse_keyword_in(order)
            return name, parser.parse_unresolved_operand(), pos

        pairs = parser.parse_comma_separated_list(parser.Delimiter.NONE, labelled)
        names = [name for name, _, _ in pairs]
        for (name, _, pos), previous in zip(pairs[1:], names):
            if order.index(name) <= order.index(previous):
                expected = ", ".join(order)
                parser.raise_error(f"operand '{name}' out of order (expected {expected})", pos)
        missing = [
            n for n, d in cls.get_irdl_definition().operands if n not in names and not _optional(d)
        ]
        if missing:
            parser.raise_error(f"{cls.name} needs operand(s) {', '.join(missing)}", pairs[0][2])
        values, attrs = cls.parse_fields(parser)
        parser.parse_punctuation(":")
        types_pos = parser.pos
        types = parser.parse_comma_separated_list(parser.Delimiter.NONE, parser.parse_type)
        if len(types) != len(pairs):
            parser.raise_error(
                f"expected {len(pairs)} operand types, got {len(types)}", types_pos, parser.pos
            )
        operands = {
            name: parser.resolve_operand(u, t) for (name, u, _), t in zip(pairs, types)
        }
        return cls.make(operands, values, attrs)


def _optional(definition: object) -> bool:
    return isinstance(definition, OptOperandDef)


@irdl_op_definition
class LoopWsOp(_LoopBase):
    """LOOP_WS (funct 8, after its config words 9-13): a whole tiled WS matmul in hardware.

    C[I*DIM x J*DIM] = A[.. x K*DIM] @ B + D, computed by the loop unit, which issues
    the mvins of A, B and D, the preloads and computes, and the mvouts of C itself.

    - funct 9 (bounds): rs2 = i, j, k (16 bits each, in DIM tiles), rs1 = pad_i,
      pad_j, pad_k (elements of padding in the last tile of each dimension);
    - funct 10: rs1 = A, rs2 = B DRAM addresses; funct 11: rs1 = D, rs2 = C (an
      absent D, or C, is encoded as address 0: no bias, or no move-out);
    - funct 12: A and B row strides; funct 13: D and C row strides (in elements);
    - funct 8: rs1 = ex_accumulate (bit 0), full_c (1), low_d (2), activation
      (bits 8+), b_spad_id (17:16), a_spad_id (19:18); rs2 = transpose_a (bit 0),
      transpose_b (1), is_resadd (2).

    The loop must fit half of the scratchpad and half of the accumulator: the
    hardware overlaps two loops in alternating halves.
    """

    name = "gemmini.loop_ws"
    FUNCT: ClassVar[int | None] = 8
    CONFIG_FUNCTS: ClassVar[tuple[int, ...]] = (9, 10, 11, 12, 13)
    ARGS: ClassVar[tuple[str, ...]] = ("a", "b", "d", "c")
    FIELDS: ClassVar[tuple[Field, ...]] = (
        uint("i", 16, minimum=1, doc="DIM-row tiles of A and C."),
        uint("j", 16, minimum=1, doc="DIM-column tiles of B and C."),
        uint("k", 16, minimum=1, doc="DIM tiles of the reduction."),
        uint("pad_i", 16, default=0),
        uint("pad_j", 16, default=0),
        uint("pad_k", 16, default=0),
        uint("a_stride", 64, doc="Elements between rows of A in DRAM."),
        uint("b_stride", 64, doc="Elements between rows of B in DRAM."),
        uint("d_stride", 64, default=0, doc="Elements between rows of D (0: repeat one row)."),
        uint("c_stride", 64, default=0, doc="Elements between rows of C in DRAM."),
        enum("activation", Activation, default=Activation.NONE),
        flag("transpose_a"),
        flag("transpose_b"),
        flag("full_c", "Move C out as full int32 rows."),
        flag("low_d", "D is int8 (else int32)."),
        flag("ex_accumulate", "Accumulate onto what the accumulator holds."),
        flag("is_resadd", "Residual-add mode."),
        uint("a_spad_id", 2, default=0),
        uint("b_spad_id", 2, default=0),
    )

    a = operand_def(DRAM_ADDR)
    b = operand_def(DRAM_ADDR)
    d = opt_operand_def(DRAM_ADDR)
    c = opt_operand_def(DRAM_ADDR)


def _dim(name: str, bits: int = 16, doc: str = "") -> Field:
    """A required size of the convolution (at least 1)."""
    return uint(name, bits, minimum=1, doc=doc)


def _pad(name: str, bits: int) -> Field:
    return uint(name, bits, default=0)


@irdl_op_definition
class LoopConvWsOp(_LoopBase):
    """LOOP_CONV_WS (funct 15, after its config words 16-21): a tiled WS convolution.

    The loop unit issues every mvin, preload, compute and mvout of one convolution
    tile (NHWC input, HWIO weights) itself. Config words:

    - 16: rs1 = batch_size, in_row_dim, in_channels, out_channels; rs2 = out_row_dim,
      pool_out_row_dim, out_col_dim, stride (8 bits), padding (8 bits);
    - 17: rs1 = pool_padding (8), pool_stride (8), pool_size, pool_out_col_dim,
      kernel_dim; rs2 = pochs, pocols, porows, batches (this tile's extent);
    - 18: rs1 = lpad, kchs, kcols, krows; rs2 = in_col_dim, plpad (8), dpad (8),
      upad, rpad;
    - 19: rs1 = kernel_dilation (10), pdpad (11), pupad (11), prpad, orows;
      rs2 = ocols, out_stride, weight_stride, in_stride;
    - 20: rs1 = weights, rs2 = output; 21: rs1 = bias, rs2 = input (DRAM addresses;
      an absent bias needs ``no_bias``);
    - 15: rs1 = no_bias, wrot180, trans_output_1203, trans_weight_1203,
      trans_weight_0132, trans_input_3120, dw (bits 0-6), max_pixels_per_row
      (15:8), b_spad_id (17:16), a_spad_id (19:18); rs2 = no_pool, downsample,
      input_dilated (bits 0-2), activation (4:3).

    Unlisted widths are 16 bits.
    """

    name = "gemmini.loop_conv_ws"
    FUNCT: ClassVar[int | None] = 15
    CONFIG_FUNCTS: ClassVar[tuple[int, ...]] = (16, 17, 18, 19, 20, 21)
    ARGS: ClassVar[tuple[str, ...]] = ("weights", "output", "bias", "input")
    FIELDS: ClassVar[tuple[Field, ...]] = (
        # config 1 (funct 16)
        _dim("batch_size"),
        _dim("in_row_dim"),
        _dim("in_col_dim"),
        _dim("in_channels"),
        _dim("out_channels"),
        _dim("out_row_dim"),
        _dim("out_col_dim"),
        _dim("pool_out_row_dim"),
        _dim("pool_out_col_dim"),
        uint("stride", 8, minimum=1, default=1),
        _pad("padding", 8),
        # config 2 (funct 17)
        _dim("kernel_dim"),
        uint("kernel_dilation", 10, minimum=1, default=1),
        uint("pool_size", 16, minimum=1, default=1),
        uint("pool_stride", 8, minimum=1, default=1),
        _pad("pool_padding", 8),
        _dim("batches", doc="Batches in this tile."),
        _dim("porows", doc="Pooled output rows in this tile."),
        _dim("pocols", doc="Pooled output columns in this tile."),
        _dim("pochs", doc="Output channels in this tile."),
        # config 3 (funct 18)
        _dim("krows", doc="Kernel rows in this tile."),
        _dim("kcols", doc="Kernel columns in this tile."),
        _dim("kchs", doc="Input channels in this tile."),
        _pad("lpad", 16),
        _pad("rpad", 16),
        _pad("upad", 16),
        _pad("dpad", 8),
        _pad("plpad", 8),
        # config 4 (funct 19)
        _pad("prpad", 16),
        _pad("pupad", 11),
        _pad("pdpad", 11),
        _dim("orows", doc="Unpooled output rows in this tile."),
        _dim("ocols", doc="Unpooled output columns in this tile."),
        _dim("in_stride", doc="Elements between input pixels in DRAM."),
        _dim("weight_stride", doc="Elements between weight rows in DRAM."),
        _dim("out_stride", doc="Elements between output pixels in DRAM."),
        # the loop command (funct 15)
        enum("activation", Activation, default=Activation.NONE),
        flag("no_bias"),
        flag("no_pool"),
        flag("downsample"),
        flag("input_dilated"),
        flag("wrot180"),
        flag("trans_output_1203"),
        flag("trans_weight_1203"),
        flag("trans_weight_0132"),
        flag("trans_input_3120"),
        flag("dw", "Depthwise convolution."),
        uint("max_pixels_per_row", 8, minimum=1, default=1),
        uint("a_spad_id", 2, default=0),
        uint("b_spad_id", 2, default=0),
    )

    weights = operand_def(DRAM_ADDR)
    output = operand_def(DRAM_ADDR)
    bias = opt_operand_def(DRAM_ADDR)
    input = operand_def(DRAM_ADDR)

    def verify_(self) -> None:
        super().verify_()
        if self.bias is None and not self.no_bias:
            raise self.fail("without a bias operand the op needs 'no_bias'")
