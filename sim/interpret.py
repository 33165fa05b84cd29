"""The functional pass: executes the flat stream in program order on a Machine.

Runs of consecutive WS (preload, compute) pairs go through ``exec_ops.run_batch`` (one
gather and one matmul per run); everything else is executed one instruction at a time.
Host kernels run at their place in the stream.
"""

from __future__ import annotations

import numpy as np

from gemforge.backends.gemmini import isa
from gemforge.sim import exec_ops
from gemforge.sim.errors import SimError, insn_error
from gemforge.sim.exec_batch import finish_common, gather_common
from gemforge.sim.exec_region import Regions, run_region
from gemforge.sim.expand import HOST, Stream
from gemforge.sim.functional import Machine
from gemforge.sim.host import KERNELS
from gemforge.sim.mvin_group import mvin_group
from gemforge.sim.mvout_group import mvout_group

_NOOP = {isa.FLUSH, isa.FENCE, isa.COUNTER, isa.LOOP_WS, isa.LOOP_CONV_WS,
         *range(isa.LOOP_WS_CONFIG_BOUNDS, isa.LOOP_WS_CONFIG_STRIDES_DC + 1),
         *range(isa.LOOP_CONV_WS_CONFIG_1, isa.LOOP_CONV_WS_CONFIG_6 + 1)}
_MVIN = {isa.MVIN: 0, isa.MVIN2: 1, isa.MVIN3: 2}


def execute(m: Machine, stream: Stream) -> list[tuple[int, int, int]]:
    """Run the stream; returns (elements, macs, auto-tiler candidates) per host op, in order."""
    f = stream.funct
    n = len(f)
    is_comp = (f == isa.COMPUTE_PRELOADED) | (f == isa.COMPUTE_ACCUMULATED)
    pair_at = np.zeros(n + 1, bool)
    if n > 1:
        pair_at[:-2] = (f[:-1] == isa.PRELOAD) & is_comp[1:]
    pair_list = pair_at.tolist()
    info = PairInfo(m, stream, pair_at)
    regions = Regions(m, stream, info.first, _NOOP)
    fl, r1, r2 = stream.lists()
    host_costs: list[tuple[int, int, int]] = []
    i = 0
    while i < n:
        fi = fl[i]
        m.cur = (i, fi, r1[i], r2[i])
        if pair_list[i] and m.pending is None:
            if not m.arithmetic:  # the timing pass reads the stream, not the pairs' results
                i = _run_end(pair_list, i)
                continue
            j = run_region(m, regions, info, stream, i)
            i = _run_pairs(m, stream, i, pair_list, fl, r1, r2, info) if j is None else j
            continue
        if fi in _MVIN:
            j = i + 1
            while j < n and fl[j] in _MVIN:
                j += 1
            if j - i == 1 or not mvin_group(m, list(range(i, j)), [_MVIN[fl[k]] for k in range(i, j)], r1[i:j],
                                            r2[i:j]):
                for k in range(i, j):  # one at a time (same semantics, precise errors)
                    m.cur = (k, fl[k], r1[k], r2[k])
                    m.mvin(k, _MVIN[fl[k]], r1[k], r2[k])
            i = j
            continue
        elif fi == isa.MVOUT:
            j = i + 1
            while j < n and fl[j] == isa.MVOUT:
                j += 1
            if j - i == 1 or not mvout_group(m, list(range(i, j)), r1[i:j], r2[i:j]):
                for k in range(i, j):
                    m.cur = (k, fl[k], r1[k], r2[k])
                    m.mvout(k, r1[k], r2[k])
            i = j
            continue
        elif fi == isa.CONFIG:
            m.config(r1[i], r2[i])
        elif fi == isa.PRELOAD:
            exec_ops.preload(m, i, r1[i], r2[i])
        elif fi == isa.COMPUTE_PRELOADED or fi == isa.COMPUTE_ACCUMULATED:
            exec_ops.compute(m, i, fi == isa.COMPUTE_PRELOADED, r1[i], r2[i])
        elif fi == HOST:
            host_costs.append(run_host(m, i, stream.host_ops[r1[i]]))
        elif fi not in _NOOP:
            raise insn_error(i, fi, r1[i], r2[i], "unknown instruction")
        i += 1
    return host_costs


MAX_BATCH_PAIRS = 2048


def _run_end(pair_list: list[bool], i: int) -> int:
    while pair_list[i]:
        i += 2
    return i


