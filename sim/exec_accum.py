"""Accumulating runs of WS pairs into the accumulator as whole-block sums.

The pairs that write one accumulator block are multiplied as one (DIM x P*DIM) @
(P*DIM x DIM) product: the multiply and the sum over the block's P pairs in one small
matmul, exact in float32 when P*DIM int8 products cannot reach 2**24, else in float64
(int32 wrapping is then applied once: sums wrap the same in any order).  When every
block has the same number of pairs, the A operands are gathered from the scratchpad
straight into that layout (row r of a block's matrix = row r of each of its pairs' A,
side by side) -- one gather, no reordering copies.
"""

from __future__ import annotations

import numpy as np

from gemforge.sim.functional import Machine
from gemforge.sim.memo import memo
from gemforge.sim.memory import row_view, take_rows


def accumulate_pairs(m: Machine, spad_v, a_idx, a_mask, W, wsel, c_row, c_rows, c_cols, accum, c_garb,
                     full: bool, rmask, d=None, plans: dict | None = None):
    """The common cases of ``exec_ops.batch``: every pair writes inside DIM rows from its
    C address, and either all pairs accumulate (any tile sizes, blocks may overlap) or the
    tiles are full and blocks are equal or disjoint (then a block's pairs before its last
    overwrite drop out and the overwrite starts from 0).  Operands: scratchpad rows
    ``a_idx`` of ``spad_v`` (a row view) zeroed outside ``a_mask`` (None: full tiles; else
    see :func:`mask_a`), weights ``W[wsel]``, D operands ``d`` (``exec_bias.gather_d``;
    None: all GARBAGE).  Returns None when not applicable (nothing changed), False for an
    uninitialised read (nothing changed), True when done.  ``plans``: a dict that keeps
    the state-independent analysis for the next batch with the same operands (None: none)."""
    def make():
        return _plan(m, a_idx, a_mask, wsel, c_row, c_rows, c_cols, accum, c_garb, full, rmask)

    plan = make() if plans is None else memo(plans, "accumulate", make)
    if plan is False:
        return None
    check_rows, keep, zero_rows, group = plan
    if not m.allow_uninit and not m.acc_ok[check_rows].all():
        return False
    ar = m.ar
    if zero_rows is not None:
        m.acc[zero_rows] = 0
    if group is not None:
        _grouped(m, spad_v, W, group)
    if d is not None:  # the kept pairs' D, inside their C tiles, adds to their blocks
        dsel, D = d
        k = keep[dsel]
        if k.any():
            dsel, D = dsel[k], D[k]
            D *= (ar < c_rows[dsel, None])[:, :, None] & (ar < c_cols[dsel, None])[:, None, :]
            add_block_sums(m, c_row[dsel], D)
    if zero_rows is not None:
        m.acc_ok[zero_rows] = True
    return True


def _plan(m: Machine, a_idx, a_mask, wsel, c_row, c_rows, c_cols, accum, c_garb, full: bool, rmask):
    """What :func:`accumulate_pairs` does, from the operand fields alone: False (not
    applicable) or (accumulator rows that must be initialised, pairs kept, rows zeroed
    first or None, :func:`_group_plan` of the kept pairs or None)."""
    dim, ar = m.dim, m.ar
    live = ~c_garb
    if (c_row[live] + dim > m.acc_rows).any() or (c_cols[live] == 0).any():
        return False
    ow = live & ~accum
    if not ow.any():
        check_rows = (c_row[:, None] + ar)[rmask]
        keep, zero_rows = live, None
    else:
        if not full:
            return False
        pos = np.flatnonzero(live)
        u, first, inv = np.unique(c_row[pos], return_index=True, return_inverse=True)
        if len(u) > 1 and (np.diff(u) < dim).any():
            return False
        last_ow = np.full(len(u), -1, np.int64)
        np.maximum.at(last_ow, inv[ow[pos]], pos[ow[pos]])
        check_rows = (u[accum[pos[first]]][:, None] + ar).reshape(-1)
        keep = np.zeros(len(c_row), bool)
        keep[pos] = pos >= last_ow[inv]
        zero_rows = (u[last_ow >= 0][:, None] + ar).reshape(-1)
    w_mask = None
    if not full:  # rows / columns outside the C tile contribute zeros
        a_mask = (a_mask[0] & (ar < c_rows[:, None]), a_mask[1])
        if (c_cols < dim).any():
            w_mask = (ar < c_cols[:, None])[:, None, :]
    sel = np.flatnonzero(keep)
    group = _group_plan(m, a_idx, a_mask, wsel, w_mask, sel, c_row[sel]) if len(sel) else None
    return check_rows, keep, zero_rows, group


