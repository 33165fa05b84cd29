"""Vectorised execution of a group of simple move-ins (one gather, one scatter).

Used by the interpreter for the move-ins between runs of compute pairs.  Eligible: int8
move-ins into the scratchpad of DIM rows and the same whole number of DIM-column blocks,
unscaled, from real DRAM (not the zero writer), each within one tensor and the
scratchpad.  Otherwise this returns False and the caller executes the move-ins one at a
time (same semantics, precise errors).
"""

from __future__ import annotations

import numpy as np

from gemforge.sim.functional import Machine


def mvin_group(m: Machine, index: list[int], which: list[int], dram: list[int], rs2: list[int]) -> bool:
    dim = m.dim
    if m.t.input_bytes != 1 or len(index) < 2:
        return False
    cols = (rs2[0] >> 32) & 0xFFFF
    if cols % dim or cols > m.max_spad_cols:
        return False
    shape = (dim << 16) | cols
    strides, bstrides = [], []
    for w, d, r in zip(which, dram, rs2):
        cfg = m.ld[w]
        if r >> 32 != shape or (r & 0xFFFFFFFF) >> 26 or not d or cfg["scale"] != 1.0 or cfg["pixel_repeats"] > 1:
            return False
        strides.append(cfg["stride"])
        bstrides.append(cfg["block_stride"])
    nb = cols // dim
    local = np.array(rs2, np.uint64).astype(np.int64) & 0xFFFFFFFF
    bst = np.array(bstrides, np.int64)
    if (local + (nb - 1) * bst + dim > m.spad_rows).any():
        return False
    starts = np.sort((local[:, None] + np.arange(nb) * bst[:, None]).reshape(-1))
    if nb > 1 and (np.diff(starts) < dim).any():  # overlapping blocks: keep exact program order
        return False
    d = np.array(dram, np.int64)
    st = np.array(strides, np.int64)
    lo = d + np.minimum(0, (dim - 1) * st)
    hi = d + np.maximum(0, (dim - 1) * st) + cols
    dr = m.dram
    k = np.searchsorted(dr.starts_arr, lo, side="right") - 1
    if (k < 0).any() or (hi > dr.ends_arr[np.maximum(k, 0)]).any():
        return False
    ar_c = np.arange(cols)
    off = (d - dr.base)[:, None, None] + m.ar[None, :, None] * st[:, None, None] + ar_c[None, None, :]
    data = dr.mem[off].view(np.int8)  # (n, dim, cols)
    for b in range(nb):  # in program order per block; repeated rows: the last move-in wins
        rows = (local[:, None] + b * bst[:, None] + m.ar).reshape(-1)
        m.spad[rows] = data[:, :, b * dim:(b + 1) * dim].reshape(-1, dim)
        m.spad_ok[rows] = True
    for i, bs, st in zip(index, bstrides, strides):
        m.mvin_info[i] = (bs, 1, False, 0, st)
    return True
