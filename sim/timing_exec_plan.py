"""The state-independent part of solving an execute run (``timing_exec_vec.solve``).

Everything ``solve`` and ``apply`` derive from a run's static pair fields alone -- its
costs and their prefix sums, which reservation-station entries free each pair's slots,
the pairs the bank and accumulator-gap rules look at, which pairs the mesh's tag rule
ties together, each accumulator row's and bank's last writer -- is computed once per
distinct run (a layer's tiles repeat the same runs tile after tile) and kept in
``sim.exec_plans`` (:func:`gemforge.sim.memo.memo`).
"""

from __future__ import annotations

import numpy as np

from gemforge.sim.memo import memo

_MAX_PLANS = 256


class RunPlan:
    """Static facts of the pairs k0..k1-1 of ``sim.pairs`` under one execute mode."""

    def __init__(self, sim, k0: int, k1: int, mode: int, gen: bool, held: int, back: int):
        tab, n = sim.pairs, k1 - k0
        self.cost = tab.cost_f[mode][k0:k1]
        self.doff = tab.doff_f[mode][k0:k1]
        self.E = np.concatenate(([0.0], np.cumsum(self.cost[:-1])))  # start_k >= start_j + E_k - E_j
        self._slots(sim, n, held)
        if gen:  # generated: one issue per two unroller steps (host issues depend on pre: per run)
            step = np.full(n, 2.0 * sim.t.lat_loop_unroll_issue)
            step[0] = 0.0
            self.S = np.cumsum(step)  # issue_k >= issue_j + S_k - S_j
        bank = tab.a_bank_a[k0:k1]
        self.blive = np.flatnonzero(bank >= 0)  # pairs whose A is in a scratchpad bank
        self.bank = bank[self.blive]
        self.bcost = self.cost[self.blive]
        ck = tab.c_key_a[k0:k1]
        live = np.flatnonzero(ck >= 0)
        self.order = live[np.argsort(ck[live], kind="stable")]  # accumulator C pairs by row, in program order
        keys = ck[self.order]
        self.first = np.r_[True, keys[1:] != keys[:-1]] if len(keys) else np.zeros(0, bool)
        self.first_keys = keys[self.first].tolist()  # the rows, whose previous write start is state
        self.tag_src = np.arange(n) - back  # the pair whose completion frees a mesh tag (< 0: before the run)
        self.tag_run = np.flatnonzero(self.tag_src >= 0)
        self.last_c, self.last_b = _last_writes(ck, tab.c_bank_a[k0:k1])

    def _slots(self, sim, n: int, held: int) -> None:
        """Which entry's completion frees each pair's two reservation-station slots, with
        ``held`` entries in the station when the run starts: ``pre_at`` for pairs
        ``from_pre`` (entries held before), ``run_src`` for pairs ``from_run`` (pairs of
        the run); the others find free slots."""
        need = sim.rs[1].maxlen - 2  # a pair takes two entries
        p_idx = held + 2 * np.arange(n) - (need + 1)
        self.from_pre = (p_idx >= 0) & (p_idx < held)
        self.pre_at = p_idx[self.from_pre]
        self.from_run = p_idx >= held
        self.run_src = (p_idx[self.from_run] - held) // 2


def run_plan(sim, k0: int, k1: int, mode: int, gen: bool, back: int) -> RunPlan:
    """The :class:`RunPlan` of pairs k0..k1-1, from ``sim.exec_plans`` when an equal run
    (the same costs, A banks and C rows, hence the same C banks) was planned before."""
    tab, held = sim.pairs, len(sim.rs[1])
    key = (mode, gen, held, back, k1 - k0, tab.cost_f[mode][k0:k1].tobytes(), tab.a_bank_a[k0:k1].tobytes(),
           tab.c_key_a[k0:k1].tobytes())
    return memo(sim.exec_plans, key, lambda: RunPlan(sim, k0, k1, mode, gen, held, back), _MAX_PLANS)


def _last_writes(ck: np.ndarray, cb: np.ndarray) -> tuple:
    """((accumulator row, last pair writing it), ...) and ((accumulator bank, last pair
    writing it), ...) of a run with C keys ``ck`` (-1: none) and C banks ``cb``."""
    live = np.flatnonzero(ck >= 0)
    if not len(live):
        return (), ()
    uk, back = np.unique(ck[live][::-1], return_index=True)
    rows = tuple(zip(uk.tolist(), live[len(live) - 1 - back].tolist()))
    ub, back = np.unique(cb[live][::-1], return_index=True)
    return rows, tuple(zip(ub.tolist(), live[len(live) - 1 - back].tolist()))
