"""Timing of runs of consecutive move-ins (rules in timing.py's docstring).

Everything about a move-in that does not depend on time -- the DIM-row blocks it writes,
its bank, its DMA plan (``Dma.plan``: requests, beats, L2 misses) -- is computed once for
all move-ins of the stream (:class:`LoadTable`; DMA plans once per distinct shape).  One
tight loop per run then applies the recurrences with the simulator's state in local
variables (the same as a one-at-a-time schedule: issue through the load reservation
station, dispatch after the controller and its DMA-command tracker free up, WAW / WAR
against the execute and store queues per DIM-row block, the DMA transfer, the scratchpad
bank's write window).
"""

from __future__ import annotations

import numpy as np

LD, EX, ST = 0, 1, 2


class LoadTable:
    """Static facts of every move-in of the stream, as lists indexed like ``first``."""

    def __init__(self, sim, idx: np.ndarray):
        s, t, m, dim, nsb = sim.s, sim.t, sim.m, sim.dim, sim.n_spad_blk
        self.first = idx
        il = idx.tolist()
        info = [m.mvin_info[i] for i in il]  # (block stride, bytes/elem, scaled, back, DRAM stride)
        bstride, eb, scaled, back, dstride = ([x[f] for x in info] for f in range(5))
        x = s.rs2[idx].astype(np.int64)
        addr, rows, cols = x & 0xFFFFFFFF, x >> 48, (x >> 32) & 0xFFFF
        is_acc, row = addr >> 31, addr & 0x3FFFFFF
        back_a = np.array(back, np.int64)
        single = (cols <= dim) & (row % dim + rows <= dim) & (back_a == 0)
        blk = (np.where(is_acc == 1, nsb, 0) + row // dim).tolist()
        self.writes = [(b,) for b in blk]  # one block (the common case)
        seen: dict[tuple, tuple] = {}  # the same local operands recur loop after loop
        for k in np.flatnonzero(~single).tolist():
            key = (int(addr[k]), int(rows[k]), int(cols[k]), back[k], bstride[k])
            w = seen.get(key)
            if w is None:
                a, r, c, b, bs = key
                if b:  # pixel repeats: rows [row - back, row + rows) of the scratchpad
                    rr = a & 0x3FFFFFF
                    w = tuple(range(max(0, rr - b) // dim, (rr + r - 1) // dim + 1))
                else:
                    w = tuple(sim.blocks(a, r, -(-c // dim), bs))
                seen[key] = w
            self.writes[k] = w
        bank = row // sim.spad_bank_rows
        self.bank = np.where((is_acc == 0) & (bank < sim.n_spad_banks), bank, -1).tolist()
        self.rows, self.scaled, self.back = rows.tolist(), scaled, back
        self.gen = s.gen[idx].tolist()
        self.pre = s.pre[idx].astype(float).tolist()
        self.plan = self._plans(sim, s.rs1[idx].astype(np.int64), rows, cols * np.array(eb, np.int64),
                                np.array(dstride, np.int64), il)

    @staticmethod
    def _plans(sim, dram, rows, nbytes, dstride, il) -> list:
        """DMA plan per move-in (None for the zero writer), one ``Dma.plan`` call per
        distinct (rows, bytes, misses, address and stride modulo the request size, stride below
        a line), with the L2 lines each move-in touches appended."""
        misses = sim.misses
        miss = np.array([misses.get(i, -1) for i in il] if misses else [-1] * len(il), np.int64)
        mreq = sim.dma.max_req
        if not len(il):
            return []
        line = sim.dma.line
        fields = [rows, nbytes, miss + 1, dram % mreq, dstride % mreq, (dram == 0).astype(np.int64),
                  np.where((dstride >= 0) & (dstride < line), dstride, line)]
        key, radix = np.zeros(len(il), np.int64), 1
        for x in fields:  # one int64 key (mixed radix) when it fits, else rows of the fields
            top = int(x.max()) + 1
            radix *= top
            key = key * top + x
        if radix >= 1 << 62 or min(int(x.min()) for x in fields) < 0:
            key = np.stack(fields).T
        _, first, inv = np.unique(key, axis=0 if key.ndim == 2 else None, return_index=True, return_inverse=True)
        plans = []
        for k in first.tolist():
            if dram[k] == 0:
                plans.append(None)
            else:
                i = il[k]
                plans.append(sim.dma.plan(int(rows[k]), int(nbytes[k]), misses.get(i) if misses else None,
                                          int(dram[k]), int(dstride[k])))
        first = (dram // line).tolist()  # the L2 lines each move-in touches (not shared by a plan)
        last = ((dram + (rows - 1) * dstride + nbytes - 1) // line).tolist()
        return [None if plans[u] is None else plans[u] + (f, la)
                for u, f, la in zip(inv.reshape(-1).tolist(), first, last)]


def load_run(sim, lo: int, hi: int) -> None:
    """Schedule the move-ins at indices lo .. hi - 1."""
    t = sim.t
    tab = sim.loads
    k0 = int(np.searchsorted(tab.first, lo))
    k1 = k0 + (hi - lo)
    lw_ex, lr_ex, lw_st, lr_st, lw_ld = sim.lw[EX], sim.lr[EX], sim.lw[ST], sim.lr[ST], sim.lw[LD]
    rs = sim.rs[LD]
    rs_full = rs.maxlen
    cmds = sim.dma_cmds[LD]
    run_plan = sim.dma.run_plan
    dma_w = sim.dma_w
    scale_lat = t.lat_mvin_scale
    unroll, issue_c = t.lat_loop_unroll_issue, t.host_issue_cycles
    trace, events = sim.trace, sim.events
    busy = sim.busy["load"]
    b_total, b_end = busy.total, busy.end
    unit_free = sim.unit_free[LD]
    host_t, host_busy = sim.host_t, sim.host_busy
    gen_last, loop_start, cur_loop_end = sim.gen_last[LD], sim.loop_start, sim.cur_loop_end
    all_done = sim.all_done
    for writes, g, p, plan, rows, scaled, back, bank in zip(
            tab.writes[k0:k1], tab.gen[k0:k1], tab.pre[k0:k1], tab.plan[k0:k1], tab.rows[k0:k1],
            tab.scaled[k0:k1], tab.back[k0:k1], tab.bank[k0:k1]):
        # issue (reservation station entry, then the unroller or the host)
        slot = rs[0] if len(rs) == rs_full else 0.0
        if g:
            ti = gen_last + unroll
            if loop_start > ti:
                ti = loop_start
            if slot > ti:
                ti = slot
            gen_last = ti
            if cur_loop_end is None or ti > cur_loop_end:
                cur_loop_end = ti
        else:
            ti = host_t + p
            if slot > ti:
                ti = slot
            host_busy += p + issue_c
            if trace:
                events.append(("host", "issue", ti, ti + issue_c))
            host_t = ti + issue_c
        # dispatch
        start = ti + 1
        if unit_free > start:
            start = unit_free
        if cmds[0] > start:
            start = cmds[0]
        for b in writes:  # WAW / WAR against the execute and store queues
            d = lw_ex[b]
            if d > start:
                start = d
            d = lr_ex[b]
            if d > start:
                start = d
            d = lw_st[b]
            if d > start:
                start = d
            d = lr_st[b]
            if d > start:
                start = d
        start = float(start)
        if plan is None:  # zero writer: no memory traffic, one row per cycle
            free = done = start + rows
        else:
            free, done = run_plan(start, plan, False)
        if scaled:
            done += scale_lat
        if back:  # the pixel repeater writes each row back + 1 times, one write per cycle
            free = max(free, start + rows * (back + 1))
            done = max(done, free)
        if bank >= 0:
            dma_w[bank] = (done - rows, done)
        unit_free = free
        cmds.append(done)
        bs = start if start > b_end else b_end
        if done > bs:
            b_total += done - bs
            b_end = done
        for b in writes:
            lw_ld[b] = done
        rs.append(done)
        if done > all_done:
            all_done = done
        if trace:
            events.append(("load", "mvin", start, done))
    busy.total, busy.end = b_total, b_end
    sim.unit_free[LD] = unit_free
    sim.host_t, sim.host_busy = host_t, host_busy
    sim.gen_last[LD], sim.cur_loop_end = gen_last, cur_loop_end
    sim.all_done = all_done
