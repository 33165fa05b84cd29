"""One host kernel as a whole Program, run in C and in the simulator (helpers for the host
kernel tests here): inputs and constants become tensors, the kernel writes ``y``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from gemforge import sim
from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.program import Program

from c_roundtrip import assert_same_stream


def one_op_program(kind: str, operands: list[tuple[str, np.ndarray, str]], out_shape, out_dtype: str,
                   **attrs) -> Program:
    """``kind(operands...) -> y``; each operand is (name, data, role) with role input or constant."""
    p = Program("gemmini-default", name="host_case")
    for name, data, role in operands:
        p.add_tensor(name, data.shape, data.dtype.name, role, data if role == "constant" else None)
    p.add_tensor("y", out_shape, out_dtype, "output")
    p.host(kind, [name for name, _, _ in operands], ["y"], **attrs)
    p.emit(isa.fence())  # one instruction, so the run records a stream to compare
    return p


def run_c(program: Program, inputs: dict[str, np.ndarray], tmp: Path | None = None) -> np.ndarray:
    """Build and run the program's C (gemmini-rocc-tests flags: -O2 -ffast-math); ``y`` flat."""
    if tmp is None:
        with tempfile.TemporaryDirectory() as d:
            return run_c(program, inputs, Path(d))
    stdout = assert_same_stream(program, tmp, inputs=inputs, defines=["GEMFORGE_DUMP_OUTPUTS"])
    dumps = {line.split()[1]: np.array([float(v) for v in line.split()[2:]])
             for line in stdout.splitlines() if line.startswith("dump ")}
    return dumps["y"]


def run_sim(program: Program, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """The simulator's (numpy kernels') ``y``, flat."""
    return sim.run(program, inputs, timing=False).outputs["y"].reshape(-1)
