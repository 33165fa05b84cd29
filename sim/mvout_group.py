"""Vectorised execution of a group of consecutive move-outs (one gather, one scatter).

Used by the interpreter for runs of MVOUTs (a tile's output is written by one move-out
per DIM-row block).  Eligible: move-outs of the same width from initialised accumulator rows
inside the accumulator (no norm, not read_full), without pooling, to
DRAM ranges inside one tensor that no two of them share.  The values are those of
``Machine.mvout`` (scaled to int8, ReLU with config_st act = 1), elementwise.  Otherwise
this returns False before changing anything and the caller executes the move-outs one at
a time (same semantics, precise errors).
"""

from __future__ import annotations

import numpy as np

from gemforge.sim.functional import Machine
from gemforge.sim.memory import take_rows


def mvout_group(m: Machine, index: list[int], dram: list[int], rs2: list[int]) -> bool:
    st, dim, t = m.st, m.dim, m.t
    x = np.array(rs2, np.uint64).astype(np.int64)
    addr, rows, cols = x & 0xFFFFFFFF, x >> 48, (x >> 32) & 0xFFFF
    if len(index) < 2 or st["pool_stride"] or (cols != cols[0]).any():
        return False
    cols = int(cols[0])
    if not (1 <= cols <= t.dma_max_mvout_blocks * dim) or (rows < 1).any() or (rows > dim).any():
        return False
    if ((addr >> 26) != 0b100000).any():  # the accumulator, scaled (not read_full), no norm
        return False
    nb = -(-cols // dim)
    first = (addr & ((1 << 26) - 1))[:, None] + np.arange(nb) * dim  # (n, blocks)
    if (first + rows[:, None] > m.acc_rows).any():
        return False
    # one entry per (move-out, row): its accumulator row in each block and its DRAM offset
    mv = np.repeat(np.arange(len(index)), rows)
    r = np.arange(len(mv)) - np.repeat(np.cumsum(rows) - rows, rows)
    src = first[mv] + r[:, None]  # (entries, blocks)
    if not m.allow_uninit and not m.acc_ok[src].all():
        return False
    d = np.array(dram, np.uint64).astype(np.int64)
    stride, eb = st["stride"], t.input_bytes
    lo = d + np.minimum(0, (rows - 1) * stride)
    hi = d + np.maximum(0, (rows - 1) * stride) + cols * eb
    dr = m.dram
    k = np.searchsorted(dr.starts_arr, lo, side="right") - 1
    if (d <= 0).any() or (k < 0).any() or (hi > dr.ends_arr[np.maximum(k, 0)]).any():
        return False
    row_off = d[mv] - dr.base + r * stride
    ordered = np.sort(row_off)
    if (np.diff(ordered) < cols * eb).any():  # overlapping destinations: keep program order
        return False
    vals = take_rows(m.acc_v, src, np.int32, dim).reshape(len(mv), nb * dim)[:, :cols]
    out = m._acc_to_int8(vals).astype(m.in_dtype)
    dr.mem[(row_off[:, None] + np.arange(cols * eb)).reshape(-1)] = np.ascontiguousarray(out).view(np.uint8).reshape(-1)
    for i in index:
        m.mvout_info[i] = (stride, eb)
    return True
