"""Helpers of the FireSim calibration: CSV reading, statistics, tile sampling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.library import MatmulTiling, compile_layer
from gemforge.backends.gemmini.library.calibration import ranks, sampled_program, spearman, split_tiles, summarize
from gemforge.backends.gemmini.library.firesim import CalibrationDataError, load_rows
from gemforge.layers import ConvLayer, MatmulLayer
from gemforge.target import default

HEADER = ("dosa.run,prob.N,prob.C,prob.K,prob.P,prob.Q,prob.R,prob.S,prob.Hstride,prob.Wstride,"
          "dse.auto_tiling,target.gemmini_auto_cycle\n")


def test_rows_become_layers_as_the_harness_built_them(tmp_path):
    """Input P * stride, padding R // 2 (DOSA's extract_data_csv.py): the output is P, or
    P + 1 for a 2x2 kernel."""
    f = tmp_path / "c.csv"
    f.write_text(HEADER + "a,1,128,128,28,28,3,3,2,2,x,100\n" + "b,1,768,3072,128,1,1,1,1,1,y,5.5\n"
                 + "c,1,2048,1000,1,1,1,1,1,1,z,7\n" + "d,1,64,32,10,10,2,2,1,1,w,9\n")
    conv, mm, fc, two = (r.layer for r in load_rows(f))
    assert isinstance(conv, ConvLayer) and (conv.in_h, conv.pad, conv.stride, conv.out_h, conv.out_w) == (56, 1, 2, 28, 28)
    assert (two.in_h, two.pad, two.out_h) == (10, 1, 11)
    assert mm == MatmulLayer(128, 768, 3072, name=mm.name)
    assert fc == MatmulLayer(1, 2048, 1000, name=fc.name)
    assert load_rows(f)[1].measured_cycles == 5.5


def test_bad_csv_is_a_one_line_error(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("prob.N,prob.C\n1,2\n")
    with pytest.raises(CalibrationDataError, match="missing column"):
        load_rows(f)
    f.write_text(HEADER + "a,1,x,128,28,28,3,3,2,2,t,100\n")
    with pytest.raises(CalibrationDataError, match=r"c.csv:2: bad shape"):
        load_rows(f)
    with pytest.raises(CalibrationDataError, match="cannot read"):
        load_rows(tmp_path / "nope.csv")
    f.write_text(HEADER + "a,1,8,8,28,14,3,3,1,1,t,100\n")
    with pytest.raises(CalibrationDataError, match=r"c.csv:2: non-square output 28x14"):
        load_rows(f)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(-5, 5), min_size=2, max_size=30))
def test_spearman_matches_its_definition(xs):
    x = np.array(xs, float)
    y = x ** 3 + 0.5 * x  # strictly increasing: rank correlation 1 unless x is constant
    if len(set(xs)) > 1:
        assert spearman(x, y) == pytest.approx(1.0)
        assert spearman(x, -y) == pytest.approx(-1.0)
    r = ranks(x)
    assert r.sum() == pytest.approx(len(x) * (len(x) + 1) / 2)  # average ranks keep the total


def test_spearman_of_a_known_permutation():
    # d = rank differences (0, 0, 1, -1): rho = 1 - 6 * 2 / (4 * 15) = 0.8
    assert spearman([1, 2, 3, 4], [10, 20, 40, 30]) == pytest.approx(0.8)


def test_sampled_program_keeps_configs_and_whole_tiles():
    program, info = compile_layer(MatmulLayer(160, 64, 160), default(), MatmulTiling(1, 1, 2))
    head, tiles, tail = split_tiles(program)
    assert len(tiles) == info.tiles == 200 and all(len(t) == 6 for t in tiles)
    assert [x.funct for x in tail] == [isa.FENCE] and all(x.funct == isa.CONFIG for x in head)
    sampled, factor = sampled_program(program, 12, chunks=3)
    _, kept, _ = split_tiles(sampled)
    assert len(kept) == 12 and factor == pytest.approx(200 / 12)
    assert kept[0] == tiles[0] and kept[-1] == tiles[-1]
    assert sampled_program(program, 500) == (program, 1.0)


def test_summary_counts_and_errors():
    from gemforge.backends.gemmini.library.calibration import RowResult

    rows = [RowResult(i, "r", "l", 1, "t", "t", i != 2, 1, m, p, abs(p - m) / m)
            for i, (m, p) in enumerate([(100, 110), (200, 180), (400, 400)])]
    s = summarize(rows)
    assert (s["tiling_exact"], s["rows"]) == (2, 3)
    assert s["mape"] == pytest.approx((0.1 + 0.1 + 0) / 3)
    assert s["median_ape"] == pytest.approx(0.1) and s["spearman"] == pytest.approx(1.0)


def test_operand_reuse_reaches_the_library_baseline(tmp_path):
    """The calibration compiles the library as the measured runs had it (no operand reuse)
    unless asked: this conv's input fits in two reduction tiles, so with reuse it is moved in
    once instead of once per output-channel tile, and the layer gets faster."""
    from gemforge.backends.gemmini.library.calibration import evaluate

    f = tmp_path / "c.csv"
    f.write_text(HEADER + "a,1,256,96,14,14,3,3,1,1,x,1000\n")
    rows = load_rows(f)
    plain, reused = (evaluate(rows, default(), operand_reuse=r, bias=False)[0] for r in (False, True))
    assert plain.tiling == reused.tiling and plain.tiles == reused.tiles > 2
    assert reused.predicted < plain.predicted


def test_measured_build_reaches_the_simulation(tmp_path):
    """By default the calibration simulates the measured FireSim build (MEASURED_BUILD on top
    of the target); ``build={}`` simulates the target as given. A slower accumulator scale
    unit delays the scaled mvouts, so the predictions order with its latency."""
    from gemforge.backends.gemmini.library.calibration import MEASURED_BUILD, evaluate

    f = tmp_path / "m.csv"
    f.write_text(HEADER + "a,1,64,64,64,1,1,1,1,1,x,1000\n")
    rows = load_rows(f)
    t = default()
    assert MEASURED_BUILD["lat_acc_scale"] != t.lat_acc_scale
    by_default = evaluate(rows, t, bias=False)[0].predicted
    measured = evaluate(rows, t, bias=False, build=MEASURED_BUILD)[0].predicted
    as_is = evaluate(rows, t, bias=False, build={})[0].predicted
    slow = evaluate(rows, t, bias=False, build={"lat_acc_scale": 200})[0].predicted
    assert by_default == measured < as_is < slow


def test_measured_build_memories_change_placement_not_tiling(tmp_path):
    """The measured build's 4 MiB scratchpad is simulated, but the library still tiles for
    the header's default sizes. Its 3x3 weight tile (8064 rows) spills into the input's
    bank at the default's 4096-row banks and not at the build's 64K-row banks, so the
    single-ported bank's turn-taking makes the default slower."""
    from gemforge.backends.gemmini.library.calibration import evaluate

    f = tmp_path / "b.csv"
    f.write_text(HEADER + "a,1,256,256,4,4,3,3,1,1,3_3_4_4_125_112_1,1000\n")
    rows = load_rows(f)
    small, big = (evaluate(rows, default(), bias=False, build={"spad_capacity_bytes": cap})[0]
                  for cap in (default().spad_capacity_bytes, 4 << 20))
    assert small.tiling == big.tiling == "3_3_4_4_125_112_1" and small.tiling_exact and big.tiling_exact
    assert big.predicted < small.predicted


