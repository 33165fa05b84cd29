"""The ``gemmini`` dialect: Gemmini's ISA, one op per instruction.

Fields are typed, not bit-packed: every field of an instruction word is one property
(``i64`` integer, ``i1`` flag, f32 scale or enum) with a read-back Python property
(``op.rows`` -> int, ``op.space`` -> ``Space.ACC``); DRAM addresses and local rows
are SSA operands (``i64``/``index`` and ``index``) so they can be computed inside
``scf.for`` loops. Bit packing is the encoder's job (``backends/gemmini/isa.py``);
each op's ``FUNCT`` says which RoCC command it becomes.

Ops, the RoCC funct each encodes to, and the later issues that use them:

- ``config_ex`` / ``config_ld`` / ``config_st`` (funct 0, kinds 0 / 1 / 2),
  ``mvin`` / ``mvin2`` / ``mvin3`` (2 / 1 / 14), ``mvout`` (3), ``preload`` (6),
  ``compute_preloaded`` (4), ``compute_accumulated`` (5), ``flush`` (7) and
  ``fence`` (a RISC-V fence, no funct): produced by the lowering tile -> gemmini and
  encoded by issue "The optimizing path"; printed as C by issue "C backend".
- ``loop_ws`` (funct 9-13 then 8) and ``loop_conv_ws`` (16-21 then 15): produced by
  the vendor-library baseline (issue "Vendor-library baseline"); encoded and
  emitted as C like the others.

The loop ops are single ops carrying every field of all their config words; the
encoder expands each to its config words plus the loop command.

Not modelled: ``config_norm`` (CONFIG kind 3) and the LAYERNORM / IGELU / SOFTMAX
activations of the norm unit, the norm-command bits of local addresses, relu6_shift
of config_ex (no longer set by the vendor library), COUNTER (126) and the
spad-only loop_ws variants (funct 24/25).

The op classes live in ``gemmini_config``, ``gemmini_data`` and ``gemmini_loops``;
fields and local addresses in ``gemmini_fields`` and ``gemmini_local``; this module
re-exports the public API.
"""

from xdsl.ir import Dialect

from gemforge.dialects.gemmini_base import GemminiOp
from gemforge.dialects.gemmini_config import (
    CONFIG_EX,
    CONFIG_LD,
    CONFIG_ST,
    ConfigExOp,
    ConfigLdOp,
    ConfigStOp,
    FenceOp,
    FlushOp,
)
from gemforge.dialects.gemmini_data import (
    ComputeAccumulatedOp,
    ComputePreloadedOp,
    MvinOp,
    Mvin2Op,
    Mvin3Op,
    MvoutOp,
    PreloadOp,
)
from gemforge.dialects.gemmini_fields import (
    ACTIVATION_BITS,
    DATAFLOW_BITS,
    Activation,
    ActivationAttr,
    Dataflow,
    DataflowAttr,
    Field,
    Space,
    SpaceAttr,
)
from gemforge.dialects.gemmini_local import ROW_BITS, Local, Slot
from gemforge.dialects.gemmini_loops import LoopConvWsOp, LoopWsOp

#: Every op, in ISA order.
OPS: tuple[type[GemminiOp], ...] = (
    ConfigExOp,
    ConfigLdOp,
    ConfigStOp,
    MvinOp,
    Mvin2Op,
    Mvin3Op,
    MvoutOp,
    PreloadOp,
    ComputePreloadedOp,
    ComputeAccumulatedOp,
    FlushOp,
    FenceOp,
    LoopWsOp,
    LoopConvWsOp,
)

#: The move-in op that uses the state of ``config_ld id N``.
MVIN_BY_ID: dict[int, type[GemminiOp]] = {0: MvinOp, 1: Mvin2Op, 2: Mvin3Op}

Gemmini = Dialect("gemmini", list(OPS), [DataflowAttr, ActivationAttr, SpaceAttr])

__all__ = [
    "ACTIVATION_BITS",
    "CONFIG_EX",
    "CONFIG_LD",
    "CONFIG_ST",
    "DATAFLOW_BITS",
    "MVIN_BY_ID",
    "OPS",
    "ROW_BITS",
    "Activation",
    "ActivationAttr",
    "ComputeAccumulatedOp",
    "ComputePreloadedOp",
    "ConfigExOp",
    "ConfigLdOp",
    "ConfigStOp",
    "Dataflow",
    "DataflowAttr",
    "FenceOp",
    "Field",
    "FlushOp",
    "Gemmini",
    "GemminiOp",
    "Local",
    "LoopConvWsOp",
    "LoopWsOp",
    "Mvin2Op",
    "Mvin3Op",
    "MvinOp",
    "MvoutOp",
    "PreloadOp",
    "Slot",
    "Space",
    "SpaceAttr",
]
