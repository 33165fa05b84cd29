"""The LOOP_CONV_WS unroller (ucb-bar/gemmini LoopConv.scala), as an instruction generator.

One LOOP_CONV_WS is one convolution tile (NHWC input, HWIO weights, the argument names
of gemmini.h's ``gemmini_loop_conv_ws``).  Like LOOP_WS, loops alternate between the two
scratchpad halves (input from the bottom of a half, weights packed against its top) and
the accumulator halves (flipping after loops whose output address is non-zero).  The
FSMs generate, each starting with its own config:

* ld_bias (skipped if bias = 0): config_ld #2 (block stride batches*orows*ocols), then
  MVIN3 of ``min(ocols - ocol, DIM)`` rows x up to ``dma_max_acc_mvin_blocks`` * DIM
  channels from ``bias + och * 4`` (DRAM address 0, i.e. zeros, when no_bias) — och inner,
  then ocol, orow, b;
* ld_input: config_ld #0 (DRAM stride in_stride bytes, block stride batches*irows*icols),
  then MVIN rows of input pixels, channels inner (up to ``dma_max_spad_mvin_blocks`` *
  DIM), then columns (padding rows come from DRAM address 0: zeros), rows, batches;
* ld_weights: config_ld #1 (DRAM stride weight_stride bytes, block stride
  krows*kcols*kchs), then MVIN2 of kernel-channel x out-channel blocks;
* ex: for och, krow, kcol, kch, b, orow, ocol (ocol innermost, in DIM steps): PRELOAD
  (weights only at the first compute of each (och, krow, kcol, kch), C accumulates) and
  COMPUTE (A rows are output columns; the software's config_ex A stride is the conv stride);
* st: MVOUT per (b, orow, ocol, och) block, or with pooling a config_st, one pooled MVOUT
  per (b, och) and a config_st switching pooling off (the scale is left unchanged).

Supported: stride, padding, kernel dilation, wrot180, pooling, bias/no_bias.  Not
supported (an error names the field): transposes, depthwise, downsample, input dilation,
max_pixels_per_row > 1.
"""

from __future__ import annotations

import numpy as np

from gemforge.backends.gemmini import isa
from gemforge.sim.errors import insn_error
from gemforge.target import Target

SCALE_NO_CHANGE = 0xFFFFFFFF
_MASK32 = 0xFFFFFFFF


def _op(addr: int, rows: int, cols: int) -> int:
    return (rows << 48) | (cols << 32) | (addr & _MASK32)


def _ld_config(which: int, dram_stride: int, block_stride: int) -> tuple[int, int, int]:
    rs1 = (isa.f32_bits(1.0) << 32) | (block_stride << 16) | (1 << 8) | (which << 3) | isa.CONFIG_LD
    return (isa.CONFIG, rs1, dram_stride)


