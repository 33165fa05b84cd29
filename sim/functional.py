"""Bit-exact semantics of Gemmini's instructions (the functional model).

Instructions take effect in program order (the reservation station makes the hardware
equivalent to that).  Rules, from ucb-bar/gemmini (LoadController, StoreController,
ExecuteController, PE, AccumulatorScale) and gemmini.h:

* mvin: ``rows`` DRAM rows at ``dram + r * stride`` (DRAM address 0 moves in zeros); columns beyond DIM go to the next
  DIM-wide block at ``local + b * block_stride``.  With config_ld pixel_repeats = P > 1
  (first-layer optimisation) each row is also written P - 1 more times, shifted: see
  ``Machine._mvin_repeated``.  Into the scratchpad (and "shrunk" int8
  into the accumulator) each element is ``sat_int8(round_half_even(fp32(x) * fp32(scale)))``
  (skipped when scale = 1, which is exact); int32 into the accumulator is copied.  An
  accumulator address with the accumulate bit adds (int32, wrapping).
* mvout: scratchpad rows are copied; accumulator rows are ``sat_int8(round_half_even(
  fp32(x) * scale))`` then ReLU (config_st act = 1), or raw int32 with read_full; with
  pooling (config_st pool_stride > 0) the max over a pool_size window of rows
  ``local + orow * ocols + ocol`` (padding rows read as 0) is written per pooled pixel.
* execute: see ``exec_ops.py``.
* sizes: rows <= DIM; mvin columns <= DIM * dma_max_{spad,acc}_mvin_blocks, mvout
  columns <= DIM * dma_max_mvout_blocks (values from the target).
"""

from __future__ import annotations

import numpy as np

from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.program import Program
from gemforge.sim.errors import insn_error
from gemforge.sim.memory import Dram, Local, LocalDecoder, row_view
from gemforge.target import Target

F32 = np.float32


def scale_sat(x: np.ndarray, scale: float, lo: int, hi: int) -> np.ndarray:
    """round_half_even(fp32(x) * fp32(scale)) saturated to [lo, hi] (Gemmini's scale units)."""
    y = np.rint(x.astype(F32) * F32(scale))
    return np.clip(y, lo, hi).astype(np.int64)


def rounding_shift(x: np.ndarray, shift: int) -> np.ndarray:
    """Gemmini's rounding right shift (RISC-V vxrm round-to-nearest-even), on int64."""
    if shift <= 0:
        return x
    half = (x >> (shift - 1)) & 1
    rest = (x & ((1 << (shift - 1)) - 1)) != 0 if shift > 1 else np.zeros_like(x, bool)
    return (x >> shift) + (half & (rest | ((x >> shift) & 1))).astype(np.int64)


def wrap32(x: np.ndarray) -> np.ndarray:
    return x.astype(np.int64, copy=False).astype(np.int32)


