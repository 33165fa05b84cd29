"""Execute-unit semantics: preload and compute, one pair at a time or a batch at once.

Each compute takes the preload before it (in the execute queue).  Fields describe the
*logical* operands: A is a_rows x a_cols; with transpose the scratchpad holds the
transposed block (rows = logical cols).  Operand rows beyond the given rows/cols are zero.

* WS: PRELOAD(B, C) then COMPUTE_PRELOADED(A, D) switches the mesh to B (GARBAGE = zeros)
  and gives ``C = A @ B + D``; COMPUTE_ACCUMULATED keeps the previous weights.  Outputs
  are int32 (wrapping); row r goes to ``C + r * c_stride``.
* OS: PRELOAD(D, C) then COMPUTE_PRELOADED(A, B) starts the in-mesh accumulators at D;
  COMPUTE_ACCUMULATED adds to them.  The output is rounding-shifted right by in_shift.
* C in the accumulator: overwrite, or add (accumulate bit), int32 wrapping; C in the
  scratchpad: saturated to int8 then ReLU if config_ex act = 1; GARBAGE: not written.
* A, B and D are read from the scratchpad (int8); D may also be an accumulator address
  (int32, raw).  Reading A or B from the accumulator is not supported.

:func:`run_batch` does a whole run of WS pairs with one gather and one matmul (exact for
these integer ranges) when nothing in the run reads what it writes; the interpreter sends
it runs with D garbage, C in the accumulator (or garbage), B in the scratchpad, WS without
transposes and unit strides (``interpret.PairInfo.batchable``).
"""

from __future__ import annotations

import numpy as np

from gemforge.backends.gemmini import isa
from gemforge.sim.functional import Machine, rounding_shift, wrap32
from gemforge.sim.memory import Local


def _operand(m: Machine, field: int, what: str):
    loc = m.decode_local(field & 0xFFFFFFFF, what)
    return loc, field >> 48, (field >> 32) & 0xFFFF


def preload(m: Machine, index: int, rs1: int, rs2: int) -> None:
    if m.pending is not None:
        raise m.fail(f"preload after the preload at {m.pending[0]} without a compute in between")
    bd, bd_rows, bd_cols = _operand(m, rs1, "preload B/D")
    c, c_rows, c_cols = _operand(m, rs2, "preload C")
    m.pending = (index, bd, bd_rows, bd_cols, c, c_rows, c_cols)


def _read_block(m: Machine, loc: Local, rows: int, cols: int, transpose: bool, stride: int, what: str,
                allow_acc: bool = False) -> np.ndarray:
    """A DIM x DIM int64 operand (zero padded); GARBAGE gives zeros."""
    dim = m.dim
    out = np.zeros((dim, dim), np.int64)
    if loc.garbage:
        return out
    if rows > dim or cols > dim:
        raise m.fail(f"{what} is {rows}x{cols}, larger than DIM={dim}")
    srows, scols = (cols, rows) if transpose else (rows, cols)
    idx = loc.row + np.arange(srows) * stride
    m.check_rows(loc, loc.row, (srows - 1) * stride + 1 if srows else 0, what)
    if loc.is_acc:
        if not allow_acc:
            raise m.fail(f"{what} from the accumulator is not supported")
        m.check_init(m.acc_ok, idx, what)
        block = m.acc[idx, :scols].astype(np.int64)
    else:
        m.check_init(m.spad_ok, idx, what)
        block = m.spad[idx, :scols].astype(np.int64)
    if transpose:
        block = block.T
    out[:rows, :cols] = block
    return out


