"""The host-issued instruction stream of a Program, as text: one ``funct rs1 rs2`` per line.

This is the stream the simulator issues (``gemforge.sim.expand.flatten``): software loops
expanded in issue order, operands modulo 2**64, fences as funct 1000 (``isa.FENCE``),
LOOP_WS / LOOP_CONV_WS kept as their host-issued config words + start command (the
mvin / preload / compute / mvout their unrollers generate inside Gemmini are not host
instructions and are not listed).  Host kernels are not instructions and are omitted.
DRAM addresses are the Program's own (image base ``program.DRAM_BASE`` unless the
Program placed tensors elsewhere).  The C backend's recording header produces the same
text from the emitted C, which is how the two are compared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from gemforge.backends.gemmini.program import Program
from gemforge.target import Target


def issued(program: Program, target: Target | None = None) -> Iterator[tuple[int, int, int]]:
    """``(funct, rs1, rs2)`` of every host-issued instruction, in issue order."""
    from gemforge.sim.expand import HOST, flatten

    stream = flatten(program, target or _target_for(program))
    for f, r1, r2 in zip(stream.funct.tolist(), stream.rs1.tolist(), stream.rs2.tolist()):
        if f != HOST:
            yield int(f), int(r1), int(r2)


def write_instructions(program: Program, path: str | Path, target: Target | None = None) -> int:
    """Write the issued stream of ``program`` to ``path`` (decimal ``funct rs1 rs2`` lines);
    returns the number of instructions written."""
    n = 0
    with open(path, "w") as f:
        for funct, rs1, rs2 in issued(program, target):
            f.write(f"{funct} {rs1} {rs2}\n")
            n += 1
    return n


def _target_for(program: Program) -> Target:
    """The program's target when builtin, else the default (the stream does not depend on
    it: flatten reads only the host loop overhead, which is timing)."""
    from gemforge.target import TargetError, builtin, default

    try:
        return builtin(program.target_name)
    except (TargetError, KeyError, FileNotFoundError):
        return default()
