"""Vectorised execution of a group of simple move-ins (one gather, one scatter).

Used by the interpreter for runs of consecutive move-ins.  Eligible: move-ins into the
scratchpad (int8, unscaled, without pixel repeats) or into the accumulator (int32, not
shrunk, overwriting), of 1..DIM rows and whole DIM-column blocks, from DRAM
inside one tensor or from DRAM address 0 (the zero writer), inside the local memory, no
two writing the same row.  Otherwise this returns False before changing anything and the
caller executes the move-ins one at a time (same semantics, precise errors).
"""

from __future__ import annotations

import numpy as np

from gemforge.sim.functional import Machine
from gemforge.sim.memo import memo
from gemforge.sim.memory import row_view, take_rows

_SPAD, _ACC = 0, 0b100000  # local address bits 31..26: scratchpad / accumulator, no flags


MIN_GROUP = 8  # fewer move-ins are cheaper one at a time than in ~40 numpy calls


def mvin_group(m: Machine, index: list[int], which: list[int], dram: list[int], rs2: list[int]) -> bool:
    if len(index) < MIN_GROUP:
        return False
    kinds = [(r & 0xFFFFFFFF) >> 26 for r in rs2]
    plans = []
    distinct = set(kinds)
    for kind in distinct:  # the scratchpad and the accumulator do not interact: one plan each
        if len(distinct) == 1:
            plan, idx = _plan(m, kind, which, dram, rs2), index
        else:
            sel = [k for k, x in enumerate(kinds) if x == kind]
            plan = _plan(m, kind, [which[k] for k in sel], [dram[k] for k in sel], [rs2[k] for k in sel])
            idx = [index[k] for k in sel]
        if plan is None:
            return False
        plans.append((plan, idx))
    for (to_acc, dest, data, infos), idx in plans:
        if to_acc:
            m.acc_v[dest] = row_view(data)
            m.acc_ok[dest] = True
        else:
            m.spad_v[dest] = row_view(data)
            m.spad_ok[dest] = True
        m.mvin_info.update(zip(idx, infos))
    return True


_INELIGIBLE = object()
_MAX_PLANS = 256


def _plan(m: Machine, kind: int, which: list[int], dram: list[int], rs2: list[int]):
    """(into the accumulator, local rows, their bytes, mvin_info entries) of move-ins that
    all go to ``kind`` memory, or None if they are not eligible."""
    # Everything but the DRAM addresses recurs tile after tile: planned once per shape.
    cfg = tuple((c["pixel_repeats"], c["shrunk"], c["scale"], c["stride"], c["block_stride"]) for c in m.ld)
    key = (kind, tuple(which), tuple(rs2), cfg)
    static = memo(m.mvin_plans, key, lambda: _static_plan(m, kind, which, rs2), _MAX_PLANS)
    if static is _INELIGIBLE:
        return None
    to_acc, eb, mv, dest, src_off, lo_off, hi_off, infos = static
    d = np.array(dram, np.uint64).astype(np.int64)
    real = d != 0
    lo = d + lo_off
    hi = d + hi_off
    dr = m.dram
    k = np.searchsorted(dr.starts_arr, lo, side="right") - 1
    if (d < 0).any() or (real & ((k < 0) | (hi > dr.ends_arr[np.maximum(k, 0)]))).any() or len(dr.mem) < m.dim * eb:
        return None
    live = real[mv]
    src = np.where(live, d[mv] - dr.base + src_off, 0)
    data = take_rows(dr.windows(m.dim * eb), src, np.uint8, m.dim * eb)
    if not live.all():  # the zero writer moves in zeros
        data[~live] = 0
    return to_acc, dest, data, infos


def _static_plan(m: Machine, kind: int, which: list[int], rs2: list[int]):
    """What :func:`_plan` needs that does not depend on the DRAM addresses: (into the
    accumulator, bytes per element, move-in of each entry, local rows, DRAM offset of each
    entry from its move-in's address, range of each move-in's DRAM bytes around its address,
    mvin_info entries), or ``_INELIGIBLE``."""
    dim, t = m.dim, m.t
    to_acc = kind == _ACC
    if not (kind == _SPAD and t.input_bytes == 1 or to_acc and t.acc_bytes == 4):
        return _INELIGIBLE
    strides, bstrides = [], []
    for w in which:
        cfg = m.ld[w]
        if cfg["pixel_repeats"] > 1 or (cfg["shrunk"] if to_acc else cfg["scale"] != 1.0):
            return _INELIGIBLE
        strides.append(cfg["stride"])
        bstrides.append(cfg["block_stride"])
    eb = t.acc_bytes if to_acc else 1
    x = np.array(rs2, np.uint64).astype(np.int64)
    local, rows, cols = x & ((1 << 26) - 1), x >> 48, (x >> 32) & 0xFFFF
    max_cols = dim * t.dma_max_acc_mvin_blocks if to_acc else m.max_spad_cols
    if (cols % dim).any() or (cols < 1).any() or (cols > max_cols).any():
        return _INELIGIBLE
    nb = cols // dim
    bst = np.array(bstrides, np.int64)
    limit = m.acc_rows if to_acc else m.spad_rows
    if (rows < 1).any() or (rows > dim).any() or (local + (nb - 1) * bst + rows > limit).any():
        return _INELIGIBLE
    st = np.array(strides, np.int64)
    # one entry per (move-in, row, block): the local row written and its DRAM bytes
    per = rows * nb
    mv = np.repeat(np.arange(len(rs2)), per)
    j = np.arange(len(mv)) - np.repeat(np.cumsum(per) - per, per)
    r, b = j // nb[mv], j % nb[mv]
    dest = local[mv] + r + b * bst[mv]
    ordered = np.sort(dest)
    if (ordered[1:] == ordered[:-1]).any():  # a row written twice: keep exact program order
        return _INELIGIBLE
    src_off = r * st[mv] + b * (dim * eb)
    lo_off = np.minimum(0, (rows - 1) * st)
    hi_off = np.maximum(0, (rows - 1) * st) + cols * eb
    return to_acc, eb, mv, dest, src_off, lo_off, hi_off, [(bs, eb, False, 0, s) for bs, s in zip(bstrides, strides)]