def compute(m: Machine, index: int, preloaded: bool, rs1: int, rs2: int) -> None:
    if m.pending is None:
        raise m.fail("compute without a preceding preload")
    _, bd, bd_rows, bd_cols, c, c_rows, c_cols = m.pending
    m.pending = None
    a, a_rows, a_cols = _operand(m, rs1, "compute A")
    x, x_rows, x_cols = _operand(m, rs2, "compute B/D")
    ex = m.ex
    A = _read_block(m, a, a_rows, a_cols, ex["transpose_a"], ex["a_stride"], "compute A")
    if ex["dataflow"] == isa.WEIGHT_STATIONARY:
        if preloaded:
            m.weights = _read_block(m, bd, bd_rows, bd_cols, ex["transpose_b"], 1, "preload B")
        D = _read_block(m, x, x_rows, x_cols, False, 1, "compute D", allow_acc=True)
        result = A @ m.weights + D
    else:
        B = _read_block(m, x, x_rows, x_cols, ex["transpose_b"], 1, "compute B")
        if preloaded:
            m.os_acc = _read_block(m, bd, bd_rows, bd_cols, False, 1, "preload D", allow_acc=True)
        m.os_acc = wrap32(m.os_acc + A @ B).astype(np.int64)
        result = rounding_shift(m.os_acc, ex["in_shift"])
    write_c(m, c, c_rows, c_cols, result)


def write_c(m: Machine, c: Local, rows: int, cols: int, result: np.ndarray) -> None:
    if c.garbage:
        return
    dim = m.dim
    if rows > dim or cols > dim:
        raise m.fail(f"C is {rows}x{cols}, larger than DIM={dim}")
    stride = m.ex["c_stride"]
    idx = c.row + np.arange(rows) * stride
    m.check_rows(c, c.row, (rows - 1) * stride + 1, "compute C")
    val = result[:rows, :cols]
    if c.is_acc:
        if c.accumulate:
            m.check_init(m.acc_ok, idx, "compute C (accumulate)")
            val = m.acc[idx, :cols].astype(np.int64) + val
        m.acc[idx, :cols] = wrap32(val)
        m.acc_ok[idx] = True
    else:
        val = np.clip(val, m.lo, m.hi)
        if m.ex["act"] == 1:
            val = np.maximum(val, 0)
        m.spad[idx, :cols] = val.astype(np.int8)
        m.spad_ok[idx] = True


