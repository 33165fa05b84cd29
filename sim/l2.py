"""The SoC's shared L2 cache in front of DRAM, as a hit/miss count per DMA transfer.

Gemmini's DMA reads and writes through the SoC's last-level cache (on Chipyard/FireSim
an inclusive L2, 512 KiB by default), so data re-read soon after it was last touched --
the stride-0 bias rows every output pixel re-reads, an input tile reloaded for each
output-channel tile, a weight tile reloaded for the next spatial tile -- comes from the
cache, not from DRAM.  The model: every mvin / mvout (in program order) touches the
``l2_line_bytes`` lines its rows cover; a line hits when fewer than ``l2_bytes /
l2_line_bytes`` line accesses (each line counted once per transfer) happened since its
previous access (LRU measured in accesses; exact for streaming tile patterns, slightly
pessimistic when a few hot lines are re-read in between).  Writes allocate like reads (a
write miss stands for the line's eventual write-back to DRAM).  The result feeds
``dma.py``: a transfer's first requests to each missing line go to DRAM, the rest hit.

All transfers are processed at once with numpy (no per-line Python loop).  The order is
program order, not the timing order of the units; the difference is at most a few
transfers in flight, negligible against the cache's capacity.
"""

from __future__ import annotations

import numpy as np

from gemforge.sim.expand import Stream
from gemforge.sim.functional import Machine
from gemforge.target import Target


def l2_misses(stream: Stream, m: Machine, t: Target) -> dict[int, int] | None:
    """Stream index -> lines of that mvin / mvout that miss the L2 (None: no L2 modelled)."""
    if t.mem_l2_bytes <= 0:
        return None
    if not m.mvin_info and not m.mvout_info:
        return {}
    ins, outs = list(m.mvin_info.values()), list(m.mvout_info.values())
    idx = np.array(list(m.mvin_info) + list(m.mvout_info), np.int64)
    stride = np.array([x[4] for x in ins] + [x[0] for x in outs], np.int64)  # DRAM stride
    eb = np.array([x[1] for x in ins] + [x[1] for x in outs], np.int64)  # bytes per element
    order = np.argsort(idx, kind="stable")  # program order
    idx, stride, eb = idx[order], stride[order], eb[order]
    dram = stream.rs1[idx].astype(np.int64)
    rs2 = stream.rs2[idx]
    rows = (rs2 >> np.uint64(48)).astype(np.int64)
    if m.mvout_pool:  # a pooled mvout writes one row per pooled pixel (porows * pocols)
        at = np.searchsorted(idx, np.fromiter(m.mvout_pool, np.int64))
        rows[at] = [p[2] * p[3] for p in m.mvout_pool.values()]
    nbytes = ((rs2 >> np.uint64(32)) & np.uint64(0xFFFF)).astype(np.int64) * eb
    live = (dram != 0) & (rows > 0)  # DRAM address 0 is the zero writer: no memory traffic
    misses = np.zeros(len(idx), np.int64)
    if live.any():
        misses[live] = _count_misses(dram[live], rows[live], stride[live], nbytes[live], t)
    return dict(zip(idx.tolist(), misses.tolist()))


def _count_misses(dram, rows, stride, nbytes, t: Target) -> np.ndarray:
    line_b = t.mem_l2_line_bytes
    n = len(dram)
    # one entry per (transfer, row)
    if (rows == rows[0]).all():  # the usual case: no ragged repeats needed
        R = int(rows[0])
        tr = np.repeat(np.arange(n), R)
        a = (dram[:, None] + np.arange(R) * stride[:, None]).reshape(-1)
        nb = np.repeat(nbytes, R)
    else:
        tr = np.repeat(np.arange(n), rows)
        first = np.cumsum(rows) - rows
        r = np.arange(len(tr)) - np.repeat(first, rows)
        a = dram[tr] + r * stride[tr]
        nb = nbytes[tr]
    lo = a // line_b
    cnt = (a + nb - 1) // line_b - lo + 1
    # one entry per (transfer, line), each line once per transfer, in program order
    if (cnt == 1).all():
        tr2, line = tr, lo
    else:
        tr2 = np.repeat(tr, cnt)
        first2 = np.cumsum(cnt) - cnt
        line = np.repeat(lo, cnt) + (np.arange(len(tr2)) - np.repeat(first2, cnt))
    # group the accesses by line (stable: program order within a line)
    order = np.argsort(line, kind="stable")
    ls, ts = line[order], tr2[order]
    same_line = ls[1:] == ls[:-1]
    repeat = np.zeros(len(order), bool)  # the line again in the same transfer: no new access
    repeat[1:] = same_line & (ts[1:] == ts[:-1])
    if repeat.any():
        first = np.empty(len(order), bool)
        first[order] = ~repeat
        ds = np.cumsum(first)[order]  # position among distinct (transfer, line) accesses
    else:  # every access is distinct: its position is its index
        ds = order
    hit = repeat
    hit[1:] |= same_line & (ds[1:] - ds[:-1] <= t.mem_l2_bytes // line_b)
    return np.bincount(ts[~hit], minlength=n)
