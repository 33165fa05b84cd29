"""The LOOP_WS unroller (ucb-bar/gemmini LoopMatmul.scala), as an instruction generator.

The hardware holds two loops at once in alternating halves of the scratchpad (A from the
bottom of a half, B packed against its top) and of the accumulator; the n-th LOOP_WS
uses scratchpad half ``n % 2`` (unless a_spad_id / b_spad_id pick one) and the
accumulator half flips after every loop whose C address is non-zero (so loops with C = 0
keep accumulating into the same half, which is how software splits K).  Its five FSMs
generate:

* ldD: MVIN3 of the bias into the accumulator (i inner, j outer, blocks of
  ``dma_max_acc_mvin_blocks`` DIM-columns, or ``dma_max_spad_mvin_blocks`` if low_D);
* ldA: MVIN (i inner, k outer in blocks), ldB: MVIN2 (j inner in blocks, k outer);
* ex: for k, j, i (i innermost): PRELOAD (B at i = 0, else garbage; C accumulates when
  ex_accumulate or k > 0) then COMPUTE_PRELOADED at i = 0, else COMPUTE_ACCUMULATED;
* stC: MVOUT (i inner, j outer in blocks of ``dma_max_mvout_blocks``; 1 if full_C).

The FSMs run concurrently in hardware, interlocked so each compute is issued after the
loads it reads.  Here the generated stream lists ldD, ldA, ldB, ex, then stC; the timing
model lets each queue's generated instructions issue independently (one per
``lat_loop_unroll_issue``), so only the dependencies follow from this order.  Deviation: the hardware's ldB always loads
DIM rows (a typo compares max_row_iterator with itself); here the last K-tile loads
DIM - pad_K rows, which does not change any result and avoids reading past B.
"""

from __future__ import annotations

import numpy as np

from gemforge.backends.gemmini import isa
from gemforge.sim.errors import insn_error
from gemforge.sim.unroll_cache import LoopUnroller
from gemforge.target import Target

_OFFSET_MASK = 0xFFFFFFFF  # LoopMatmul.castDramOffset


def operand(addr: int, rows: int, cols: int) -> int:
    return (rows << 48) | (cols << 32) | addr


def _arrays(insns: list[tuple[int, int, int]]):
    f, a, b = zip(*insns) if insns else ((), (), ())
    return np.array(f, np.int64), np.array(a, np.uint64), np.array(b, np.uint64)