class Machine:
    """Architectural state: DRAM, scratchpad, accumulator, config registers, mesh weights."""

    def __init__(self, program: Program, target: Target, inputs, allow_uninitialized: bool, arithmetic: bool = True):
        t = self.t = target
        self.dim, self.spad_rows, self.acc_rows = t.dim, t.spad_rows, t.acc_rows  # hot: cache derived values
        self.arithmetic = arithmetic  # False: runs of (preload, compute) pairs are skipped (sim.run arithmetic=False)
        self.ar = np.arange(t.dim)
        self.max_spad_cols = t.dim * t.dma_max_spad_mvin_blocks
        # A float type whose matmul of DIM int8 x int8 products is exact (float32: |sum| < 2**24).
        self.exact_float = np.float32 if t.dim << (2 * (t.input_bits - 1)) < (1 << 24) else np.float64
        self.dram = Dram(program)
        self.dram.set_inputs(program, inputs)
        self.spad = np.zeros((t.spad_rows, t.dim), np.int8)
        self.acc = np.zeros((t.acc_rows, t.dim), np.int32)
        self.spad_ok = np.zeros(t.spad_rows, bool)
        self.spad_v, self.acc_v = row_view(self.spad), row_view(self.acc)  # fast whole-row gathers
        self.acc_ok = np.zeros(t.acc_rows, bool)
        self.allow_uninit = allow_uninitialized
        self.local = LocalDecoder(target)
        self.lo, self.hi = -(1 << (t.input_bits - 1)), (1 << (t.input_bits - 1)) - 1
        self.in_dtype = np.dtype(f"int{t.input_bits}")
        self.acc_dtype = np.dtype(f"<i{t.acc_bytes}")
        # Config registers (reset values of the hardware).
        self.ld = [dict(stride=0, scale=1.0, shrunk=0, block_stride=t.dim, pixel_repeats=1) for _ in range(3)]
        self.st = dict(stride=0, act=0, scale=1.0, pool_stride=0, pool_size=0, pool_out_dim=0, porows=0, pocols=0,
                       orows=0, ocols=0, upad=0, lpad=0)
        self.ex = dict(dataflow=isa.WEIGHT_STATIONARY, act=0, a_stride=1, c_stride=1, transpose_a=0, transpose_b=0,
                       in_shift=0)
        self.weights = np.zeros((t.dim, t.dim), np.int64)  # WS: current stationary weights
        self.os_acc = np.zeros((t.dim, t.dim), np.int64)  # OS: in-mesh accumulators
        self.pending = None  # the preload waiting for its compute: (index, bd Local, bd rows, cols, c Local, rows, cols)
        # mvin index -> (block stride, bytes/elem, scaled, rows written below its address by
        # pixel repeats, DRAM stride); mvout index -> (DRAM stride, bytes/elem): for the timing pass
        self.mvin_info: dict[int, tuple[int, int, bool, int, int]] = {}
        self.mvout_info: dict[int, tuple[int, int]] = {}
        # pooled mvout index -> (pool_size, pool_stride, porows, pocols, orows, ocols, upad, lpad,
        # pool_out_dim): the timing pass prices its window reads and per-pixel writes
        self.mvout_pool: dict[int, tuple[int, ...]] = {}
        self.cur = (0, 0, 0, 0)  # (index, funct, rs1, rs2) of the instruction being executed
        self._configs: dict[tuple[int, int], object] = {}  # (rs1, rs2) -> decoded config word
        self.mvin_plans: dict = {}  # mvin_group's address-independent plans, by shape
        self.batch_plans: dict = {}  # exec_ops.batch's state-independent analyses, by operands

    # ------------------------------------------------------------------ helpers
    def fail(self, reason: str):
        i, f, r1, r2 = self.cur
        return insn_error(i, f, r1, r2, reason)

    def check_rows(self, loc: Local, first: int, n: int, what: str) -> None:
        limit = self.acc_rows if loc.is_acc else self.spad_rows
        if first < 0 or first + n > limit:
            mem = "accumulator" if loc.is_acc else "scratchpad"
            raise self.fail(f"{what} rows [{first}, {first + n}) outside the {mem} (0..{limit - 1})")

    def check_init(self, ok: np.ndarray, rows, what: str) -> None:
        if not self.allow_uninit and not ok[rows].all():
            bad = np.asarray(rows)[~ok[rows]]
            raise self.fail(f"{what} reads row {int(bad.flat[0])}, never written "
                            "(pass allow_uninitialized=True to read zeros)")

    def dram_span(self, addr: int, rows: int, stride: int, nbytes: int, what: str) -> None:
        lo = addr + min(0, (rows - 1) * stride)
        hi = addr + max(0, (rows - 1) * stride) + nbytes
        if self.dram.find(lo, hi) is None:
            raise self.fail(f"{what} DRAM bytes [{lo:#x}, {hi:#x}) are not inside one tensor")

    def decode_local(self, addr: int, what: str) -> Local:
        loc = self.local(addr)
        if loc.norm and not loc.garbage:
            raise self.fail(f"{what} address {addr:#x} uses a norm command (unsupported)")
        return loc

    def check_size(self, rows: int, cols: int, max_cols: int, what: str) -> None:
        if not 1 <= rows <= self.dim:
            raise self.fail(f"{what} rows = {rows} (must be 1..{self.dim})")
        if not 1 <= cols <= max_cols:
            raise self.fail(f"{what} cols = {cols} (must be 1..{max_cols})")

    # ------------------------------------------------------------------ configs
    def config(self, rs1: int, rs2: int) -> None:
        rec = self._configs.get((rs1, rs2))  # tiled code repeats a few config words many times
        if rec is None:
            try:
                rec = isa.decode(isa.CONFIG, rs1, rs2)
            except isa.IsaError as e:
                raise self.fail(str(e)) from None
            self._configs[(rs1, rs2)] = rec
        if rec.kind == "config_ex":
            if rec.dataflow == isa.OUTPUT_STATIONARY and not self.t.output_stationary or (
                    rec.dataflow == isa.WEIGHT_STATIONARY and not self.t.weight_stationary):
                raise self.fail(f"dataflow {rec.dataflow} is not supported by target {self.t.name}")
            if rec.act > 1:
                raise self.fail(f"activation {rec.act} is not supported (0 none, 1 ReLU)")
            if rec.transpose_a and rec.transpose_b:
                raise self.fail("cannot transpose both A and B")
            if rec.set_only_strides:
                self.ex.update(a_stride=rec.a_stride, c_stride=rec.c_stride)
            else:
                self.ex.update(dataflow=rec.dataflow, act=rec.act, a_stride=rec.a_stride, c_stride=rec.c_stride,
                               transpose_a=rec.transpose_a, transpose_b=rec.transpose_b, in_shift=rec.in_shift)
        elif rec.kind == "config_ld":
            if rec.which > 2:
                raise self.fail("config_ld which must be 0, 1 or 2")
            self.ld[rec.which].update(stride=rec.stride, scale=rec.scale, shrunk=rec.shrunk,
                                      block_stride=rec.block_stride, pixel_repeats=rec.pixel_repeats)
        elif rec.kind == "config_st":
            if rec.act > 1:
                raise self.fail(f"activation {rec.act} is not supported (0 none, 1 ReLU)")
            if rec.pool_size and not rec.pool_stride:
                raise self.fail("1-D move-out (pool_size without pool_stride) is not supported")
            keep_scale = rec.scale_bits == 0xFFFFFFFF  # ACC_SCALE_NO_CHANGE (used by the conv unroller)
            self.st.update({k: getattr(rec, k) for k in self.st if not (k == "scale" and keep_scale)})
        else:
            raise self.fail("config_norm is not supported")

    # ------------------------------------------------------------------ mvin
    def mvin(self, index: int, which: int, dram: int, rs2: int) -> None:
        addr, rows, cols = rs2 & 0xFFFFFFFF, rs2 >> 48, (rs2 >> 32) & 0xFFFF
        cfg = self.ld[which]
        dim = self.dim
        if (addr >> 26 == 0 and 0 < rows <= dim and 0 < cols <= self.max_spad_cols and dram
                and cfg["scale"] == 1.0 and self.t.input_bytes == 1 and cfg["pixel_repeats"] <= 1):
            # Fast path: int8 into the scratchpad, unscaled.
            stride, bstride = cfg["stride"], cfg["block_stride"]
            nblocks = -(-cols // dim)
            if addr + (nblocks - 1) * bstride + rows <= self.spad_rows:
                self.dram_span(dram, rows, stride, cols, "mvin")
                data = self.dram.rows(dram, rows, stride, cols).view(np.int8)
                for b in range(nblocks):
                    first = addr + b * bstride
                    c0 = b * dim
                    c1 = min(cols, c0 + dim)
                    self.spad[first:first + rows, :c1 - c0] = data[:, c0:c1]
                    self.spad_ok[first:first + rows] = True
                self.mvin_info[index] = (bstride, 1, False, 0, stride)
                return
        loc = self.decode_local(addr, "mvin")
        rows, cols = rs2 >> 48, (rs2 >> 32) & 0xFFFF
        if loc.garbage:
            raise self.fail("mvin to the garbage address")
        cfg = self.ld[which]
        dim = self.dim
        full_acc = loc.is_acc and not cfg["shrunk"]
        max_blocks = self.t.dma_max_acc_mvin_blocks if full_acc else self.t.dma_max_spad_mvin_blocks
        self.check_size(rows, cols, max_blocks * dim, "mvin")
        eb = self.t.acc_bytes if full_acc else self.t.input_bytes
        if dram == 0:  # the DMA's zero writer: DRAM address 0 moves in zeros
            raw = np.zeros((rows, cols * eb), np.uint8)
        else:
            self.dram_span(dram, rows, cfg["stride"], cols * eb, "mvin")
            raw = self.dram.rows(dram, rows, cfg["stride"], cols * eb)
        if not raw.flags.c_contiguous:
            raw = np.ascontiguousarray(raw)
        if full_acc:
            data = raw.view(self.acc_dtype)
        else:
            data = raw.view(self.in_dtype)
            if cfg["scale"] != 1.0:
                data = scale_sat(data, cfg["scale"], self.lo, self.hi).astype(self.in_dtype)
        bstride = cfg["block_stride"]
        repeats = max(1, cfg["pixel_repeats"])
        self.mvin_info[index] = (bstride, eb, not full_acc and cfg["scale"] != 1.0, repeats - 1, cfg["stride"])
        if repeats > 1:
            return self._mvin_repeated(loc, rows, cols, data, repeats)
        for b in range(-(-cols // dim)):
            first = loc.row + b * bstride
            self.check_rows(loc, first, rows, "mvin")
            c0, c1 = b * dim, min(cols, (b + 1) * dim)
            block = data[:, c0:c1] if cols > dim else data
            if loc.is_acc:
                sl = (slice(first, first + rows), slice(0, c1 - c0))
                if loc.accumulate:
                    self.check_init(self.acc_ok, np.arange(first, first + rows), "mvin (accumulate)")
                    self.acc[sl] = wrap32(self.acc[sl].astype(np.int64) + block)
                else:
                    self.acc[sl] = block
                self.acc_ok[first:first + rows] = True
            else:
                self.spad[first:first + rows, :c1 - c0] = block
                self.spad_ok[first:first + rows] = True

    def _mvin_repeated(self, loc: Local, rows: int, cols: int, data: np.ndarray, repeats: int) -> None:
        """The pixel repeater (first-layer optimisation): DRAM row i is written ``repeats``
        times, copy k (k = repeats-1 .. 0) into columns [k*cols, (k+1)*cols) of local row
        ``row + i - k`` (columns past DIM dropped; rows below the row's scratchpad half
        skipped), so local row r ends up holding pixels r, r+1, ... side by side."""
        if loc.is_acc:
            raise self.fail("mvin with pixel_repeats > 1 into the accumulator")
        if cols > self.dim:
            raise self.fail(f"mvin with pixel_repeats > 1 and cols = {cols} > DIM = {self.dim}")
        self.check_rows(loc, loc.row, rows, "mvin")
        half, dim = self.spad_rows // 2, self.dim
        # Every (row i, copy k, column c) lands in its own cell (copies of one local row
        # have disjoint columns), so all the writes happen at once: one element each.
        row = loc.row + np.arange(rows)[:, None, None]
        k = np.arange(repeats)[None, :, None]
        c = np.arange(cols)[None, None, :]
        dest, col = row - k, k * cols + c
        keep = (dest >= np.where(row < half, 0, half)) & (col < dim)
        dest, col = np.broadcast_to(dest, keep.shape)[keep], np.broadcast_to(col, keep.shape)[keep]
        self.spad.reshape(-1)[dest * dim + col] = np.broadcast_to(data[:, None, :cols], keep.shape)[keep]
        self.spad_ok[dest] = True

    # ------------------------------------------------------------------ mvout
    def mvout(self, index: int, dram: int, rs2: int) -> None:
        loc = self.decode_local(rs2 & 0xFFFFFFFF, "mvout")
        rows, cols = rs2 >> 48, (rs2 >> 32) & 0xFFFF
        if loc.garbage:
            raise self.fail("mvout from the garbage address")
        dim, st = self.dim, self.st
        self.check_size(rows, cols, self.t.dma_max_mvout_blocks * dim, "mvout")
        full = loc.is_acc and loc.read_full
        eb = self.t.acc_bytes if full else self.t.input_bytes
        self.mvout_info[index] = (st["stride"], eb)
        if st["pool_stride"]:
            if not loc.is_acc:
                raise self.fail("pooled mvout from the scratchpad (only accumulator pooling is modelled)")
            return self._mvout_pooled(index, loc, dram, cols)
        parts = []
        for b in range(-(-cols // dim)):
            first = loc.row + b * dim
            self.check_rows(loc, first, rows, "mvout")
            c = min(dim, cols - b * dim)
            if loc.is_acc:
                self.check_init(self.acc_ok, np.arange(first, first + rows), "mvout")
                parts.append(self.acc[first:first + rows, :c])
            else:
                self.check_init(self.spad_ok, np.arange(first, first + rows), "mvout")
                parts.append(self.spad[first:first + rows, :c])
        data = np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
        if loc.is_acc and not full:
            data = self._acc_to_int8(data)
        out = np.ascontiguousarray(data.astype(self.acc_dtype if full else self.in_dtype)).view(np.uint8)
        self.dram_span(dram, rows, st["stride"], cols * eb, "mvout")
        self.dram.rows(dram, rows, st["stride"], cols * eb)[...] = out

    def _acc_to_int8(self, x: np.ndarray) -> np.ndarray:
        y = scale_sat(x, self.st["scale"], self.lo, self.hi)
        return np.maximum(y, 0) if self.st["act"] == 1 else y

    def _mvout_pooled(self, index: int, loc: Local, dram: int, cols: int) -> None:
        st, dim = self.st, self.dim
        if cols > dim:
            raise self.fail("pooled mvout with more than DIM columns")
        ps, k = st["pool_stride"], st["pool_size"]
        porows, pocols, orows, ocols = st["porows"], st["pocols"], st["orows"], st["ocols"]
        self.mvout_pool[index] = (k, ps, porows, pocols, orows, ocols, st["upad"], st["lpad"], st["pool_out_dim"])
        if k == 0:
            raise self.fail("pooled mvout with pool_size 0")
        # every (pooled row, pooled col, window row, window col) at once
        orow = (np.arange(porows) * ps)[:, None, None, None] + np.arange(k)[None, None, :, None] - st["upad"]
        ocol = (np.arange(pocols) * ps)[None, :, None, None] + np.arange(k)[None, None, None, :] - st["lpad"]
        inside = (orow >= 0) & (orow < orows) & (ocol >= 0) & (ocol < ocols)
        rows = loc.row + orow * ocols + ocol
        read = rows[inside]
        if read.size:
            bad = read[(read < 0) | (read >= self.acc_rows)]
            if bad.size:
                self.check_rows(loc, int(bad[0]), 1, "pooled mvout")
            self.check_init(self.acc_ok, read, "pooled mvout")
        vals = np.zeros(inside.shape + (cols,), np.int64)  # padding positions read as 0
        vals[inside] = self._acc_to_int8(self.acc[read, :cols])
        out = vals.max(axis=(2, 3))
        for pr in range(porows):
            addr = dram + pr * st["pool_out_dim"] * st["stride"]
            self.dram_span(addr, pocols, st["stride"], cols, "pooled mvout")
            self.dram.rows(addr, pocols, st["stride"], cols)[...] = out[pr].astype(self.in_dtype).view(np.uint8)
