"""The event-driven Gemmini simulator: timing, bit-exact functional model, stats and traces.

    from gemforge import sim
    result = sim.run(program, {"A": a, "B": b})   # -> gemforge.sim.result.Result
    result.outputs["C"], result.cycles, print(result.summary()), result.write_trace("t.json")

See :func:`gemforge.sim.run.run`.
"""

from __future__ import annotations


def run(program, inputs=None, target=None, *, allow_uninitialized=False, trace=None, timing=True, arithmetic=True):
    """Simulate ``program`` (a :class:`~gemforge.backends.gemmini.program.Program`) on
    ``target`` (a Target; default: the program's target by name) with ``inputs``
    (tensor name -> array for every ``input`` tensor).  Returns a
    :class:`~gemforge.sim.result.Result`; raises :class:`~gemforge.sim.errors.SimError`
    (one line naming the instruction index, kind and fields) on a bad program.
    ``allow_uninitialized`` lets reads of never-written local rows return zeros;
    ``trace`` (a path) writes a Chrome trace; ``timing=False`` runs only the functional model;
    ``arithmetic=False`` skips the preload/compute arithmetic (the outputs are then
    meaningless, the cycles the same: for comparing the cycles of candidate programs)."""
    from gemforge.sim.runner import run as _run

    return _run(program, inputs, target, allow_uninitialized=allow_uninitialized, trace=trace, timing=timing,
                arithmetic=arithmetic)


__all__ = ["run"]
