"""Round-trip helpers for the C backend tests: emit a Program as C, build it with the system
cc against a recording gemmini.h, run it, and compare the recorded instruction stream with
the simulator's (gemforge.backends.gemmini.stream), exactly."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from gemforge.backends.gemmini.c import emit_c
from gemforge.backends.gemmini.program import Program
from gemforge.backends.gemmini.stream import write_instructions

HERE = Path(__file__).parent
CC = shutil.which("cc") or shutil.which("gcc")
needs_cc = pytest.mark.skipif(CC is None, reason="no C compiler (cc) on PATH: cannot build the emitted C")


# Optional: a gemmini-rocc-tests checkout; then the emitted C is also built against the
# real include/gemmini.h (its RoCC macros recording through real_gemmini/).
ROCC_TESTS = os.environ.get("GEMMINI_ROCC_TESTS")
REAL_HEADER = ("gemmini_real_record.h", [HERE / "real_gemmini", HERE, Path(ROCC_TESTS or ".")])
RECORD_HEADER = ("gemmini_record.h", [HERE])


def build_and_record(program: Program, tmp: Path, *, blob: bool = False, inputs=None, defines=(),
                     header=RECORD_HEADER, opt: str = "-O2") -> tuple[str, str]:
    """Emit, compile against a recording gemmini.h, run; return (recorded stream, stdout).
    ``opt``: the cc optimisation flag (large programs build faster at -O0)."""
    src = emit_c(program, tmp / "prog.c", name="prog", blob=blob, inputs=inputs)
    exe, rec = tmp / "prog", tmp / "prog.rec"
    # gemmini-rocc-tests' flags (gnu99, -O2, -ffast-math), warnings as errors in our file
    cmd = [CC, "-std=gnu99", opt, "-ffast-math", "-Wall", "-Werror" if header is RECORD_HEADER else "-w",
           f'-DGEMFORGE_GEMMINI_H="{header[0]}"', *[f"-I{d}" for d in header[1]], *[f"-D{d}" for d in defines],
           src.name, "-o", exe.name, "-lm"]
    built = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[:4000]
    ran = subprocess.run([str(exe)], cwd=tmp, capture_output=True, text=True, env={"GEMMINI_RECORD": str(rec)},
                         timeout=60)
    assert ran.returncode == 0, ran.stderr[:2000]
    return rec.read_text(), ran.stdout


def expected_stream(program: Program, tmp: Path) -> str:
    path = tmp / "expected.txt"
    write_instructions(program, path)
    return path.read_text()


def assert_same_stream(program: Program, tmp: Path, **kw) -> str:
    """Build and run the emitted C; its recorded stream must equal the simulator's."""
    recorded, stdout = build_and_record(program, tmp, **kw)
    expected = expected_stream(program, tmp)
    assert expected, "the program issues no instruction: the comparison would be vacuous"
    if recorded == expected:
        return stdout
    # Name the first difference: its index and both instructions, or which stream is short.
    rec_lines, exp_lines = recorded.splitlines(), expected.splitlines()
    for n, (a, b) in enumerate(zip(rec_lines, exp_lines)):
        assert a == b, f"instruction {n} of {len(exp_lines)}: C issued {a!r}, simulator {b!r}"
    assert len(rec_lines) == len(exp_lines), f"C issued {len(rec_lines)} instructions, simulator {len(exp_lines)}"
    assert recorded == expected, "streams differ only in line endings"
    return stdout