# ---------------------------------------------------------------------------------- batch
def run_batch(m: Machine, idx, pre_rs1, pre_rs2, cmp_funct, cmp_rs1, cmp_rs2) -> None:
    """Execute n WS (preload, compute) pairs at once (program order semantics).

    ``idx`` holds each pair's preload index (for error messages); the other arrays are
    the pairs' operands (uint64).  Anything unusual (sizes, ranges, uninitialised rows)
    falls back to pair-by-pair execution, which reports the exact instruction."""
    dim, ar = m.dim, m.ar
    dmask = m.local.data_mask
    regs = np.stack([pre_rs1, pre_rs2, cmp_rs1]).astype(np.int64)
    addr, rows, cols = regs & 0xFFFFFFFF, regs >> 48, (regs >> 32) & 0xFFFF
    row = addr & ((1 << 26) - 1)
    garbage = ((addr >> 29) == 7) & ((addr & dmask) == dmask)
    (b_rows, c_rows, a_rows), (b_cols, c_cols, a_cols) = rows, cols
    (b_row, c_row, a_row), (b_garb, c_garb, _) = row, garbage
    a_stride = m.ex["a_stride"]
    full = bool((rows == dim).all() and (cols == dim).all())
    if not full and (rows.max() > dim or cols.max() > dim):
        return _fallback(m, idx, pre_rs1, pre_rs2, cmp_funct, cmp_rs1, cmp_rs2)
    if (addr[2] >> 31).any() or (a_row + (a_rows - 1) * a_stride >= m.spad_rows).any() or (
            (~b_garb & (b_row + b_rows > m.spad_rows)).any()) or ((~c_garb & (c_row + c_rows > m.acc_rows)).any()):
        return _fallback(m, idx, pre_rs1, pre_rs2, cmp_funct, cmp_rs1, cmp_rs2)
    flip = cmp_funct == isa.COMPUTE_PRELOADED
    fl = np.flatnonzero(flip)
    # Operands: A (n, dim, dim) and the weights of each flip (B garbage = zeros).
    a_idx = a_row[:, None] + ar * a_stride
    b_idx = b_row[fl][:, None] + ar
    live = ~b_garb[fl]
    if full:
        a_read, b_read = a_idx, b_idx[live]
    else:
        a_rmask = ar < a_rows[:, None]
        b_rmask = (ar < b_rows[fl][:, None]) & live[:, None]
        a_idx, b_idx = np.where(a_rmask, a_idx, 0), np.where(b_rmask, b_idx, 0)
        a_read, b_read = a_idx[a_rmask], b_idx[b_rmask]
    if not m.allow_uninit and not (m.spad_ok[a_read].all() and m.spad_ok[b_read].all()):
        return _fallback(m, idx, pre_rs1, pre_rs2, cmp_funct, cmp_rs1, cmp_rs2)
    ftype = m.exact_float
    A = m.spad[a_idx].astype(ftype)
    W = np.empty((len(fl) + 1, dim, dim), ftype)
    W[0] = m.weights
    W[1:] = m.spad[b_idx]
    if not full:
        A *= a_rmask[:, :, None] & (ar < a_cols[:, None, None])
        W[1:] *= b_rmask[:, :, None] & (ar < b_cols[fl][:, None, None])
    elif not live.all():
        W[1:][~live] = 0
    accum = ((addr[1] >> 30) & 1).astype(bool)
    c_idx = c_row[:, None] + ar
    if full and accum.all() and not c_garb.any():
        # The common case: full tiles accumulating; repeated rows simply add up.
        if not m.allow_uninit and not m.acc_ok[c_idx.reshape(-1)].all():
            return _fallback(m, idx, pre_rs1, pre_rs2, cmp_funct, cmp_rs1, cmp_rs2)
        matmul_accumulate(m, A, W[np.cumsum(flip)], c_row)
        if len(fl):
            m.weights = W[-1].astype(np.int64)
        return None
    res = np.matmul(A, W[np.cumsum(flip)])  # exact in this float type (checked in Machine)
    if len(fl):
        m.weights = W[-1].astype(np.int64)
    rmask = (ar < c_rows[:, None]) & ~c_garb[:, None]
    res = res.astype(np.int64)
    live_rows = np.sort(c_row[~c_garb])
    if len(live_rows) < 2 or (np.diff(live_rows) >= dim).all():
        # Every accumulator row is written at most once: gather, update, scatter.
        rows_w = c_idx[rmask]
        if not m.allow_uninit and not m.acc_ok[c_idx[rmask & accum[:, None]]].all():
            return _fallback(m, idx, pre_rs1, pre_rs2, cmp_funct, cmp_rs1, cmp_rs2)
        old = m.acc[np.where(rmask, c_idx, 0)].astype(np.int64)
        new = np.where(ar < c_cols[:, None, None], np.where(accum[:, None, None], old + res, res), old)
        m.acc[rows_w] = wrap32(new[rmask])
        m.acc_ok[rows_w] = True
        return None
    # General case: per element, contributions at or after its last overwrite add up.
    emask = rmask[:, :, None] & (ar < c_cols[:, None, None])
    target = (c_idx[:, :, None] * dim + ar)[emask]
    vals = res[emask]
    acc_e = np.broadcast_to(accum[:, None, None], emask.shape)[emask]
    size = m.acc_rows * dim
    pos = np.arange(len(target))
    last_ow = np.full(size, -1, np.int64)
    last_ow[target[~acc_e]] = pos[~acc_e]  # repeated indices: the last assignment wins
    first = np.full(size, -1, np.int64)
    first[target[::-1]] = pos[::-1]
    touched = first >= 0
    if not m.allow_uninit:
        reads_old = touched.copy()
        reads_old[touched] = acc_e[first[touched]]
        if not m.acc_ok[reads_old.reshape(-1, dim).any(1)].all():
            return _fallback(m, idx, pre_rs1, pre_rs2, cmp_funct, cmp_rs1, cmp_rs2)
    keep = pos >= last_ow[target]
    sums = np.bincount(target[keep], weights=vals[keep].astype(np.float64), minlength=size)
    flat = m.acc.reshape(-1)
    old = np.where(last_ow[touched] >= 0, 0, flat[touched].astype(np.int64))
    flat[touched] = wrap32(old + sums[touched].astype(np.int64))  # float64 sums are exact here
    m.acc_ok[touched.reshape(-1, dim).any(1)] = True


