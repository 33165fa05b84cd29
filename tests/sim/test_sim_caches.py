"""Speed-ups that must not change a result: the execute-run plans kept per distinct run
(timing_exec_plan) and the per-row sums of overlapping accumulator blocks (exec_accum)."""

import numpy as np
from hypothesis import given, settings, strategies as st

from gemforge import sim
from gemforge.sim import timing_exec_plan, timing_exec_vec
from gemforge.sim.exec_accum import add_block_sums
from gemforge.sim.programs import conv_loop_conv_ws
from gemforge.target import default

T = default()


def test_cached_run_plans_give_the_schedule_of_fresh_ones():
    rng = np.random.default_rng(5)
    p = conv_loop_conv_ws(1, 14, 14, 64, 64, 3, 1, 1, T, tile_rows=2)
    ins = {"X": rng.integers(-9, 9, (1, 14, 14, 64)).astype(np.int8),
           "W": rng.integers(-9, 9, (3, 3, 64, 64)).astype(np.int8)}
    made, orig_min, orig_plan = [], timing_exec_vec._MIN_PAIRS, timing_exec_plan.RunPlan
    solved = []
    orig_solve = timing_exec_vec.solve

    def counting_plan(*a):
        made.append(1)
        return orig_plan(*a)

    def fresh_plan(sim_, k0, k1, mode, gen, back):  # no cache: a new plan for every run
        return orig_plan(sim_, k0, k1, mode, gen, len(sim_.rs[1]), back)

    try:
        timing_exec_vec._MIN_PAIRS = 8  # vectorise this small layer's runs
        timing_exec_plan.RunPlan = counting_plan
        timing_exec_vec.solve = lambda *a: solved.append(orig_solve(*a)) or solved[-1]
        cached = sim.run(p, ins, T, arithmetic=False)
        timing_exec_plan.RunPlan = orig_plan
        timing_exec_vec.run_plan = fresh_plan
        fresh = sim.run(p, ins, T, arithmetic=False)
    finally:
        timing_exec_vec._MIN_PAIRS, timing_exec_plan.RunPlan = orig_min, orig_plan
        timing_exec_vec.run_plan, timing_exec_vec.solve = timing_exec_plan.run_plan, orig_solve
    n_solved = sum(x is not None for x in solved)
    assert n_solved > 4 and len(made) < n_solved  # the cache was used ...
    assert cached.cycles == fresh.cycles and cached.busy == fresh.busy  # ... and changed nothing


class _Acc:
    """The two fields of a Machine that add_block_sums touches."""

    def __init__(self, acc: np.ndarray):
        from gemforge.sim.memory import row_view

        self.acc, self.dim, self.acc_rows = acc, acc.shape[1], acc.shape[0]
        self.acc_v, self.ar = row_view(acc), np.arange(acc.shape[1])


@settings(max_examples=60, deadline=None)
@given(starts=st.lists(st.integers(0, 48), min_size=1, max_size=10), seed=st.integers(0, 2**32 - 1))
def test_block_sums_add_row_by_row_with_int32_wrapping(starts, seed):
    rng = np.random.default_rng(seed)
    dim = 4
    acc = rng.integers(-2**31, 2**31, (64, dim)).astype(np.int32)
    sums = rng.integers(-2**40, 2**40, (len(starts), dim, dim))
    want = acc.astype(np.int64)
    for b, u in enumerate(starts):  # blocks may overlap partially or repeat
        want[u:u + dim] += sums[b]
    m = _Acc(acc.copy())
    add_block_sums(m, np.array(starts), sums.copy())
    assert np.array_equal(m.acc, want.astype(np.int32))  # int64 -> int32 wraps modulo 2**32
