"""The D (bias) operand of a batch of WS computes, gathered at once.

In WS a compute gives ``C = A @ B + D``; D (the compute's rs2) is GARBAGE (zeros), int8
scratchpad rows or raw int32 accumulator rows, ``rows x cols`` of it, zero padded to
DIM x DIM (``exec_ops.compute``).  Convolutions with a bias feed it as D in the first
pair of every output block, so a batch (``exec_ops.batch``) must carry it or fall back.

A batch reads every D before it writes any C, which is program order only when no D
reads an accumulator row some C of the batch writes: such a batch (and anything else
unusual: norm commands, sizes over DIM, rows out of range, uninitialised rows) is left
to pair-by-pair execution, which reports errors exactly.
"""

from __future__ import annotations

import numpy as np

from gemforge.sim.functional import Machine
from gemforge.sim.memo import memo
from gemforge.sim.memory import ROW_MASK

def gather_d(m: Machine, idx, cmp_rs2, c_row: np.ndarray, c_rows: np.ndarray, versions=None):
    """The batch's D operands: None when every D is GARBAGE, False when the batch must
    fall back (nothing read), else ``(sel, D)``: the pairs with a D and their D blocks
    (len(sel), DIM, DIM) int64, zero outside each D's rows and columns.

    ``idx`` are the pairs' preload indices, ``cmp_rs2`` the computes' rs2 (uint64);
    ``c_row`` / ``c_rows`` the accumulator rows the batch's live C operands write;
    ``versions`` (``exec_region._Versions``) maps scratchpad rows to the region's
    move-ins as they stood at each compute (index + 1)."""
    x = np.asarray(cmp_rs2, np.uint64)
    st = memo(m.batch_plans, ("d", x.tobytes()), lambda: _analyse(m, x))  # recurs tile after tile
    if st is None or st is False:
        return st
    sel, ia, acc_idx, acc_read, isp, spad_idx, spad_rmask, mask = st
    D = np.zeros((len(sel), m.dim, m.dim), np.int64)
    if len(ia):
        if _written(m, c_row, c_rows)[acc_read].any():
            return False
        if not m.allow_uninit and not m.acc_ok[acc_read].all():
            return False
        D[ia] = m.acc[acc_idx]
    if len(isp):
        data, ok, sidx = m.spad, m.spad_ok, spad_idx
        if versions is not None:
            data, ok = versions.data, versions.ok
            sidx = versions.map(sidx, np.asarray(idx)[sel][isp][:, None] + 1)
        if not m.allow_uninit and not ok[sidx[spad_rmask]].all():
            return False
        D[isp] = data[sidx]
    D *= mask
    return sel, D


def _analyse(m: Machine, x: np.ndarray):
    """What :func:`gather_d` derives from the computes' rs2 alone: None (all GARBAGE), False
    (fall back), or (pairs with a D, those reading the accumulator, their rows, the rows read,
    those reading the scratchpad, their rows, the rows read, D's zero padding)."""
    dim, ar = m.dim, m.ar
    addr = (x & np.uint64(0xFFFFFFFF)).astype(np.int64)
    garbage = m.local.garbage(addr)
    sel = np.flatnonzero(~garbage)
    if not len(sel):
        return None
    addr, x = addr[sel], x[sel]
    rows = (x >> np.uint64(48)).astype(np.int64)  # unsigned shifts: no sign from bit 63
    cols = ((x >> np.uint64(32)) & np.uint64(0xFFFF)).astype(np.int64)
    if m.local.norm(addr).any() or (rows > dim).any() or (cols > dim).any():
        return False  # norm commands, oversized blocks: the fallback says which
    row, is_acc = addr & ROW_MASK, (addr >> 31) == 1
    if (row + rows > np.where(is_acc, m.acc_rows, m.spad_rows)).any():
        return False
    rmask = ar < rows[:, None]
    ridx = np.where(rmask, row[:, None] + ar, 0)
    ia, isp = np.flatnonzero(is_acc), np.flatnonzero(~is_acc)
    return (sel, ia, ridx[ia], ridx[ia][rmask[ia]], isp, ridx[isp], rmask[isp],
            rmask[:, :, None] & (ar < cols[:, None])[:, None, :])


def _written(m: Machine, c_row: np.ndarray, c_rows: np.ndarray) -> np.ndarray:
    """(acc_rows,) bool: the accumulator rows some C writes (c_row .. c_row + c_rows - 1)."""
    edges = np.zeros(m.acc_rows + 1, np.int64)
    np.add.at(edges, np.minimum(c_row, m.acc_rows), 1)
    np.add.at(edges, np.minimum(c_row + np.maximum(c_rows, 0), m.acc_rows), -1)
    return np.cumsum(edges)[:-1] > 0
