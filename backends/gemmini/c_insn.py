"""One Program instruction (or one loop_ws / loop_conv_ws group) as a gemmini.h macro call.

Named macros (``gemmini_extended_mvin``, ``gemmini_extended_preload``,
``gemmini_extended3_config_ex``, ``gemmini_loop_ws``, ...) are used where the packed
operands split exactly into the macro's arguments (:func:`c_expr.split_fields`); anything
else is the raw ``ROCC_INSTRUCTION_RS1_RS2(XCUSTOM_ACC, rs1, rs2, funct)`` with the packed
values, which gemmini.h issues unchanged.  Either way the instruction the hardware gets is
bit-for-bit the Program's.  DRAM operands become C addresses inside the image
(:meth:`Renderer.address`).
"""

from __future__ import annotations

import math

from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.c_expr import Scope, c_float, c_int, c_operand, split_fields, value_range
from gemforge.backends.gemmini.c_image import CBackendError, ImageLayout
from gemforge.backends.gemmini.decode import LAYOUTS
from gemforge.backends.gemmini.affine import Operand

# (funct, register) pairs that hold DRAM byte addresses (the rest are plain numbers).
DRAM_OPERANDS = {
    (isa.MVIN, 1), (isa.MVIN2, 1), (isa.MVIN3, 1), (isa.MVOUT, 1),
    (isa.LOOP_WS_CONFIG_ADDRS_AB, 1), (isa.LOOP_WS_CONFIG_ADDRS_AB, 2),
    (isa.LOOP_WS_CONFIG_ADDRS_DC, 1), (isa.LOOP_WS_CONFIG_ADDRS_DC, 2),
    (isa.LOOP_CONV_WS_CONFIG_5, 1), (isa.LOOP_CONV_WS_CONFIG_5, 2),
    (isa.LOOP_CONV_WS_CONFIG_6, 1), (isa.LOOP_CONV_WS_CONFIG_6, 2),
}
# Hardware-loop operands where 0 means "none" (no bias, no output) rather than an address.
_NULLABLE = {isa.LOOP_WS_CONFIG_ADDRS_AB, isa.LOOP_WS_CONFIG_ADDRS_DC, isa.LOOP_CONV_WS_CONFIG_5, isa.LOOP_CONV_WS_CONFIG_6}

LOOP_WS_GROUP = (isa.LOOP_WS_CONFIG_BOUNDS, isa.LOOP_WS_CONFIG_ADDRS_AB, isa.LOOP_WS_CONFIG_ADDRS_DC,
                 isa.LOOP_WS_CONFIG_STRIDES_AB, isa.LOOP_WS_CONFIG_STRIDES_DC, isa.LOOP_WS)
LOOP_CONV_GROUP = tuple(isa.LOOP_CONV_WS_CONFIG_1 + w for w in range(6)) + (isa.LOOP_CONV_WS,)
_LOOP_WS_ARGS = ("I J K pad_I pad_J pad_K A B D C A_stride B_stride D_stride C_stride A_transpose B_transpose "
                 "full_C low_D ex_accumulate act a_spad_id b_spad_id is_resadd").split()
_LOOP_WS_KINDS = ("loop_ws_config_bounds", "loop_ws_config_addrs_ab", "loop_ws_config_addrs_dc",
                  "loop_ws_config_strides_ab", "loop_ws_config_strides_dc", "loop_ws")
_CONV_KINDS = tuple(f"loop_conv_ws_config_{w}" for w in range(1, 7)) + ("loop_conv_ws",)
_ADDRESS_FIELDS = {"A", "B", "C", "D", "weights", "output", "bias", "input"}
_MVIN_MACRO = {isa.MVIN: "gemmini_extended_mvin", isa.MVIN2: "gemmini_extended_mvin2",
               isa.MVIN3: "gemmini_extended_mvin3", isa.MVOUT: "gemmini_extended_mvout"}