class ConvUnroller:
    def __init__(self, target: Target):
        self.t = target
        self.regs: dict[str, int] = {}
        self.loops_started = 0
        self.acc_half = 0

    def command(self, index: int, funct: int, rs1: int, rs2: int):
        try:
            rec = isa.decode(funct, rs1, rs2)
        except isa.IsaError as e:
            raise insn_error(index, funct, rs1, rs2, str(e)) from None
        self.regs.update(rec.fields)
        if funct != isa.LOOP_CONV_WS:
            return None
        if "batch_size" not in self.regs or "weights" not in self.regs or "bias" not in self.regs:
            raise insn_error(index, funct, rs1, rs2, "loop_conv_ws before all of its config words")
        r = self.regs
        for name in ("trans_output_1203", "trans_weight_1203", "trans_weight_0132", "trans_input_3120", "dw",
                     "downsample", "input_dilated", "a_spad_id", "b_spad_id"):
            if r[name]:
                raise insn_error(index, funct, rs1, rs2, f"loop_conv_ws with {name} = {r[name]} is not supported")
        if r["max_pixels_per_row"] > 1:
            raise insn_error(index, funct, rs1, rs2, "loop_conv_ws with max_pixels_per_row > 1 is not supported")
        if min(r["batches"], r["porows"], r["pocols"], r["pochs"], r["krows"], r["kcols"], r["kchs"], r["stride"]) < 1:
            raise insn_error(index, funct, rs1, rs2, "loop_conv_ws bounds must be >= 1")
        out = self._generate(r)
        self.loops_started += 1
        if r["output"]:
            self.acc_half ^= 1
        f, a, b = zip(*out) if out else ((), (), ())
        return np.array(f, np.int64), np.array(a, np.uint64), np.array(b, np.uint64)

    def _generate(self, r: dict[str, int]) -> list[tuple[int, int, int]]:
        t, dim = self.t, self.t.dim
        ib, ab = t.input_bytes, t.acc_bytes
        batches, porows, pocols, pochs = r["batches"], r["porows"], r["pocols"], r["pochs"]
        krows, kcols, kchs = r["krows"], r["kcols"], r["kchs"]
        stride, dil = r["stride"], max(1, r["kernel_dilation"])
        pool_size, pool_stride = r["pool_size"], r["pool_stride"]
        no_pool = bool(r["no_pool"])
        orows, ocols = r["orows"], r["ocols"]
        ochs = pochs
        irows = orows * stride + (krows + (dil - 1) * (krows - 1)) - 1
        icols = ocols * stride + (kcols + (dil - 1) * (kcols - 1)) - 1
        irows_unp = irows - r["upad"] - r["dpad"]
        icols_unp = icols - r["lpad"] - r["rpad"]
        out_cpb = -(-ochs // dim)
        bias_stride = batches * orows * ocols
        input_stride = batches * irows * icols
        weight_stride_sp = krows * kcols * kchs
        half = t.spad_rows // 2
        slot = self.loops_started % 2
        a_start, b_end = slot * half, (slot + 1) * half
        b_start = b_end - out_cpb * kcols * krows * kchs
        acc_start = self.acc_half * (t.acc_rows // 2)
        spad_blocks, acc_blocks = t.dma_max_spad_mvin_blocks, t.dma_max_acc_mvin_blocks
        in_row, in_col, in_ch = r["in_row_dim"], r["in_col_dim"], r["in_channels"]
        out: list[tuple[int, int, int]] = []

        # ld_bias
        if r["bias"]:
            out.append(_ld_config(2, 0, bias_stride))
            max_och = min(ochs, acc_blocks * dim)
            for b in range(batches):
                for orow in range(orows):
                    for ocol in range(0, ocols, dim):
                        for och in range(0, ochs, max_och):
                            dram = 0 if r["no_bias"] else r["bias"] + ((och * ab) & _MASK32)
                            sp = acc_start + (och // dim) * bias_stride + b * orows * ocols + orow * ocols + ocol
                            out.append((isa.MVIN3, dram, _op(isa.ACC_BIT | sp, min(ocols - ocol, dim),
                                                             min(ochs - och, max_och))))
        # ld_input
        if r["input"]:
            out.append(_ld_config(0, r["in_stride"] * ib, input_stride))
            max_ich = min(kchs, spad_blocks * dim)
            lpad, upad = r["lpad"], r["upad"]
            for b in range(batches):
                for irow in range(-upad, irows_unp + r["dpad"]):
                    icol = -lpad
                    while icol < icols_unp + r["rpad"]:
                        if icol < 0:
                            n = min(-icol, dim)
                        elif icol >= icols_unp:
                            n = min(icols_unp + r["rpad"] - icol, dim)
                        else:
                            n = min(icols_unp - icol, dim)
                        zeros = irow < 0 or irow >= irows_unp or icol < 0 or icol >= icols_unp
                        for ich in range(0, kchs, max_ich):
                            off = ((b * in_row * in_col + irow * in_col + icol) * r["in_stride"] + ich) * ib
                            dram = 0 if zeros else r["input"] + (off & _MASK32)
                            sp = (a_start + (ich // dim) * input_stride + b * irows * icols + (irow + upad) * icols
                                  + icol + lpad)
                            out.append((isa.MVIN, dram, _op(sp, n, min(kchs - ich, max_ich))))
                        icol += n
        # ld_weights
        if r["weights"]:
            out.append(_ld_config(1, r["weight_stride"] * ib, weight_stride_sp))
            max_och = min(ochs, spad_blocks * dim)
            kd = r["kernel_dim"]
            for och in range(0, ochs, max_och):
                for krow in range(krows):
                    for kcol in range(kcols):
                        for kch in range(0, kchs, dim):
                            off = ((krow * kd * in_ch + kcol * in_ch + kch) * r["weight_stride"] + och) * ib
                            sp = b_start + (och // dim) * weight_stride_sp + krow * kcols * kchs + kcol * kchs + kch
                            out.append((isa.MVIN2, r["weights"] + (off & _MASK32),
                                        _op(sp, min(kchs - kch, dim), min(ochs - och, max_och))))
        # ex
        for och in range(0, ochs, dim):
            for krow in range(krows):
                for kcol in range(kcols):
                    for kch in range(0, kchs, dim):
                        new_weights = True
                        krow_r = krows - krow - 1 if r["wrot180"] else krow
                        kcol_r = kcols - kcol - 1 if r["wrot180"] else kcol
                        b_addr = b_start + (och // dim) * weight_stride_sp + krow_r * kcols * kchs + kcol_r * kchs + kch
                        J, K = min(ochs - och, dim), min(kchs - kch, dim)
                        for b in range(batches):
                            for orow in range(orows):
                                for ocol in range(0, ocols, dim):
                                    I = min(ocols - ocol, dim)
                                    irow, icol = orow * stride + krow * dil, ocol * stride + kcol * dil
                                    a_addr = (a_start + (kch // dim) * input_stride + b * irows * icols + irow * icols
                                              + icol)
                                    c_addr = acc_start + (och // dim) * bias_stride + b * orows * ocols + orow * ocols + ocol
                                    out.append((isa.PRELOAD, _op(b_addr if new_weights else isa.GARBAGE, K, J),
                                                _op(isa.ACC_BIT | isa.ACCUMULATE_BIT | c_addr, I, J)))
                                    out.append((isa.COMPUTE_PRELOADED if new_weights else isa.COMPUTE_ACCUMULATED,
                                                _op(a_addr, I, K), _op(isa.GARBAGE, I, J)))
                                    new_weights = False
        # st
        if r["output"]:
            ostride = r["out_stride"]
            if no_pool:
                for b in range(batches):
                    for orow in range(orows):
                        for ocol in range(0, ocols, dim):
                            for och in range(0, ochs, dim):
                                off = ((b * r["out_row_dim"] * r["out_col_dim"] + orow * r["out_col_dim"] + ocol)
                                       * ostride + och) * ib
                                sp = acc_start + (och // dim) * bias_stride + b * orows * ocols + orow * ocols + ocol
                                out.append((isa.MVOUT, r["output"] + (off & _MASK32),
                                            _op(isa.ACC_BIT | sp, min(ocols - ocol, dim), min(ochs - och, dim))))
            else:
                act = r["activation"]
                pre = (isa.config_st(0, act=act, pool_stride=pool_stride, pool_size=pool_size,
                                     pool_out_dim=r["pool_out_col_dim"], porows=porows, pocols=pocols, orows=orows,
                                     ocols=ocols, upad=r["pupad"], lpad=r["plpad"]).rs1)
                out.append((isa.CONFIG, pre, (SCALE_NO_CHANGE << 32) | (ostride * ib)))
                for b in range(batches):
                    for och in range(0, ochs, dim):
                        off = ((b * r["pool_out_col_dim"] * r["pool_out_row_dim"]) * ostride + och) * ib
                        sp = acc_start + (och // dim) * bias_stride + b * orows * ocols
                        out.append((isa.MVOUT, r["output"] + off, _op(isa.ACC_BIT | sp, 1, min(ochs - och, dim))))
                out.append((isa.CONFIG, isa.config_st(0, act=act).rs1, (SCALE_NO_CHANGE << 32) | (ostride * ib)))
        return out
