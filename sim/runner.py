"""``gemforge.sim.run``: expand, execute (functional), schedule (timing), report."""

from __future__ import annotations

import gc

import numpy as np

from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.decode import CONFIG_KINDS, KIND_OF_FUNCT
from gemforge.backends.gemmini.program import Program
from gemforge.sim.expand import HOST, Stream, expand_unrollers, flatten
from gemforge.sim.functional import Machine
from gemforge.sim.interpret import execute
from gemforge.sim.result import Result
from gemforge.target import Target, builtin


def expand(program: Program, target: Target) -> Stream:
    """The flat stream the simulator runs (software loops and unrollers expanded)."""
    return expand_unrollers(flatten(program, target), target)


def run(program: Program, inputs=None, target: Target | None = None, *, allow_uninitialized: bool = False,
        trace=None, timing: bool = True, arithmetic: bool = True) -> Result:
    # The passes allocate hundreds of thousands of small tuples and lists but create no
    # reference cycles; the cyclic collector's repeated scans of them cost ~10% of the run.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(program, inputs, target, allow_uninitialized, trace, timing, arithmetic)
    finally:
        if enabled:
            gc.enable()


def _run(program: Program, inputs, target: Target | None, allow_uninitialized: bool, trace, timing: bool,
         arithmetic: bool = True) -> Result:
    target = target or builtin(program.target_name)
    stream = expand(program, target)
    m = Machine(program, target, inputs, allow_uninitialized, arithmetic)
    host_costs = execute(m, stream)
    outputs = {t.name: m.dram.view(t).copy() for t in program.tensors.values() if t.role == "output"}
    counts = count_kinds(stream)
    gen = int(stream.gen.sum())
    host_issued = len(stream) - gen - int((stream.funct == HOST).sum())  # host kernels are not RoCC instructions
    if timing:
        from gemforge.sim.timing import simulate

        tm = simulate(stream, m, target, host_costs, trace is not None)
        res = Result(outputs, tm.cycles, tm.busy, counts, tm.dma_bytes_read, tm.dma_bytes_written,
                     host_issued, gen, target.name, tm.events)
    else:
        res = Result(outputs, 0, {}, counts, 0, 0, host_issued, gen, target.name)
    if trace is not None and trace is not True:
        res.write_trace(trace)
    return res


def count_kinds(stream: Stream) -> dict[str, int]:
    f = stream.funct
    counts: dict[str, int] = {}
    values, num = np.unique(f, return_counts=True)
    for v, c in zip(values.tolist(), num.tolist()):
        if v == isa.CONFIG:
            kinds = stream.rs1[f == isa.CONFIG] & np.uint64(3)
            for k, kc in zip(*np.unique(kinds, return_counts=True)):
                counts[CONFIG_KINDS[int(k)]] = int(kc)
            continue
        name = "host" if v == HOST else KIND_OF_FUNCT.get(v, f"funct{v}")
        if v in (isa.COMPUTE_PRELOADED, isa.COMPUTE_ACCUMULATED):
            name = "compute_preloaded" if v == isa.COMPUTE_PRELOADED else "compute_accumulated"
        counts[name] = counts.get(name, 0) + c
    return counts
