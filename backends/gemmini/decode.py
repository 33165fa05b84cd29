"""Decoding ``(funct, rs1, rs2)`` into a :class:`Decoded` record with named fields.

Layouts are tables (kind -> fields with register, shift and width), so decoding and
re-encoding are exact inverses: ``decode(f, rs1, rs2).encode() == (f, rs1, rs2)`` for
every instruction that decodes.  Bits outside every field make the instruction
malformed (:class:`~gemforge.backends.gemmini.isa.IsaError`): gemforge never sets them,
so seeing one means a bug in whoever built the instruction.
fp32 fields are kept as their bit pattern (``scale_bits``); ``record.scale`` gives the float.
"""

from __future__ import annotations

from gemforge.backends.gemmini import isa

# (field name, register 1|2, shift, width)
_OPERAND = lambda p, r: ((f"{p}", r, 0, 32), (f"{p}_cols", r, 32, 16), (f"{p}_rows", r, 48, 16))  # noqa: E731

LAYOUTS: dict[str, tuple[tuple[str, int, int, int], ...]] = {
    "mvin": (("dram_addr", 1, 0, 64), ("local", 2, 0, 32), ("cols", 2, 32, 16), ("rows", 2, 48, 16)),
    "mvout": (("dram_addr", 1, 0, 64), ("local", 2, 0, 32), ("cols", 2, 32, 16), ("rows", 2, 48, 16)),
    "preload": (*_OPERAND("bd", 1), *_OPERAND("c", 2)),
    "compute": (*_OPERAND("a", 1), *_OPERAND("bd", 2)),
    "config_ex": (("cmd", 1, 0, 2), ("dataflow", 1, 2, 1), ("act", 1, 3, 2), ("set_only_strides", 1, 7, 1),
                  ("transpose_a", 1, 8, 1), ("transpose_b", 1, 9, 1), ("a_stride", 1, 16, 16),
                  ("acc_scale_bits", 1, 32, 32), ("in_shift", 2, 0, 32), ("relu6_shift", 2, 32, 16),
                  ("c_stride", 2, 48, 16)),
    "config_ld": (("cmd", 1, 0, 2), ("shrunk", 1, 2, 1), ("which", 1, 3, 2), ("pixel_repeats", 1, 8, 8),
                  ("block_stride", 1, 16, 16), ("scale_bits", 1, 32, 32), ("stride", 2, 0, 64)),
    "config_st": (("cmd", 1, 0, 2), ("act", 1, 2, 2), ("pool_stride", 1, 4, 2), ("pool_size", 1, 6, 2),
                  ("upad", 1, 8, 2), ("lpad", 1, 10, 2), ("pool_out_dim", 1, 24, 8), ("porows", 1, 32, 8),
                  ("pocols", 1, 40, 8), ("orows", 1, 48, 8), ("ocols", 1, 56, 8), ("stride", 2, 0, 32),
                  ("scale_bits", 2, 32, 32)),
    "config_norm": (("cmd", 1, 0, 2), ("rs1_rest", 1, 2, 62), ("rs2_all", 2, 0, 64)),
    "flush": (("skip", 1, 0, 64),),
    "fence": (),
    "counter": (("rs1_all", 1, 0, 64), ("rs2_all", 2, 0, 64)),
    "loop_ws_config_bounds": (("pad_I", 1, 0, 16), ("pad_J", 1, 16, 16), ("pad_K", 1, 32, 16),
                              ("I", 2, 0, 16), ("J", 2, 16, 16), ("K", 2, 32, 16)),
    "loop_ws_config_addrs_ab": (("A", 1, 0, 64), ("B", 2, 0, 64)),
    "loop_ws_config_addrs_dc": (("D", 1, 0, 64), ("C", 2, 0, 64)),
    "loop_ws_config_strides_ab": (("A_stride", 1, 0, 64), ("B_stride", 2, 0, 64)),
    "loop_ws_config_strides_dc": (("D_stride", 1, 0, 64), ("C_stride", 2, 0, 64)),
    "loop_ws": (("ex_accumulate", 1, 0, 1), ("full_C", 1, 1, 1), ("low_D", 1, 2, 1), ("act", 1, 8, 8),
                ("b_spad_id", 1, 16, 2), ("a_spad_id", 1, 18, 2), ("A_transpose", 2, 0, 1),
                ("B_transpose", 2, 1, 1), ("is_resadd", 2, 2, 1)),
}
for _w in range(7):
    _name = "loop_conv_ws" if _w == 0 else f"loop_conv_ws_config_{_w}"
    LAYOUTS[_name] = tuple((n, r, s, w) for n, word, r, s, w in isa.LOOP_CONV_FIELDS if word == _w)

