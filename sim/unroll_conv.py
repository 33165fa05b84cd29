"""The LOOP_CONV_WS unroller (ucb-bar/gemmini LoopConv.scala), as an instruction generator.

One LOOP_CONV_WS is one convolution tile (NHWC input, HWIO weights, the argument names
of gemmini.h's ``gemmini_loop_conv_ws``).  Like LOOP_WS, loops alternate between the two
scratchpad halves (input from the bottom of a half, weights packed against its top) and
the accumulator halves (flipping after loops whose output address is non-zero).
``a_spad_id`` / ``b_spad_id`` (1 or 2) pin the input to the start of half ``id - 1`` and
the weights against the top of half ``id`` instead: the library uses them to reuse an
operand an earlier loop left there, passing a null input / weight address so that loop
moves nothing in.  Each FSM generates (``unroll_conv_gen.py``), and is skipped entirely
when its DRAM address is 0:

* ld_bias: config_ld #2 (block stride batches*orows*ocols, DRAM stride 0: every output
  pixel re-reads the same bias vector), then MVIN3 of ``min(ocols - ocol, DIM)`` rows x
  up to ``dma_max_acc_mvin_blocks`` * DIM channels from ``bias + och * acc_bytes``, or from
  DRAM address 0 (zeros) when no_bias -- och inner, then ocol, orow, b.  A loop with bias
  address 0 loads nothing and so accumulates onto what the accumulator holds.
* ld_input: config_ld #0 (DRAM stride ``in_stride`` bytes, doubled when downsampling;
  block stride batches*irows*icols; pixel_repeats = max_pixels_per_row), then MVIN rows
  of input pixels, channels inner (up to ``dma_max_spad_mvin_blocks`` * DIM), then
  column runs (padding runs come from DRAM address 0), rows, batches.  ``downsample``
  keeps every other input row and column (rows and columns stored at half density).
* ld_weights: config_ld #1, then MVIN2 of kernel-channel x out-channel blocks (``dw``:
  depthwise weights, one channel stored as [KH, KW], DRAM stride 1 element).
* ex: for och, krow, kcol (in steps of max_pixels_per_row), kch, b, orow, ocol (ocol
  innermost, in DIM steps): PRELOAD (weights only at the first compute of each (och,
  krow, kcol, kch), C accumulates) and COMPUTE (A rows are output columns; the software's
  config_ex A stride is the conv stride).  With max_pixels_per_row = P > 1 the move-in's
  pixel repeater has stored P neighbouring pixels side by side in one scratchpad row, so
  one compute covers P kernel columns (K = P * kchs).
* st: MVOUT per (b, orow, ocol, och) block, or with pooling a config_st, one pooled MVOUT
  per (b, och) and a config_st switching pooling off (the scale is left unchanged).

Not supported (an error names the field): the training transposes, input dilation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gemforge.backends.gemmini import isa
from gemforge.sim.errors import insn_error
from gemforge.sim.unroll_cache import LoopUnroller
from gemforge.target import Target

_UNSUPPORTED = ("trans_output_1203", "trans_weight_1203", "trans_weight_0132", "trans_input_3120", "input_dilated")


@dataclass
class ConvGeom:
    """Derived quantities of one loop (LoopConvDerivedParams plus the loop's placement)."""

    r: dict  # the config registers
    dim: int
    ds: int  # downsample: 0 or 1
    dil: int
    pixels: int  # max_pixels_per_row (>= 1)
    irows: int
    icols: int
    irows_unp: int
    icols_unp: int
    irows_s: int  # rows / cols as stored (halved when downsampling)
    icols_s: int
    bias_stride: int
    input_stride: int
    weight_stride: int
    a_start: int
    b_start: int
    acc_start: int


class ConvUnroller(LoopUnroller):
    LOOP_FUNCT = isa.LOOP_CONV_WS
    OPERANDS = ("weights", "output", "bias", "input")

    def command(self, index: int, funct: int, rs1: int, rs2: int):
        if self.record(index, funct, rs1, rs2) is None:
            return None
        if "batch_size" not in self.regs or "weights" not in self.regs or "bias" not in self.regs:
            raise insn_error(index, funct, rs1, rs2, "loop_conv_ws before all of its config words")
        r = self.regs
        for name in _UNSUPPORTED:
            if r[name]:
                raise insn_error(index, funct, rs1, rs2, f"loop_conv_ws with {name} = {r[name]} is not supported")
        if min(r["batches"], r["porows"], r["pocols"], r["pochs"], r["krows"], r["kcols"], r["kchs"], r["stride"],
               r["orows"], r["ocols"]) < 1:
            raise insn_error(index, funct, rs1, rs2, "loop_conv_ws bounds must be >= 1")
        g = self.geometry(r)
        if g.pixels > 1 and g.pixels * min(r["kchs"], g.dim) > g.dim:
            raise insn_error(index, funct, rs1, rs2, f"loop_conv_ws max_pixels_per_row = {g.pixels} times kchs "
                             f"= {r['kchs']} exceeds DIM = {g.dim}")
        from gemforge.sim.unroll_conv_gen import generate

        out = self.templates.generate(r, (self.loops_started % 2, self.acc_half),
                                      lambda regs: generate(self.geometry(regs), self.t))
        self.loops_started += 1
        if r["output"]:
            self.acc_half ^= 1
        return out

    def geometry(self, r: dict) -> ConvGeom:
        t, dim = self.t, self.t.dim
        dil = max(1, r["kernel_dilation"])
        ds = 1 if r["downsample"] else 0
        irows = r["orows"] * r["stride"] + r["krows"] + (dil - 1) * (r["krows"] - 1) - 1
        icols = r["ocols"] * r["stride"] + r["kcols"] + (dil - 1) * (r["kcols"] - 1) - 1
        irows_s, icols_s = irows >> ds, icols >> ds
        half = t.spad_rows // 2
        slot = self.loops_started % 2
        a_start = (r["a_spad_id"] - 1) * half if r["a_spad_id"] else slot * half
        b_end = r["b_spad_id"] * half if r["b_spad_id"] else (slot + 1) * half
        out_cpb = -(-r["pochs"] // dim)
        weight_stride = r["krows"] * r["kcols"] * r["kchs"]
        return ConvGeom(
            r=r, dim=dim, ds=ds, dil=dil, pixels=max(1, r["max_pixels_per_row"]),
            irows=irows, icols=icols, irows_unp=irows - r["upad"] - r["dpad"], icols_unp=icols - r["lpad"] - r["rpad"],
            irows_s=irows_s, icols_s=icols_s, bias_stride=r["batches"] * r["orows"] * r["ocols"],
            input_stride=r["batches"] * irows_s * icols_s, weight_stride=weight_stride,
            a_start=a_start, b_start=b_end - out_cpb * weight_stride, acc_start=self.acc_half * (t.acc_rows // 2))


def as_arrays(insns: list[tuple[int, int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    f, a, b = zip(*insns) if insns else ((), (), ())
    return np.array(f, np.int64), np.array(a, np.uint64), np.array(b, np.uint64)
