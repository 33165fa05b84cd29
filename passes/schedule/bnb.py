"""Branch-and-bound search for the cheapest schedule of a layer under the cost model.

The search assigns one loop dim's tile per level (``SEARCH_ORDER``), for all configs
(dataflow x form x buffering x stationary class) at once. Each cost term is a product
of features (``terms.py``); a level multiplies in the features completed by its dim,
and the features still open are bounded by their minima over all candidates, which
gives a lower bound per config for every child of a node in one vectorised step.
A child is expanded only for the configs whose bound beats the incumbent and whose
minimal buffers still fit; children are visited cheapest bound first, so the first
dive finds a good incumbent. The last level evaluates its children exactly. Because
every bound is a true lower bound of the same model that ``cost.estimate`` computes,
the result is optimal under the model (``exhaustive`` checks this on small layers).
"""

from __future__ import annotations

import itertools
from time import perf_counter, process_time

import numpy as np

from gemforge.layers import Layer
from gemforge.passes.schedule.cost import Cost, Model, estimate, with_load_floor
from gemforge.passes.schedule.space import (
    Problem, Schedule, ScheduleError, candidates, configs, make_schedule, problem_of,
)
from gemforge.target import Target

SEARCH_ORDER = {
    "matmul": ("m", "n", "k"),
    "conv": ("g", "b", "oh", "kh", "ow", "kw", "ic", "oc"),
    "depthwise": ("b", "oh", "kh", "ow", "kw", "c"),
}
_REL_EPS = 1e-12  # bounds within this relative distance of the incumbent cannot improve it


def _candidate_lists(problem: Problem, target: Target, force: dict) -> dict[str, list[int]]:
    forced = dict(force.get("tiles", {}))
    unknown = set(forced) - set(problem.names)
    if unknown:
        raise ScheduleError(f"layer {problem.name}: forced tile(s) {sorted(unknown)} are not loops of this "
                            f"{problem.kind} (loops: {', '.join(problem.names)})")
    out = {}
    for d in problem.dims:
        if d.name in forced:
            t = int(forced[d.name])
            if not 1 <= t <= d.size:
                raise ScheduleError(f"layer {problem.name}: forced tile {d.name} = {t} outside 1..{d.size}")
            out[d.name] = [t]
        else:
            out[d.name] = candidates(d, target)
    return out


class _Search:
    """Depth-first branch and bound over tile indices, all configs in parallel."""

    def __init__(self, model: Model, order: tuple[str, ...]):
        self.m, self.order = model, order
        pos = {d: i for i, d in enumerate(order)}
        n_t = len(model.names)
        self.partners: list[tuple[int, ...]] = [() for _ in order]
        done_at: list[list[tuple[str, object, str]]] = [[] for _ in order]
        for ti, name in enumerate(model.names):
            for key, feat in model.specs[name].items():
                dims = key if isinstance(key, tuple) else (key,)
                done_at[max(pos[d] for d in dims)].append((name, key, feat))
        for p, items in enumerate(done_at):
            ps = {pos[d] for _, key, _ in items if isinstance(key, tuple) for d in key} - {p}
            self.partners[p] = tuple(sorted(ps))
        # mult[p]: (*partner candidate counts, own candidates, terms) multipliers of level p.
        self.mult, self.rest_min = [], []
        for p, d in enumerate(order):
            shape = [len(model.cands[order[q]]) for q in self.partners[p]] + [len(model.cands[d]), n_t]
            arr = np.ones(shape)
            for name, key, feat in items_sorted(done_at[p]):
                ti = model.ix[name]
                if isinstance(key, tuple):
                    vals = model.table.pair[key][feat]
                    other = key[0] if key[1] == d else key[1]
                    if key[0] == d:
                        vals = vals.T  # -> (other, own)
                    axes = [1] * (len(shape) - 1)
                    axes[self.partners[p].index(pos[other])] = vals.shape[0]
                    axes[-1] = vals.shape[1]
                    arr[..., ti] *= vals.reshape(axes)
                else:
                    arr[..., ti] *= model.table.single[key][feat]
            self.mult.append(arr)
        for p in range(len(order) + 1):
            rm = np.ones(n_t)
            for q in range(p, len(order)):
                for name, key, feat in done_at[q]:
                    arr = model.table.pair[key][feat] if isinstance(key, tuple) else model.table.single[key][feat]
                    rm[model.ix[name]] *= arr.min()
            self.rest_min.append(rm)
        self.best = np.inf
        self.best_point: tuple[tuple[int, ...], int] | None = None
        self.nodes = self.pruned = self.leaves = 0
        self.chosen = [0] * len(order)

    def run(self) -> None:
        self._dfs(0, np.ones(len(self.m.names)), np.ones(len(self.m.cfgs), dtype=bool))

    def _dfs(self, p: int, prod: np.ndarray, alive: np.ndarray) -> None:
        m = self.m
        mp = self.mult[p][tuple(self.chosen[q] for q in self.partners[p])]
        T = prod[None, :] * mp
        n = T.shape[0]
        self.nodes += n
        last = p == len(self.order) - 1
        L = T if last else T * self.rest_min[p + 1]
        ok = m.feasible(L) & alive[None, :]
        rows = np.flatnonzero(ok.any(axis=1))
        cfg = np.flatnonzero(ok[rows].any(axis=0))
        if rows.size == 0:
            self.pruned += n
            return
        ok = ok[np.ix_(rows, cfg)]
        if last:
            ok &= m.valid(T[rows])[:, cfg]
        tot = np.where(ok, m.totals(L[rows], cfg, bound=not last), np.inf)
        if last:
            self.leaves += rows.size
            flat = int(np.argmin(tot))
            i, c = divmod(flat, tot.shape[1])
            if tot[i, c] < self.best:
                self.best = float(tot[i, c])
                self.chosen[p] = int(rows[i])
                self.best_point = (tuple(self.chosen), int(cfg[c]))
            return
        lb = tot.min(axis=1)
        self.pruned += n - rows.size
        for rank, i in enumerate(np.argsort(lb, kind="stable")):
            if lb[i] >= self.best * (1 - _REL_EPS):
                self.pruned += rows.size - rank
                return
            child_alive = np.zeros(len(m.cfgs), dtype=bool)
            child_alive[cfg] = tot[i] < self.best * (1 - _REL_EPS)
            self.chosen[p] = int(rows[i])
            self._dfs(p + 1, T[rows[i]], child_alive)


