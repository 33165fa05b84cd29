"""Batches of WS pairs whose computes carry a D (bias) operand -- scratchpad int8 or raw
accumulator int32 rows, partial tiles, accumulating or overwriting C -- give exactly
what pair-by-pair execution (``exec_ops._fallback``) gives, on copies of one Machine;
and whole programs with biases run the same on the fast and the one-at-a-time paths."""

import copy

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gemforge import sim
from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.program import Program
from gemforge.sim import exec_ops, interpret
from gemforge.sim.errors import SimError
from gemforge.sim.functional import Machine
from gemforge.target import default

T = default()
DIM = T.dim
SPAD_USED = 8 * DIM
C_ROWS = 4 * DIM  # C writes accumulator rows [0, C_ROWS); D reads [C_ROWS, D_END) unless told to collide
D_END = 6 * DIM

size = st.sampled_from([DIM, DIM, DIM - 1, DIM // 2, 1])
d_op = st.one_of(st.none(),
                 st.tuples(st.just("spad"), st.integers(0, SPAD_USED - DIM), size, size),
                 st.tuples(st.just("acc"), st.integers(C_ROWS, D_END - DIM), size, size))
pair = st.tuples(st.integers(0, SPAD_USED - DIM), st.one_of(st.none(), st.integers(0, SPAD_USED - DIM)),
                 st.one_of(st.none(), st.integers(0, C_ROWS - DIM)), st.booleans(), st.booleans(), size, size, d_op)


def _machine(seed: int) -> Machine:
    m = Machine(Program(T.name, "batch_bias"), T, {}, False)
    rng = np.random.default_rng(seed)
    m.config(*isa.config_ex(isa.WEIGHT_STATIONARY)[1:])
    m.spad[:SPAD_USED] = rng.integers(-128, 128, (SPAD_USED, DIM))
    m.spad_ok[:SPAD_USED] = True
    m.acc[:D_END] = rng.integers(-2**31, 2**31, (D_END, DIM))  # near the int32 limits: sums wrap
    m.acc_ok[:D_END] = True
    m.weights = rng.integers(-128, 128, (DIM, DIM)).astype(np.int64)
    return m


def _operands(pairs):
    """The (idx, pre_rs1, pre_rs2, cmp_funct, cmp_rs1, cmp_rs2) arrays of the pairs."""
    rows = []
    for k, (a, b, c, acc, preloaded, n, cols, d) in enumerate(pairs):
        bd = isa.GARBAGE if b is None else isa.spad(b)
        cc = isa.GARBAGE if c is None else isa.acc(c, accumulate=acc)
        pre = isa.preload(bd, cc, DIM, cols, n, cols)
        if d is None:
            dd, dr, dc = isa.GARBAGE, DIM, DIM
        else:
            where, row, dr, dc = d
            dd = isa.spad(row) if where == "spad" else isa.acc(row)
        cmp = isa.compute(isa.spad(a), dd, n, DIM, dr, dc, preloaded=preloaded)
        rows.append((2 * k, pre.rs1, pre.rs2, cmp.funct, cmp.rs1, cmp.rs2))
    cols = list(zip(*rows))
    return [np.array(cols[0], np.int64)] + [np.array(c, np.uint64) for c in cols[1:]]


def _state(m: Machine):
    return m.acc.tolist(), m.acc_ok.tolist(), m.spad.tolist(), m.spad_ok.tolist(), m.weights.tolist()


@settings(max_examples=150, deadline=None)
@given(pairs=st.lists(pair, min_size=1, max_size=24), seed=st.integers(0, 2**31))
def test_batch_with_d_equals_pair_by_pair(pairs, seed):
    fast = _machine(seed)
    slow = copy.deepcopy(fast)
    ops = _operands(pairs)
    exec_ops._fallback(slow, *ops)
    assert exec_ops.batch(fast, *ops)  # D never reads a C row here and every row is initialised
    assert _state(fast) == _state(slow)


@settings(max_examples=60, deadline=None)
@given(pairs=st.lists(pair, min_size=2, max_size=12), seed=st.integers(0, 2**31), victim=st.integers(0, 11))
def test_d_reading_a_c_of_the_batch_falls_back(pairs, seed, victim):
    """A D that reads accumulator rows some C of the batch writes would read them too
    early in a batch: the batch declines (nothing changed) and the fallback is exact."""
    pairs = list(pairs)
    k = victim % len(pairs)
    c = pairs[k][2] if pairs[k][2] is not None else 0
    pairs[k] = pairs[k][:2] + (c, True) + pairs[k][4:]
    j = (k + 1) % len(pairs)
    pairs[j] = pairs[j][:7] + (("acc", c, DIM, DIM),)  # D reads exactly pair k's C rows
    fast = _machine(seed)
    slow = copy.deepcopy(fast)
    ops = _operands(pairs)
    assert not exec_ops.batch(fast, *ops)
    assert _state(fast) == _state(_machine(seed))
    exec_ops.run_batch(fast, *ops)
    exec_ops._fallback(slow, *ops)
    assert _state(fast) == _state(slow)


def test_uninitialised_d_row_reports_the_compute():
    m = _machine(0)
    m.acc_ok[C_ROWS] = False
    ops = _operands([(0, 0, 0, False, True, DIM, DIM, ("acc", C_ROWS, DIM, DIM))])
    assert not exec_ops.batch(m, *ops)
    with pytest.raises(SimError, match="compute D reads row"):
        exec_ops.run_batch(m, *ops)


# Whole programs: move-ins (scratchpad operands, accumulator biases) between pairs with D.
X_ROWS = 48
prog_op = st.one_of(
    st.tuples(st.just("mvin"), st.integers(0, X_ROWS - DIM), st.integers(0, SPAD_USED - DIM), st.integers(1, DIM)),
    st.tuples(st.just("bias"), st.integers(0, X_ROWS - DIM), st.integers(C_ROWS, D_END - DIM), st.integers(1, DIM)),
    st.tuples(st.just("pair"), pair))


def _program(ops):
    p = Program(T.name, "batch_bias_prog")
    x = p.add_tensor("X", (X_ROWS, DIM), "int8", "input")
    bias = p.add_tensor("D", (X_ROWS, DIM), "int32", "input")
    y = p.add_tensor("Y", (C_ROWS, DIM), "int32", "output")
    p.emit(isa.config_ex(isa.WEIGHT_STATIONARY), isa.config_ld(DIM, block_stride=DIM, which=0),
           isa.config_ld(4 * DIM, block_stride=DIM, which=2),
           isa.config_st(4 * DIM))
    # everything the pairs may read starts initialised (moved in), so batches are not refused for that
    p.emit(*[isa.mvin(x.addr, isa.spad(r), DIM, DIM, 0) for r in range(0, SPAD_USED, DIM)])
    p.emit(*[isa.mvin(bias.addr, isa.acc(r), DIM, DIM, 2) for r in range(0, D_END, DIM)])
    for o in ops:
        if o[0] == "mvin":
            p.emit(isa.mvin(x.addr + o[1] * DIM, isa.spad(o[2]), o[3], DIM, 0))
        elif o[0] == "bias":
            p.emit(isa.mvin(bias.addr + o[1] * 4 * DIM, isa.acc(o[2]), o[3], DIM, 2))
        else:
            _, pre_rs1, pre_rs2, funct, cmp_rs1, cmp_rs2 = (int(v[0]) for v in _operands([o[1]]))
            p.emit(isa.Insn(isa.PRELOAD, pre_rs1, pre_rs2), isa.Insn(funct, cmp_rs1, cmp_rs2))
    p.emit(*[isa.mvout(y.addr + r * 4 * DIM, isa.acc(r, read_full=True), DIM, DIM) for r in range(0, C_ROWS, DIM)])
    p.emit(isa.fence())
    return p


def _run(p, ins):
    try:
        r = sim.run(p, ins, T)
    except SimError as e:
        return str(e)
    return r.outputs["Y"].tolist(), r.cycles, r.busy, r.counts


@settings(max_examples=250, deadline=None)
@given(ops=st.lists(prog_op, min_size=1, max_size=40), seed=st.integers(0, 2**31), regions=st.booleans())
def test_programs_with_bias_equal_one_at_a_time(ops, seed, regions):
    """``regions`` False: batches are built by ``interpret._run_pairs`` across move-ins."""
    p = _program(ops)
    rng = np.random.default_rng(seed)
    ins = {"X": rng.integers(-128, 128, (X_ROWS, DIM)).astype(np.int8),
           "D": rng.integers(-2**31, 2**31, (X_ROWS, DIM)).astype(np.int32)}
    with pytest.MonkeyPatch.context() as mp:
        if not regions:
            mp.setattr(interpret, "run_region", lambda *a: None)
        fast = _run(p, ins)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(interpret, "run_region", lambda *a: None)
        mp.setattr(interpret, "mvin_group", lambda *a: False)
        mp.setattr(interpret, "mvout_group", lambda *a: False)
        mp.setattr(interpret.PairInfo, "batchable", lambda *a: False)
        slow = _run(p, ins)
    assert fast == slow


@pytest.mark.parametrize("where", ["spad", "acc"])
def test_move_in_over_an_earlier_runs_d_waits_for_it(where):
    """A move-in between two runs that overwrites the first run's D must not run before
    that D is read (``interpret._run_pairs`` merges runs across move-ins)."""
    d_row = 6 * DIM if where == "spad" else C_ROWS  # A and B read spad rows [0, 2 DIM) only
    ops = [("pair", (0, DIM, 0, False, True, DIM, DIM, (where, d_row, DIM, DIM))),
           ("mvin", 3, d_row, DIM) if where == "spad" else ("bias", 3, d_row, DIM),
           ("pair", (0, DIM, DIM, False, True, DIM, DIM, None))]
    rng = np.random.default_rng(1)
    ins = {"X": rng.integers(-128, 128, (X_ROWS, DIM)).astype(np.int8),
           "D": rng.integers(-2**31, 2**31, (X_ROWS, DIM)).astype(np.int32)}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(interpret, "run_region", lambda *a: None)
        fast = _run(_program(ops), ins)
        mp.setattr(interpret.PairInfo, "batchable", lambda *a: False)
        assert fast == _run(_program(ops), ins)
