"""The dependency-free SVG of the FireSim calibration (calibration_svg) and the script's --plot."""

import csv
import importlib.util
import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gemforge.backends.gemmini.library.calibration_svg import scatter_svg
from gemforge.backends.gemmini.library.firesim import DEFAULT_CSV

NS = "{http://www.w3.org/2000/svg}"
SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "firesim_calibration.py"


def _parse(text):
    root = ET.fromstring(text)
    assert root.tag == NS + "svg"
    return root


def _box(root):
    rect = [r for r in root.iter(NS + "rect") if r.get("fill") == "none"][0]
    x, y, w, h = (float(rect.get(k)) for k in ("x", "y", "width", "height"))
    return x, y, x + w, y + h


def test_points_band_diagonal_and_decades():
    pts = [(1e3, 1.1e3), (5e4, 2e4), (2e6, 2.05e6)]
    root = _parse(scatter_svg(pts, "MAPE 1.0%, Spearman 0.9"))
    circles = list(root.iter(NS + "circle"))
    assert len(circles) == 3
    # inside the +-15% band: blue; outside: orange
    assert [c.get("fill") for c in circles] == ["#1f6fbf", "#d9541e", "#1f6fbf"]
    x0, y0, x1, y1 = _box(root)
    for c in circles:
        assert x0 <= float(c.get("cx")) <= x1 and y0 <= float(c.get("cy")) <= y1
    # decade labels from 10^2 (below 1e3 / 1.15) to 10^7 (above 2.05e6 * 1.15)
    exps = sorted({int(t.text) for t in root.iter(NS + "tspan")})
    assert exps == list(range(2, 8))
    assert len(list(root.iter(NS + "polygon"))) == 1
    diag = [ln for ln in root.iter(NS + "line") if ln.get("stroke-dasharray")][0]
    # the y = x line runs corner to corner of the square log-log box
    assert float(diag.get("x1")) == pytest.approx(x0) and float(diag.get("y1")) == pytest.approx(y1)
    assert float(diag.get("x2")) == pytest.approx(x1) and float(diag.get("y2")) == pytest.approx(y0)
    assert "MAPE 1.0%" in "".join(root.itertext())


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(1.0, 1e9), st.floats(1.0, 1e9)), min_size=1, max_size=30))
def test_every_point_is_placed_on_its_log_position(pts):
    root = _parse(scatter_svg(pts, "t"))
    x0, y0, x1, y1 = _box(root)
    exps = sorted({int(t.text) for t in root.iter(NS + "tspan")})
    a, b = exps[0], exps[-1]
    for (x, y), c in zip(pts, root.iter(NS + "circle")):
        want_x = x0 + (x1 - x0) * (math.log10(x) - a) / (b - a)
        want_y = y1 - (y1 - y0) * (math.log10(y) - a) / (b - a)
        assert float(c.get("cx")) == pytest.approx(want_x, abs=0.06)
        assert float(c.get("cy")) == pytest.approx(want_y, abs=0.06)


def test_no_points_is_an_error():
    with pytest.raises(ValueError, match="no positive points"):
        scatter_svg([(0, 5)], "t")


needs_csv = pytest.mark.skipif(not DEFAULT_CSV.is_file(), reason=f"FireSim calibration CSV not found at {DEFAULT_CSV}")


def _small_csv(tmp_path) -> Path:
    """The calibration CSV cut to its three smallest layers (a few seconds to simulate)."""
    keep = {"mm_m128_k64_n128", "mm_m128_k128_n64"}
    with open(DEFAULT_CSV, newline="") as f:
        rows = list(csv.DictReader(f))
    small = [r for r in rows if f"mm_m{r['prob.P']}_k{r['prob.C']}_n{r['prob.K']}" in keep and r["prob.Q"] == "1"]
    assert small, "the calibration CSV lost its small matmul rows"
    out = tmp_path / "small.csv"
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(small)
    return out


@needs_csv
def test_script_writes_json_and_svg(tmp_path):
    spec = importlib.util.spec_from_file_location("firesim_calibration", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "res"  # created by the script
    args = ["--csv", str(_small_csv(tmp_path)), "--json", str(out / "c.json"), "--plot", str(out / "c.png"), "--quiet"]
    assert mod.main(args) == 0
    doc = json.loads((out / "c.json").read_text())
    n = doc["summary"]["simulated"]
    assert n == len(doc["rows"]) > 0
    try:
        import matplotlib  # noqa: F401
    except ImportError:  # no matplotlib: the .png request falls back to an SVG next to it
        root = _parse((out / "c.svg").read_text())
        assert len(list(root.iter(NS + "circle"))) == n
        assert f"MAPE {100 * doc['summary']['mape']:.1f}%" in "".join(root.itertext())
    else:
        assert (out / "c.png").stat().st_size > 0
