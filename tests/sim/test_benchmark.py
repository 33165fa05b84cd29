"""The throughput benchmark runs (small sizes), checks its outputs and writes its JSON."""

import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "sim_throughput.py"


def test_sim_throughput_quick(tmp_path):
    spec = importlib.util.spec_from_file_location("sim_throughput", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "bench.json"
    assert mod.main(["--quick", "--json", str(out)]) == 0  # every program's output is exact
    doc = json.loads(out.read_text())
    assert doc["instructions_per_second"] > 0 and doc["cycles_per_second"] > 0
    assert {p["name"].split("_")[0] for p in doc["programs"]} == {"gemm", "conv3x3"}
    assert all(p["instructions"] > 0 and p["cycles"] > 0 and p["exact"] for p in doc["programs"])
