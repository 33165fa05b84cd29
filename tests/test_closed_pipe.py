"""A driver whose reader goes away early (``gemforge target | head -1``) stops quietly:
no BrokenPipeError traceback on stderr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

MLIR = Path(__file__).parent / "filecheck" / "dialects" / "graph" / "roundtrip.mlir"


@pytest.mark.parametrize("argv", [["gemforge", "target", "gemmini-32x32"], ["gemforge-opt", str(MLIR)]],
                         ids=["gemforge-target", "gemforge-opt"])
def test_closed_stdout_is_not_a_traceback(argv):
    exe = Path(sys.executable).parent / argv[0]
    # the read end is closed before the driver writes: its first flush raises EPIPE
    proc = subprocess.Popen([str(exe), *argv[1:]], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
