"""Fit GLOBAL target parameters to FireSim measurements of the vendor-library baseline.

Method (recorded in the JSON this writes): coordinate descent over a small grid. Start
from the target file's values; for each parameter in turn, simulate every distinct CSV
layer with each candidate value (the others held fixed) and keep the value with the
lowest mean absolute percentage error over all rows; repeat the sweep until a whole
pass changes nothing (or --passes is reached). Only global parameters of the target are
touched (memory latency and bandwidth, DMA requests in flight, unit latencies, host
issue costs, the host's cost per candidate of the library's run-time tile search): never
anything per layer. The measured build's fixed differences
(``calibration.MEASURED_BUILD``) are applied on top of every candidate, as in
firesim_calibration.py.

    python benchmarks/fit_calibration.py [--csv PATH] [--json OUT] [--write-toml]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import time
from pathlib import Path

from gemforge.backends.gemmini.library.calibration import MEASURED_BUILD, evaluate, is_matmul, summarize
from gemforge.backends.gemmini.library.firesim import DEFAULT_CSV, load_rows
from gemforge.target import SCHEMA, load

# Target attribute -> candidate values. Ranges are what is physically plausible for the
# measured SoC (FireSim, everything at 1 GHz: DRAM latency 40..200 cycles, a 64-bit memory
# bus, so at most 8 B/cycle, a 16-byte system bus, an L2 hit in 10..60 cycles).
GRID: dict[str, list] = {
    "mem_latency_cycles": [40, 50, 60, 70, 80, 100, 120, 150, 200],
    "mem_bytes_per_cycle": [3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
    "mem_l2_latency_cycles": [10, 20, 30, 45, 60],
    "mem_l2_bytes_per_cycle": [8.0, 12.0, 16.0, 32.0],
    "dma_max_inflight": [8, 16, 32],
    "host_issue_cycles": [1, 4, 16],
    # Rocket checking one candidate tile of tiled_conv_auto's run-time search: two
    # tiled_conv_total_spad_rows calls, each with two divisions and two remainders by the
    # input dilation (Rocket's divider iterates, ~35 cycles each) and ~50 other instructions.
    "host_autotile_eval_cycles": [0.0, 100.0, 150.0, 200.0, 250.0, 300.0],
}


def mape_of(target, rows, seed, max_tiles=None, workers=1, bias=True, reuse=False) -> tuple[float, dict]:
    results = evaluate(rows, target, seed=seed, max_tiles=max_tiles, workers=workers, bias=bias, operand_reuse=reuse)
    s = summarize(results)
    return s["mape"], s


def fit(target, rows, grid, passes: int, seed: int, log, max_tiles=None, workers=1, bias=True,
        reuse=False) -> tuple[object, list[dict]]:
    history = []
    best_mape, best_summary = mape_of(target, rows, seed, max_tiles, workers, bias, reuse)
    history.append({"params": {k: getattr(target, k) for k in grid}, **best_summary})
    log(f"start: MAPE {100 * best_mape:.2f}%  {_fmt(target, grid)}")
    for p in range(passes):
        changed = False
        for name, values in grid.items():
            for v in values:
                if v == getattr(target, name):
                    continue
                cand = dataclasses.replace(target, **{name: v})
                m, s = mape_of(cand, rows, seed, max_tiles, workers, bias, reuse)
                history.append({"params": {k: getattr(cand, k) for k in grid}, **s})
                log(f"pass {p + 1} {name}={v}: MAPE {100 * m:.2f}% (best {100 * best_mape:.2f}%)")
                if m < best_mape - 1e-6:
                    target, best_mape, changed = cand, m, True
        if not changed:
            break
    return target, history


def _fmt(target, grid) -> str:
    return ", ".join(f"{k}={getattr(target, k)}" for k in grid)


def write_toml(path: Path, target, names) -> None:
    """Replace ``key = value`` lines of the fitted fields, keeping comments and layout."""
    text = path.read_text()
    by_attr = {f.attr: f for f in SCHEMA}
    for name in names:
        f = by_attr[name]
        value = getattr(target, name)
        literal = repr(float(value)) if f.type is float else str(int(value))
        section = re.search(rf"^\[{f.table}\]\n(.*?)(?=^\[|\Z)", text, re.S | re.M)
        if not section:
            raise SystemExit(f"{path}: no [{f.table}] table")
        body = re.sub(rf"^({f.key}\s*=\s*)[^#\n]*?(\s*(#.*)?)$", lambda m: f"{m.group(1)}{literal}{m.group(2)}",
                      section.group(1), count=1, flags=re.M)
        text = text[:section.start(1)] + body + text[section.end(1):]
    path.write_text(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", default=str(DEFAULT_CSV))
    ap.add_argument("--target", default="gemmini-default")
    ap.add_argument("--params", default=",".join(GRID), help="comma-separated subset of: " + ", ".join(GRID))
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-tiles", type=int, default=24, help="tiles simulated per sampled layer (see "
                    "firesim_calibration.py --max-tiles)")
    ap.add_argument("--bias", action="store_true", help="compile the layers with a bias (default: without; see "
                    "firesim_calibration.py --bias)")
    ap.add_argument("--operand-reuse", action="store_true", help="compile with the current library's operand reuse "
                    "(default: without, as the measured runs; see firesim_calibration.py --operand-reuse)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--matmul-only", action="store_true", help="fit on the matmul rows only")
    ap.add_argument("--json", help="write the fit history and the result here")
    ap.add_argument("--write-toml", action="store_true", help="store the fitted values in gemforge/targets/<target>.toml")
    args = ap.parse_args(argv)
    target = load(args.target)
    rows = load_rows(args.csv)
    if args.matmul_only:
        rows = [r for r in rows if is_matmul(r)]
    grid = {k: GRID[k] for k in args.params.split(",")}
    t0 = time.time()
    fitted, history = fit(target, rows, grid, args.passes, args.seed,
                          lambda m: print(f"[{time.time() - t0:7.1f}s] {m}", file=sys.stderr, flush=True),
                          args.max_tiles, args.workers, args.bias, args.operand_reuse)
    final = history[0] | {}
    for h in history:
        if all(h["params"][k] == getattr(fitted, k) for k in grid):
            final = h
    print(f"fitted: {_fmt(fitted, grid)}")
    print(f"before: MAPE {100 * history[0]['mape']:.1f}%, Spearman {history[0]['spearman']:.3f}; "
          f"after: MAPE {100 * final['mape']:.1f}%, median APE {100 * final['median_ape']:.1f}%, "
          f"Spearman {final['spearman']:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "method": "coordinate descent over GRID, minimising MAPE over all CSV rows", "grid": grid,
            "passes": args.passes, "seed": args.seed, "max_tiles": args.max_tiles, "rows": len(rows),
            "bias": args.bias, "operand_reuse": args.operand_reuse, "build": MEASURED_BUILD, "csv": str(Path(args.csv).resolve()),
            "fitted": {k: getattr(fitted, k) for k in grid}, "before": history[0], "after": final,
            "history": history}, indent=1))
    if args.write_toml:
        path = Path(__file__).resolve().parent.parent / "gemforge" / "targets" / f"{fitted.name}.toml"
        write_toml(path, fitted, list(grid))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
