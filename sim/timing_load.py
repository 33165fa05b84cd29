"""Timing of runs of consecutive move-ins (rules in timing.py's docstring).

One tight loop per run with the simulator's state in local variables (the same
recurrences as a one-at-a-time schedule: issue through the load reservation station,
dispatch after the controller and its DMA-command tracker free up, WAW / WAR against the
execute and store queues per DIM-row block, the DMA transfer, the scratchpad bank's
write window).
"""

from __future__ import annotations

LD, EX, ST = 0, 1, 2


def load_run(sim, lo: int, hi: int, r1: list, r2: list, gl: list) -> None:
    """Schedule the move-ins at indices lo .. hi - 1."""
    t, s = sim.t, sim.s
    dim, nsb = sim.dim, sim.n_spad_blk
    info, misses = sim.m.mvin_info, sim.misses
    lw_ex, lr_ex, lw_st, lr_st, lw_ld = sim.lw[EX], sim.lr[EX], sim.lw[ST], sim.lr[ST], sim.lw[LD]
    rs = sim.rs[LD]
    rs_full = rs.maxlen
    cmds = sim.dma_cmds[LD]
    transfer = sim.dma.transfer
    dma_w = sim.dma_w
    bank_rows, n_banks = sim.spad_bank_rows, sim.n_spad_banks
    scale_lat = t.lat_mvin_scale
    unroll, issue_c = t.lat_loop_unroll_issue, t.host_issue_cycles
    pre = s.pre
    trace, events = sim.trace, sim.events
    busy = sim.busy["load"]
    b_total, b_end = busy.total, busy.end
    unit_free = sim.unit_free[LD]
    host_t, host_busy = sim.host_t, sim.host_busy
    gen_last, loop_start, cur_loop_end = sim.gen_last[LD], sim.loop_start, sim.cur_loop_end
    all_done = sim.all_done
    for i in range(lo, hi):
        x, dram = r2[i], r1[i]
        addr, rows, cols = x & 0xFFFFFFFF, x >> 48, (x >> 32) & 0xFFFF
        bstride, eb, scaled, back, dstride = info[i]
        is_acc = addr >> 31
        row = addr & 0x3FFFFFF
        if cols <= dim and row % dim + rows <= dim and not back:  # one block (the common case)
            writes = ((nsb if is_acc else 0) + row // dim,)
        elif back:  # pixel repeats: rows [row - back, row + rows) of the scratchpad
            writes = range(max(0, row - back) // dim, (row + rows - 1) // dim + 1)
        else:
            writes = sim.blocks(addr, rows, -(-cols // dim), bstride)
        # issue (reservation station entry, then the unroller or the host)
        slot = rs[0] if len(rs) == rs_full else 0.0
        if gl[i]:
            ti = gen_last + unroll
            if loop_start > ti:
                ti = loop_start
            if slot > ti:
                ti = slot
            gen_last = ti
            if cur_loop_end is None or ti > cur_loop_end:
                cur_loop_end = ti
        else:
            p = float(pre[i])
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
        if dram == 0:  # zero writer: no memory traffic, one row per cycle
            free = done = start + rows
        else:
            free, done = transfer(start, rows, cols * eb, False, misses.get(i) if misses else None, dram, dstride)
        if scaled:
            done += scale_lat
        if back:  # the pixel repeater writes each row back + 1 times, one write per cycle
            free = max(free, start + rows * (back + 1))
            done = max(done, free)
        if not is_acc:
            bank = row // bank_rows
            if bank < n_banks:
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
