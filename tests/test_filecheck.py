"""Collect every FileCheck test under tests/filecheck as one pytest test per file."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent / "filecheck"
CASES = sorted(p for p in ROOT.rglob("*.mlir"))


@pytest.mark.parametrize("case", CASES, ids=[str(p.relative_to(ROOT)) for p in CASES])
def test_filecheck(case: Path):
    env = dict(os.environ)
    # The tools live beside the interpreter running the tests, activated or not.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from lit.main import main; sys.exit(main())", "-v", str(case)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
