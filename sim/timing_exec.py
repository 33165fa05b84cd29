"""Timing of runs of fused preload + compute pairs (rules in timing.py's docstring).

This is the simulator's hot loop: operand fields, costs, dependency blocks and banks are
computed for the whole run with numpy, then one tight Python loop applies the
recurrences (issue, reservation station, dispatch, dependencies, bank conflicts,
accumulator write gap) with everything in local variables.
"""

from __future__ import annotations

import numpy as np

from gemforge.backends.gemmini import isa
from gemforge.sim import timing_exec_vec

_ROW = (1 << 26) - 1


class PairTable:
    """Static fields of every fused pair of the stream, computed once with numpy: operand
    blocks, banks, and the cost / completion offset under both execute configurations
    (WS without transposes, or anything else: DIM cycles)."""

    def __init__(self, sim, pre_idx: np.ndarray):
        s, t, dim = sim.s, sim.t, sim.dim
        nsb = sim.n_spad_blk
        self.first = pre_idx
        p1 = s.rs1[pre_idx].astype(np.int64)
        p2 = s.rs2[pre_idx].astype(np.int64)
        c1 = s.rs1[pre_idx + 1].astype(np.int64)
        c2 = s.rs2[pre_idx + 1].astype(np.int64)

        def parts(x):
            addr = x & 0xFFFFFFFF
            garbage = sim.decoder.garbage(addr)
            acc = (addr >> 31) == 1
            row = addr & _ROW
            return garbage, acc, row, x >> 48

        a_g, a_acc, a_row, a_rows = parts(c1)
        b_g, b_acc, b_row, _ = parts(p1)
        c_g, c_acc, c_row, _ = parts(p2)
        d_g, d_acc, d_row, d_rows = parts(c2)
        bank_rows = t.spad_bank_rows
        # ExecuteController: in WS without transposes a matmul feeds total_rows = DIM rows when it
        # reads weights (the preload's rs1), else max(A rows, bias rows (1 if garbage), 4).
        cost_ws = np.where(b_g, np.maximum(np.maximum(a_rows, np.where(d_g, 1, d_rows)),
                                           t.lat_compute_min_cycles), dim)
        share = _bank_sharers(s, pre_idx, (a_g, a_acc, a_row), (d_g, d_acc, d_row), (b_g, b_acc, b_row),
                              bank_rows)
        # Arrays only: most pairs go through timing_exec_vec, so the loop converts its run's
        # slices to lists (converting every pair of the stream once cost more).
        self.cost, self.doff = [], []
        self.cost_f, self.doff_f = [], []  # the same as float arrays (timing_exec_vec)
        for cost in (cost_ws, np.full(len(p1), dim)):  # [0]: WS untransposed, [1]: otherwise
            cost = cost * share
            doff = cost + (t.lat_mesh_drain - dim)  # the matmul's last fed row leaves the mesh then
            self.cost.append(cost)
            self.doff.append(doff)
            self.cost_f.append(cost.astype(float))
            self.doff_f.append(doff.astype(float))
        self.a_blk = np.where(a_acc, nsb, 0) + a_row // dim
        self.b_blk = np.where(b_g, -1, np.where(b_acc, nsb, 0) + b_row // dim)
        self.d_blk = np.where(d_g, -1, np.where(d_acc, nsb, 0) + d_row // dim)
        self.c_blk = np.where(c_g, -1, np.where(c_acc, nsb, 0) + c_row // dim)
        self.a_bank_a = np.where(a_acc | (a_row // bank_rows >= t.spad_banks), -1, a_row // bank_rows)
        self.c_key_a = np.where(~c_g & c_acc, c_row, -1)
        self.c_bank_a = (c_row // t.acc_bank_rows) % t.acc_banks
        self.flip = s.funct[pre_idx + 1] == isa.COMPUTE_PRELOADED
        self.gen = s.gen[pre_idx]


def _bank_sharers(s, pre_idx, a, bias, w, bank_rows: int) -> np.ndarray:
    """Per pair: how many operands read one bank each turn (1, 2 or 3); the cost multiplier.

    The ExecuteController fuses a compute with the *next* preload, so the weights of pair k
    are read alongside the A and bias rows of pair k - 1 (when that compute is the previous
    execute-queue command; otherwise pair k's preload runs alone).  Operands in one
    scratchpad bank, or both in the accumulator, take turns row by row (its must_wait_for
    rule: the lower priority operand waits on an equal counter, the other may not run one
    ahead), so each row costs one cycle per operand sharing the bank.
    """
    n = len(pre_idx)
    ex = np.isin(s.funct, (isa.PRELOAD, isa.COMPUTE_PRELOADED, isa.COMPUTE_ACCUMULATED)) | (
        (s.funct == isa.CONFIG) & ((s.rs1 & 3) == isa.CONFIG_EX))
    cum = np.cumsum(ex)
    prev = np.zeros(n, bool)  # pair k - 1's compute is the execute command just before pair k's preload
    if n > 1:
        prev[1:] = cum[pre_idx[1:] - 1] - cum[pre_idx[:-1] + 1] == 0

    def shifted(op):  # pair k - 1's operand (garbage when there is none)
        g, acc, row = op
        return (np.r_[True, g[:-1]] | ~prev, np.r_[False, acc[:-1]], np.r_[0, row[:-1]])

    ops = [shifted(a), shifted(bias), w]
    share = np.ones(n, np.int64)
    for i, (gi, acci, rowi) in enumerate(ops):
        n_i = np.ones(n, np.int64)
        for j, (gj, accj, rowj) in enumerate(ops):
            if j != i:
                n_i += ~gi & ~gj & ((acci & accj) | (~acci & ~accj & (rowi // bank_rows == rowj // bank_rows)))
        share = np.maximum(share, n_i)
    return share


def exec_run(sim, lo: int, hi: int) -> None:
    """Schedule the pairs at lo, lo + 2, ..., hi - 2 (preload at even offsets)."""
    s, t = sim.s, sim.t
    tab = sim.pairs
    k0 = int(np.searchsorted(tab.first, lo))
    k1 = k0 + (hi - lo) // 2
    mode = 0 if sim.ws and not sim.transposed else 1
    a_blk, b_blk, d_blk, c_blk = (x[k0:k1] for x in (tab.a_blk, tab.b_blk, tab.d_blk, tab.c_blk))
    lw, lr = sim.lw, sim.lr
    # Loads and stores do not change during the run: their dependency times are gathered at once.
    w_other = np.maximum(lw[0], lw[2])  # index -1 (no operand) is the sentinel 0
    r_other = np.maximum(lr[0], lr[2])
    dep = np.maximum.reduce([w_other[a_blk], w_other[b_blk], w_other[d_blk], w_other[c_blk], r_other[c_blk]])
    mesh_done = sim.mesh_done
    tag_back = mesh_lag(sim)
    solved = timing_exec_vec.solve(sim, k0, k1, mode, dep, lo)
    if solved is not None:
        timing_exec_vec.apply(sim, k0, k1, mode, lo, *solved)
        _record(sim, a_blk, b_blk, d_blk, c_blk, solved[2])
        return
    dones = []
    add_done = dones.append
    rs = sim.rs[1]
    rs_need = rs.maxlen - 2
    # A pair takes two reservation-station entries, freed when it completes, so pair k waits for
    # the entry rs_need + 1 back: before the run's own entries reach that far, one of ``rs``.
    lag = (rs_need + 2) // 2
    head = [rs[j] if j >= 0 else 0.0
            for j in (len(rs) + 2 * k - rs_need - 1 for k in range(min(lag, k1 - k0)))]
    dma_w, ex_acc_w, last_c = sim.dma_w, sim.ex_acc_w, sim.last_c
    gap, fill = t.lat_acc_write_gap, t.lat_mesh_fill
    unroll, issue_c = t.lat_loop_unroll_issue, t.host_issue_cycles
    pre = s.pre
    trace = sim.trace
    events = sim.events
    busy = sim.busy["execute"]
    b_total, b_end = busy.total, busy.end
    ex_free = sim.unit_free[1]
    host_t, host_busy = sim.host_t, sim.host_busy
    gen_last = sim.gen_last[1]
    # LoopConv's ex FSM starts only once the ld FSMs have issued all of its loop's loads.
    ld_floor = sim.gen_last[0] if sim.conv_loop else -1e18
    loop_start = sim.loop_start
    cur_loop_end = sim.cur_loop_end
    all_done = sim.all_done
    names = ("compute_accumulated", "compute_preloaded")

    gen, cost, a_bank, c_key, c_bank, doffs, flips = (x[k0:k1].tolist() for x in (
        tab.gen, tab.cost[mode], tab.a_bank_a, tab.c_key_a, tab.c_bank_a, tab.doff[mode], tab.flip))
    for k, (g, cst, dp, abank, ck, cbank, doff, flip) in enumerate(zip(
            gen, cost, dep.tolist(), a_bank, c_key, c_bank, doffs, flips)):
        # issue (two reservation-station entries: the preload and the compute)
        slot = dones[k - lag] if k >= lag else head[k]
        if g:
            ti = gen_last + unroll
            if loop_start > ti:
                ti = loop_start
            if ld_floor > ti:
                ti = ld_floor
            if slot > ti:
                ti = slot
            gen_last = ti + unroll
            if cur_loop_end is None or ti > cur_loop_end:
                cur_loop_end = ti
        else:
            i = lo + 2 * k
            p = float(pre[i])
            ti = host_t + p
            if slot > ti:
                ti = slot
            host_busy += p + 2 * issue_c
            if trace:
                events.append(("host", "issue", ti, ti + 2 * issue_c))
            host_t = ti + 2 * issue_c
        # dispatch: command queue room, unit free, cross-queue dependencies
        start = ti + 1
        if ex_free > start:
            start = ex_free
        if dp > start:
            start = dp
        if len(mesh_done) >= tag_back:  # room in the mesh's tag queue
            tag_free = mesh_done[-tag_back]
            if tag_free > start:
                start = tag_free
        if abank >= 0:
            ws, we = dma_w[abank]
            if ws < start + cst and start < we:  # the DMA's write to this bank wins
                start = we
        if ck >= 0:
            last = last_c[ck] + gap
            if start < last:
                start = last
            last_c[ck] = start
        ex_free = start + cst
        done = start + doff
        add_done(done)
        mesh_done.append(done)
        if ck >= 0:
            ex_acc_w[cbank] = (start + fill, done)
        # busy (union of intervals)
        bs = start if start > b_end else b_end
        if ex_free > bs:
            b_total += ex_free - bs
            b_end = ex_free
        if done > all_done:
            all_done = done
        if trace:
            events.append(("execute", names[flip], start, ex_free))

    for d in dones[-lag - 1:]:  # the entries the station still holds
        rs.append(d)
        rs.append(d)
    _record(sim, a_blk, b_blk, d_blk, c_blk, np.array(dones))
    busy.total, busy.end = b_total, b_end
    sim.unit_free[1] = ex_free
    sim.host_t, sim.host_busy = host_t, host_busy
    sim.gen_last[1] = gen_last
    sim.cur_loop_end = cur_loop_end
    sim.all_done = all_done


def mesh_lag(sim) -> int:
    """How many pairs back the pair whose completion frees a mesh tag for the next one is
    (MeshWithDelays: a tag leaves with the results of matmul id + 2 in WS, id + 3 in OS)."""
    return sim.t.mesh_tags - (1 if sim.ws else 2)


def _record(sim, a_blk, b_blk, d_blk, c_blk, dones: np.ndarray) -> None:
    """The execute queue's reads and writes of a run, for later loads and stores."""
    rex = sim.lr[1]
    np.maximum.at(rex, np.concatenate((a_blk, b_blk, d_blk)), np.tile(dones, 3))  # max: any order
    rex[-1] = 0.0  # keep the sentinel
    live = c_blk >= 0
    sim.lw[1][c_blk[live]] = dones[live]  # in order: the last write wins
