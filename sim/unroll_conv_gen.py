"""The instructions of one LOOP_CONV_WS, FSM by FSM, as numpy arrays (rules in unroll_conv.py).

Each FSM's iteration space is a small dense grid, so every field is computed for the
whole grid at once (``np.meshgrid`` in the FSM's loop order, last index innermost).
"""

from __future__ import annotations

import numpy as np

from gemforge.backends.gemmini import isa
from gemforge.sim.unroll_conv import ConvGeom
from gemforge.target import Target

SCALE_NO_CHANGE = 0xFFFFFFFF
_MASK32 = 0xFFFFFFFF
_U64 = np.uint64


def _grid(*axes):
    """Flattened index arrays over the product of ``axes`` (the last innermost)."""
    return [a.reshape(-1) for a in np.meshgrid(*[np.asarray(x, np.int64) for x in axes], indexing="ij")]


def _op(addr, rows, cols) -> np.ndarray:
    """rows / cols / 32-bit local address packed as an operand register (uint64)."""
    return ((np.asarray(rows, np.int64) << 48) | (np.asarray(cols, np.int64) << 32)
            | (np.asarray(addr, np.int64) & _MASK32)).astype(_U64)


def _dram(base: int, offset) -> np.ndarray:
    """``base + (offset & 0xFFFFFFFF)`` (LoopConv.castDramOffset), modulo 2**64."""
    return (np.asarray(offset, np.int64) & _MASK32).astype(_U64) + _U64(base)


def _ld_config(which: int, dram_stride: int, block_stride: int, pixel_repeats: int = 1):
    rs1 = ((isa.f32_bits(1.0) << 32) | (block_stride << 16) | (pixel_repeats << 8) | (which << 3) | isa.CONFIG_LD)
    return _one(isa.CONFIG, rs1, dram_stride)


def _one(f: int, rs1: int, rs2: int):
    return np.array([f], np.int64), np.array([rs1], _U64), np.array([rs2], _U64)


def _many(f: int, rs1, rs2):
    return np.full(len(rs1), f, np.int64), rs1, rs2


def generate(g: ConvGeom, t: Target) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(funct, rs1, rs2) of everything the loop's FSMs generate: ld_bias, ld_weights,
    ld_input, ex, st, in that order (the timing model issues each queue independently).
    The loads share one queue; LoopConv's command arbiter prefers ld_bias, then
    ld_weights, then ld_input whenever several are ready, so each unroller's move-ins
    follow the previous one's."""
    parts: list = []
    r = g.r
    if r["bias"]:
        parts += _ld_bias(g, t)
    if r["weights"]:
        parts += _ld_weights(g, t)
    if r["input"]:
        parts += _ld_input(g, t)
    parts.append(_ex(g))
    if r["output"]:
        parts += _st(g, t)
    return tuple(np.concatenate(c) for c in zip(*parts))


