"""Whole regions of compute pairs and the move-ins between them, executed at once.

A *region* is a stretch of the stream that holds only batchable WS (preload, compute)
pairs (``interpret.PairInfo.batchable``), *plain* move-ins and no-ops (loop config words,
flush, counter).  A plain move-in is int8 into the scratchpad, unscaled, without pixel
repeats, from real DRAM inside one tensor, 1..DIM rows of whole DIM-column blocks that do
not overlap each other: it overwrites whole scratchpad rows.  A tiled GEMM is one long
region (double-buffered operands are reloaded between its compute runs), so executing it
per tile costs dozens of small numpy calls per tile; here the whole region takes a fixed
number of calls:

1. every scratchpad row a move-in writes is a *version* (row, stream index, DRAM bytes);
2. every row a pair reads (A at its compute, B at its preload) is resolved to the last
   version of that row written before the read -- a sort of the versions by (row, time)
   and one binary search -- or to the scratchpad as it was before the region;
3. ``exec_ops.run_batch`` multiplies and accumulates with those operands;
4. the last version of each row is written to the scratchpad.

That is exactly program order.  Anything unusual (a move-in that is not plain, a pair
that is not batchable, a read of a never-written row, out-of-range operands) ends the
region before it or leaves the whole region to the per-tile path (``interpret``), which
reports errors exactly; nothing is changed until the region is known to be executable.
"""

from __future__ import annotations

import numpy as np

from gemforge.backends.gemmini import isa
from gemforge.sim import exec_ops
from gemforge.sim.functional import Machine
from gemforge.sim.memory import row_view, take_rows

MAX_REGION_PAIRS = 4096  # bounds the gathered operands (n x DIM x DIM floats)
_MVIN_WHICH = np.full(isa.MVIN3 + 1, -1, np.int64)
for _f, _w in ((isa.MVIN, 0), (isa.MVIN2, 1), (isa.MVIN3, 2)):
    _MVIN_WHICH[_f] = _w


class Regions:
    """Static facts about the stream for finding regions, computed once per stream."""

    def __init__(self, m: Machine, stream, pair_first: np.ndarray, noop: set[int]):
        f = stream.funct
        n = len(f)
        self.n = n
        is_mvin = (f == isa.MVIN) | (f == isa.MVIN2) | (f == isa.MVIN3)
        inside = is_mvin | np.isin(f, [x for x in noop if x != isa.FENCE])
        inside[pair_first] = True
        inside[pair_first + 1] = True
        self.stops = np.flatnonzero(~inside)  # instructions a region cannot contain
        self.pair_first = pair_first
        self.mv_idx = np.flatnonzero(is_mvin)
        rs2 = stream.rs2[self.mv_idx].astype(np.int64)
        self.mv_which = _MVIN_WHICH[f[self.mv_idx]]
        self.mv_addr = rs2 & 0xFFFFFFFF
        self.mv_rows = rs2 >> 48
        self.mv_cols = (rs2 >> 32) & 0xFFFF
        self.mv_dram = stream.rs1[self.mv_idx].astype(np.int64)  # uint64 >= 2**63 turns negative: not plain


def run_region(m: Machine, reg: Regions, info, stream, i: int) -> int | None:
    """Execute the region starting at the pair at ``i``; returns the index after it, or
    None (nothing done) when the per-tile path must run it."""
    if not info.batchable(m, i, i + 2):  # the execute config, and the first pair's operands
        return None
    hi = reg.n
    s = np.searchsorted(reg.stops, i)
    if s < len(reg.stops):
        hi = int(reg.stops[s])
    k0 = int(np.searchsorted(reg.pair_first, i))
    if k0 + MAX_REGION_PAIRS < len(reg.pair_first):
        hi = min(hi, int(reg.pair_first[k0 + MAX_REGION_PAIRS]))
    k1 = int(np.searchsorted(reg.pair_first, hi))
    bad = np.flatnonzero(~info.static_ok[k0:k1])
    if len(bad):
        if bad[0] == 0:
            return None
        k1 = k0 + int(bad[0])
        hi = int(reg.pair_first[k1])
    v0, v1 = np.searchsorted(reg.mv_idx, [i, hi]).tolist()
    plain = _plain_mvins(m, reg, v0, v1)
    if not plain.all():
        cut = v0 + int(np.argmin(plain))
        hi = int(reg.mv_idx[cut])
        v1 = cut
        k1 = int(np.searchsorted(reg.pair_first, hi))
    if k1 == k0:
        return None
    first = reg.pair_first[k0:k1]
    s_rs1, s_rs2 = stream.rs1, stream.rs2
    versions = _Versions(m, reg, v0, v1, reg.n + 1) if v1 > v0 else None
    if not exec_ops.batch(m, first, s_rs1[first], s_rs2[first], stream.funct[first + 1], s_rs1[first + 1],
                          s_rs2[first + 1], versions):
        return None
    if versions is not None:
        versions.commit(m, reg, v0, v1)
    return hi


