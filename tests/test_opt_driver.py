"""gemforge-opt: bad input ends in one line naming the place and exit status 1."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def opt(*args, stdin=None):
    env = dict(os.environ, PATH=str(BIN) + os.pathsep + os.environ.get("PATH", ""))
    return subprocess.run([str(BIN / "gemforge-opt"), *args], input=stdin, capture_output=True, text=True, env=env)


def test_syntax_error_is_one_line(tmp_path):
    f = tmp_path / "bad.mlir"
    f.write_text('"builtin.module"() ({\n  %0 = arith.constant 1 : i32\n  %1 = arith.addi %0, %0 : \n}) : () -> ()\n')
    proc = opt(str(f))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"{f}:") and "error:" in lines[0]


def test_unknown_op_is_one_line(tmp_path):
    f = tmp_path / "bad.mlir"
    f.write_text('"builtin.module"() ({\n  "graph.nonsense"() : () -> ()\n}) : () -> ()\n')
    proc = opt(str(f))
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "graph.nonsense" in proc.stderr


def test_verifier_error_is_one_line(tmp_path):
    f = tmp_path / "bad.mlir"
    f.write_text('%0 = "arith.constant"() {"value" = 1 : i32} : () -> i64\n')
    proc = opt(str(f))
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_missing_file(tmp_path):
    proc = opt(str(tmp_path / "nope.mlir"))
    assert proc.returncode == 1
    assert "nope.mlir" in proc.stderr and "Traceback" not in proc.stderr


def test_unknown_pass_is_one_line(tmp_path):
    f = tmp_path / "ok.mlir"
    f.write_text("builtin.module {}\n")
    proc = opt(str(f), "-p", "no-such-pass")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("dialect", ["graph", "tile", "gemmini"])
def test_opt_knows_dialects(dialect):
    proc = opt("--help")
    assert proc.returncode == 0
    from gemforge.dialects import get_all_dialects

    assert dialect in get_all_dialects()


def test_malformed_pipeline_is_one_line(tmp_path):
    f = tmp_path / "ok.mlir"
    f.write_text("builtin.module {}\n")
    proc = opt(str(f), "-p", "allocate-scratchpad{target=/tmp/x.toml}")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "column 28" in lines[0], proc.stderr


MATMUL = """func.func @mm(%x: tensor<32x16xi8>) -> tensor<32x32xi8> {
  %w = graph.constant dense<1> : tensor<16x32xi8>
  %0 = graph.matmul %x, %w output_scale 0.5 : (tensor<32x16xi8>, tensor<16x32xi8>) -> tensor<32x32xi8>
  func.return %0 : tensor<32x32xi8>
}
"""


@pytest.mark.parametrize("pipeline", ["convert-graph-to-tile", "gemforge-pipeline"])
def test_boolean_option_from_the_command_line(tmp_path, pipeline):
    """xDSL parses `false` as a bool: the option takes it, and it changes the code (single
    buffers: larger tiles, no ping-pong)."""
    f = tmp_path / "mm.mlir"
    f.write_text(MATMUL.replace("32x16", "512x512").replace("16x32", "512x512").replace("32x32", "512x512"))
    single = opt(str(f), "-p", pipeline + "{double-buffer=false}")
    double = opt(str(f), "-p", pipeline + "{double-buffer=true}")
    assert single.returncode == 0 and double.returncode == 0, single.stderr + double.stderr
    assert single.stdout != double.stdout


def test_contradictory_forced_choices_are_named(tmp_path):
    f = tmp_path / "mm.mlir"
    f.write_text(MATMUL)
    proc = opt(str(f), "-p", "convert-graph-to-tile{form=loop double-buffer=false}")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "graph.matmul" in lines[0] and "double-buffered only" in lines[0], proc.stderr