def matmul_accumulate(m: Machine, A: np.ndarray, W: np.ndarray, c_row: np.ndarray) -> None:
    """acc[c_row[p] + r] += (A[p] @ W[p])[r] for every pair p (int32 wrapping); pairs
    writing one accumulator block add up.  The pairs of each block are multiplied as one
    (DIM x P*DIM) @ (P*DIM x DIM) product -- multiply and sum in one small matmul per
    block, in float32 when that is exact for P*DIM products, else float64."""
    dim, ar, n = m.dim, m.ar, len(c_row)
    u, inv = np.unique(c_row, return_inverse=True)
    if len(u) > 1 and (np.diff(u) < dim).any():  # partially overlapping blocks: sum per element
        res = np.matmul(A, W)
        target = ((c_row[:, None] + ar).reshape(-1)[:, None] * dim + ar).reshape(-1)
        sums = np.bincount(target, weights=res.reshape(-1).astype(np.float64), minlength=m.acc_rows * dim)
        m.acc[...] = wrap32(m.acc + sums.astype(np.int64).reshape(m.acc_rows, dim))
        return
    counts = np.bincount(inv)
    P = int(counts.max())
    exact32 = P * dim << (2 * (m.t.input_bits - 1)) < (1 << 24)
    ftype = np.float32 if exact32 else np.float64
    if P * len(u) == n:  # every block has P pairs: sort by block, no padding
        order = np.argsort(inv, kind="stable")
        Ag, Wg = A[order].astype(ftype, copy=False), W[order].astype(ftype, copy=False)
    else:
        order = np.argsort(inv, kind="stable")
        g = inv[order]
        slot = g * P + (np.arange(n) - (np.cumsum(counts) - counts)[g])
        Ag = np.zeros((len(u) * P, dim, dim), ftype)
        Wg = np.zeros((len(u) * P, dim, dim), ftype)
        Ag[slot], Wg[slot] = A[order], W[order]
    Ag = Ag.reshape(len(u), P, dim, dim).transpose(0, 2, 1, 3).reshape(len(u), dim, P * dim)
    sums = np.matmul(Ag, Wg.reshape(len(u), P * dim, dim))
    rows = (u[:, None] + ar).reshape(-1)
    m.acc[rows] = wrap32(m.acc[rows].astype(np.int64) + sums.reshape(-1, dim).astype(np.int64))


def _fallback(m: Machine, idx, pre_rs1, pre_rs2, cmp_funct, cmp_rs1, cmp_rs2) -> None:
    """Pair-by-pair execution (exact same semantics, precise errors)."""
    for p in range(len(pre_rs1)):
        i = int(idx[p])
        m.cur = (i, isa.PRELOAD, int(pre_rs1[p]), int(pre_rs2[p]))
        preload(m, i, int(pre_rs1[p]), int(pre_rs2[p]))
        m.cur = (i + 1, int(cmp_funct[p]), int(cmp_rs1[p]), int(cmp_rs2[p]))
        compute(m, i + 1, int(cmp_funct[p]) == isa.COMPUTE_PRELOADED, int(cmp_rs1[p]), int(cmp_rs2[p]))