KIND_OF_FUNCT: dict[int, str] = {
    isa.MVIN: "mvin", isa.MVIN2: "mvin", isa.MVIN3: "mvin", isa.MVOUT: "mvout", isa.PRELOAD: "preload",
    isa.COMPUTE_PRELOADED: "compute", isa.COMPUTE_ACCUMULATED: "compute", isa.FLUSH: "flush",
    isa.FENCE: "fence", isa.COUNTER: "counter",
    isa.LOOP_WS_CONFIG_BOUNDS: "loop_ws_config_bounds", isa.LOOP_WS_CONFIG_ADDRS_AB: "loop_ws_config_addrs_ab",
    isa.LOOP_WS_CONFIG_ADDRS_DC: "loop_ws_config_addrs_dc",
    isa.LOOP_WS_CONFIG_STRIDES_AB: "loop_ws_config_strides_ab",
    isa.LOOP_WS_CONFIG_STRIDES_DC: "loop_ws_config_strides_dc", isa.LOOP_WS: "loop_ws",
    isa.LOOP_CONV_WS: "loop_conv_ws",
    **{isa.LOOP_CONV_WS_CONFIG_1 + w - 1: f"loop_conv_ws_config_{w}" for w in range(1, 7)},
}
CONFIG_KINDS = {isa.CONFIG_EX: "config_ex", isa.CONFIG_LD: "config_ld", isa.CONFIG_ST: "config_st",
                isa.CONFIG_NORM: "config_norm"}


class Decoded:
    """One decoded instruction: ``kind`` (e.g. ``"mvin"``), ``funct`` and named fields
    (attributes; also ``record.fields``).  Extra views: ``which`` for mvin (0/1/2),
    ``preloaded`` for compute, ``scale`` / ``acc_scale`` floats for configs."""

    __slots__ = ("kind", "funct", "fields")

    def __init__(self, kind: str, funct: int, fields: dict[str, int]):
        self.kind = kind
        self.funct = funct
        self.fields = fields

    def __getattr__(self, name: str):
        fields = object.__getattribute__(self, "fields")
        if name in fields:
            return fields[name]
        if name + "_bits" in fields:
            return isa.bits_f32(fields[name + "_bits"])
        if name == "which" and self.kind == "mvin":
            return isa.MVIN_WHICH[self.funct]
        if name == "preloaded" and self.kind == "compute":
            return self.funct == isa.COMPUTE_PRELOADED
        raise AttributeError(f"{self.kind} has no field {name!r}")

    def encode(self) -> isa.Insn:
        regs = [0, 0, 0]
        for name, reg, shift, _ in LAYOUTS[self.kind]:
            regs[reg] |= self.fields[name] << shift
        return isa.Insn(self.funct, regs[1], regs[2])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Decoded) and (self.funct, self.fields) == (other.funct, other.fields)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k.removesuffix('_bits')}={_fmt(k, v)}" for k, v in self.fields.items() if k != "cmd")
        name = self.kind if self.kind != "compute" else ("compute_preloaded" if self.preloaded else "compute_accumulated")
        if self.kind == "mvin" and self.which:
            name = f"mvin{self.which + 1}"
        return f"{name}({shown})"

    __str__ = __repr__


def _fmt(name: str, value: int) -> str:
    if name.endswith("_bits"):
        return f"{isa.bits_f32(value)!r}"
    if name in ("dram_addr", "local", "a", "bd", "c", "A", "B", "C", "D", "weights", "output", "bias", "input"):
        return hex(value)
    return str(value)


def decode(funct: int, rs1: int, rs2: int) -> Decoded:
    """Decode one instruction (integer operands) or raise IsaError naming the problem."""
    if not (isinstance(rs1, int) and isinstance(rs2, int)):
        raise isa.IsaError(f"funct {funct}: operands must be integers to decode (got {rs1!r}, {rs2!r})")
    if not (0 <= rs1 <= isa.MASK64 and 0 <= rs2 <= isa.MASK64):
        raise isa.IsaError(f"funct {funct}: operand does not fit in 64 bits")
    if funct == isa.CONFIG:
        kind = CONFIG_KINDS[rs1 & 3]
    else:
        kind = KIND_OF_FUNCT.get(funct)
        if kind is None:
            raise isa.IsaError(f"unknown funct {funct} (rs1={rs1:#x}, rs2={rs2:#x})")
    regs = (0, rs1, rs2)
    used = [0, 0, 0]
    fields: dict[str, int] = {}
    for name, reg, shift, width in LAYOUTS[kind]:
        mask = (1 << width) - 1
        fields[name] = (regs[reg] >> shift) & mask
        used[reg] |= mask << shift
    for reg in (1, 2):
        stray = regs[reg] & ~used[reg]
        if stray:
            raise isa.IsaError(f"{kind} (funct {funct}): rs{reg}={regs[reg]:#x} sets unused bits {stray:#x}")
    return Decoded(kind, funct, fields)
