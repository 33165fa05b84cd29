"""Batches of WS pair runs that reach across move-ins overwriting their operands.

Double-buffered code reloads a scratchpad buffer right after the pairs that read it, so a
batch of pairs (``exec_ops.run_batch``) could only span two runs.  In the common case --
full DIM x DIM tiles accumulating into the accumulator -- the operands a run reads can be
gathered *before* the next move-ins overwrite them, and the matmul and the accumulation of
many such runs done at once at the end (accumulation is order-independent: int32 sums
wrap the same in any order).  Program-order semantics are kept: each run's operands are
read from the machine state at that run's place in the stream.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gemforge.backends.gemmini import isa
from gemforge.sim.exec_ops import matmul_accumulate
from gemforge.sim.functional import Machine


class Gathered(NamedTuple):
    """The operands of a run of full, accumulating WS pairs, read at its place."""

    A: np.ndarray  # (n, DIM, DIM) in the machine's exact float type
    W: np.ndarray  # (flips, DIM, DIM): the weights each COMPUTE_PRELOADED switches to
    flip: np.ndarray  # (n,) bool
    c_row: np.ndarray  # (n,) first accumulator row of each output block


def gather_common(m: Machine, pre_rs1, pre_rs2, cmp_funct, cmp_rs1, cmp_rs2) -> Gathered | None:
    """The run's operands if it is the common case (full tiles, A and B in the scratchpad,
    C accumulating into initialised accumulator rows, D garbage); else None."""
    dim, ar = m.dim, m.ar
    regs = np.stack([pre_rs1, pre_rs2, cmp_rs1]).astype(np.int64)
    addr = regs & 0xFFFFFFFF
    if not ((regs >> 48) == dim).all() or not (((regs >> 32) & 0xFFFF) == dim).all():
        return None
    row = addr & ((1 << 26) - 1)
    garbage = m.local.garbage(addr)
    b_row, c_row, a_row = row
    b_garb = garbage[0]
    c, d = addr[1], np.asarray(cmp_rs2).astype(np.int64) & 0xFFFFFFFF
    if not m.local.garbage(d).all():  # D is read in exec_ops.batch only
        return None
    if garbage[1].any() or not ((c >> 31) == 1).all() or not (((c >> 30) & 1) == 1).all() or m.local.norm(c).any():
        return None
    a_stride = m.ex["a_stride"]
    if (addr[2] >> 31).any() or (a_row + (dim - 1) * a_stride >= m.spad_rows).any() or (
            (~b_garb & (b_row + dim > m.spad_rows)).any()) or (c_row + dim > m.acc_rows).any():
        return None
    flip = cmp_funct == isa.COMPUTE_PRELOADED
    fl = np.flatnonzero(flip)
    live = ~b_garb[fl]
    a_idx = a_row[:, None] + ar * a_stride
    b_idx = b_row[fl][:, None] + ar
    if not m.allow_uninit and not (m.spad_ok[a_idx].all() and m.spad_ok[b_idx[live]].all()
                                   and m.acc_ok[(c_row[:, None] + ar)].all()):
        return None
    ftype = m.exact_float
    # A flip whose preload has the garbage B loads zeros: read row 0 for it (its garbage row
    # number is past the scratchpad), then zero it.
    W = m.spad[np.where(live[:, None], b_idx, 0)].astype(ftype)
    if not live.all():
        W[~live] = 0
    return Gathered(m.spad[a_idx].astype(ftype), W, flip, c_row)


def finish_common(m: Machine, weights0: np.ndarray, parts: list[Gathered]) -> None:
    """Multiply and accumulate the gathered runs (in order), starting from ``weights0``."""
    A = np.concatenate([p.A for p in parts])
    flip = np.concatenate([p.flip for p in parts])
    W = np.concatenate([weights0[None].astype(A.dtype)] + [p.W for p in parts])
    matmul_accumulate(m, A, W[np.cumsum(flip)], np.concatenate([p.c_row for p in parts]))
    if len(W) > 1:
        m.weights = W[-1].astype(np.int64)