def test_a_conv_row_reports_and_pays_the_run_time_tile_search(tmp_path):
    """The measured auto call includes tiled_conv_auto's tile search on the host: each row
    reports how many candidates it checks, and the prediction pays them at the target's rate."""
    from dataclasses import replace

    from gemforge.backends.gemmini.library import conv_auto_search
    from gemforge.backends.gemmini.library.calibration import evaluate

    f = tmp_path / "s.csv"
    f.write_text(HEADER + "a,1,256,256,4,4,3,3,1,1,3_3_4_4_125_112_1,1000\n"
                 + "a,1,64,64,64,1,1,1,1,1,x,1000\n")
    rows = load_rows(f)
    free, paid = (evaluate(rows, replace(default(), host_autotile_eval_cycles=c), bias=False) for c in (0.0, 100.0))
    candidates = conv_auto_search(rows[0].layer, default(), downsample=False)[1]
    assert free[0].search == paid[0].search == candidates > 1
    assert paid[0].predicted - free[0].predicted == pytest.approx(100 * candidates, abs=1)
    assert free[1].search is None and paid[1].predicted == free[1].predicted  # a matmul: not counted


def test_a_row_that_fails_to_compile_or_simulate_is_reported_not_raised(monkeypatch):
    from gemforge import sim
    from gemforge.backends.gemmini.library import calibration as cal
    from gemforge.errors import GemforgeError

    layer, t = MatmulLayer(16, 32, 16), default()

    def no_compile(*args, **kwargs):
        raise GemforgeError("layer x: cannot tile\nmore detail")

    with monkeypatch.context() as m:
        m.setattr(cal, "compile_as_measured", no_compile)
        assert cal._simulate_or_error(layer, t, 0, None, False, False, t) == (None, 0, "layer x: cannot tile")
    compiles = []
    real = cal.compile_as_measured

    def counted(*args, **kwargs):
        compiles.append(1)
        return real(*args, **kwargs)

    def no_sim(*args, **kwargs):
        raise GemforgeError("instruction 3: not simulated")

    with monkeypatch.context() as m:
        m.setattr(cal, "compile_as_measured", counted)
        m.setattr(sim, "run", no_sim)
        cycles, tiles, error = cal._simulate_or_error(layer, t, 0, None, False, False, t)
    assert (cycles, error) == (None, "instruction 3: not simulated") and tiles >= 1 and len(compiles) == 1
    cycles, tiles2, error = cal._simulate_or_error(layer, t, 0, None, False, False, t)
    assert cycles > 0 and error is None and tiles2 == tiles
