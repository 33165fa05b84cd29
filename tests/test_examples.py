"""The scripts in examples/ run as a user would run them and report a bit-exact result."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(EXAMPLES / args[0]), *args[1:]], capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("mlir", ["matmul.mlir", "conv.mlir"])
def test_run_default_pipeline(mlir):
    proc = run_example("run_default_pipeline.py", str(EXAMPLES / mlir))
    assert proc.returncode == 0, proc.stderr
    assert "bit-exact" in proc.stdout
    assert f"{mlir} on gemmini-default: " in proc.stdout
    assert "utilisation" in proc.stdout  # result.summary() was printed


def test_run_default_pipeline_bad_file_is_one_line(tmp_path):
    bad = tmp_path / "bad.mlir"
    bad.write_text("func.func @f(%x: tensor<4xi8>) -> tensor<4xi8> {\n  %y = graph.nonsense %x\n}\n")
    proc = run_example("run_default_pipeline.py", str(bad))
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1 and str(bad) in proc.stderr, proc.stderr


def test_custom_pipeline_prints_every_stage():
    proc = run_example("custom_pipeline.py", "--counts")
    assert proc.returncode == 0, proc.stderr
    stages = [ln for ln in proc.stdout.splitlines() if ln.startswith("// ----- after ")]
    assert [s.split()[-1] for s in stages] == ["convert-graph-to-tile", "canonicalize", "double-buffer",
                                              "allocate-scratchpad", "convert-tile-to-gemmini", "cse"]
    assert "tiles m=32,n=64,k=64 on gemmini-default" in proc.stdout
    assert "bit-exact against numpy" in proc.stdout


def test_compile_for_target_compares_both_targets():
    proc = run_example("compile_for_target.py")
    assert proc.returncode == 0, proc.stderr
    assert "dim: 16 -> 32" in proc.stdout
    assert proc.stdout.count("bit-exact") == 2
    assert "speedup of gemmini-32x32 over gemmini-default: " in proc.stdout


@pytest.mark.parametrize("script", ["run_default_pipeline.py", "custom_pipeline.py", "compile_for_target.py"])
def test_help(script):
    proc = run_example(script, "--help")
    assert proc.returncode == 0 and "usage:" in proc.stdout
