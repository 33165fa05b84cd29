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
it runs with C in the accumulator (or garbage), B in the scratchpad, D anywhere (gathered
by ``exec_bias.gather_d``), WS without transposes and unit strides
(``interpret.PairInfo.batchable``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gemforge.backends.gemmini import isa
from gemforge.sim.memo import memo
from gemforge.sim.functional import Machine, rounding_shift, wrap32
from gemforge.sim.exec_accum import accumulate_pairs, mask_a, matmul_accumulate  # noqa: F401 (public here)
from gemforge.sim.exec_bias import gather_d
from gemforge.sim.memory import Local, take_rows


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
    if not batch(m, idx, pre_rs1, pre_rs2, cmp_funct, cmp_rs1, cmp_rs2):
        _fallback(m, idx, pre_rs1, pre_rs2, cmp_funct, cmp_rs1, cmp_rs2)


class _Static(NamedTuple):
    """What :func:`batch` derives from the pairs' preload operands, compute functs and A
    operands alone (no machine state): reused by every batch with the same fields."""

    full: bool
    fl: np.ndarray  # pairs whose compute switches the weights
    live: np.ndarray  # of those, the ones with a real (not GARBAGE) B
    a_idx: np.ndarray
    b_idx: np.ndarray
    a_read: np.ndarray
    b_read: np.ndarray
    a_rmask: np.ndarray | None
    b_rmask: np.ndarray | None
    a_mask: tuple | None
    w_mask: np.ndarray | None  # B's zero padding (not full)
    accum: np.ndarray
    c_idx: np.ndarray
    rmask: np.ndarray
    c_row: np.ndarray
    c_rows: np.ndarray
    c_cols: np.ndarray
    c_garb: np.ndarray
    wsel: np.ndarray
    plans: dict  # exec_accum's plans of these pairs (without move-in versions)


_MAX_PLANS = 32  # distinct operand patterns per layer: at most ~24 in ResNet-50


def _static(m: Machine, pre_rs1, pre_rs2, cmp_funct, cmp_rs1) -> _Static | None:
    """The :class:`_Static` of a batch (None: the batch is unusual), cached per machine:
    tiled layers run the same local operands tile after tile."""
    a_stride = m.ex["a_stride"]
    key = (a_stride, len(pre_rs1), b"".join(np.ascontiguousarray(x).tobytes()
                                          for x in (pre_rs1, pre_rs2, cmp_funct, cmp_rs1)))
    return memo(m.batch_plans, key, lambda: _analyse(m, a_stride, pre_rs1, pre_rs2, cmp_funct, cmp_rs1), _MAX_PLANS)


def _analyse(m: Machine, a_stride: int, pre_rs1, pre_rs2, cmp_funct, cmp_rs1) -> _Static | None:
    dim, ar = m.dim, m.ar
    regs = np.stack([pre_rs1, pre_rs2, cmp_rs1]).astype(np.int64)
    addr, rows, cols = regs & 0xFFFFFFFF, regs >> 48, (regs >> 32) & 0xFFFF
    row = addr & ((1 << 26) - 1)
    garbage = m.local.garbage(addr)
    (b_rows, c_rows, a_rows), (b_cols, c_cols, a_cols) = rows, cols
    (b_row, c_row, a_row), (b_garb, c_garb, _) = row, garbage
    full = bool((rows == dim).all() and (cols == dim).all())
    if not full and (rows.max() > dim or cols.max() > dim):
        return None
    if (addr[2] >> 31).any() or (a_row + (a_rows - 1) * a_stride >= m.spad_rows).any() or (
            (~b_garb & (b_row + b_rows > m.spad_rows)).any()) or ((~c_garb & (c_row + c_rows > m.acc_rows)).any()):
        return None
    flip = cmp_funct == isa.COMPUTE_PRELOADED
    fl = np.flatnonzero(flip)
    # Operands: A (n, dim, dim) and the weights of each flip (B garbage = zeros).
    a_idx = a_row[:, None] + ar * a_stride
    b_idx = b_row[fl][:, None] + ar
    live = ~b_garb[fl]
    a_rmask = b_rmask = a_mask = w_mask = None
    if full:
        a_read, b_read = a_idx, b_idx[live]
        b_idx = np.where(live[:, None], b_idx, 0)  # GARBAGE has no row to gather (zeroed below)
    else:
        a_rmask = ar < a_rows[:, None]
        b_rmask = (ar < b_rows[fl][:, None]) & live[:, None]
        a_idx, b_idx = np.where(a_rmask, a_idx, 0), np.where(b_rmask, b_idx, 0)
        a_read, b_read = a_idx[a_rmask], b_idx[b_rmask]
        a_mask = (a_rmask, None if (a_cols == dim).all() else ar < a_cols[:, None])
        w_mask = b_rmask[:, :, None] & (ar < b_cols[fl][:, None, None])
    accum = ((addr[1] >> 30) & 1).astype(bool)
    rmask = (ar < c_rows[:, None]) & ~c_garb[:, None]
    return _Static(full, fl, live, a_idx, b_idx, a_read, b_read, a_rmask, b_rmask, a_mask, w_mask, accum,
                   c_row[:, None] + ar, rmask, c_row, c_rows, c_cols, c_garb, np.cumsum(flip), {})


def batch(m: Machine, idx, pre_rs1, pre_rs2, cmp_funct, cmp_rs1, cmp_rs2, versions=None) -> bool:
    """:func:`run_batch` without the fallback: False (and nothing changed) when the run
    is unusual.  ``versions`` (``exec_region._Versions``) resolves scratchpad reads to
    rows move-ins of the region wrote before the pair (A at idx + 1, B at idx)."""
    dim, ar = m.dim, m.ar
    sp = _static(m, pre_rs1, pre_rs2, cmp_funct, cmp_rs1)
    if sp is None:
        return False
    full, fl, live, a_idx, b_idx, a_read, b_read = sp.full, sp.fl, sp.live, sp.a_idx, sp.b_idx, sp.a_read, sp.b_read
    a_rmask, b_rmask, a_mask, accum, c_idx, rmask = sp.a_rmask, sp.b_rmask, sp.a_mask, sp.accum, sp.c_idx, sp.rmask
    c_row, c_rows, c_cols, c_garb, wsel = sp.c_row, sp.c_rows, sp.c_cols, sp.c_garb, sp.wsel
    spad, spad_ok = m.spad_v, m.spad_ok
    if versions is not None:  # rows as the region's move-ins left them at each read
        spad, spad_ok = versions.data_v, versions.ok
        a_map, b_map = versions.map(a_idx, idx[:, None] + 1), versions.map(b_idx, idx[fl][:, None])
        a_read = a_map if full else a_map[a_rmask]
        b_read = b_map[live] if full else b_map[b_rmask]
        a_idx, b_idx = a_map, b_map
    if not m.allow_uninit and not (spad_ok[a_read].all() and spad_ok[b_read].all()):
        return False
    ftype = m.exact_float
    W = np.empty((len(fl) + 1, dim, dim), ftype)
    W[0] = m.weights
    W[1:] = take_rows(spad, b_idx, np.int8, dim)
    # A's zero padding (a_mask): (rows (n, DIM), columns (n, DIM) or None), both bool
    if not full:
        W[1:] *= sp.w_mask
    elif not live.all():
        W[1:][~live] = 0
    d = gather_d(m, idx, cmp_rs2, c_row[~c_garb], c_rows[~c_garb], versions)
    if d is False:
        return False
    # the weights of each pair: W[wsel]; the plans of exec_accum hold only without versions
    done = accumulate_pairs(m, spad, a_idx, a_mask, W, wsel, c_row, c_rows, c_cols, accum, c_garb, full, rmask, d,
                            sp.plans if versions is None else None)
    if done is not None:
        if done and len(fl):
            m.weights = W[-1].astype(np.int64)
        return done
    A = take_rows(spad, a_idx, np.int8, dim).astype(ftype)
    if a_mask is not None:
        mask_a(A, *a_mask)
    res = np.matmul(A, W[wsel])  # exact in this float type (checked in Machine)
    if len(fl):
        m.weights = W[-1].astype(np.int64)
    res = res.astype(np.int64)
    if d is not None:
        res[d[0]] += d[1]
    live_rows = np.sort(c_row[~c_garb])
    if len(live_rows) < 2 or (np.diff(live_rows) >= dim).all():
        # Every accumulator row is written at most once: gather, update, scatter.
        rows_w = c_idx[rmask]
        if not m.allow_uninit and not m.acc_ok[c_idx[rmask & accum[:, None]]].all():
            return False
        old = m.acc[np.where(rmask, c_idx, 0)].astype(np.int64)
        new = np.where(ar < c_cols[:, None, None], np.where(accum[:, None, None], old + res, res), old)
        m.acc[rows_w] = wrap32(new[rmask])
        m.acc_ok[rows_w] = True
        return True
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
            return False
    keep = pos >= last_ow[target]
    sums = np.bincount(target[keep], weights=vals[keep].astype(np.float64), minlength=size)
    flat = m.acc.reshape(-1)
    old = np.where(last_ow[touched] >= 0, 0, flat[touched].astype(np.int64))
    flat[touched] = wrap32(old + sums[touched].astype(np.int64))  # float64 sums are exact here
    m.acc_ok[touched.reshape(-1, dim).any(1)] = True
    return True


def _fallback(m: Machine, idx, pre_rs1, pre_rs2, cmp_funct, cmp_rs1, cmp_rs2) -> None:
    """Pair-by-pair execution (exact same semantics, precise errors)."""
    for p in range(len(pre_rs1)):
        i = int(idx[p])
        m.cur = (i, isa.PRELOAD, int(pre_rs1[p]), int(pre_rs2[p]))
        preload(m, i, int(pre_rs1[p]), int(pre_rs2[p]))
        m.cur = (i + 1, int(cmp_funct[p]), int(cmp_rs1[p]), int(cmp_rs2[p]))
        compute(m, i + 1, int(cmp_funct[p]) == isa.COMPUTE_PRELOADED, int(cmp_rs1[p]), int(cmp_rs2[p]))
