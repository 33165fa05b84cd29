"""``gemforge run`` / ``gemforge compile`` as a user runs them (subprocesses)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
import sys

import numpy as np
import pytest
from onnx import helper, numpy_helper

from gemforge.network_testing import save_float_model


def small_model(path) -> None:
    """conv 3x3 + relu -> maxpool -> conv 1x1 -> average pool -> reshape -> gemm -> softmax."""
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("AveragePool", ["r2"], ["g"], kernel_shape=[8, 8]),
        helper.make_node("Reshape", ["g", "shape"], ["f"]),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["logits"], transB=1),
        helper.make_node("Softmax", ["logits"], ["prob"]),
    ]
    weights = {"w1": ((16, 3, 3, 3), 0.3), "b1": ((16,), 0.05), "w2": ((16, 16, 1, 1), 0.35), "b2": ((16,), 0.05),
               "wf": ((10, 16), 0.25), "bf": ((10,), 0.05)}
    save_float_model(path, nodes, weights, input_shape=(1, 3, 16, 16), output="prob", output_shape=(1, 10),
                     extra_inits=[numpy_helper.from_array(np.array([1, 16], np.int64), "shape")], name="small")


def gemforge(*args, cwd=None):
    # The installed console script, as a user runs it (``python -m`` from the repository root
    # would import the source folder gemforge/ instead of the installed package).
    exe = Path(sys.executable).parent / "gemforge"
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "small.onnx"
    small_model(path)
    return path


def test_run_check_json_trace(model, tmp_path):
    x = np.random.default_rng(5).standard_normal((1, 3, 16, 16)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    out, trace = tmp_path / "out.json", tmp_path / "trace.json"
    p = gemforge("run", model, "--input", tmp_path / "x.npy", "--check", "--json", out, "--trace", trace,
                 "--emit-dir", tmp_path / "ir")
    assert p.returncode == 0, p.stderr
    assert "PASSED" in p.stdout and "total:" in p.stdout
    data = json.loads(out.read_text())
    assert {"model", "total_cycles", "layers", "check"} <= set(data)
    assert data["model"] == "small.onnx" and data["total_cycles"] > 0
    assert data["total_cycles"] == sum(x["cycles"] for x in data["layers"])
    assert {x["where"] for x in data["layers"]} == {"accelerator", "host"}
    assert data["check"]["passed"] and data["check"]["max_abs_diff_lsb"] == 0
    assert data["check"]["mismatched_fraction"] == 0.0
    assert json.loads(trace.read_text())["traceEvents"]
    ir = tmp_path / "ir"
    assert (ir / "program.npz").exists() and (ir / "fused.mlir").exists()
    assert any(f.name.endswith("convert-tile-to-gemmini.mlir") for f in (ir / "layers").iterdir())
    # the dumps are IR that gemforge-opt reads back
    from gemforge.testing import parse

    for f in [ir / "graph.mlir", ir / "fused.mlir", *sorted((ir / "layers").iterdir())[:3]]:
        parse(f.read_text())


def test_run_without_check_has_no_check_key(model, tmp_path):
    out = tmp_path / "out.json"
    p = gemforge("run", model, "--schedule", "library", "--functional", "--quiet", "--json", out)
    assert p.returncode == 0, p.stderr
    data = json.loads(out.read_text())
    assert "check" not in data and data["schedule"] == "library" and data["adds"] == "host"


def test_run_adds_flag_is_recorded_and_checked(model, tmp_path):
    # The small model has no add: --adds gemmini changes nothing but the record; a bad value
    # is argparse's one-line error.
    out = tmp_path / "out.json"
    p = gemforge("run", model, "--adds", "gemmini", "--functional", "--quiet", "--json", out)
    assert p.returncode == 0, p.stderr
    assert json.loads(out.read_text())["adds"] == "gemmini" and "adds on gemmini" in p.stdout
    bad = gemforge("run", model, "--adds", "cpu")
    assert bad.returncode == 2 and "invalid choice: 'cpu'" in bad.stderr


def test_run_on_a_target_file(model, tmp_path):
    from importlib import resources

    toml = tmp_path / "big.toml"
    text = (resources.files("gemforge.targets") / "gemmini-32x32.toml").read_text()
    toml.write_text(text.replace('name = "gemmini-32x32"', 'name = "my-32x32"'))
    out = tmp_path / "out.json"
    p = gemforge("run", model, "--target", toml, "--check", "--functional", "--quiet", "--json", out)
    assert p.returncode == 0, p.stderr
    data = json.loads(out.read_text())
    assert data["target"] == "my-32x32" and data["check"]["passed"]


def test_compile_writes_program_ir_c_and_instructions(model, tmp_path):
    d = tmp_path / "build"
    p = gemforge("compile", model, "-o", d, "--emit", "c", "--emit", "instructions", "--quiet")
    assert p.returncode == 0, p.stderr
    for name in ("program.npz", "partition.json", "graph.mlir", "fused.mlir", "program.c", "program.insns"):
        assert (d / name).stat().st_size > 0, name
    from gemforge.backends.gemmini.program import Program

    program = Program.load(d / "program.npz")
    lines = (d / "program.insns").read_text().splitlines()
    assert len(lines) == program.count_insns() > 0


@pytest.mark.parametrize("layer_ir, stages", [("all", 6), ("final", 1), ("none", 0)])
def test_compile_layer_ir_picks_the_stages(model, tmp_path, layer_ir, stages):
    # Four accelerator layers (conv, its split-off max pool, conv, gemm); all: the graph module
    # and the five passes' results.
    d = tmp_path / "build"
    p = gemforge("compile", model, "-o", d, "--layer-ir", layer_ir, "--quiet")
    assert p.returncode == 0, p.stderr
    files = sorted((d / "layers").iterdir()) if (d / "layers").exists() else []
    names = {f.name.rsplit(".", 2)[0] for f in files}
    assert len(files) == stages * len(names) and len(names) == (4 if stages else 0)
    if layer_ir == "final":
        assert all(f.name.endswith("convert-tile-to-gemmini.mlir") for f in files)
    assert ("(+ layers/)" in p.stdout) == bool(stages)
    assert (d / "program.npz").stat().st_size > 0


def test_unwritable_output_is_one_line_error(model, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    p = gemforge("compile", model, "-o", blocker / "build", "--quiet")
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 1 and len(lines) == 1, p.stderr
    assert lines[0].startswith("error: cannot access") and str(blocker) in lines[0]


@pytest.mark.parametrize("args, words", [
    (["run", "/no/such/model.onnx"], ["/no/such/model.onnx", "no such file"]),
    (["compile", "not_a_light_model", "-o", "x"], ["not_a_light_model"]),
    (["run", "squeezenet", "--input", "/no/such.npy", "--functional"], ["/no/such.npy"]),
    (["run", "squeezenet", "--input", "wrong.npy"], ["wrong.npy", "data_0", "[1, 3, 224, 224]"]),
])
def test_bad_input_is_one_line_error(args, words, tmp_path):
    np.save(tmp_path / "wrong.npy", np.zeros((1, 3, 8, 8), np.float32))
    p = gemforge(*args, cwd=tmp_path)
    assert p.returncode == 1
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), p.stderr
    assert all(w in lines[0] for w in words)


def test_models_benchmark_smoke(tmp_path):
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "models.py"
    out = tmp_path / "models.json"
    p = subprocess.run([sys.executable, str(script), "--models", "squeezenet", "--functional", "--json", str(out)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    (row,) = json.loads(out.read_text())["models"]
    assert row["model"] == "squeezenet" and "squeezenet" in p.stdout
    # 26 convolutions on both; bnb also runs squeezenet's 3 max pools (after ReLUs) on Gemmini
    for schedule, nodes in (("bnb", 29), ("library", 26)):
        assert row[schedule]["accelerator_nodes"] == nodes and row[schedule]["check"]["passed"]