def _ld_bias(g: ConvGeom, t: Target) -> list:
    r, dim = g.r, g.dim
    ochs, ocols, orows = r["pochs"], r["ocols"], r["orows"]
    max_och = min(ochs, t.dma_max_acc_mvin_blocks * dim)
    b, orow, ocol, och = _grid(range(r["batches"]), range(orows), range(0, ocols, dim), range(0, ochs, max_och))
    sp = g.acc_start + (och // dim) * g.bias_stride + b * orows * ocols + orow * ocols + ocol
    dram = np.zeros(len(b), _U64) if r["no_bias"] else _dram(r["bias"], och * t.acc_bytes)
    local = _op(isa.ACC_BIT | sp, np.minimum(ocols - ocol, dim), np.minimum(ochs - och, max_och))
    return [_ld_config(2, 0, g.bias_stride), _many(isa.MVIN3, dram, local)]


def _col_runs(g: ConvGeom) -> list[tuple[int, int]]:
    """(first input column, columns) of each move-in along one input row (LoopConvLdInput's
    icol iterator: padding runs of at most DIM, data runs of at most DIM << downsample)."""
    r, dim = g.r, g.dim
    end = g.icols_unp + r["rpad"]
    runs, icol = [], -r["lpad"]
    while icol < end:
        if icol < 0:
            n = min(-icol, dim)
        elif icol >= g.icols_unp:
            n = min(end - icol, dim)
        else:
            n = min(g.icols_unp - icol, dim << g.ds)
        runs.append((icol, n))
        icol += n
    return runs


def _ld_input(g: ConvGeom, t: Target) -> list:
    r, dim, ds, ib = g.r, g.dim, g.ds, t.input_bytes
    kchs = r["kchs"]
    max_ich = min(kchs, t.dma_max_spad_mvin_blocks * dim)
    runs = _col_runs(g)
    run_col = np.array([c for c, _ in runs], np.int64)
    run_n = np.array([n for _, n in runs], np.int64)
    irows = range(-r["upad"], g.irows_unp + r["dpad"], 1 << ds)
    b, irow, k, ich = _grid(range(r["batches"]), irows, range(len(runs)), range(0, kchs, max_ich))
    icol, n = run_col[k], run_n[k]
    keep = (n >> ds) > 0  # a one-column tail of a downsampled run moves nothing
    zeros = (irow < 0) | (irow >= g.irows_unp) | (icol < 0) | (icol >= g.icols_unp)
    off = ((b * r["in_row_dim"] * r["in_col_dim"] + irow * r["in_col_dim"] + icol) * r["in_stride"] + ich) * ib
    dram = np.where(zeros, _U64(0), _dram(r["input"], off))
    sp = (g.a_start + (ich // dim) * g.input_stride + b * g.irows_s * g.icols_s
          + ((irow + r["upad"]) >> ds) * g.icols_s + ((icol + r["lpad"]) >> ds))
    local = _op(sp, n >> ds, np.minimum(kchs - ich, max_ich))
    cfg = _ld_config(0, (r["in_stride"] * ib) << ds, g.input_stride, g.pixels)
    return [cfg, _many(isa.MVIN, dram[keep], local[keep])]


def _ld_weights(g: ConvGeom, t: Target) -> list:
    r, dim, ib = g.r, g.dim, t.input_bytes
    ochs, kchs, krows, kcols = r["pochs"], r["kchs"], r["krows"], r["kcols"]
    max_och = min(ochs, t.dma_max_spad_mvin_blocks * dim)
    och, krow, kcol, kch = _grid(range(0, ochs, max_och), range(krows), range(kcols), range(0, kchs, dim))
    if r["dw"]:  # depthwise: one channel's [KH, KW] weights, consecutive in DRAM
        off = (krow * r["kernel_dim"] + kcol) * ib
        stride = ib
    else:
        kd, in_ch = r["kernel_dim"], r["in_channels"]
        off = ((krow * kd * in_ch + kcol * in_ch + kch) * r["weight_stride"] + och) * ib
        stride = r["weight_stride"] * ib
    sp = g.b_start + (och // dim) * g.weight_stride + krow * kcols * kchs + kcol * kchs + kch
    local = _op(sp, np.minimum(kchs - kch, dim), np.minimum(ochs - och, max_och))
    return [_ld_config(1, stride, g.weight_stride), _many(isa.MVIN2, _dram(r["weights"], off), local)]


def _ex(g: ConvGeom):
    r, dim, ds = g.r, g.dim, g.ds
    ochs, kchs, krows, kcols = r["pochs"], r["kchs"], r["krows"], r["kcols"]
    orows, ocols, stride, P = r["orows"], r["ocols"], r["stride"], g.pixels
    och, krow, kcol, kch, b, orow, ocol = _grid(range(0, ochs, dim), range(krows), range(0, kcols, P),
                                                range(0, kchs, dim), range(r["batches"]), range(orows),
                                                range(0, ocols, dim))
    new_weights = (b == 0) & (orow == 0) & (ocol == 0)
    krow_r = krows - krow - 1 if r["wrot180"] else krow
    kcol_r = kcols - kcol - 1 if r["wrot180"] else kcol
    b_addr = g.b_start + (och // dim) * g.weight_stride + krow_r * kcols * kchs + kcol_r * kchs + kch
    I = np.minimum(ocols - ocol, dim)
    J = np.minimum(ochs - och, dim)
    K = np.minimum(kcols - kcol, P) * np.minimum(kchs - kch, dim)
    irow, icol = orow * stride + krow * g.dil, ocol * stride + kcol * g.dil
    a_addr = (g.a_start + (kch // dim) * g.input_stride + b * g.irows_s * g.icols_s + (irow >> ds) * g.icols_s
              + (icol >> ds))
    c_addr = g.acc_start + (och // dim) * g.bias_stride + b * orows * ocols + orow * ocols + ocol
    n = len(och)
    f = np.empty(2 * n, np.int64)
    r1 = np.empty(2 * n, _U64)
    r2 = np.empty(2 * n, _U64)
    f[0::2] = isa.PRELOAD
    f[1::2] = np.where(new_weights, isa.COMPUTE_PRELOADED, isa.COMPUTE_ACCUMULATED)
    r1[0::2] = _op(np.where(new_weights, b_addr, isa.GARBAGE), K, J)
    r2[0::2] = _op(isa.ACC_BIT | isa.ACCUMULATE_BIT | c_addr, I, J)
    r1[1::2] = _op(a_addr, I, K)
    r2[1::2] = _op(np.full(n, isa.GARBAGE, np.int64), I, J)
    return f, r1, r2


def _st(g: ConvGeom, t: Target) -> list:
    r, dim, ib = g.r, g.dim, t.input_bytes
    ochs, orows, ocols, ostride = r["pochs"], r["orows"], r["ocols"], r["out_stride"]
    if r["no_pool"]:
        b, orow, ocol, och = _grid(range(r["batches"]), range(orows), range(0, ocols, dim), range(0, ochs, dim))
        off = ((b * r["out_row_dim"] * r["out_col_dim"] + orow * r["out_col_dim"] + ocol) * ostride + och) * ib
        sp = g.acc_start + (och // dim) * g.bias_stride + b * orows * ocols + orow * ocols + ocol
        local = _op(isa.ACC_BIT | sp, np.minimum(ocols - ocol, dim), np.minimum(ochs - och, dim))
        return [_many(isa.MVOUT, _dram(r["output"], off), local)]
    act = r["activation"]
    pre = isa.config_st(0, act=act, pool_stride=r["pool_stride"], pool_size=r["pool_size"],
                        pool_out_dim=r["pool_out_col_dim"], porows=r["porows"], pocols=r["pocols"], orows=orows,
                        ocols=ocols, upad=r["pupad"], lpad=r["plpad"]).rs1
    cfg_rs2 = (SCALE_NO_CHANGE << 32) | (ostride * ib)
    b, och = _grid(range(r["batches"]), range(0, ochs, dim))
    off = (b * r["pool_out_col_dim"] * r["pool_out_row_dim"] * ostride + och) * ib  # not cast to 32 bits (RTL)
    sp = g.acc_start + (och // dim) * g.bias_stride + b * orows * ocols
    dram = off.astype(_U64) + _U64(r["output"])
    return [_one(isa.CONFIG, pre, cfg_rs2), _many(isa.MVOUT, dram, _op(isa.ACC_BIT | sp, 1, np.minimum(ochs - och, dim))),
            _one(isa.CONFIG, isa.config_st(0, act=act).rs1, cfg_rs2)]
