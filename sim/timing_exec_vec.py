"""The execute-run recurrences of ``timing_exec.exec_run``, solved with numpy.

Without its rare pushes (a DMA write into the A operand's bank, the accumulator write
gap) the schedule of a run of pairs is a max-plus recurrence:

    issue_k = max(issue_{k-1} + 2 * step (+ pre_k on the host), floor_k, slot_k)
    start_k = max(issue_k + 1, start_{k-1} + cost_{k-1}, dep_k, done_{k-m})

with ``slot_k`` the completion of the pair 8 reservation-station entries back and
``done_{k-m}`` the mesh's tag-queue rule (``m = timing_exec.mesh_lag``), which prefix
maxima solve given the slots and tag bounds; both are refined round after round.  Each
round's result is *verified* element by element with exactly the loop's floating-point
operations, against the slots and tag bounds it implies itself, and every push condition
is checked: the first result that holds is the loop's result to the last bit.  If none
does (or the refinement stops changing), :func:`solve` returns None and the caller runs
the exact loop.
"""

from __future__ import annotations

import numpy as np

from gemforge.sim.timing_exec_plan import RunPlan, run_plan

_MAX_ROUNDS = 12
_MIN_PAIRS = 192  # shorter runs are cheaper in the loop than in ~60 numpy calls


def solve(sim, k0: int, k1: int, mode: int, dep: np.ndarray, lo: int):
    """(issue, start, done, the run's :class:`RunPlan`) of pairs k0..k1-1 of ``sim.pairs``
    or None."""
    from gemforge.sim.timing_exec import mesh_lag

    tab, t = sim.pairs, sim.t
    n = k1 - k0
    gen = tab.gen[k0:k1]
    if n < _MIN_PAIRS or sim.trace or not (gen.all() or not gen.any()):
        return None
    plan = run_plan(sim, k0, k1, mode, bool(gen[0]), mesh_lag(sim))
    cost, doff, E, from_run, run_src = plan.cost, plan.doff, plan.E, plan.from_run, plan.run_src
    slot = np.zeros(n)
    slot[plan.from_pre] = np.array(sim.rs[1], float)[plan.pre_at]
    if gen[0]:
        floor = max(sim.loop_start, sim.gen_last[0] if sim.conv_loop else -1e18)
        first = sim.gen_last[1] + t.lat_loop_unroll_issue
        S = plan.S
    else:
        pre = sim.s.pre[lo:lo + 2 * n:2].astype(float)
        floor = -np.inf
        step = 2 * t.host_issue_cycles + pre
        first = sim.host_t + pre[0]
        step[0] = 0.0
        S = np.cumsum(step)  # issue_k >= issue_j + S_k - S_j
    pushes = _Pushes(sim, plan)
    tags = _MeshTags(sim, plan)

    def issue_of(slot):
        return S + np.maximum(first, np.maximum.accumulate(np.maximum(slot, floor) - S))

    bound = dep.astype(float)
    issue = issue_of(slot)
    for _ in range(_MAX_ROUNDS):
        a = np.maximum(issue + 1, bound)
        start = E + np.maximum(sim.unit_free[1], np.maximum.accumulate(a - E))
        done = start + doff
        new_slot = slot.copy()
        new_slot[from_run] = done[run_src]
        # The slots these completions free usually only delay issues, not starts: arrays
        # that satisfy the loop's recurrences with the slots and tag bounds they imply are
        # the loop's result, so the issues are refreshed and checked before another round.
        issue = issue_of(new_slot)
        if _exact(sim, gen[0], issue, start, done, new_slot, floor, cost, doff, np.maximum(dep, tags.free(done)),
                  lo, pushes):
            return issue, start, done, plan
        new_bound = tags.raise_bounds(done, pushes.raise_bounds(start, bound))
        if np.array_equal(new_slot, slot) and new_bound is bound:
            return None  # a fixed point the pushes' exact order contradicts: the loop decides
        slot, bound = new_slot, new_bound
    return None


class _MeshTags:
    """The mesh's tag-queue rule: a pair starts no earlier than the completion of the pair
    ``mesh_lag`` back (from before the run: ``sim.mesh_done``)."""

    def __init__(self, sim, plan: RunPlan):
        prior = np.array(sim.mesh_done, float)
        self.src, self.run = plan.tag_src, plan.tag_run  # src >= 0: a pair of this run
        before = len(prior) + self.src
        self.base = np.full(len(self.src), -np.inf)
        ok = (self.src < 0) & (before >= 0)
        self.base[ok] = prior[before[ok]]

    def free(self, done):
        out = self.base.copy()
        out[self.run] = done[self.src[self.run]]
        return out

    def raise_bounds(self, done, bound):
        """``bound`` raised where the rule would move a start (the same object if none)."""
        f = self.free(done)
        hit = f > bound
        if not hit.any():
            return bound
        return np.maximum(bound, f)


