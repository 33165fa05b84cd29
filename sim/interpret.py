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
from gemforge.sim.expand import HOST, Stream
from gemforge.sim.functional import Machine
from gemforge.sim.host import KERNELS
from gemforge.sim.mvin_group import mvin_group

_NOOP = {isa.FLUSH, isa.FENCE, isa.COUNTER, isa.LOOP_WS, isa.LOOP_CONV_WS,
         *range(isa.LOOP_WS_CONFIG_BOUNDS, isa.LOOP_WS_CONFIG_STRIDES_DC + 1),
         *range(isa.LOOP_CONV_WS_CONFIG_1, isa.LOOP_CONV_WS_CONFIG_6 + 1)}
_MVIN = {isa.MVIN: 0, isa.MVIN2: 1, isa.MVIN3: 2}


def execute(m: Machine, stream: Stream) -> list[tuple[int, int]]:
    """Run the stream; returns (elements, macs) per host op, in order."""
    f = stream.funct
    n = len(f)
    is_comp = (f == isa.COMPUTE_PRELOADED) | (f == isa.COMPUTE_ACCUMULATED)
    pair_at = np.zeros(n + 1, bool)
    if n > 1:
        pair_at[:-2] = (f[:-1] == isa.PRELOAD) & is_comp[1:]
    pair_list = pair_at.tolist()
    fl, r1, r2 = f.tolist(), stream.rs1.tolist(), stream.rs2.tolist()
    host_costs: list[tuple[int, int]] = []
    i = 0
    while i < n:
        fi = fl[i]
        m.cur = (i, fi, r1[i], r2[i])
        if pair_list[i] and m.pending is None:
            i = _run_pairs(m, stream, i, pair_list, fl, r1, r2)
            continue
        if fi in _MVIN:
            m.mvin(i, _MVIN[fi], r1[i], r2[i])
        elif fi == isa.MVOUT:
            m.mvout(i, r1[i], r2[i])
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


MAX_BATCH_PAIRS = 4096


def _run_end(pair_list: list[bool], i: int) -> int:
    while pair_list[i]:
        i += 2
    return i


def _run_pairs(m: Machine, stream: Stream, i: int, pair_list, fl, r1, r2) -> int:
    """Execute the run of (preload, compute) pairs at ``i`` and, while the move-ins between
    it and the next run touch no row these pairs read or write, that next run too (the
    move-ins are executed first: the reservation station would let them pass; loop config
    words in between are no-ops here).  Returns the index after the last instruction
    executed."""
    j = _run_end(pair_list, i)
    seg = _segment(stream, i, j)
    if not exec_ops.batchable(m, *seg[:2], seg[4]):
        exec_ops._fallback(m, np.arange(i, j, 2), *seg)
        return j
    segs, idx = [seg], [np.arange(i, j, 2)]
    reads, writes = _pair_blocks(m, seg)
    npairs = (j - i) // 2
    while npairs < MAX_BATCH_PAIRS:
        q = j
        while q < len(fl) and (fl[q] in _MVIN or fl[q] in _NOOP and fl[q] != isa.FENCE):
            q += 1
        if q == j or not pair_list[q]:
            break
        blocks = [_mvin_blocks(m, k, fl[k], r2[k]) for k in range(j, q) if fl[k] in _MVIN]
        if any(b & reads or b & writes for b in blocks):
            break
        j2 = _run_end(pair_list, q)
        nxt = _segment(stream, q, j2)
        if not exec_ops.batchable(m, *nxt[:2], nxt[4]):
            break
        ks = [k for k in range(j, q) if fl[k] in _MVIN]
        if not mvin_group(m, ks, [_MVIN[fl[k]] for k in ks], [r1[k] for k in ks], [r2[k] for k in ks]):
            for k in ks:
                m.cur = (k, fl[k], r1[k], r2[k])
                m.mvin(k, _MVIN[fl[k]], r1[k], r2[k])
        segs.append(nxt)
        idx.append(np.arange(q, j2, 2))
        rd, wr = _pair_blocks(m, nxt)
        reads |= rd
        writes |= wr
        npairs += (j2 - q) // 2
        j = j2
    cols = [np.concatenate(c) if len(segs) > 1 else c[0] for c in zip(*segs)]
    exec_ops.run_batch(m, np.concatenate(idx) if len(idx) > 1 else idx[0], *cols)
    return j


def _segment(stream: Stream, i: int, j: int):
    return (stream.rs1[i:j:2], stream.rs2[i:j:2], stream.funct[i + 1:j:2], stream.rs1[i + 1:j:2],
            stream.rs2[i + 1:j:2])


def _pair_blocks(m: Machine, seg) -> tuple[set, set]:
    """DIM-row blocks read (scratchpad; A and B) and written (accumulator; C), as sets of
    (is_acc, block) -- conservative: every block each operand's rows touch."""
    dim, dm = m.dim, m.local.data_mask
    pre1, pre2, _, c1, _ = seg
    out = []
    for x, acc, span in ((pre1, False, dim), (c1, False, m.ex["a_stride"] * (dim - 1) + 1), (pre2, True, dim)):
        a = (x & np.uint64(0xFFFFFFFF)).astype(np.int64)
        row = a[~(((a >> 29) == 7) & ((a & dm) == dm))] & ((1 << 26) - 1)
        blocks = set((row // dim).tolist())
        blocks.update(((row + span - 1) // dim).tolist())
        out.append({(acc, b) for b in blocks})
    return out[0] | out[1], out[2]


def _mvin_blocks(m: Machine, k: int, f: int, rs2: int) -> set:
    addr, rows, cols, dim = rs2 & 0xFFFFFFFF, rs2 >> 48, (rs2 >> 32) & 0xFFFF, m.dim
    if addr >> 26 == 0 and cols <= dim and 0 < rows <= dim:  # one scratchpad block span
        return {(False, addr // dim), (False, (addr + rows - 1) // dim)}
    loc = m.local(addr)
    if loc.garbage:
        return set()
    bstride = m.ld[_MVIN[f]]["block_stride"]
    out = set()
    for b in range(max(1, -(-cols // dim))):
        first = loc.row + b * bstride
        out.update((loc.is_acc, blk) for blk in range(first // dim, (first + max(rows, 1) - 1) // dim + 1))
    return out


def run_host(m: Machine, index: int, op) -> tuple[int, int]:
    kernel = KERNELS.get(op.kind)
    if kernel is None:
        raise SimError(f"instruction {index}: host kernel {op.kind!r} is unknown (known: {', '.join(sorted(KERNELS))})")
    by_name = {t.name: t for t in m.dram.tensors}
    try:
        ins = [m.dram.view(by_name[n]).copy() for n in op.inputs]
        outs = [m.dram.view(by_name[n]) for n in op.outputs]
        return kernel(ins, outs, op.attrs)
    except (KeyError, ValueError, TypeError, IndexError) as e:
        raise SimError(f"instruction {index}: host {op.kind}({', '.join(op.inputs)}) -> "
                       f"{', '.join(op.outputs)}: {type(e).__name__}: {e}") from None