def _group_plan(m: Machine, a_idx, a_mask, wsel, w_mask, sel, c_row):
    """The gathers of :func:`_grouped` for pairs ``sel``: (False, A rows, A row mask or None,
    A column mask or None, weight index, weight mask or None, C rows) when blocks have
    different pair counts, else (True, A rows (U, DIM, P), A row multiplier or None, A column
    multiplier or None, weight index (U, P), weight mask or None, first row of each block)."""
    dim = m.dim
    u, inv = np.unique(c_row, return_inverse=True)
    U, n = len(u), len(sel)
    P = n // U
    if P * U != n or (np.bincount(inv) != P).any():  # blocks with different pair counts
        rows = cols = None
        if a_mask is not None:
            rows, cols = a_mask[0][sel], None if a_mask[1] is None else a_mask[1][sel]
        return (False, a_idx[sel], rows, cols, wsel[sel], None if w_mask is None else w_mask[sel], c_row)
    pairs = sel[np.argsort(inv, kind="stable").reshape(U, P)]  # each block's pairs, in order
    rows = cols = None
    if a_mask is not None:
        if not a_mask[0].all():
            rows = a_mask[0][pairs].transpose(0, 2, 1)[..., None]
        if a_mask[1] is not None:
            cols = a_mask[1][pairs][:, None, :, :]
    return (True, np.ascontiguousarray(a_idx[pairs].transpose(0, 2, 1)), rows, cols, wsel[pairs],
            None if w_mask is None else w_mask[pairs], u)


def _grouped(m: Machine, spad_v, W, group) -> None:
    """acc[c_row[k] + r] += (A @ W)[r] for the pairs of ``group`` (:func:`_group_plan`;
    see the module docstring)."""
    dim = m.dim
    even, a_rows, rows, cols, wsel, w_mask, u = group
    if not even:
        A = take_rows(spad_v, a_rows, np.int8, dim).astype(W.dtype)
        if rows is not None:
            mask_a(A, rows, cols)
        Wp = W[wsel]
        if w_mask is not None:
            Wp *= w_mask
        return matmul_accumulate(m, A, Wp, u)
    U, P = wsel.shape
    ftype = _sum_type(m, P)
    Ag = take_rows(spad_v, a_rows, np.int8, dim).astype(ftype)  # (U, DIM, P, DIM)
    if rows is not None:
        Ag *= rows
    if cols is not None:
        Ag *= cols
    Wg = W[wsel].astype(ftype, copy=False)  # (U, P, DIM, DIM)
    if w_mask is not None:
        Wg *= w_mask
    add_block_sums(m, u, np.matmul(Ag.reshape(U, dim, P * dim), Wg.reshape(U, P * dim, dim)))


def mask_a(A: np.ndarray, rows: np.ndarray, cols) -> None:
    """Zero A (n, DIM, DIM) outside its rows (n, DIM) and columns (n, DIM; None: all)."""
    if not rows.all():
        A *= rows[:, :, None]
    if cols is not None:
        A *= cols[:, None, :]


def _sum_type(m: Machine, P: int):
    return np.float32 if P * m.dim << (2 * (m.t.input_bits - 1)) < (1 << 24) else np.float64


def matmul_accumulate(m: Machine, A: np.ndarray, W: np.ndarray, c_row: np.ndarray) -> None:
    """acc[c_row[p] + r] += (A[p] @ W[p])[r] for every pair p (int32 wrapping), from
    gathered operands ``A`` and ``W`` (n, DIM, DIM); blocks with fewer pairs are padded."""
    dim, n = m.dim, len(c_row)
    u, inv = np.unique(c_row, return_inverse=True)
    counts = np.bincount(inv)
    P = int(counts.max())
    ftype = _sum_type(m, P)
    order = np.argsort(inv, kind="stable")
    if P * len(u) == n:  # every block has P pairs: sort by block, no padding
        Ag, Wg = A[order].astype(ftype, copy=False), W[order].astype(ftype, copy=False)
    else:
        g = inv[order]
        slot = g * P + (np.arange(n) - (np.cumsum(counts) - counts)[g])
        Ag = np.zeros((len(u) * P, dim, dim), ftype)
        Wg = np.zeros((len(u) * P, dim, dim), ftype)
        Ag[slot], Wg[slot] = A[order], W[order]
    Ag = Ag.reshape(len(u), P, dim, dim).transpose(0, 2, 1, 3).reshape(len(u), dim, P * dim)
    add_block_sums(m, u, np.matmul(Ag, Wg.reshape(len(u), P * dim, dim)))


def add_block_sums(m: Machine, u: np.ndarray, sums: np.ndarray) -> None:
    """acc[u[b] + r] += sums[b, r] (int32 wrapping); blocks may partially overlap."""
    dim = m.dim
    sums = sums.reshape(-1, dim).astype(np.int64)
    rows = (u[:, None] + m.ar).reshape(-1)
    if len(u) > 1 and (np.diff(u) < dim).any():  # partially overlapping blocks: add per row
        # sort the rows, then one integer sum per distinct row (exact in any order)
        order = np.argsort(rows, kind="stable")
        rows = rows[order]
        firsts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        sums = np.add.reduceat(sums[order], firsts, axis=0)
        rows = rows[firsts]
    # int32 addition wraps modulo 2**32: the same as wrap32(acc + sums) in int64
    new = take_rows(m.acc_v, rows, np.int32, dim) + sums.astype(np.int32)
    m.acc_v[rows] = row_view(new)