class _Pushes:
    """The two rules that move a pair's start forward: a DMA write window on the A
    operand's scratchpad bank, and the accumulator write gap."""

    def __init__(self, sim, plan: RunPlan):
        self.blive, self.bcost = plan.blive, plan.bcost  # pairs whose A is in a scratchpad bank
        win = np.array(sim.dma_w, float)  # (banks, 2): start, end of the latest DMA write
        self.ws, self.we = win[plan.bank, 0], win[plan.bank, 1]
        self.order = plan.order  # pairs with an accumulator C, grouped by row, in program order
        self.first = plan.first
        last_c = sim.last_c
        self.prev0 = np.array([last_c[c] for c in plan.first_keys], float)
        self.gap = sim.t.lat_acc_write_gap

    def prev_start(self, start):
        """For each pair in ``order``: the previous write start to its accumulator row."""
        ss = start[self.order]
        prev = np.empty(len(ss))
        prev[self.first] = self.prev0
        prev[~self.first] = ss[:-1][~self.first[1:]]
        return prev

    def raise_bounds(self, start, bound):
        """``bound`` raised where a rule would move a start (the same object if none)."""
        out = bound
        s = start[self.blive]
        hit = (self.ws < s + self.bcost) & (s < self.we)
        if hit.any():
            out = out.copy()
            idx = self.blive[hit]
            out[idx] = np.maximum(out[idx], self.we[hit])
        if len(self.order):
            low = self.prev_start(start) + self.gap
            hit = start[self.order] < low
            if hit.any():
                out = out.copy() if out is bound else out
                idx = self.order[hit]
                out[idx] = np.maximum(out[idx], low[hit])
        return out


def _exact(sim, gen, issue, start, done, slot, floor, cost, doff, dep, lo, pushes) -> bool:
    """Do the arrays satisfy the loop's recurrences with its exact float operations?"""
    t = sim.t
    if gen:
        u = t.lat_loop_unroll_issue
        prev = np.concatenate(([sim.gen_last[1]], issue[:-1] + u)) + u
        want = np.maximum(np.maximum(np.maximum(prev, sim.loop_start),
                                     sim.gen_last[0] if sim.conv_loop else -1e18), slot)
    else:
        c2 = 2 * t.host_issue_cycles
        pre = sim.s.pre[lo:lo + 2 * len(issue):2].astype(float)
        host = np.concatenate(([sim.host_t], issue[:-1] + c2))
        want = np.maximum(host + pre, slot)
    if not np.array_equal(issue, want):
        return False
    ex_prev = np.concatenate(([sim.unit_free[1]], start[:-1] + cost[:-1]))
    want = np.maximum(np.maximum(issue + 1, ex_prev), dep)
    # the bank rule, then the gap rule, each applied to the start as the loop has it so far
    b = pushes.blive
    s = want[b]
    hit = (pushes.ws < s + pushes.bcost) & (s < pushes.we)
    want[b[hit]] = pushes.we[hit]
    if len(pushes.order):
        low = pushes.prev_start(start) + pushes.gap
        o = pushes.order
        w = want[o]
        want[o] = np.where(w < low, low, w)
    return bool(np.array_equal(start, want) and np.array_equal(done, start + doff))


def apply(sim, k0: int, k1: int, mode: int, lo: int, issue, start, done, plan: RunPlan) -> None:
    """Commit a solved run to the simulator's state (as the loop would have left it)."""
    tab, t = sim.pairs, sim.t
    n = k1 - k0
    ex_free = start + plan.cost
    for key, j in plan.last_c:
        sim.last_c[key] = float(start[j])
    fill = t.lat_mesh_fill
    for b, j in plan.last_b:
        sim.ex_acc_w[b] = (float(start[j]) + fill, float(done[j]))
    _add_busy(sim.busy["execute"], start, ex_free)
    sim.unit_free[1] = float(ex_free[-1])
    # each pair holds two station entries (preload, compute): the last maxlen / 2 pairs remain
    sim.rs[1].extend(np.repeat(done[-((sim.rs[1].maxlen + 1) // 2):], 2).tolist())
    sim.mesh_done.extend(done[-sim.mesh_done.maxlen:].tolist())
    m = float(done.max())
    if m > sim.all_done:
        sim.all_done = m
    if tab.gen[k0]:
        sim.gen_last[1] = float(issue[-1]) + t.lat_loop_unroll_issue
        top = float(issue.max())
        if sim.cur_loop_end is None or top > sim.cur_loop_end:
            sim.cur_loop_end = top
    else:
        c2 = 2 * t.host_issue_cycles
        hb = sim.host_busy
        for p in sim.s.pre[lo:lo + 2 * n:2].tolist():
            hb += p + c2
        sim.host_busy = hb
        sim.host_t = float(issue[-1]) + c2


def _add_busy(busy, start: np.ndarray, end: np.ndarray) -> None:
    """``busy.add(s, e)`` for each interval in order (``timing.Busy``), bit for bit.

    With every interval non-empty the running end is the prefix maximum of the ends, and
    each interval adds ``e - max(s, end before it)`` when positive; adding 0.0 instead of
    skipping leaves a float sum unchanged, and ``np.add.accumulate`` adds in order, so
    the total is the loop's.  Otherwise the loop runs."""
    b_total, b_end = busy.total, busy.end
    if len(start) and (end > start).all():
        prev = np.maximum.accumulate(np.concatenate(([b_end], end)))
        bs = np.maximum(start, prev[:-1])
        inc = np.where(end > bs, end - bs, 0.0)
        busy.total = float(np.add.accumulate(np.concatenate(([b_total], inc)))[-1])
        busy.end = float(prev[-1])
        return
    for s, e in zip(start.tolist(), end.tolist()):
        busy.add(s, e)