def _run_pairs(m: Machine, stream: Stream, i: int, pair_list, fl, r1, r2, info: PairInfo) -> int:
    """Execute the run of (preload, compute) pairs at ``i`` together with the following
    runs, as long as the move-ins (and loop config words, no-ops here) between them do not
    get in the way: move-ins that touch none of the batch's rows are simply executed first
    (the reservation station would let them pass); move-ins that overwrite scratchpad rows
    the batch reads are executed after the batch's operands so far have been gathered
    (``exec_batch``, common case only).  Returns the index after the last instruction run."""
    j = _run_end(pair_list, i)
    seg = _segment(stream, i, j)
    if not info.batchable(m, i, j):
        exec_ops._fallback(m, np.arange(i, j, 2), *seg)
        return j
    segs, idx = [seg], [np.arange(i, j, 2)]
    parts: list = []  # runs gathered before move-ins overwrote their operands
    weights0 = m.weights
    dim = m.dim
    # DIM-row blocks the not-yet-gathered runs read (scratchpad) and the batch writes (accumulator)
    reads = np.zeros(-(-m.spad_rows // dim) + 1, bool)
    writes = np.zeros(-(-m.acc_rows // dim) + 1, bool)
    info.mark(m, i, j, reads, writes)
    npairs = (j - i) // 2
    while npairs < MAX_BATCH_PAIRS:
        q = j
        while q < len(fl) and (fl[q] in _MVIN or fl[q] in _NOOP and fl[q] != isa.FENCE):
            q += 1
        if q == j or not pair_list[q]:
            break
        ks = [k for k in range(j, q) if fl[k] in _MVIN]
        hits = _mvin_conflicts(m, ks, fl, r2, reads, writes)
        if 2 in hits:
            break
        j2 = _run_end(pair_list, q)
        if not info.batchable(m, q, j2):
            break
        nxt = _segment(stream, q, j2)
        if 1 in hits:  # gather what the batch read so far, then let the move-ins overwrite it
            g = gather_common(m, *_concat(segs)) if segs else None
            if g is None:
                break
            parts.append(g)
            segs, idx = [], []
            reads[:] = False
        if not mvin_group(m, ks, [_MVIN[fl[k]] for k in ks], [r1[k] for k in ks], [r2[k] for k in ks]):
            for k in ks:
                m.cur = (k, fl[k], r1[k], r2[k])
                m.mvin(k, _MVIN[fl[k]], r1[k], r2[k])
        segs.append(nxt)
        idx.append(np.arange(q, j2, 2))
        info.mark(m, q, j2, reads, writes)
        npairs += (j2 - q) // 2
        j = j2
    if parts:
        g = gather_common(m, *_concat(segs)) if segs else None
        if g is not None:
            parts.append(g)
            segs = []
        finish_common(m, weights0, parts)
    if segs:
        exec_ops.run_batch(m, np.concatenate(idx) if len(idx) > 1 else idx[0], *_concat(segs))
    return j


def _concat(segs: list) -> list:
    return [np.concatenate(c) if len(segs) > 1 else c[0] for c in zip(*segs)]


def _segment(stream: Stream, i: int, j: int):
    return (stream.rs1[i:j:2], stream.rs2[i:j:2], stream.funct[i + 1:j:2], stream.rs1[i + 1:j:2],
            stream.rs2[i + 1:j:2])


class PairInfo:
    """Static fields of every (preload, compute) pair of the stream, decoded once."""

    def __init__(self, m: Machine, stream: Stream, pair_at: np.ndarray):
        self.first = np.flatnonzero(pair_at[:len(stream)])

        def parts(x):
            a = (x & np.uint64(0xFFFFFFFF)).astype(np.int64)
            garbage = m.local.garbage(a)
            return a, garbage, np.where(garbage, -1, a & ((1 << 26) - 1))

        b, b_g, self.b_row = parts(stream.rs1[self.first])
        c, c_g, self.c_row = parts(stream.rs2[self.first])
        _, _, self.a_row = parts(stream.rs1[self.first + 1])
        d, d_g, self.d_row = parts(stream.rs2[self.first + 1])
        self.d_acc = (d >> 31) == 1
        # what run_batch needs of the operands: D without a norm command (exec_bias), C in the
        # accumulator (or garbage) without one, B in the scratchpad
        norm = m.local.norm
        self.static_ok = ((norm(d) == 0) | d_g) & (((c >> 31) == 1) | c_g) & ((norm(c) == 0) | c_g) & (
            ((b >> 31) == 0) | b_g)

    def span(self, lo: int, hi: int) -> tuple[int, int]:
        k0 = int(np.searchsorted(self.first, lo))
        return k0, k0 + (hi - lo) // 2

    def batchable(self, m: Machine, lo: int, hi: int) -> bool:
        """Can the run of pairs at lo .. hi - 1 go through ``exec_ops.run_batch``? (also WS,
        no transposes, unit C stride)"""
        ex = m.ex
        if ex["dataflow"] != isa.WEIGHT_STATIONARY or ex["transpose_a"] or ex["transpose_b"] or ex["c_stride"] != 1:
            return False
        k0, k1 = self.span(lo, hi)
        return bool(self.static_ok[k0:k1].all())

    def mark(self, m: Machine, lo: int, hi: int, reads: np.ndarray, writes: np.ndarray) -> None:
        """Mark the DIM-row blocks the pairs read (scratchpad: A, B and D) and write or
        read (accumulator: C and D; a move-in there must wait for the batch) --
        conservative: every block each operand's rows touch."""
        dim = m.dim
        k0, k1 = self.span(lo, hi)
        d_acc = self.d_acc[k0:k1]
        d_row = self.d_row[k0:k1]
        for rows, mask, span in ((self.b_row[k0:k1], reads, dim),
                                 (self.a_row[k0:k1], reads, m.ex["a_stride"] * (dim - 1) + 1),
                                 (self.c_row[k0:k1], writes, dim), (np.where(d_acc, -1, d_row), reads, dim),
                                 (np.where(d_acc, d_row, -1), writes, dim)):
            row = rows[rows >= 0]
            mask[np.minimum(row // dim, len(mask) - 1)] = True
            mask[np.minimum((row + span - 1) // dim, len(mask) - 1)] = True


def _mvin_conflicts(m: Machine, ks: list[int], fl, r2, reads: np.ndarray, writes: np.ndarray) -> set[int]:
    """The set of :func:`_mvin_conflict` results of the move-ins ``ks`` (the common
    single-block scratchpad move-ins checked at once)."""
    x = np.array([r2[k] for k in ks], np.uint64).astype(np.int64)
    addr, rows, cols, dim = x & 0xFFFFFFFF, x >> 48, (x >> 32) & 0xFFFF, m.dim
    repeats = np.array([m.ld[_MVIN[fl[k]]]["pixel_repeats"] for k in ks])
    simple = ((addr >> 26) == 0) & (cols <= dim) & (rows > 0) & (rows <= dim) & (repeats <= 1)
    last = len(reads) - 1
    out = set()
    if simple.any():
        a, r = addr[simple], rows[simple]
        if (reads[np.minimum(a // dim, last)] | reads[np.minimum((a + r - 1) // dim, last)]).any():
            out.add(1)
    out.update(_mvin_conflict(m, fl[k], r2[k], reads, writes) for k, s in zip(ks, simple.tolist()) if not s)
    return out


def _mvin_conflict(m: Machine, f: int, rs2: int, reads: np.ndarray, writes: np.ndarray) -> int:
    """1 if this move-in writes a scratchpad block the batch reads, 2 if an accumulator
    block the batch writes, else 0."""
    addr, rows, cols, dim = rs2 & 0xFFFFFFFF, rs2 >> 48, (rs2 >> 32) & 0xFFFF, m.dim
    back = max(1, m.ld[_MVIN[f]]["pixel_repeats"]) - 1  # the pixel repeater also writes rows below addr
    if addr >> 26 == 0 and cols <= dim and 0 < rows <= dim:  # one scratchpad block span
        return int(reads[min(max(0, addr - back) // dim, len(reads) - 1):(addr + rows - 1) // dim + 1].any())
    loc = m.local(addr)
    if loc.garbage:
        return 0
    mask = writes if loc.is_acc else reads
    bstride = m.ld[_MVIN[f]]["block_stride"]
    for b in range(max(1, -(-cols // dim))):
        first = loc.row + b * bstride
        lo = min(max(0, first - back) // dim, len(mask) - 1)
        if mask[lo:(first + max(rows, 1) - 1) // dim + 1].any():
            return 2 if loc.is_acc else 1
    return 0


def run_host(m: Machine, index: int, op) -> tuple[int, int, int]:
    """Run host kernel ``op``; its cost drivers (elements, macs, auto-tiler candidates)."""
    kernel = KERNELS.get(op.kind)
    if kernel is None:
        raise SimError(f"instruction {index}: host kernel {op.kind!r} is unknown (known: {', '.join(sorted(KERNELS))})")
    by_name = {t.name: t for t in m.dram.tensors}
    try:
        ins = [m.dram.view(by_name[n]).copy() for n in op.inputs]
        outs = [m.dram.view(by_name[n]) for n in op.outputs]
        cost = kernel(ins, outs, op.attrs)
    except (KeyError, ValueError, TypeError, IndexError) as e:
        raise SimError(f"instruction {index}: host {op.kind}({', '.join(op.inputs)}) -> "
                       f"{', '.join(op.outputs)}: {type(e).__name__}: {e}") from None
    return (cost[0], cost[1], cost[2] if len(cost) > 2 else 0)
