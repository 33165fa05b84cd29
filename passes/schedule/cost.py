"""Analytical cost model of a schedule on a Gemmini target (cycles), and its lower bound.

Everything comes from the Target (DIM, scratchpad/accumulator rows, DMA bus width,
request size, in-flight requests, memory latency and bandwidth, mvin/mvout widths,
lat_* latencies, host issue and loop costs). The counts (bytes, requests, mvins,
fused preload+computes, steps, ...) are the product terms of ``terms.py``. Model:

* Execute. WS: for every tile, column block j and reduction block k the weights are
  preloaded once and each A-row block i is one fused preload+compute costing
  ``max(rows_i, compute_min_cycles)``, plus ``DIM - max(rows_0, cmin)`` on the first i
  block (the ExecuteController feeds DIM rows whenever the fused preload reads weights,
  whatever their rows). OS: DIM cycles per
  (i, j, k) block. Mesh drain (``lat_mesh_drain``) before the stores of an output tile.
* DMA. Per DRAM row and instruction, requests of at most ``dma_max_request_bytes``,
  each costing max(bus beats, bytes / mem_bytes_per_cycle, (mem_latency + beats) /
  dma_max_inflight) (``terms.DmaRates``); data re-read while still in the SoC's L2
  (broadcast bias rows, partial sums read back) costs L2 latency and bandwidth instead.
  Loads and stores are separate streams that share DRAM bandwidth (``memory`` = DRAM
  bytes / mem_bytes_per_cycle) and the L2 port (``port`` = every byte moved /
  l2_bytes_per_cycle). Transfers whose DRAM rows are narrower than an L2 line and less
  than a line apart chain one L2 latency per row sharing a line, and a controller holds
  ``dma_max_inflight / DIM + 1`` transfers at once (``line_chain.py``): ``load_chain`` /
  ``store_chain`` bound the streams from below. The fine form's int8 mvouts are
  ``dma_max_mvout_blocks`` wide only for an output buffer of DIM rows (``store_terms.py``).
* Traffic. A tensor tile is loaded when its tile index changes (``space.py``): A once
  per col tile unless input-stationary, B once per pix tile unless weight-stationary;
  bias (int32) and residual (int8) into the accumulator once per output tile (loop
  form; the fine form keeps a bias block of DIM broadcast rows per column tile and adds
  it as the D operand of the pairs of an output tile's first reduction block, which costs
  them nothing extra: as many bias rows as A rows, see ``space.py``); partial
  sums spilled (int32 out) and reloaded (int32 in) between visits when the reduction
  is not innermost; the int8 result stored once.
* Issue. Fine form: the host issues every mvin, mvout, preload and compute (OS: one
  preload per (i, j) block) at ``host_issue_cycles`` each, plus
  ``host_loop_overhead_cycles`` per software loop iteration (each tile step and each
  issued mvin/mvout/compute pair). Loop form: per step the host issues the loop's
  config words and the loop (LOOP_WS 6, LOOP_CONV_WS 7 instructions) plus one loop
  iteration; the unroller generates every mvin/mvout/preload/compute at
  ``lat_loop_unroll_issue`` each; the load stream pays one memory latency per step
  (a loop's move-ins start only when the loop unit starts it). The fine form's load
  stream also pays one memory latency per step (the in-order host issues a step's
  prefetches only after the previous step's computes, which wait for their operands).
* Loop chain. A loop's move-outs precede the next loop's move-ins in the command stream
  and the DMA (and the L2 port) serve transfers in that order, so the loads of a loop
  that follows a storing loop wait for its computes and stores: ``chain`` = computes +
  stores + (memory latency + mesh drain) per output tile + the first reduction tile's
  loads of each visit at DRAM / L2-port bandwidth bounds the loop form from below.
* Host stall (fine form). The in-order host waits whenever the reservation station of
  the queue it issues to is full, and meanwhile the execute station holds only
  ``rs_execute`` instructions (half of them pairs). A tile of A or B moved in by more
  mvins than ``rs_load`` blocks the host until all but the last ``rs_load`` of them are
  done: memory latency + their DMA time, less the pairs still queued; an output tile of
  more mvouts than ``rs_store`` blocks it for the mesh drain, a latency and the DMA time
  of the surplus mvouts (their first waits for the tile's last pairs). Per burst:
  ``events * max(0, fixed + (per_event - rs) * DMA cycles per instruction - slack)``.
* Overlap. Double-buffered: ``prologue + busiest + epilogue``, busiest = ``max(load,
  store, memory, compute, issue, ...)`` and, by form: loop: ``compute +
  HOST_EXEC_INTERFERENCE * host issue``; fine: the ``FINE_OVERLAP_NORM``-norm of
  (compute + host stall, busiest DMA stream, host issue), because the host-issued stream
  overlaps its units imperfectly once two of them are nearly as busy as the third.
  Prologue = latency +
  loading the first (full) tile and epilogue = mesh drain + storing one full output tile + latency
  (the busiest includes ``port`` and the loop chain). Single-buffered: every step
  serialises ``latency + its loads + its computes`` and every output-tile visit adds
  ``mesh drain + its stores``; the host issue runs ahead, so the total is
  ``max(serial, issue)``.
Not modelled: scratchpad bank conflicts (the allocator puts A and B in different
banks), reservation-station/queue stalls, halo reuse between neighbouring conv tiles,
DRAM row/alignment effects.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from gemforge.layers import Layer
from gemforge.passes.schedule.space import (
    Config, Problem, Schedule, ScheduleError, candidates, capacity, configs, problem_of,
)
from gemforge.passes.schedule.store_terms import store_terms
from gemforge.passes.schedule.terms import FeatureTable, term_specs
from gemforge.target import Target

# Loop form: the fraction of the host's issue time (config words and loop starts) not
# hidden behind the execute unit. Calibrated against the simulator on the 1x1 layers of
# the resnet50 / mobilenetv2 / bert suites (benchmarks/compare_library.py); the loop
# form's host issue is small, so it matters little.
HOST_EXEC_INTERFERENCE = 0.6
# The fine form's busiest units combine as a p-norm rather than a max (see "Overlap"):
# chosen against the simulator on 96 fine-form schedules of the three suites (two per
# layer; depthwise and the 7x7 stem left out): the p-norm of (compute, DMA, issue) is off
# by 12% on average for p = 3 (p = 2: 20%, 4: 14%, 10: 20%). With the host stall terms,
# the fine schedules the search picks for the 60 layers: 12% (a plain max: 22%).
FINE_OVERLAP_NORM = 3.0

QUANTITIES = ("pro_epi", "load", "store", "memory", "compute", "issue_host", "issue_unroll", "serial", "port",
              "chain", "chain_dram", "chain_port", "load_chain", "store_chain",
              # the fine form's bursts (counts and DMA time of A's and B's mvins and of the
              # result's mvouts, and the events they come in) and its fused pairs: ``host_stall``
              "ldA_n", "ldA_ev", "ldA_t", "ldB_n", "ldB_ev", "ldB_t", "st_n", "st_ev", "st_t", "pairs")
N_CONFIG_INSTRS = 5  # config_ex, three config_ld (A, B, D), config_st: once per layer


@dataclass(frozen=True)
class Cost:
    """Estimated cycles of a schedule and where they go."""

    cycles: float
    compute: float  # execute-unit busy cycles
    dma: float  # busiest DMA stream: max(load, store, memory, L2 port, line chains)
    issue: float  # instruction issue (host or loop unroller)
    load: float
    store: float
    memory: float
    exposed: float  # cycles not hidden behind the busiest stream (pro/epilogue, serialisation)
    dram_bytes: float
    fits: bool

    @property
    def bound(self) -> str:
        return max(("compute", self.compute), ("dma", self.dma), ("issue", self.issue), key=lambda kv: kv[1])[0]

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["bound"] = self.bound
        return d


class Model:
    """Terms, coefficient matrices and capacities of one problem under a list of configs."""

    def __init__(self, problem: Problem, target: Target, cands: dict[str, list[int]], cfgs: list[Config],
                 bias: bool = True, residual: bool = False):
        self.problem, self.target, self.cands, self.cfgs = problem, target, cands, cfgs
        self.table = FeatureTable(problem, target, cands)
        self.specs = term_specs(problem)
        self.names = list(self.specs)
        self.ix = {n: i for i, n in enumerate(self.names)}
        lin, sp = self._coefficients(bias, residual)
        n_t = len(self.names)
        self.w_lin = lin.reshape(-1, n_t).T.copy()  # (terms, configs*quantities)
        self.w_sp = sp.reshape(-1, n_t).T.copy()
        self.bytes_lin, self.bytes_sp = self._bytes_coefficients(bias, residual)
        self.db = np.array([c.double_buffer for c in cfgs])
        caps = [capacity(target, c.double_buffer) for c in cfgs]
        self.cap_spad = np.array([c[0] for c in caps], dtype=float)
        self.cap_acc = np.array([c[1] for c in caps], dtype=float)
        self.loop = np.array([c.form == "loop" for c in cfgs])  # padded (whole-block) buffers
        self.loop_dw = np.array([c.form == "loop" and problem.kind == "depthwise" for c in cfgs])
        self.loop_split_bad = np.array([c.form == "loop" and c.stationary != "red" for c in cfgs])
        # accumulator rows of the resident bias block per column block (fine form with a bias)
        self.bias_rows = np.array([target.dim * (bias and c.form == "fine" and c.dataflow == "WS") for c in cfgs],
                                  dtype=float)
        self.x_col = np.array([self.ix[f"R_{c.stationary}"] for c in cfgs])
        self.x_is_red = np.array([c.stationary == "red" for c in cfgs])

    # ----------------------------------------------------------------- coefficients
    def _coefficients(self, bias: bool, residual: bool) -> tuple[np.ndarray, np.ndarray]:
        t, ix, nq = self.target, self.ix, len(QUANTITIES)
        lin = np.zeros((len(self.cfgs), nq, len(self.names)))
        sp = np.zeros_like(lin)
        L, drain = t.mem_latency_cycles, t.lat_mesh_drain
        words = 6 if self.problem.kind == "matmul" else 7
        for ci, c in enumerate(self.cfgs):
            a = "A_{}" if c.stationary == "col" else "A_{}_R"
            b = "B_{}" if c.stationary == "pix" else "B_{}_R"
            spill = c.stationary != "red"

            def add(q, coefs, spill_coefs=None):
                qi = QUANTITIES.index(q)
                for name, v in coefs.items():
                    lin[ci, qi, ix[name]] += v
                for name, v in (spill_coefs or {}).items():
                    if spill:
                        sp[ci, qi, ix[name]] += v

            # The fine form adds the bias as the D operand from a resident block of DIM broadcast
            # rows per column block (refilled per column tile); the loop form moves it into
            # every output tile.
            d_bias = bias and c.form == "fine" and c.dataflow == "WS"
            # (depthwise: the channel loop is outermost, so once per channel tile)
            zd = "_W" if self.problem.kind == "depthwise" else {"pix": "_W", "col": "_I"}.get(c.stationary, "")
            load = {a.format("cost"): 1, b.format("cost"): 1, "Z_cost": 1.0 * (bias and not d_bias),
                    "Q_cost": 1.0 * residual}
            if d_bias:
                load[f"Zd_cost{zd}"] = t.dim
                if zd != "_W":
                    load["Zd_cost_1"] = t.dim
            load_sp = {"Z_cost": 1}  # partial sums back into the accumulator (int32 rows, like bias)
            out = {q: store_terms(self.specs, q, c.form) for q in ("cost", "mvout", "chain")}
            store, store_sp = dict.fromkeys(out["cost"], 1), {"Cf_cost": 1}
            # DRAM: every byte read or written once; the bias rows every output pixel re-reads and
            # the partial sums read back right after they were written hit the L2 (``port`` below).
            dram = {a.format("elems"): t.input_bytes, b.format("elems"): t.input_bytes,
                    "C_elems": t.input_bytes + residual * t.input_bytes}
            mem = {k: v / t.mem_bytes_per_cycle for k, v in dram.items()}
            mem_sp = {"C_elems": t.acc_bytes / t.mem_bytes_per_cycle}
            # The L2 port: every byte moved, hits and misses, loads and stores.
            port_bw = t.mem_l2_bytes_per_cycle if t.mem_l2_bytes > 0 else float("inf")
            port = {**dram, "C_elems": dram["C_elems"] + (bias and not d_bias) * t.acc_bytes}
            port = {k: v / port_bw for k, v in port.items()}
            port_sp = {"C_elems": 2 * t.acc_bytes / port_bw}
            mvin = {a.format("mvin"): 1, b.format("mvin"): 1, "Z_mvin": 1.0 * ((bias and not d_bias) + residual)}
            if d_bias:
                mvin[f"Zd_mvin{zd}"] = 1
                if zd != "_W":
                    mvin["Zd_mvin_1"] = 1
            mvout = dict.fromkeys(out["mvout"], 1)
            moves_sp = {"Z_mvin": 1, "Cf_mvout": 1}
            if c.dataflow == "WS":
                comp, pair_instrs = {"cmp_main": 1, "cmp_extra": 1}, {"triples": 2}
            else:
                comp, pair_instrs = {"cmp_os": 1}, {"triples": 1, "ij": 1}
            add("pro_epi", {"const": 2 * L + drain, "P_A": 1, "P_B": 1, "P_Z": 1.0 * (bias and not d_bias),
                            "P_Zd": t.dim * d_bias, "P_Q": 1.0 * residual, "E_C": 1})
            add("load", load, load_sp)
            add("store", store, store_sp)
            add("memory", mem, mem_sp)
            add("port", port, port_sp)
            # L2 line chains of narrow rows: each such transfer holds a controller slot for its chain
            add("load_chain", {a.format("chain"): 1, b.format("chain"): 1})
            add("store_chain", dict.fromkeys(out["chain"], 1))
            add("compute", comp)
            if c.form == "fine":
                iss, ovh = t.host_issue_cycles, t.host_loop_overhead_cycles
                host = {"const": iss * N_CONFIG_INSTRS, "steps": ovh, "triples": ovh}
                for group in (mvin, mvout):
                    for k, v in group.items():
                        host[k] = host.get(k, 0) + (iss + ovh) * v
                for k, v in pair_instrs.items():
                    host[k] = host.get(k, 0) + iss * v
                add("issue_host", host, {k: (iss + ovh) * v for k, v in moves_sp.items()})
                add("ldA_n", {a.format("mvin"): 1})
                add("ldA_ev", {a.format("ev"): 1})
                add("ldA_t", {a.format("cost"): 1})
                add("ldB_n", {b.format("mvin"): 1})
                add("ldB_ev", {b.format("ev"): 1})
                add("ldB_t", {b.format("cost"): 1})
                add("st_n", mvout)
                add("st_ev", {"nC": 1})
                add("st_t", dict.fromkeys(out["cost"], 1))
                add("pairs", {"triples": 1} if c.dataflow == "WS" else {"ij": 1})
                # The in-order host issues a step's prefetches only after the previous step's
                # computes, which wait in the execute reservation station for their operands:
                # the load stream drains once per step (one memory latency, as in the loop form).
                add("load", {"steps": L})
            else:
                add("issue_host", {"const": t.host_issue_cycles * N_CONFIG_INSTRS,
                                   "steps": t.host_issue_cycles * words + t.host_loop_overhead_cycles})
                # A loop's move-ins start only when the loop unit starts the loop, so the
                # DMA pipeline refills once per step: one memory latency on the load stream.
                add("load", {"steps": L})
                u = t.lat_loop_unroll_issue
                unroll = {k: u * v for k, v in {**mvin, **mvout}.items()}
                unroll["triples"] = unroll.get("triples", 0) + 2 * u
                add("issue_unroll", unroll, {k: u * v for k, v in moves_sp.items()})
                # A loop's move-outs come before the next loop's move-ins in the command stream and
                # the DMA serves them in that order, so the loads of a loop that follows a storing
                # loop start after that loop's computes and stores: computes, stores and those
                # loads (the first reduction tile of each visit, at DRAM / L2-port bandwidth) chain.
                add("chain", {**comp, **store, "nC": L + drain})
                first = {a.format("elems1"): t.input_bytes, b.format("elems1"): t.input_bytes,
                         "C_elems": (bias * t.acc_bytes + residual * t.input_bytes)}
                add("chain_dram", {k: v / t.mem_bytes_per_cycle for k, v in first.items() if k != "C_elems"}
                    | {"C_elems": residual * t.input_bytes / t.mem_bytes_per_cycle})
                add("chain_port", {k: v / port_bw for k, v in first.items()})
            serial = {"steps": L, "nC": drain}
            for group in (load, store, comp):
                for k, v in group.items():
                    serial[k] = serial.get(k, 0) + v
            add("serial", serial, {**load_sp, **store_sp, "nC": drain})
        return lin, sp

    def _bytes_coefficients(self, bias: bool, residual: bool) -> tuple[np.ndarray, np.ndarray]:
        """DRAM bytes per config (reporting only): (terms, configs) linear and spill parts."""
        mi = QUANTITIES.index("memory")
        n_t = len(self.names)
        lin = self.w_lin.reshape(n_t, len(self.cfgs), len(QUANTITIES))[:, :, mi] * self.target.mem_bytes_per_cycle
        sp = self.w_sp.reshape(n_t, len(self.cfgs), len(QUANTITIES))[:, :, mi] * self.target.mem_bytes_per_cycle
        return lin, sp

    # ----------------------------------------------------------------- evaluation
    def spill_factor(self, T: np.ndarray) -> np.ndarray:
        return np.maximum(T[:, self.ix["R_red"]] - 1.0, 0.0)

    def quantities(self, T: np.ndarray, cfg: np.ndarray | None = None) -> np.ndarray:
        """(N, configs, quantities) for term rows T (N, terms); ``cfg`` selects config indices."""
        w_lin, w_sp, n_c = self.w_lin, self.w_sp, len(self.cfgs)
        if cfg is not None:
            cols = (cfg[:, None] * len(QUANTITIES) + np.arange(len(QUANTITIES))[None, :]).ravel()
            w_lin, w_sp, n_c = w_lin[:, cols], w_sp[:, cols], len(cfg)
        Q = T @ w_lin
        s = self.spill_factor(T)
        if s.any():
            Q += (T @ w_sp) * s[:, None]
        return Q.reshape(T.shape[0], n_c, len(QUANTITIES))

    def host_stall(self, Q: np.ndarray) -> np.ndarray:
        """Execute-unit idle cycles of the fine form while the in-order host waits for room in
        the load or store reservation station (see ``host_stall`` in the module docstring)."""
        t, q = self.target, {n: Q[..., i] for i, n in enumerate(QUANTITIES)}
        with np.errstate(divide="ignore", invalid="ignore"):
            # what the execute station holds when the host blocks: half its entries are pairs
            slack = np.nan_to_num(t.rs_execute / 2 * q["compute"] / q["pairs"])

            def burst(n, ev, busy, rs, fixed):
                per = np.nan_to_num(n / ev)  # instructions per burst
                each = np.nan_to_num(busy / n)  # DMA cycles per instruction
                return np.where(per > rs, ev * np.maximum(0.0, fixed + (per - rs) * each - slack), 0.0)

            L = t.mem_latency_cycles
            return (burst(q["ldA_n"], q["ldA_ev"], q["ldA_t"], t.rs_load, L)
                    + burst(q["ldB_n"], q["ldB_ev"], q["ldB_t"], t.rs_load, L)
                    + burst(q["st_n"], q["st_ev"], q["st_t"], t.rs_store, L + t.lat_mesh_drain + slack))

    def totals(self, T: np.ndarray, cfg: np.ndarray | None = None, bound: bool = False) -> np.ndarray:
        """(N, configs) total cycles (only the configs ``cfg`` if given). ``bound``: ``T`` holds
        per-feature minima (a partial schedule): leave out the fine form's host stall, whose
        burst sizes are ratios of terms and so not bounded by them."""
        Q = self.quantities(T, cfg)
        loop = self.loop if cfg is None else self.loop[cfg]
        stall = 0.0 if bound else self.host_stall(Q)
        dma = np.maximum(np.maximum(Q[..., 1:4].max(-1), Q[..., 8]), np.maximum(Q[..., 12], Q[..., 13]))
        fine = ((Q[..., 4] + stall) ** FINE_OVERLAP_NORM + dma ** FINE_OVERLAP_NORM
                + Q[..., 5] ** FINE_OVERLAP_NORM) ** (1.0 / FINE_OVERLAP_NORM)
        inter = np.where(loop[None, :], Q[..., 4] + HOST_EXEC_INTERFERENCE * Q[..., 5], fine)
        busiest = np.maximum(np.maximum(Q[..., 1:7].max(-1), Q[..., 8]), inter)
        busiest = np.maximum(busiest, Q[..., 9] + np.maximum(Q[..., 10], Q[..., 11]))
        busiest = np.maximum(busiest, np.maximum(Q[..., 12], Q[..., 13]))
        db = Q[..., 0] + busiest
        sb = np.maximum(np.maximum(Q[..., 7], Q[..., 12]), np.maximum(np.maximum(Q[..., 5], Q[..., 6]), Q[..., 13]))
        return np.where((self.db if cfg is None else self.db[cfg])[None, :], db, sb)

    def feasible(self, T: np.ndarray) -> np.ndarray:
        """(N, configs): buffers fit (terms may be lower bounds: then a necessary condition)."""
        ix = self.ix
        loop = self.loop[None, :]
        spad = np.where(loop, (T[:, ix["fpl_A"]] + T[:, ix["fpl_B"]])[:, None],
                        (T[:, ix["fp_A"]] + T[:, ix["fp_B"]])[:, None])
        acc = np.where(loop, T[:, ix["fpl_acc"]][:, None],
                       T[:, ix["fp_acc"]][:, None] + T[:, ix["fp_bias"]][:, None] * self.bias_rows[None, :])
        ok = (spad <= self.cap_spad[None, :]) & (acc <= self.cap_acc[None, :])
        # A loop accumulates a split reduction only across consecutive loops: reduction innermost.
        ok &= ~(self.loop_split_bad[None, :] & (T[:, ix["R_red"]][:, None] > 1))
        return ok & ~(self.loop_dw[None, :] & (T[:, ix["dwblk"]][:, None] > 1))

    def valid(self, T: np.ndarray) -> np.ndarray:
        """(N, configs): the stationary class has a loop of >1 tile (or no class loop does and it is red)."""
        active = T[:, self.x_col] > 1
        none = (T[:, self.ix["R_cls"]] <= 1)[:, None] & self.x_is_red[None, :]
        return active | none

    def term_row(self, idx: dict[str, int]) -> np.ndarray:
        """Term values at one point (candidate index per dim), multiplied feature by feature."""
        tab = self.table
        row = np.ones(len(self.names))
        for i, name in enumerate(self.names):
            v = 1.0
            for key, feat in self.specs[name].items():
                if isinstance(key, tuple):
                    v *= tab.pair[key][feat][idx[key[0]], idx[key[1]]]
                else:
                    v *= tab.single[key][feat][idx[key]]
            row[i] = v
        return row

    def cost_of(self, row: np.ndarray, ci: int) -> Cost:
        T = row[None, :]
        Q = self.quantities(T)[0, ci]
        q = dict(zip(QUANTITIES, Q))
        total = float(self.totals(T)[0, ci])
        dma = max(q["load"], q["store"], q["memory"], q["port"], q["load_chain"], q["store_chain"])
        issue = max(q["issue_host"], q["issue_unroll"])
        nbytes = float((T @ self.bytes_lin[:, ci] + (T @ self.bytes_sp[:, ci]) * self.spill_factor(T))[0])
        return Cost(total, float(q["compute"]), float(dma), float(issue), float(q["load"]), float(q["store"]),
                    float(q["memory"]), float(total - max(q["compute"], dma, issue)), nbytes,
                    bool(self.feasible(T)[0, ci]))


def with_load_floor(cost: Cost, floor: float) -> Cost:
    """``cost`` with a load stream of at least ``floor`` cycles (the busiest stream grows)."""
    if floor <= cost.load:
        return cost
    busiest = cost.cycles - cost.exposed
    return replace(cost, cycles=cost.cycles + max(0.0, floor - busiest), load=floor, dma=max(cost.dma, floor))


@lru_cache(maxsize=4096)
def _point_model(problem: Problem, target: Target, tiles: tuple, config: Config, bias: bool, residual: bool) -> Model:
    return Model(problem, target, {n: [t] for n, t in tiles}, [config], bias, residual)


def estimate(layer: Layer, schedule: Schedule, target: Target, *, bias: bool = True, residual: bool = False) -> Cost:
    """Cycles of ``schedule`` for ``layer`` on ``target`` (``Cost.fits`` says whether it fits)."""
    problem = problem_of(layer)
    check_schedule(problem, schedule)
    model = _point_model(problem, target, schedule.tiles, _effective(problem, schedule), bias, residual)
    return model.cost_of(model.term_row({d.name: 0 for d in problem.dims}), 0)


def _effective(problem: Problem, s: Schedule) -> Config:
    """The schedule's config with the stationary class that its loop nest really keeps innermost.

    The search only produces schedules whose stationary class has a loop of more than
    one tile; for any other schedule the innermost loop with more than one tile decides
    which tensor is reused, so the cost is that of its class.
    """
    c = s.config
    tiles = dict(s.tiles)
    active = [n for n in s.order if problem.dim(n).cls != "all" and -(-problem.dim(n).size // tiles[n]) > 1]
    cls = problem.dim(active[-1]).cls if active else "red"
    return Config(c.dataflow, c.form, c.double_buffer, cls)


def check_schedule(problem: Problem, s: Schedule) -> None:
    names = [n for n, _ in s.tiles]
    if s.kind != problem.kind or names != list(problem.names):
        raise ScheduleError(f"layer {problem.name}: schedule is for a {s.kind} over {names}, "
                            f"the layer is a {problem.kind} over {list(problem.names)}")
    for n, t in s.tiles:
        size = problem.dim(n).size
        if not 1 <= t <= size:
            raise ScheduleError(f"layer {problem.name}: tile {n} = {t} outside 1..{size}")
    if s.form == "loop" and (s.dataflow != "WS" or not s.double_buffer):
        raise ScheduleError(f"layer {problem.name}: the loop form is WS and double-buffered only")


def lower_bound(layer: Layer, partial: dict, target: Target, *, bias: bool = True, residual: bool = False) -> float:
    """A lower bound on ``estimate`` over every completion of a partial schedule.

    ``partial`` may hold ``tiles`` (dim -> tile) and any of ``dataflow``, ``form``,
    ``double_buffer``; unassigned dims range over their candidates and every term is
    bounded below by the product of its features' minima. ``stationary`` is ignored:
    a stationary class without a loop of more than one tile behaves as another class.
    """
    problem = problem_of(layer)
    fixed = dict(partial.get("tiles", {}))
    cands = {d.name: [fixed[d.name]] if d.name in fixed else candidates(d, target) for d in problem.dims}
    force = {k: v for k, v in partial.items() if k in ("dataflow", "form", "double_buffer")}
    model = Model(problem, target, cands, configs(problem, target, None, force), bias, residual)
    row = np.ones(len(model.names))
    for i, name in enumerate(model.names):
        for key, feat in model.specs[name].items():
            arr = model.table.pair[key][feat] if isinstance(key, tuple) else model.table.single[key][feat]
            row[i] *= arr.min()
    return float(model.totals(row[None, :], bound=True).min())