class Renderer:
    """Renders instructions of one Program against its C image layout."""

    def __init__(self, lay: ImageLayout):
        self.lay = lay

    # -- operands -------------------------------------------------------------------
    def address(self, op: Operand, scope: Scope, where: str, nullable: bool = False) -> str:
        """C expression of a DRAM address operand: tensor pointer + byte offset."""
        if nullable and (op == 0 or op == 1):  # 1: gemmini.h's dummy bias pointer under no_bias
            return str(op)
        lo, hi = value_range(op, scope)
        end = self.lay.base + self.lay.size
        if lo < self.lay.base or hi > end:
            raise CBackendError(f"{where}: DRAM address range [{lo:#x}, {hi:#x}] is outside the program's DRAM "
                                f"image [{self.lay.base:#x}, {end:#x})")
        const = op if isinstance(op, int) else op.const
        tensor = self.lay.tensor_at(const)
        if tensor is not None:
            anchor, start = f"GF_ADDR({self.lay.pointer(tensor.name)})", tensor.addr
        else:
            anchor, start = f"GF_ADDR(&{self.lay.struct})", self.lay.base
        rest = op - start
        return anchor if rest == 0 else f"{anchor} + {c_operand(rest, scope)}"

    def _operand(self, funct: int, reg: int, op: Operand, scope: Scope, where: str) -> str:
        if (funct, reg) in DRAM_OPERANDS:
            return self.address(op, scope, where, nullable=funct in _NULLABLE)
        return c_operand(op, scope)

    def _fields(self, insn: isa.Insn, kind: str, scope: Scope) -> dict[str, Operand] | None:
        """Named fields of ``insn`` laid out as ``kind``, or None if not exactly splittable."""
        out: dict[str, Operand] = {}
        for reg, op in ((1, insn.rs1), (2, insn.rs2)):
            fields = [(n, s, w) for n, r, s, w in LAYOUTS[kind] if r == reg]
            part = split_fields(op, fields, scope)
            if part is None:
                return None
            out.update(part)
        return out

    # -- one instruction ------------------------------------------------------------
    def raw(self, insn: isa.Insn, scope: Scope, where: str) -> str:
        rs1 = self._operand(insn.funct, 1, insn.rs1, scope, where)
        rs2 = self._operand(insn.funct, 2, insn.rs2, scope, where)
        return f"ROCC_INSTRUCTION_RS1_RS2(XCUSTOM_ACC, {rs1}, {rs2}, {insn.funct});"

    def insn(self, insn: isa.Insn, scope: Scope, where: str) -> str:
        """One statement for one instruction."""
        f = insn.funct
        if f == isa.FENCE:
            return "gemmini_fence();"
        named = self._named(insn, scope, where)
        return named if named is not None else self.raw(insn, scope, where)

    def _named(self, insn: isa.Insn, scope: Scope, where: str) -> str | None:
        f = insn.funct
        if f in _MVIN_MACRO:
            v = self._fields(insn, "mvout" if f == isa.MVOUT else "mvin", scope)
            if v is None:
                return None
            dram = self.address(insn.rs1, scope, where)
            return f"{_MVIN_MACRO[f]}({dram}, {self._args(v, 'local cols rows', scope)});"
        if f == isa.PRELOAD:
            v = self._fields(insn, "preload", scope)
            return None if v is None else \
                f"gemmini_extended_preload({self._args(v, 'bd c bd_cols bd_rows c_cols c_rows', scope)});"
        if f in (isa.COMPUTE_PRELOADED, isa.COMPUTE_ACCUMULATED):
            v = self._fields(insn, "compute", scope)
            name = "preloaded" if f == isa.COMPUTE_PRELOADED else "accumulated"
            return None if v is None else \
                f"gemmini_extended_compute_{name}({self._args(v, 'a bd a_cols a_rows bd_cols bd_rows', scope)});"
        if f == isa.FLUSH:
            return f"gemmini_flush({c_operand(insn.rs1, scope)});" if insn.rs2 == 0 else None
        if f == isa.CONFIG:
            return self._config(insn, scope)
        return None

    def _config(self, insn: isa.Insn, scope: Scope) -> str | None:
        kind = _config_kind(insn.rs1)
        if kind not in ("config_ex", "config_ld", "config_st"):
            return None
        v = self._fields(insn, kind, scope)
        if v is None:
            return None
        scale_key = "acc_scale_bits" if kind == "config_ex" else "scale_bits"
        scale = _c_scale(v[scale_key])
        if scale is None:
            return None
        args = lambda names: self._args(v, names, scope)  # noqa: E731
        if kind == "config_ex":
            if v["relu6_shift"] != 0:
                return None  # the named macro has no relu6 field
            return (f"gemmini_extended3_config_ex({args('dataflow act in_shift')}, {scale}, "
                    f"{args('c_stride a_stride transpose_a transpose_b set_only_strides')});")
        if kind == "config_ld":
            return (f"gemmini_extended5_config_ld({args('stride')}, {scale}, "
                    f"{args('shrunk block_stride pixel_repeats which')});")
        return (f"gemmini_extended2_config_st({args('stride act')}, {scale}, "
                f"{args('pool_stride pool_size pool_out_dim porows pocols orows ocols upad lpad')});")

    @staticmethod
    def _args(values: dict[str, Operand], names: str, scope: Scope) -> str:
        return ", ".join(_c_field(values[n], scope) for n in names.split())

    # -- hardware-loop groups ---------------------------------------------------------
    def group(self, insns: list[isa.Insn], scope: Scope, where: str) -> str | None:
        """``gemmini_loop_ws(...)`` / ``gemmini_loop_conv_ws(...)`` for a complete group of
        config words + loop instruction, or None if a word does not split exactly."""
        functs = tuple(i.funct for i in insns)
        if functs == LOOP_WS_GROUP:
            kinds, order, macro = _LOOP_WS_KINDS, _LOOP_WS_ARGS, "gemmini_loop_ws"
        elif functs == LOOP_CONV_GROUP:
            kinds, order, macro = _CONV_KINDS, isa.LOOP_CONV_ARGS, "gemmini_loop_conv_ws"
        else:
            return None
        values: dict[str, Operand] = {}
        for insn, kind in zip(insns, kinds):
            v = self._fields(insn, kind, scope)
            if v is None:
                return None
            values.update(v)
        args = [self.address(values[n], scope, f"{where} ({macro} {n})", nullable=True) if n in _ADDRESS_FIELDS
                else _c_field(values[n], scope) for n in order]
        lines = [f"{macro}("]
        per_line = 6
        for i in range(0, len(args), per_line):
            sep = "," if i + per_line < len(args) else ");"
            lines.append("    " + ", ".join(args[i:i + per_line]) + sep)
        return "\n".join(lines)


def _config_kind(rs1: Operand) -> str | None:
    """The config sub-kind (rs1[1:0]) if it is the same for every iteration."""
    if isinstance(rs1, int):
        return {0: "config_ex", 1: "config_ld", 2: "config_st", 3: "config_norm"}[rs1 & 3]
    if all(c % 4 == 0 for c in rs1.terms.values()):
        return _config_kind(rs1.const)
    return None


def _c_field(op: Operand, scope: Scope) -> str:
    """A field argument; the all-ones 32-bit address reads as GARBAGE_ADDR."""
    if op == isa.GARBAGE:
        return "GARBAGE_ADDR"
    return c_operand(op, scope) if not isinstance(op, int) else c_int(op)


def _c_scale(bits: Operand) -> str | None:
    """An exact C float literal for an fp32 bit pattern (None for NaN/inf or a loop-varying one)."""
    if not isinstance(bits, int):
        return None
    x = isa.bits_f32(bits)
    if not math.isfinite(x) or isa.f32_bits(x) != bits:
        return None
    if x == int(x) and abs(x) < 2**24 and math.copysign(1.0, x) > 0:
        return f"{int(x)}.0f"
    return c_float(x)
