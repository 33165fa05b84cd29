"""The timing model: a one-pass, event-driven schedule of the flat stream.

Every instruction gets an issue, a start and a completion time, computed in program
order from earlier instructions only (each unit and each DIM-row block keeps "free at" /
"last touched at" times instead of simulating cycles; there is no per-cycle loop):

* **issue**: the host issues RoCC instructions in order, one per ``host_issue_cycles``
  (plus ``pre[i]``, the software-loop overhead); loop_ws / loop_conv_ws unrollers issue
  their generated instructions one per ``lat_loop_unroll_issue`` per queue, independently
  of the host, once their start command is issued; at most two loops are in flight.  A
  loop_conv_ws's stores issue only after its last execute instruction (LoopConvSt starts
  once LoopConvExecute is idle), as its execute instructions only after its last load.  An
  instruction waits for a free reservation-station entry of its queue (``rs_*``; an
  entry frees when its instruction completes; a blocked host stalls).
* **dispatch / start**: the cycle after issue at the earliest, in order per queue, when
  the unit is free and every earlier instruction *of another queue* that touches the same
  local rows has completed (read-after-write, write-after-read, write-after-write, at
  DIM-row granularity; the garbage address never conflicts).  A load (store) also waits
  until fewer than ``dma_max_inflight // DIM + 1`` earlier loads (stores) are still
  moving data: the LoadController's / StoreController's DMACommandTracker holds that
  many commands (``nCmds``).  Stores do not wait for earlier stores to complete: that is
  the reservation station of the Gemmini the FireSim measurements ran (gemmini-dosa
  67ca2f9, upstream a916bfb of 2023-03 plus configs); Gemmini since 5a10e96 (2024-03)
  holds each mvout until the one before has completed.  Load/store configs complete at
  issue; ``config_ex`` occupies the execute unit ``lat_config`` cycles.
* **controller command queues** (``queue_load/execute/store``) are deliberately not
  modelled, because with these rules they can never be the binding limit: a command
  enters its controller's queue when the reservation station dispatches it, and leaves
  when the controller starts it; the controllers start commands in order, each
  occupying its controller at least one cycle, so command k can only wait for queue room
  if command k - depth has not started -- yet command k cannot start before command k - 1,
  hence not before command k - depth has started plus depth - 1 cycles.  Room in the
  queue is therefore always available by the time command k could start, and the
  reservation station (entries free at completion, ``rs_*``, which is >= the queue depth in
  every target here, and the ExecuteController's 3-deep look-ahead only fuses
  preload+compute, which the execute model already does) is the limit that binds.
* **complete**: mvin: the DMA (``dma.py``: requests split as the hardware splits them,
  L2 hits and misses from ``l2.py``) plus ``lat_mvin_scale`` when scaling into the
  scratchpad; with pixel repeats (``config_ld`` pixel_repeats = P) the repeater writes
  each row P times, one write per cycle; mvout: ``lat_spad_read`` or ``lat_acc_read``
  (+ ``lat_acc_scale`` unless read_full) then the DMA; preload+compute (fused): occupies
  the execute unit for the ExecuteController's ``total_rows``: in WS without transposes
  DIM when the preload reads weights, else ``max(a_rows, bias rows (1 if garbage),
  lat_compute_min_cycles)``; DIM in any other mode.  The controller fuses each compute
  with the *next* preload, so pair k's weights are read beside pair k - 1's A and bias
  rows (pair k - 1's compute must be the execute command just before; else the preload
  runs alone); operands in one scratchpad bank (or all in the accumulator) take turns row
  by row, so the cost is multiplied by how many share a bank (must_wait_for: 2 or 3);
  writes to one accumulator row are ``lat_acc_write_gap`` apart; the results of the last
  fed row commit ``lat_mesh_drain - DIM`` cycles after the feed ends (the first after
  ``lat_mesh_fill``).  The mesh tracks at most
  ``mesh_tags`` matmuls (MeshWithDelays' tag queue; a request fires only with room in it),
  and a request's tag -- the C address of the preload fused into it -- names the results
  of the *next* request in WS (matmul id + 2), of the one after in OS (id + 3), and leaves
  when their last row does: so pair k starts no earlier than the completion of pair
  k - (mesh_tags - 1) in WS, k - (mesh_tags - 2) in OS (lone preloads / computes are not
  counted).  A DMA write to a scratchpad bank
  delays an execute read of that bank (DMA wins); the execute unit's accumulator writes
  delay a store's reads of that bank.
* **fence** / host kernel: the host waits until everything issued has completed, then
  ``host_fence_cycles`` (fence) or the kernel's cost (``sim/host.py``: per element, per MAC
  and, for the vendor library's run-time tile search, per candidate tile).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from gemforge.backends.gemmini import isa
from gemforge.sim.dma import Dma
from gemforge.sim.expand import HOST, Stream
from gemforge.sim.functional import Machine
from gemforge.sim.l2 import l2_misses
from gemforge.sim.timing_exec import PairTable, exec_run
from gemforge.sim.timing_load import LoadTable, load_run
from gemforge.target import Target

LD, EX, ST = 0, 1, 2
UNITS = ("host", "load", "execute", "store", "dma")
_QUEUE_OF = {isa.MVIN: LD, isa.MVIN2: LD, isa.MVIN3: LD, isa.MVOUT: ST, isa.PRELOAD: EX,
             isa.COMPUTE_PRELOADED: EX, isa.COMPUTE_ACCUMULATED: EX}
_LOOP_START = (isa.LOOP_WS, isa.LOOP_CONV_WS)


class Busy:
    """Union length of [start, end) intervals that arrive roughly in start order."""

    __slots__ = ("total", "end")

    def __init__(self):
        self.total, self.end = 0.0, 0.0

    def add(self, s: float, e: float) -> None:
        s = max(s, self.end)
        if e > s:
            self.total += e - s
            self.end = e


class Timing:
    """Times of one run: ``cycles`` total, ``busy`` per unit, DMA bytes, trace events."""

    def __init__(self):
        self.cycles = 0
        self.busy: dict[str, float] = {}
        self.dma_bytes_read = 0
        self.dma_bytes_written = 0
        self.events: list[tuple[str, str, float, float]] = []


def simulate(stream: Stream, m: Machine, t: Target, host_costs: list[tuple[int, int, int]], trace: bool) -> Timing:
    return _Sim(stream, m, t, host_costs, trace).run()


class _Sim:
    def __init__(self, stream, m, t, host_costs, trace):
        self.s, self.m, self.t, self.trace = stream, m, t, trace
        self.host_costs = host_costs
        self.dma = Dma(t)
        self.misses = l2_misses(stream, m, t)  # stream index -> DMA requests that miss the L2
        # Load / store controllers track at most max_inflight / DIM + 1 DMA commands at once
        # (LoadController / StoreController nCmds): completion times of the latest ones.
        ncmds = t.dma_max_inflight // t.dim + 1
        self.dma_cmds = [deque([-1.0] * ncmds, maxlen=ncmds) for _ in range(3)]
        dim = t.dim
        self.dim = dim
        self.n_spad_blk = -(-t.spad_rows // dim)
        nb = self.n_spad_blk + -(-t.acc_rows // dim) + 1
        # Per queue and DIM-row block: completion of the last write / latest read.  The last
        # column is a sentinel that index -1 ("no operand") reads as 0.
        self.lw = np.zeros((3, nb + 1))
        self.lr = np.zeros((3, nb + 1))
        self.rs = [deque(maxlen=c) for c in (t.rs_load, t.rs_execute, t.rs_store)]
        self.unit_free = [0.0, 0.0, 0.0]
        self.busy = {u: Busy() for u in UNITS}
        self.host_t = 0.0
        self.host_busy = 0.0
        self.all_done = 0.0
        self.gen_last = [-1e18, -1e18, -1e18]
        self.conv_loop = False  # the current loop is a LOOP_CONV_WS (coarse load / execute interlock)
        self.loop_start = 0.0
        self.loop_ends: list[float] = []  # last generated issue of each started loop
        self.cur_loop_end = None
        self.dma_w = [(0.0, 0.0)] * t.spad_banks  # latest DMA write window per scratchpad bank
        self.ex_acc_w = [(0.0, 0.0)] * t.acc_banks  # latest execute write window per accumulator bank
        self.last_c = [-1e18] * t.acc_rows  # last execute write start per accumulator row
        # Completions of the latest fused pairs: the mesh holds at most mesh_tags matmul tags.
        self.mesh_done: deque = deque(maxlen=t.mesh_tags - 1)
        self.events: list[tuple[str, str, float, float]] = []
        self.decoder = m.local
        self.ws, self.transposed = True, False  # execute config as the timing pass sees it
        self.spad_bank_rows, self.n_spad_banks = t.spad_bank_rows, t.spad_banks
        self.mvout_static: dict[int, tuple] = {}  # rs2 -> _mvout_decode(rs2)
        self.pooled_static: dict[tuple, tuple] = {}  # (rs2, pool) -> _pooled_decode(rs2, pool)
        self.mvout_plans: dict[tuple, tuple] = {}  # DMA plans of move-outs by what they depend on
        self.exec_plans: dict = {}  # timing_exec_plan.RunPlan, by distinct execute run

    # ---------------------------------------------------------------- helpers
    def blocks(self, addr: int, rows: int, nblocks: int = 1, bstride: int = 0) -> list[int]:
        """Dependency blocks touched by ``rows`` rows at local ``addr`` (+ spilled blocks)."""
        loc = self.decoder(addr)
        if loc.garbage:
            return []
        dim, off = self.dim, (self.n_spad_blk if loc.is_acc else 0)
        out = []
        for b in range(nblocks):
            first = loc.row + b * bstride
            out.extend(range(off + first // dim, off + (first + max(rows, 1) - 1) // dim + 1))
        return out

    def deps(self, q: int, reads: list[int], writes: list[int]) -> float:
        lw, lr = self.lw, self.lr
        ready = 0.0
        for o in (0, 1, 2):
            if o == q:
                continue
            wo, ro = lw[o], lr[o]
            for b in reads:
                if wo[b] > ready:
                    ready = wo[b]
            for b in writes:
                if wo[b] > ready:
                    ready = wo[b]
                if ro[b] > ready:
                    ready = ro[b]
        return ready

    def record(self, q: int, reads: list[int], writes: list[int], done: float) -> None:
        rq, wq = self.lr[q], self.lw[q]
        for b in reads:
            if rq[b] < done:
                rq[b] = done
        for b in writes:
            wq[b] = done

    def issue(self, i: int, q: int | None, gen: bool, entries: int = 1) -> float:
        """Issue time of instruction i (and the RS wait); updates the issuer's clock."""
        slot = 0.0
        if q is not None:
            dq = self.rs[q]
            need = dq.maxlen - entries
            if len(dq) > need:
                slot = dq[len(dq) - need - 1]
        if gen:
            ti = max(self.gen_last[q] + self.t.lat_loop_unroll_issue, self.loop_start, slot)
            if q == ST and self.conv_loop:  # LoopConvSt starts once the ex FSM has issued its last command
                ti = max(ti, self.gen_last[EX] + self.t.lat_loop_unroll_issue)
            self.gen_last[q] = ti + (entries - 1) * self.t.lat_loop_unroll_issue
            if self.cur_loop_end is None or ti > self.cur_loop_end:
                self.cur_loop_end = ti
            return ti
        pre = float(self.s.pre[i])
        ti = max(self.host_t + pre, slot)
        cost = entries * self.t.host_issue_cycles
        self.host_busy += pre + cost
        if self.trace:
            self.events.append(("host", "issue", ti, ti + cost))
        self.host_t = ti + cost
        return ti

    def finish(self, q: int, start: float, done: float, entries: int = 1) -> None:
        for _ in range(entries):
            self.rs[q].append(done)
        if done > self.all_done:
            self.all_done = done

    def dispatch_floor(self, q: int, issue: float) -> float:
        uf = self.unit_free[q]
        return issue + 1 if issue + 1 > uf else uf

    # ---------------------------------------------------------------- main loop
    def run(self) -> Timing:
        s, t = self.s, self.t
        (fl, r1, r2), gl = s.lists(), s.gen.tolist()
        n = len(fl)
        host_k = 0
        i = 0
        f_arr = s.funct
        pair_at = np.zeros(n + 1, bool)
        if n > 1:
            pair_at[:-2] = (f_arr[:-1] == isa.PRELOAD) & (
                (f_arr[1:] == isa.COMPUTE_PRELOADED) | (f_arr[1:] == isa.COMPUTE_ACCUMULATED))
        pair_list = pair_at.tolist()
        self.pairs = PairTable(self, np.flatnonzero(pair_at[:n]))
        ld_at = np.zeros(n + 1, bool)
        ld_at[:-1] = np.isin(f_arr, (isa.MVIN, isa.MVIN2, isa.MVIN3))
        ld_list = ld_at.tolist()
        self.loads = LoadTable(self, np.flatnonzero(ld_at[:n]))
        while i < n:
            f, gen = fl[i], gl[i]
            if pair_list[i]:
                j = i
                while pair_list[j]:
                    j += 2
                exec_run(self, i, j)
                i = j
                continue
            if ld_list[i]:
                j = i + 1
                while ld_list[j]:
                    j += 1
                load_run(self, i, j)
                i = j
                continue
            q = _QUEUE_OF.get(f)
            if q == ST:
                self.mvout(i, r2[i], gen)
            elif q == EX:  # a lone preload or compute: schedule with a DIM-cycle cost, no operand deps
                ti = self.issue(i, EX, gen)
                start = self.dispatch_floor(EX, ti)
                self.unit_free[EX] = start + (t.dim if f != isa.PRELOAD else 0)
                self.finish(EX, start, start + t.lat_mesh_drain if f != isa.PRELOAD else start)
            elif f == isa.CONFIG:
                kind = r1[i] & 3
                q = {isa.CONFIG_EX: EX, isa.CONFIG_LD: LD, isa.CONFIG_ST: ST}.get(kind, EX)
                ti = self.issue(i, q, gen)
                if q == EX:
                    self.ex_config(r1[i], r2[i])
                    start = self.dispatch_floor(EX, ti)
                    self.unit_free[EX] = start + t.lat_config
                    self.busy["execute"].add(start, start + t.lat_config)
                    self.finish(EX, start, start + t.lat_config)
                else:  # load/store configs complete at issue
                    self.finish(q, ti, ti)
            elif f == isa.FENCE or f == HOST:
                if f == isa.FENCE:
                    self.issue(i, None, False)
                self.host_t = max(self.host_t, self.all_done)
                if f == isa.FENCE:
                    cost = t.host_fence_cycles
                else:
                    elements, macs, candidates = self.host_costs[host_k]
                    host_k += 1
                    cost = (elements * t.host_element_cycles + macs * t.host_mac_cycles
                            + candidates * t.host_autotile_eval_cycles)
                if self.trace:
                    self.events.append(("host", "fence" if f == isa.FENCE else s.host_ops[r1[i]].kind,
                                        self.host_t, self.host_t + cost))
                self.host_busy += cost
                self.host_t += cost
                self.all_done = max(self.all_done, self.host_t)
            elif f in _LOOP_START:
                self._loop_start(i)
            else:  # flush, loop config words, counter: host issue only
                self.issue(i, None, gen)
            i += 1
        return self._result()

    def ex_config(self, rs1: int, rs2: int) -> None:
        rec = isa.decode(isa.CONFIG, rs1, rs2)
        if not rec.set_only_strides:
            self.ws = rec.dataflow == isa.WEIGHT_STATIONARY
            self.transposed = bool(rec.transpose_a or rec.transpose_b)

    def _loop_start(self, i: int) -> None:
        if self.cur_loop_end is not None:
            self.loop_ends.append(self.cur_loop_end)
        self.cur_loop_end = None
        # At most two loops in flight: wait until the loop two back has issued everything.
        if len(self.loop_ends) >= 2:
            self.host_t = max(self.host_t, self.loop_ends[-2])
        self.loop_start = self.issue(i, None, False) + 1
        self.gen_last = [self.loop_start - self.t.lat_loop_unroll_issue] * 3
        self.conv_loop = int(self.s.funct[i]) == isa.LOOP_CONV_WS

    # ---------------------------------------------------------------- data movement
    def mvout(self, i: int, rs2: int, gen: bool) -> None:
        pool = self.m.mvout_pool.get(i)
        if pool is not None:
            self.mvout_pooled(i, rs2, gen, pool)
            return
        static = self.mvout_static.get(rs2)  # a tile's move-outs recur with the same operand
        if static is None:
            static = self.mvout_static[rs2] = self._mvout_decode(rs2)
        reads, read_lat, bank, rows, nbytes = static
        start = self._store_start(i, gen, reads, bank, rows)
        dram, stride, misses = self._store_dram(i)
        mreq = self.dma.max_req
        key = (rows, nbytes, misses, dram % mreq, stride % mreq,  # all a plan depends on
               stride if stride < self.dma.line else -1)
        plan = self.mvout_plans.get(key)
        if plan is None:
            plan = self.mvout_plans[key] = self.dma.plan(rows, nbytes, misses, dram, stride)
        lines = self.dma.lines(dram, rows, stride, nbytes)
        free, done = self.dma.run_plan(start + read_lat, plan + lines, True)
        self._stored(start, free, done, reads, "mvout")

    def _store_start(self, i: int, gen: bool, reads: list[int], bank: int, span: float) -> float:
        """When move-out ``i`` starts: after its issue, the earlier writes of the blocks it
        reads and a free DMA-command slot; reading accumulator ``bank`` (-1: the scratchpad)
        for ``span`` cycles, after the execute unit's writes to that bank (they win the port)."""
        ti = self.issue(i, ST, gen)
        start = max(self.dispatch_floor(ST, ti), self.deps(ST, reads, []), self.dma_cmds[ST][0])
        if bank >= 0:
            ws, we = self.ex_acc_w[bank]
            if ws < start + span and start < we:
                start = we
        return start

    def _store_dram(self, i: int) -> tuple[int, int, int | None]:
        """(DRAM address, DRAM row stride, L2-missing lines) of move-out ``i``."""
        misses = self.misses.get(i) if self.misses else None
        return int(self.s.rs1[i]), self.m.mvout_info.get(i, (0,))[0], misses

    def _stored(self, start: float, free: float, done: float, reads: list[int], name: str) -> None:
        """Book a move-out that occupies the store controller until ``free`` and is done at ``done``."""
        self.unit_free[ST] = free
        self.dma_cmds[ST].append(done)
        self.busy["store"].add(start, done)
        self.record(ST, reads, [], done)
        self.finish(ST, start, done)
        if self.trace:
            self.events.append(("store", name, start, done))

    def mvout_pooled(self, i: int, rs2: int, gen: bool, pool: tuple) -> None:
        """A pooled move-out (StoreController's ``pooling`` state): one request per window
        element of every pooled pixel, one per cycle, each reading one accumulator row
        (padding positions read zeros); the DMA writer keeps the running max and writes
        one ``cols``-byte row per pooled pixel, after its last window element."""
        t = self.t
        k, _, porows, pocols, _, _, _, _, out_dim = pool
        reads, bank, nbytes = self._pooled_decode(rs2, pool)
        requests, pixels = porows * pocols * k * k, porows * pocols
        read_lat = t.lat_acc_read + t.lat_acc_scale
        start = self._store_start(i, gen, reads, bank, requests)
        dram, stride, misses = self._store_dram(i)
        # The writes as ``pixels`` rows ``stride`` apart (exact when pool_out_dim == pocols).
        plan = self.dma.plan(pixels, nbytes, misses, dram, stride)
        line = self.dma.line
        last = dram + ((porows - 1) * out_dim + pocols - 1) * stride + nbytes - 1
        free, done = self.dma.run_plan(start + read_lat, plan + (dram // line, last // line), True)
        gen_end = start + requests  # the controller's last request
        lat, beats = plan[8], plan[9]
        done = max(done, gen_end + read_lat + lat + beats)  # the last pixel's write follows its last read
        self._stored(start, max(free, gen_end), done, reads, "mvout_pooled")

    def _pooled_decode(self, rs2: int, pool: tuple) -> tuple:
        """(blocks the windows read, accumulator bank, bytes per pooled pixel) of a pooled mvout."""
        key = (rs2, pool)
        got = self.pooled_static.get(key)
        if got is None:
            t = self.t
            k, ps, porows, _, orows, ocols, upad, _, _ = pool
            addr, cols = rs2 & 0xFFFFFFFF, (rs2 >> 32) & 0xFFFF
            loc = self.decoder(addr)
            used = max(1, min(orows, (porows - 1) * ps + k - upad))  # unpooled rows the windows reach
            got = (self.blocks(addr, used * ocols), (loc.row // t.acc_bank_rows) % t.acc_banks, cols * t.input_bytes)
            self.pooled_static[key] = got
        return got

    def _mvout_decode(self, rs2: int) -> tuple:
        """(blocks read, read latency, accumulator bank (-1: a scratchpad read), rows, bytes per row)."""
        t = self.t
        addr, rows, cols = rs2 & 0xFFFFFFFF, rs2 >> 48, (rs2 >> 32) & 0xFFFF
        loc = self.decoder(addr)
        reads = self.blocks(addr, rows, -(-cols // self.dim), self.dim)
        if loc.is_acc:
            read_lat = t.lat_acc_read + (0 if loc.read_full else t.lat_acc_scale)
            bank = (loc.row // t.acc_bank_rows) % t.acc_banks
            eb = t.acc_bytes if loc.read_full else t.input_bytes
        else:
            read_lat, bank, eb = t.lat_spad_read, -1, t.input_bytes
        return reads, read_lat, bank, rows, cols * eb

    def _result(self) -> Timing:
        res = Timing()
        end = max(self.all_done, self.host_t, self.unit_free[EX])
        res.cycles = int(np.ceil(end))
        self.busy["host"].total = self.host_busy
        self.busy["dma"].total = self.dma.busy
        res.busy = {u: b.total for u, b in self.busy.items()}
        res.dma_bytes_read, res.dma_bytes_written = self.dma.bytes_read, self.dma.bytes_written
        res.events = self.events
        return res