class MatmulUnroller(LoopUnroller):
    LOOP_FUNCT = isa.LOOP_WS
    OPERANDS = ("A", "B", "C", "D")

    def command(self, index: int, funct: int, rs1: int, rs2: int):
        """Record a config word, or generate the instructions of a LOOP_WS (three arrays)."""
        rec = self.record(index, funct, rs1, rs2)
        if rec is None:
            return None
        need = ("I", "A", "D", "A_stride", "D_stride")
        if any(k not in self.regs for k in need):
            raise insn_error(index, funct, rs1, rs2, "loop_ws before all of its config words")
        if rec.is_resadd:
            raise insn_error(index, funct, rs1, rs2, "loop_ws residual-add mode is not supported")
        r = self.regs
        if r["A_transpose"] and r["B_transpose"]:
            raise insn_error(index, funct, rs1, rs2, "loop_ws cannot transpose both A and B")
        dim = self.t.dim
        if min(r["I"], r["J"], r["K"]) == 0 or max(r["pad_I"], r["pad_J"], r["pad_K"]) >= dim:
            raise insn_error(index, funct, rs1, rs2, f"bad loop_ws bounds (I, J, K >= 1 and pads < DIM={dim})")
        out = self.templates.generate(r, (self.loops_started % 2, self.acc_half), self._generate_arrays)
        self.loops_started += 1
        if r["C"] != 0:
            self.acc_half ^= 1
        return out

    def _generate_arrays(self, r: dict[str, int]):
        return tuple(np.concatenate(c) for c in zip(*self._generate(r)))

    def _generate(self, r: dict[str, int]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        t, dim = self.t, self.t.dim
        I, J, K = r["I"], r["J"], r["K"]
        pI, pJ, pK = r["pad_I"], r["pad_J"], r["pad_K"]
        at, bt = r["A_transpose"], r["B_transpose"]
        half = t.spad_rows // 2
        slot = self.loops_started % 2
        a_start = (r["a_spad_id"] - 1) * half if r["a_spad_id"] else slot * half
        b_end = r["b_spad_id"] * half if r["b_spad_id"] else (slot + 1) * half
        b_start = b_end - K * J * dim
        acc_start = self.acc_half * (t.acc_rows // 2)
        spad_blocks, acc_blocks = t.dma_max_spad_mvin_blocks, t.dma_max_acc_mvin_blocks
        in_b, acc_b = t.input_bytes, t.acc_bytes
        out: list[tuple[int, int, int]] = []

        def rows_of(it, n, pad):
            return dim - (pad if it == n - 1 else 0)

        def cols_of(it, blocks, n, pad):
            return blocks * dim - (pad if it + blocks >= n else 0)

        # ldD
        if r["D"]:
            mb = min(J, spad_blocks if r["low_D"] else acc_blocks)
            eb = in_b if r["low_D"] else acc_b
            for j in range(0, J, mb):
                blocks = min(mb, J - j)
                for i in range(I):
                    dram = r["D"] + (((i * r["D_stride"] + j) * dim * eb) & _OFFSET_MASK)
                    local = isa.ACC_BIT | (acc_start + (i * J + j) * dim)
                    out.append((isa.MVIN3, dram, operand(local, rows_of(i, I, pI), cols_of(j, blocks, J, pJ))))

        def load_a(k_lo, k_hi):
            """A loads for columns [k_lo, k_hi) (untransposed) or all (transposed)."""
            if not r["A"]:
                return
            if at:  # rows iterate k, columns i in blocks
                mb = min(I, spad_blocks)
                for k in range(k_lo, k_hi):
                    for i in range(0, I, mb):
                        out.append(ld(r["A"], r["A_stride"], a_start, k, i, K, I, pK, pI, mb, isa.MVIN))
            else:
                mb = min(K, spad_blocks)
                for k in range(k_lo, k_hi, mb):
                    for i in range(I):
                        out.append(ld(r["A"], r["A_stride"], a_start, i, k, I, K, pI, pK, mb, isa.MVIN))

        def load_b(k):
            if not r["B"]:
                return
            mb = min(J, spad_blocks)
            for j in range(0, J, mb):
                out.append(ld(r["B"], r["B_stride"], b_start, k, j, K, J, pK, pJ, mb, isa.MVIN2))

        def ld(base, stride, start, row_it, col_it, n_row, n_col, row_pad, col_pad, mb, funct):
            blocks = min(mb, n_col - col_it)
            dram = base + (((row_it * stride + col_it) * dim * in_b) & _OFFSET_MASK)
            local = start + (row_it * n_col + col_it) * dim
            return (funct, dram, operand(local, rows_of(row_it, n_row, row_pad), cols_of(col_it, blocks, n_col, col_pad)))

        a_max_col, b_max_col = (I if at else K), (K if bt else J)
        st_mb = 1 if r["full_C"] else min(J, t.dma_max_mvout_blocks)
        ceb = acc_b if r["full_C"] else in_b

        def execute_all():
            """All (preload, compute) pairs, k outer, j, i inner, as three arrays."""
            kk, jj, ii = (g.reshape(-1) for g in np.meshgrid(np.arange(K), np.arange(J), np.arange(I), indexing="ij"))
            a_row, a_col = (kk, ii) if at else (ii, kk)
            b_row, b_col = (jj, kk) if bt else (kk, jj)
            a_addr = a_start + (a_row * a_max_col + a_col) * dim
            b_addr = b_start + (b_row * b_max_col + b_col) * dim
            rows_i = dim - np.where(ii == I - 1, pI, 0)
            cols_j = dim - np.where(jj == J - 1, pJ, 0)
            rows_k = dim - np.where(kk == K - 1, pK, 0)
            accumulate = np.where((kk > 0) | bool(r["ex_accumulate"]), isa.ACCUMULATE_BIT, 0)
            c_local = isa.ACC_BIT | accumulate | (acc_start + (ii * J + jj) * dim)
            n = len(kk)
            f = np.empty(2 * n, np.int64)
            r1 = np.empty(2 * n, np.int64)
            r2 = np.empty(2 * n, np.int64)
            f[0::2] = isa.PRELOAD
            f[1::2] = np.where(ii == 0, isa.COMPUTE_PRELOADED, isa.COMPUTE_ACCUMULATED)
            r1[0::2] = (rows_k << 48) | (cols_j << 32) | np.where(ii == 0, b_addr, isa.GARBAGE)
            r2[0::2] = (rows_i << 48) | (cols_j << 32) | c_local
            r1[1::2] = (rows_i << 48) | (rows_k << 32) | a_addr
            r2[1::2] = (dim << 48) | (dim << 32) | isa.GARBAGE
            return f, r1.astype(np.uint64), r2.astype(np.uint64)

        def store(j):
            blocks = min(st_mb, J - j)
            for i in range(I):
                dram = r["C"] + (((i * r["C_stride"] + j) * dim * ceb) & _OFFSET_MASK)
                local = isa.ACC_BIT | (isa.READ_FULL_BIT if r["full_C"] else 0) | (acc_start + (i * J + j) * dim)
                out.append((isa.MVOUT, dram, operand(local, rows_of(i, I, pI), cols_of(j, blocks, J, pJ))))

        # All loads first (in k order), then the computes (stores follow the last k): the
        # timing model issues each queue's generated instructions independently, so this
        # order only fixes the dependencies, and it gives the functional model one long run.
        load_a(0, K)
        if bt:
            for k in range(0, K, min(K, spad_blocks)):
                kb = min(spad_blocks, K - k)
                for j in range(J):
                    if r["B"]:
                        out.append(ld(r["B"], r["B_stride"], b_start, j, k, J, K, pJ, pK, kb, isa.MVIN2))
        else:
            for k in range(K):
                load_b(k)
        loads = out[:]
        out.clear()
        if r["C"]:
            for j in range(0, J, st_mb):
                store(j)
        return [_arrays(loads), execute_all(), _arrays(out)]
