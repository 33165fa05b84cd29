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
from gemforge.sim.memory import ROW_MASK


def gather_d(m: Machine, idx, cmp_rs2, c_row: np.ndarray, c_rows: np.ndarray, versions=None):
    """The batch's D operands: None when every D is GARBAGE, False when the batch must
    fall back (nothing read), else ``(sel, D)``: the pairs with a D and their D blocks
    (len(sel), DIM, DIM) int64, zero outside each D's rows and columns.

    ``idx`` are the pairs' preload indices, ``cmp_rs2`` the computes' rs2 (uint64);
    ``c_row`` / ``c_rows`` the accumulator rows the batch's live C operands write;
    ``versions`` (``exec_region._Versions``) maps scratchpad rows to the region's
    move-ins as they stood at each compute (index + 1)."""
    dim, ar = m.dim, m.ar
    x = np.asarray(cmp_rs2, np.uint64)
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
    D = np.zeros((len(sel), dim, dim), np.int64)
    ia = np.flatnonzero(is_acc)
    if len(ia):
        read = ridx[ia][rmask[ia]]
        if _written(m, c_row, c_rows)[read].any():
            return False
        if not m.allow_uninit and not m.acc_ok[read].all():
            return False
        D[ia] = m.acc[ridx[ia]]
    isp = np.flatnonzero(~is_acc)
    if len(isp):
        data, ok, sidx = m.spad, m.spad_ok, ridx[isp]
        if versions is not None:
            data, ok = versions.data, versions.ok
            sidx = versions.map(sidx, np.asarray(idx)[sel][isp][:, None] + 1)
        if not m.allow_uninit and not ok[sidx[rmask[isp]]].all():
            return False
        D[isp] = data[sidx]
    D *= rmask[:, :, None] & (ar < cols[:, None])[:, None, :]
    return sel, D


def _written(m: Machine, c_row: np.ndarray, c_rows: np.ndarray) -> np.ndarray:
    """(acc_rows,) bool: the accumulator rows some C writes (c_row .. c_row + c_rows - 1)."""
    edges = np.zeros(m.acc_rows + 1, np.int64)
    np.add.at(edges, np.minimum(c_row, m.acc_rows), 1)
    np.add.at(edges, np.minimum(c_row + np.maximum(c_rows, 0), m.acc_rows), -1)
    return np.cumsum(edges)[:-1] > 0
