"""Configuration and synchronisation ops of the gemmini dialect.

``config_ex``, ``config_ld``, ``config_st`` (RoCC funct 0, sub-kind in rs1[1:0]),
``flush`` (funct 7) and ``fence`` (a RISC-V fence). Syntax is the op name followed
by ``field value`` pairs and set flags; fields at their default are not printed::

    gemmini.config_ex dataflow ws activation relu acc_scale 5.000000e-01 transpose_b
    gemmini.config_ld stride 64 block_stride 16 id 1 scale 2.500000e-01 shrunk
    gemmini.config_st stride 16 activation relu scale 1.250000e-01 pool_stride 2 pool_size 3
    gemmini.flush skip
    gemmini.fence
"""

from __future__ import annotations

from typing import ClassVar

from xdsl.irdl import irdl_op_definition

from gemforge.dialects.gemmini_base import GemminiOp
from gemforge.dialects.gemmini_fields import (
    Activation,
    Dataflow,
    Field,
    enum,
    f32_field,
    flag,
    uint,
)

#: rs1[1:0] of a CONFIG command.
CONFIG_EX, CONFIG_LD, CONFIG_ST = 0, 1, 2


@irdl_op_definition
class ConfigExOp(GemminiOp):
    """CONFIG_EX (funct 0, rs1[1:0] = 0): configure the execute unit.

    Sets the dataflow (rs1[2]), the activation applied as results leave the array
    (rs1[4:3]), whether only the strides change (rs1[7]), transposition of A and B
    (rs1[8], rs1[9]), the scratchpad row stride between consecutive A rows
    (rs1[31:16]), the f32 scale applied when the accumulator is read in OS
    (rs1[63:32]), the OS output right shift (rs2[31:0]) and the C row stride
    (rs2[63:48]). Later preloads and computes use this state.
    """

    name = "gemmini.config_ex"
    FUNCT: ClassVar[int | None] = 0
    CONFIG_KIND: ClassVar[int] = CONFIG_EX
    FIELDS: ClassVar[tuple[Field, ...]] = (
        enum("dataflow", Dataflow, doc="Weight- or output-stationary."),
        enum("activation", Activation, default=Activation.NONE),
        uint("a_stride", 16, default=1, doc="Scratchpad rows between A rows."),
        uint("c_stride", 16, default=1, doc="Rows between C rows."),
        f32_field("acc_scale", default=1.0, doc="Scale applied to accumulator reads (OS)."),
        uint("in_shift", 32, default=0, doc="Right shift of OS outputs."),
        flag("transpose_a"),
        flag("transpose_b"),
        flag("set_only_strides", "Change only a_stride and c_stride."),
    )


@irdl_op_definition
class ConfigLdOp(GemminiOp):
    """CONFIG_LD (funct 0, rs1[1:0] = 1): configure one of the three move-in units.

    ``id`` (rs1[4:3]) picks which: 0 for ``mvin``, 1 for ``mvin2``, 2 for ``mvin3``.
    Sets the DRAM row stride in bytes (rs2), the f32 scale applied to moved-in values
    (rs1[63:32]; round half to even, saturate), ``shrunk`` (rs1[2]: int8 data moved
    into the accumulator), the pixel repeat count (rs1[15:8]) and the local-row
    stride between the DIM-wide blocks of a wide move-in (rs1[31:16]).
    """

    name = "gemmini.config_ld"
    FUNCT: ClassVar[int | None] = 0
    CONFIG_KIND: ClassVar[int] = CONFIG_LD
    FIELDS: ClassVar[tuple[Field, ...]] = (
        uint("stride", 64, doc="DRAM bytes between consecutive rows."),
        uint("block_stride", 16, doc="Local rows between DIM-column blocks."),
        uint("id", 2, upper=2, default=0, doc="Which move-in: 0 mvin, 1 mvin2, 2 mvin3."),
        f32_field("scale", default=1.0, doc="Scale applied on move-in."),
        uint("pixel_repeats", 8, default=1),
        flag("shrunk", "Move int8 data into the accumulator."),
    )


@irdl_op_definition
class ConfigStOp(GemminiOp):
    """CONFIG_ST (funct 0, rs1[1:0] = 2): configure the store (move-out) unit.

    Sets the DRAM row stride in bytes (rs2[31:0]), the f32 scale applied to
    accumulator rows on move-out (rs2[63:32]: multiply, round half to even,
    saturate, then activate), the activation (rs1[3:2]) and max pooling of NHWC
    outputs: pool stride (rs1[5:4], 0 = no pooling), window size (rs1[7:6]), upper
    and left padding (rs1[9:8], rs1[11:10]), pooled output dimension (rs1[31:24]),
    pooled output rows and columns (rs1[39:32], rs1[47:40]) and unpooled output rows
    and columns (rs1[55:48], rs1[63:56]).
    """

    name = "gemmini.config_st"
    FUNCT: ClassVar[int | None] = 0
    CONFIG_KIND: ClassVar[int] = CONFIG_ST
    FIELDS: ClassVar[tuple[Field, ...]] = (
        uint("stride", 32, doc="DRAM bytes between consecutive rows."),
        enum("activation", Activation, default=Activation.NONE),
        f32_field("scale", default=1.0, doc="Scale applied on move-out."),
        uint("pool_stride", 2, default=0, doc="0 disables pooling."),
        uint("pool_size", 2, default=0),
        uint("upad", 2, default=0),
        uint("lpad", 2, default=0),
        uint("pool_out_dim", 8, default=0),
        uint("porows", 8, default=0),
        uint("pocols", 8, default=0),
        uint("orows", 8, default=0),
        uint("ocols", 8, default=0),
    )


@irdl_op_definition
class FlushOp(GemminiOp):
    """FLUSH (funct 7): flush Gemmini's TLB; ``skip`` (rs1 = 1) skips the flush."""

    name = "gemmini.flush"
    FUNCT: ClassVar[int | None] = 7
    FIELDS: ClassVar[tuple[Field, ...]] = (flag("skip"),)


@irdl_op_definition
class FenceOp(GemminiOp):
    """A RISC-V ``fence``: the host waits until every issued Gemmini command is done.

    Not a RoCC command (``FUNCT`` is None): the encoder emits it as a host-side
    barrier and the C backend as ``gemmini_fence()``.
    """

    name = "gemmini.fence"
    FIELDS: ClassVar[tuple[Field, ...]] = ()