def items_sorted(items):
    return sorted(items, key=lambda it: (it[0], str(it[1])))


def _model(layer: Layer, target: Target, dataflows, force, bias, residual):
    problem = problem_of(layer)
    force = dict(force or {})
    cands = _candidate_lists(problem, target, force)
    return problem, Model(problem, target, cands, configs(problem, target, dataflows, force), bias, residual)


def _searched(layer: Layer, target: Target, dataflows, force, bias, residual):
    """(problem, model, search order, the finished branch-and-bound search)."""
    problem, model = _model(layer, target, dataflows, force, bias, residual)
    order = tuple(d for d in SEARCH_ORDER[problem.kind] if d in problem.names)
    search = _Search(model, order)
    search.run()
    return problem, model, order, search


def schedule(layer: Layer, target: Target, *, dataflows=None, force: dict | None = None, bias: bool = True,
             residual: bool = False, load_floor: float = 0.0) -> tuple[Schedule, Cost, dict]:
    """The cheapest schedule of ``layer`` on ``target`` under the cost model.

    ``dataflows``: subset of {'WS', 'OS'} to consider (default: all the target has).
    ``force``: fixes choices: ``tiles`` (dim -> tile), ``dataflow``, ``form``,
    ``double_buffer``, ``stationary`` ('input' | 'weight' | 'output').
    ``bias`` / ``residual``: whether the output tile starts from a bias (int32) or a
    residual (int8) moved into the accumulator.
    ``load_floor``: least cycles of the load stream, from transfers the layer's view does
    not show (the im2col variant's window mvins priced as a matmul): raises the returned
    Cost (``cost.with_load_floor``), not the search.
    Returns (schedule, its Cost, stats: nodes (children bounded or evaluated), leaves
    (complete points evaluated), pruned, configs, seconds (wall), cpu_seconds).
    """
    t0, c0 = perf_counter(), process_time()
    problem, model, order, search = _searched(layer, target, dataflows, force, bias, residual)
    if search.best_point is None:
        raise ScheduleError(f"layer {problem.name}: no tiling fits the scratchpad ({target.spad_rows} rows) and "
                            f"accumulator ({target.acc_rows} rows) of target {target.name} under {force or 'no'} "
                            f"constraints{_culprit(layer, target, dataflows, force, bias, residual)}")
    idx, ci = search.best_point
    tiles = {d: model.cands[d][i] for d, i in zip(order, idx)}
    sched = make_schedule(problem, tiles, model.cfgs[ci])
    cost = with_load_floor(estimate(layer, sched, target, bias=bias, residual=residual), load_floor)
    stats = {"nodes": search.nodes, "leaves": search.leaves, "pruned": search.pruned,
             "configs": len(model.cfgs), "seconds": perf_counter() - t0, "cpu_seconds": process_time() - c0}
    return sched, cost, stats


def _culprit(layer, target, dataflows, force, bias, residual) -> str:
    """Which forced choice makes the search empty: the first whose removal leaves a schedule."""
    for key in ("stationary", "tiles", "double_buffer", "form", "dataflow"):
        if key not in (force or {}):
            continue
        rest = {k: v for k, v in force.items() if k != key}
        try:
            search = _searched(layer, target, dataflows, rest, bias, residual)[3]
        except ScheduleError:
            continue
        if search.best_point is not None:
            why = {"stationary": " (the stationary tensor needs a loop of more than one tile over its dims)",
                   "tiles": ""}.get(key, "")
            return f": it is the forced {key.replace('_', '-')} {force[key]!r} that leaves none{why}"
    return ""


def exhaustive(layer: Layer, target: Target, *, dataflows=None, force: dict | None = None, bias: bool = True,
               residual: bool = False) -> tuple[Schedule, Cost, int]:
    """Reference: evaluate every candidate point and config (small layers only).

    Builds each point's terms feature by feature (``Model.term_row``), independently
    of the search's incremental products. Returns (schedule, cost, points evaluated).
    """
    problem, model = _model(layer, target, dataflows, force, bias, residual)
    names = problem.names
    points = list(itertools.product(*(range(len(model.cands[d])) for d in names)))
    rows = np.array([model.term_row(dict(zip(names, pt))) for pt in points])
    tot = np.where(model.feasible(rows) & model.valid(rows), model.totals(rows), np.inf)
    flat = int(np.argmin(tot))
    pi, ci = divmod(flat, tot.shape[1])
    if not np.isfinite(tot[pi, ci]):
        raise ScheduleError(f"layer {problem.name}: no tiling fits")
    tiles = {d: model.cands[d][i] for d, i in zip(names, points[pi])}
    sched = make_schedule(problem, tiles, model.cfgs[ci])
    return sched, estimate(layer, sched, target, bias=bias, residual=residual), len(points) * len(model.cfgs)
