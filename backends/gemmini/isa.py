"""Gemmini's RoCC instructions: exact encoding to ``(funct, rs1, rs2)`` and decoding back.

Every encoder returns an :class:`Insn` (``funct``, ``rs1``, ``rs2``; the two operands are
64-bit integers, or :class:`~gemforge.backends.gemmini.affine.Affine` expressions of
enclosing loop variables inside a :class:`~gemforge.backends.gemmini.program.Program`
loop).  The bit layouts follow ucb-bar/gemmini-rocc-tests ``include/gemmini.h`` and
ucb-bar/gemmini ``GemminiISA.scala`` / ``LocalAddr.scala``:

* mvin / mvout: ``rs1`` = DRAM byte address; ``rs2`` = rows<<48 | cols<<32 | local address.
* preload: ``rs1`` = B (WS) or D (OS) operand, ``rs2`` = C; compute: ``rs1`` = A,
  ``rs2`` = D (WS) or B (OS); each operand packed as rows<<48 | cols<<32 | local address.
* config (funct 0): ``rs1[1:0]`` selects execute / load / store / norm.
* local address (32 bits): bit 31 accumulator, bit 30 accumulate, bit 29 read full int32
  row, bits 28:26 norm command, low bits the row.  :data:`GARBAGE` = ``0xFFFFFFFF``.

Field order convention of the encoders: *rows before cols* (gemmini.h's macros take cols
first; these take rows first, like the rest of gemforge).  Fences are not RoCC
instructions: :func:`fence` is a pseudo-instruction with funct :data:`FENCE` (1000).

:func:`decode` turns ``(funct, rs1, rs2)`` (integers) into a typed record with named
fields (see ``decode.py``); every record has ``encode()`` giving the instruction back.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from gemforge.backends.gemmini.affine import Affine, Operand
from gemforge.errors import GemforgeError

# funct values (GemminiISA.scala).
CONFIG = 0
MVIN2 = 1
MVIN = 2
MVOUT = 3
COMPUTE_PRELOADED = 4
COMPUTE_ACCUMULATED = 5
PRELOAD = 6
FLUSH = 7
LOOP_WS = 8
LOOP_WS_CONFIG_BOUNDS = 9
LOOP_WS_CONFIG_ADDRS_AB = 10
LOOP_WS_CONFIG_ADDRS_DC = 11
LOOP_WS_CONFIG_STRIDES_AB = 12
LOOP_WS_CONFIG_STRIDES_DC = 13
MVIN3 = 14
LOOP_CONV_WS = 15
LOOP_CONV_WS_CONFIG_1 = 16
LOOP_CONV_WS_CONFIG_2 = 17
LOOP_CONV_WS_CONFIG_3 = 18
LOOP_CONV_WS_CONFIG_4 = 19
LOOP_CONV_WS_CONFIG_5 = 20
LOOP_CONV_WS_CONFIG_6 = 21
COUNTER = 126
FENCE = 1000  # pseudo-instruction: the CPU's `fence`, not a RoCC command

# rs1[1:0] of CONFIG.
CONFIG_EX = 0
CONFIG_LD = 1
CONFIG_ST = 2
CONFIG_NORM = 3

OUTPUT_STATIONARY = 0
WEIGHT_STATIONARY = 1
NO_ACTIVATION = 0
RELU = 1

# Move-in number (config_ld's state id) -> funct of that move-in.
MVIN_FUNCT = {0: MVIN, 1: MVIN2, 2: MVIN3}
MVIN_WHICH = {v: k for k, v in MVIN_FUNCT.items()}

GARBAGE = 0xFFFFFFFF
ACC_BIT = 1 << 31
ACCUMULATE_BIT = 1 << 30
READ_FULL_BIT = 1 << 29
NORM_SHIFT = 26
MASK64 = (1 << 64) - 1


class IsaError(GemforgeError):
    """A field that does not fit its instruction encoding, or an undecodable instruction."""


class Insn(NamedTuple):
    """One instruction: ``funct`` and two 64-bit operands (ints or Affine expressions)."""

    funct: int
    rs1: Operand
    rs2: Operand

    def __str__(self) -> str:
        if isinstance(self.rs1, int) and isinstance(self.rs2, int):
            return str(decode(self.funct, self.rs1, self.rs2))
        return f"insn(funct={self.funct}, rs1={self.rs1!r}, rs2={self.rs2!r})"


# ----------------------------------------------------------------------------- helpers
def f32_bits(x: float) -> int:
    """IEEE-754 single-precision bit pattern of ``x`` (as C's union cast in gemmini.h)."""
    return struct.unpack("<I", struct.pack("<f", float(x)))[0]


def bits_f32(bits: int) -> float:
    """The float32 value (as a Python float) of a 32-bit pattern."""
    return struct.unpack("<f", struct.pack("<I", bits & 0xFFFFFFFF))[0]


def spad(row: Operand) -> Operand:
    """Local address of scratchpad row ``row``."""
    return _field(row, 0, 26, "spad row")


def acc(row: Operand, accumulate: bool = False, read_full: bool = False) -> Operand:
    """Local address of accumulator row ``row``; ``accumulate`` adds on write (else
    overwrite); ``read_full`` makes mvout read the raw int32 row (no scale, no activation)."""
    return ACC_BIT + (ACCUMULATE_BIT if accumulate else 0) + (READ_FULL_BIT if read_full else 0) + _field(
        row, 0, 26, "acc row"
    )


def _field(value: Operand, shift: int, width: int, name: str) -> Operand:
    """``value << shift`` after checking an integer value fits in ``width`` bits."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        if not 0 <= value < (1 << width):
            raise IsaError(f"{name} = {value} does not fit in {width} bits")
        return value << shift
    if isinstance(value, Affine):
        return value << shift
    raise IsaError(f"{name} = {value!r} is not an integer or affine expression")


def _pack(*fields: tuple[Operand, int, int, str]) -> Operand:
    total: Operand = 0
    for value, shift, width, name in fields:
        total = total + _field(value, shift, width, name)
    return total


def _operand(addr: Operand, rows: Operand, cols: Operand, what: str) -> Operand:
    """rows<<48 | cols<<32 | local address, the packing of mvin/mvout/preload/compute."""
    return _pack((addr, 0, 32, f"{what} address"), (cols, 32, 16, f"{what} cols"), (rows, 48, 16, f"{what} rows"))


def _dram(addr: Operand, name: str = "dram address") -> Operand:
    return _field(addr, 0, 64, name)


# ----------------------------------------------------------------------------- data movement
def mvin(dram_addr: Operand, local_addr: Operand, rows: Operand, cols: Operand, which: int = 0) -> Insn:
    """Move ``rows`` x ``cols`` elements from DRAM into the scratchpad or accumulator,
    using the stride/scale of move-in number ``which`` (0 = MVIN, 1 = MVIN2, 2 = MVIN3)."""
    if which not in MVIN_FUNCT:
        raise IsaError(f"mvin which = {which} (expected 0, 1 or 2)")
    return Insn(MVIN_FUNCT[which], _dram(dram_addr), _operand(local_addr, rows, cols, "mvin"))


def mvout(dram_addr: Operand, local_addr: Operand, rows: Operand, cols: Operand) -> Insn:
    """Move ``rows`` x ``cols`` elements from the scratchpad or accumulator to DRAM."""
    return Insn(MVOUT, _dram(dram_addr), _operand(local_addr, rows, cols, "mvout"))


# ----------------------------------------------------------------------------- execute
def preload(bd_addr: Operand, c_addr: Operand, bd_rows: Operand, bd_cols: Operand, c_rows: Operand, c_cols: Operand) -> Insn:
    """Preload B (WS) or D (OS) from ``bd_addr`` and set the output address ``c_addr``
    for the next compute_preloaded (GARBAGE: zeros / do not write)."""
    return Insn(PRELOAD, _operand(bd_addr, bd_rows, bd_cols, "preload B/D"), _operand(c_addr, c_rows, c_cols, "preload C"))


def compute(a_addr: Operand, bd_addr: Operand, a_rows: Operand, a_cols: Operand, bd_rows: Operand, bd_cols: Operand,
            preloaded: bool) -> Insn:
    """Multiply A by the weights: ``preloaded=True`` switches to the just-preloaded
    weights (COMPUTE_PRELOADED), else keeps the current ones (COMPUTE_ACCUMULATED).
    ``bd_addr`` is D in WS (added to the result; GARBAGE = zeros) and B in OS."""
    funct = COMPUTE_PRELOADED if preloaded else COMPUTE_ACCUMULATED
    return Insn(funct, _operand(a_addr, a_rows, a_cols, "compute A"), _operand(bd_addr, bd_rows, bd_cols, "compute B/D"))


# ----------------------------------------------------------------------------- configs
def config_ex(dataflow: int = WEIGHT_STATIONARY, act: int = NO_ACTIVATION, a_stride: int = 1, acc_scale: float = 1.0,
              transpose_a: bool = False, transpose_b: bool = False, c_stride: int = 1, in_shift: int = 0,
              relu6_shift: int = 0, set_only_strides: bool = False) -> Insn:
    """Configure the execute unit (gemmini_extended3_config_ex)."""
    rs1 = _pack((CONFIG_EX, 0, 2, "cmd"), (dataflow, 2, 1, "dataflow"), (act, 3, 2, "act"),
                (set_only_strides, 7, 1, "set_only_strides"), (transpose_a, 8, 1, "transpose_a"),
                (transpose_b, 9, 1, "transpose_b"), (a_stride, 16, 16, "a_stride"),
                (f32_bits(acc_scale), 32, 32, "acc_scale"))
    rs2 = _pack((in_shift, 0, 32, "in_shift"), (relu6_shift, 32, 16, "relu6_shift"), (c_stride, 48, 16, "c_stride"))
    return Insn(CONFIG, rs1, rs2)


def config_ld(stride: Operand, scale: float = 1.0, shrunk: bool = False, block_stride: int | None = None,
              pixel_repeats: int = 1, which: int = 0) -> Insn:
    """Configure move-in number ``which``: DRAM row ``stride`` in bytes, fp32 ``scale``
    applied to each element, ``shrunk`` (int8 move-in into the accumulator) and the
    ``block_stride`` in local rows between DIM-column blocks (gemmini.h uses DIM)."""
    if block_stride is None:
        raise IsaError("config_ld needs block_stride (rows between DIM-wide blocks; usually target.dim)")
    rs1 = _pack((CONFIG_LD, 0, 2, "cmd"), (shrunk, 2, 1, "shrunk"), (which, 3, 2, "which"),
                (pixel_repeats, 8, 8, "pixel_repeats"), (block_stride, 16, 16, "block_stride"),
                (f32_bits(scale), 32, 32, "scale"))
    return Insn(CONFIG, rs1, _dram(stride, "config_ld stride"))


def config_st(stride: Operand, act: int = NO_ACTIVATION, scale: float = 1.0, pool_stride: int = 0, pool_size: int = 0,
              pool_out_dim: int = 0, porows: int = 0, pocols: int = 0, orows: int = 0, ocols: int = 0,
              upad: int = 0, lpad: int = 0) -> Insn:
    """Configure the store unit (gemmini_extended2_config_st): DRAM row ``stride`` in bytes,
    activation and fp32 ``scale`` applied on mvout from the accumulator, max pooling."""
    rs1 = _pack((CONFIG_ST, 0, 2, "cmd"), (act, 2, 2, "act"), (pool_stride, 4, 2, "pool_stride"),
                (pool_size, 6, 2, "pool_size"), (upad, 8, 2, "upad"), (lpad, 10, 2, "lpad"),
                (pool_out_dim, 24, 8, "pool_out_dim"), (porows, 32, 8, "porows"), (pocols, 40, 8, "pocols"),
                (orows, 48, 8, "orows"), (ocols, 56, 8, "ocols"))
    rs2 = _pack((stride, 0, 32, "config_st stride"), (f32_bits(scale), 32, 32, "scale"))
    return Insn(CONFIG, rs1, rs2)


def flush(skip: int = 0) -> Insn:
    """Flush the TLB (gemmini_flush)."""
    return Insn(FLUSH, skip, 0)


def fence() -> Insn:
    """Pseudo-instruction: wait until all accelerator work is done (the CPU's fence)."""
    return Insn(FENCE, 0, 0)


# ----------------------------------------------------------------------------- loop_ws
def loop_ws_config_bounds(I, J, K, pad_I, pad_J, pad_K) -> Insn:
    return Insn(LOOP_WS_CONFIG_BOUNDS,
                _pack((pad_I, 0, 16, "pad_I"), (pad_J, 16, 16, "pad_J"), (pad_K, 32, 16, "pad_K")),
                _pack((I, 0, 16, "I"), (J, 16, 16, "J"), (K, 32, 16, "K")))


def loop_ws_config_addrs_ab(A, B) -> Insn:
    return Insn(LOOP_WS_CONFIG_ADDRS_AB, _dram(A, "A"), _dram(B, "B"))


def loop_ws_config_addrs_dc(D, C) -> Insn:
    return Insn(LOOP_WS_CONFIG_ADDRS_DC, _dram(D, "D"), _dram(C, "C"))


def loop_ws_config_strides_ab(A_stride, B_stride) -> Insn:
    return Insn(LOOP_WS_CONFIG_STRIDES_AB, _dram(A_stride, "A_stride"), _dram(B_stride, "B_stride"))


def loop_ws_config_strides_dc(D_stride, C_stride) -> Insn:
    return Insn(LOOP_WS_CONFIG_STRIDES_DC, _dram(D_stride, "D_stride"), _dram(C_stride, "C_stride"))


def loop_ws_start(A_transpose, B_transpose, full_C, low_D, ex_accumulate, act=0, a_spad_id=0, b_spad_id=0,
                  is_resadd=False) -> Insn:
    rs1 = _pack((ex_accumulate, 0, 1, "ex_accumulate"), (full_C, 1, 1, "full_C"), (low_D, 2, 1, "low_D"),
                (act, 8, 8, "act"), (b_spad_id, 16, 2, "b_spad_id"), (a_spad_id, 18, 2, "a_spad_id"))
    rs2 = _pack((A_transpose, 0, 1, "A_transpose"), (B_transpose, 1, 1, "B_transpose"), (is_resadd, 2, 1, "is_resadd"))
    return Insn(LOOP_WS, rs1, rs2)


def loop_ws(I, J, K, pad_I, pad_J, pad_K, A, B, D, C, A_stride, B_stride, D_stride, C_stride, A_transpose,
            B_transpose, full_C, low_D, ex_accumulate, act=0, a_spad_id=0, b_spad_id=0, is_resadd=False) -> list[Insn]:
    """The six instructions of gemmini.h's ``gemmini_loop_ws`` (I, J, K in DIM-tiles;
    D = 0 means no bias, C = 0 means no output; strides in elements)."""
    return [
        loop_ws_config_bounds(I, J, K, pad_I, pad_J, pad_K),
        loop_ws_config_addrs_ab(A, B),
        loop_ws_config_addrs_dc(D, C),
        loop_ws_config_strides_ab(A_stride, B_stride),
        loop_ws_config_strides_dc(D_stride, C_stride),
        loop_ws_start(A_transpose, B_transpose, full_C, low_D, ex_accumulate, act, a_spad_id, b_spad_id, is_resadd),
    ]


# ----------------------------------------------------------------------------- loop_conv_ws
# (name, word (funct offset 1..6 = config, 0 = start), register (1 = rs1, 2 = rs2), shift, width)
LOOP_CONV_FIELDS: tuple[tuple[str, int, int, int, int], ...] = (
    ("batch_size", 1, 1, 0, 16), ("in_row_dim", 1, 1, 16, 16), ("in_channels", 1, 1, 32, 16),
    ("out_channels", 1, 1, 48, 16),
    ("out_row_dim", 1, 2, 0, 16), ("pool_out_row_dim", 1, 2, 16, 16), ("out_col_dim", 1, 2, 32, 16),
    ("stride", 1, 2, 48, 8), ("padding", 1, 2, 56, 8),
    ("pool_padding", 2, 1, 0, 8), ("pool_stride", 2, 1, 8, 8), ("pool_size", 2, 1, 16, 16),
    ("pool_out_col_dim", 2, 1, 32, 16), ("kernel_dim", 2, 1, 48, 16),
    ("pochs", 2, 2, 0, 16), ("pocols", 2, 2, 16, 16), ("porows", 2, 2, 32, 16), ("batches", 2, 2, 48, 16),
    ("lpad", 3, 1, 0, 16), ("kchs", 3, 1, 16, 16), ("kcols", 3, 1, 32, 16), ("krows", 3, 1, 48, 16),
    ("in_col_dim", 3, 2, 0, 16), ("plpad", 3, 2, 16, 8), ("dpad", 3, 2, 24, 8), ("upad", 3, 2, 32, 16),
    ("rpad", 3, 2, 48, 16),
    ("kernel_dilation", 4, 1, 0, 10), ("pdpad", 4, 1, 10, 11), ("pupad", 4, 1, 21, 11), ("prpad", 4, 1, 32, 16),
    ("orows", 4, 1, 48, 16),
    ("ocols", 4, 2, 0, 16), ("out_stride", 4, 2, 16, 16), ("weight_stride", 4, 2, 32, 16),
    ("in_stride", 4, 2, 48, 16),
    ("weights", 5, 1, 0, 64), ("output", 5, 2, 0, 64),
    ("bias", 6, 1, 0, 64), ("input", 6, 2, 0, 64),
    ("no_bias", 0, 1, 0, 1), ("wrot180", 0, 1, 1, 1), ("trans_output_1203", 0, 1, 2, 1),
    ("trans_weight_1203", 0, 1, 3, 1), ("trans_weight_0132", 0, 1, 4, 1), ("trans_input_3120", 0, 1, 5, 1),
    ("dw", 0, 1, 6, 1), ("max_pixels_per_row", 0, 1, 8, 8), ("b_spad_id", 0, 1, 16, 2), ("a_spad_id", 0, 1, 18, 2),
    ("no_pool", 0, 2, 0, 1), ("downsample", 0, 2, 1, 1), ("input_dilated", 0, 2, 2, 1), ("activation", 0, 2, 3, 2),
)
LOOP_CONV_ARGS = ("batch_size in_row_dim in_col_dim in_channels out_channels out_row_dim out_col_dim "
                  "pool_out_row_dim pool_out_col_dim stride padding kernel_dim kernel_dilation pool_size "
                  "pool_stride pool_padding batches porows pocols pochs krows kcols kchs lpad rpad upad dpad "
                  "plpad prpad pupad pdpad orows ocols weights output bias input no_bias no_pool downsample "
                  "wrot180 input_dilated activation trans_output_1203 trans_weight_1203 trans_weight_0132 "
                  "trans_input_3120 max_pixels_per_row in_stride weight_stride out_stride dw a_spad_id "
                  "b_spad_id").split()


def loop_conv_ws(*args, **kwargs) -> list[Insn]:
    """The seven instructions of gemmini.h's ``gemmini_loop_conv_ws``; takes the macro's
    54 arguments in the macro's order (:data:`LOOP_CONV_ARGS`), positionally or by name.
    Returns CONFIG_1..CONFIG_6 then LOOP_CONV_WS."""
    if len(args) > len(LOOP_CONV_ARGS):
        raise IsaError(f"loop_conv_ws takes {len(LOOP_CONV_ARGS)} arguments, got {len(args)}")
    values = dict(zip(LOOP_CONV_ARGS, args))
    for k, v in kwargs.items():
        if k not in LOOP_CONV_ARGS:
            raise IsaError(f"loop_conv_ws: unknown argument {k!r}")
        values[k] = v
    missing = [a for a in LOOP_CONV_ARGS if a not in values]
    if missing:
        raise IsaError(f"loop_conv_ws: missing arguments {', '.join(missing)}")
    regs: dict[tuple[int, int], Operand] = {(w, r): 0 for w in range(7) for r in (1, 2)}
    for name, word, reg, shift, width in LOOP_CONV_FIELDS:
        regs[word, reg] = regs[word, reg] + _field(values[name], shift, width, name)
    words = [Insn(LOOP_CONV_WS_CONFIG_1 + w - 1, regs[w, 1], regs[w, 2]) for w in range(1, 7)]
    return [*words, Insn(LOOP_CONV_WS, regs[0, 1], regs[0, 2])]


def decode(funct: int, rs1: int, rs2: int):
    """Decode an instruction into a record with named fields (see ``decode.py``)."""
    from gemforge.backends.gemmini.decode import decode as _decode

    return _decode(funct, rs1, rs2)