def _plain_mvins(m: Machine, reg: Regions, v0: int, v1: int) -> np.ndarray:
    """Which move-ins v0..v1-1 (positions in ``reg.mv_idx``) are plain (module docstring)."""
    dim = m.dim
    which = reg.mv_which[v0:v1]
    if m.t.input_bytes != 1:
        return np.zeros(len(which), bool)
    cfg = [m.ld[w] for w in range(3)]
    ok_cfg = np.array([c["scale"] == 1.0 and c["pixel_repeats"] <= 1 for c in cfg])
    stride = np.array([c["stride"] for c in cfg], np.int64)[which]
    bstride = np.array([c["block_stride"] for c in cfg], np.int64)[which]
    addr, rows, cols, dram = (x[v0:v1] for x in (reg.mv_addr, reg.mv_rows, reg.mv_cols, reg.mv_dram))
    nb = cols // dim
    ok = (ok_cfg[which] & ((addr >> 26) == 0) & (dram > 0) & (rows >= 1) & (rows <= dim) & (cols % dim == 0)
          & (cols >= dim) & (cols <= m.max_spad_cols) & (addr + (nb - 1) * bstride + rows <= m.spad_rows)
          & ((nb == 1) | (bstride >= rows)))
    lo = dram + np.minimum(0, (rows - 1) * stride)
    hi = dram + np.maximum(0, (rows - 1) * stride) + cols
    dr = m.dram
    k = np.searchsorted(dr.starts_arr, lo, side="right") - 1
    return ok & (k >= 0) & (hi <= dr.ends_arr[np.maximum(k, 0)])


class _Versions:
    """The scratchpad rows written by the region's move-ins, sorted by (row, time), and
    the scratchpad before the region: ``data`` / ``ok`` are both stacked (versions
    after the ``spad_rows`` original rows) so one index array reads either."""

    def __init__(self, m: Machine, reg: Regions, v0: int, v1: int, span: int):
        dim = m.dim
        which = reg.mv_which[v0:v1]
        stride = np.array([m.ld[w]["stride"] for w in range(3)], np.int64)[which]
        bstride = np.array([m.ld[w]["block_stride"] for w in range(3)], np.int64)[which]
        rows, nb = reg.mv_rows[v0:v1], reg.mv_cols[v0:v1] // dim
        # one entry per (move-in, block, row)
        per = rows * nb
        mv = np.repeat(np.arange(v1 - v0), per)
        j = np.arange(len(mv)) - np.repeat(np.cumsum(per) - per, per)
        blk, r = j // rows[mv], j % rows[mv]
        row = reg.mv_addr[v0:v1][mv] + blk * bstride[mv] + r
        src = reg.mv_dram[v0:v1][mv] - m.dram.base + r * stride[mv] + blk * dim
        key = row * span + reg.mv_idx[v0:v1][mv]
        order = np.argsort(key, kind="stable")
        self.key, self.row = key[order], row[order]
        self.span, self.base = span, m.spad_rows
        new = take_rows(m.dram.windows(dim), src[order], np.int8, dim)
        self.data = np.concatenate([m.spad, new])
        self.data_v = row_view(self.data)
        self.ok = np.concatenate([m.spad_ok, np.ones(len(order), bool)])

    def map(self, rows: np.ndarray, times) -> np.ndarray:
        """Indices into ``data`` of scratchpad ``rows`` as read at stream index ``times``."""
        pos = np.searchsorted(self.key, rows * self.span + times) - 1
        pc = np.maximum(pos, 0)
        return np.where((pos >= 0) & (self.row[pc] == rows), self.base + pc, rows)

    def commit(self, m: Machine, reg: Regions, v0: int, v1: int) -> None:
        """Write each row's last version to the scratchpad; record the move-ins for timing."""
        last = np.r_[self.row[1:] != self.row[:-1], True]
        rows = self.row[last]
        m.spad_v[rows] = self.data_v[self.base:][last]
        m.spad_ok[rows] = True
        infos = [(m.ld[w]["block_stride"], 1, False, 0, m.ld[w]["stride"]) for w in range(3)]
        m.mvin_info.update(zip(reg.mv_idx[v0:v1].tolist(), [infos[w] for w in reg.mv_which[v0:v1].tolist()]))
