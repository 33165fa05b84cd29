"""Calibration of the simulator against FireSim: the vendor-library baseline, layer by layer.

For every row of the FireSim CSV (shared/data/firesim): build the layer, tile it with the
baseline's auto-tiler, check the tiling against the recorded ``dse.auto_tiling``,
simulate the library's program on seeded random int8 data and compare the cycles with
``target.gemmini_auto_cycle``. Prints one line per row and a summary line; ``--json``
writes per-row results and the summary ``{tiling_exact, rows, mape, spearman,
median_ape}``; ``--plot`` draws predicted vs measured (log-log): a self-contained SVG, or a
PNG through matplotlib when the name ends in .png and matplotlib is installed.

    python benchmarks/firesim_calibration.py [--csv PATH] [--json OUT] [--plot OUT.svg] [--max-tiles N] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from gemforge.backends.gemmini.library.calibration import MEASURED_BUILD, evaluate, summarize, worst_layers
from gemforge.backends.gemmini.library.calibration_svg import scatter_svg
from gemforge.backends.gemmini.library.firesim import DEFAULT_CSV, load_rows
from gemforge.errors import GemforgeError
from gemforge.target import load


def print_table(results, summary) -> None:
    # search: candidate tiles tiled_conv_auto checks at run time (host_autotile_eval_cycles each)
    print(f"{'line':>4} {'run':<10} {'layer':<34} {'tiling':<22} {'ok':<3} {'tiles':>6} {'search':>6} "
          f"{'measured':>12} {'simulated':>12} {'APE':>7}")
    for r in results:
        pred = f"{r.predicted:12.0f}" if r.predicted is not None else f"{'-':>12}"
        ape = f"{100 * r.ape:6.1f}%" if r.ape is not None else f"{'-':>7}"
        search = "-" if r.search is None else r.search
        print(f"{r.line:>4} {r.run[:10]:<10} {r.layer:<34} {r.tiling:<22} {'yes' if r.tiling_exact else 'NO':<3} "
              f"{r.tiles:>6} {search:>6} {r.measured:12.0f} {pred} {ape}")
    # Group failures by their reason (the message's last clause), not by instruction fields.
    reasons = [r.error.rsplit(": ", 1)[-1] for r in results if r.error]
    for reason in sorted(set(reasons)):
        print(f"not simulated ({reasons.count(reason)} rows): {reason}")
    print("worst layers (simulated / measured - 1, averaged over their runs): " + ", ".join(
        f"{w['layer']} {100 * w['signed_error']:+.0f}%" for w in summary.get("worst", [])))
    print(f"summary: tiling exact {summary['tiling_exact']}/{summary['rows']}, simulated {summary['simulated']}, "
          f"MAPE {100 * summary['mape']:.1f}%, median APE {100 * summary['median_ape']:.1f}%, "
          f"Spearman {summary['spearman']:.3f}")


def plot(results, summary, path: str) -> None:
    """Predicted vs measured, log-log: PNG through matplotlib when ``path`` ends in .png and
    matplotlib is importable, otherwise a hand-written SVG (no dependency)."""
    sim = [r for r in results if r.predicted is not None]
    title = (f"gemforge vs FireSim: {len(sim)} rows, MAPE {100 * summary['mape']:.1f}%, "
             f"Spearman {summary['spearman']:.3f}")
    if path.lower().endswith(".png"):
        try:
            import matplotlib
        except ImportError:
            path = str(Path(path).with_suffix(".svg"))
            print(f"matplotlib is not installed: writing an SVG instead ({path})")
        else:
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(5, 5))
            ax.loglog([r.measured for r in sim], [r.predicted for r in sim], "o", ms=3)
            lo = min(min(r.measured, r.predicted) for r in sim)
            hi = max(max(r.measured, r.predicted) for r in sim)
            ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
            ax.fill_between([lo, hi], [0.85 * lo, 0.85 * hi], [1.15 * lo, 1.15 * hi], alpha=0.15)
            ax.set_xlabel("measured cycles (FireSim)")
            ax.set_ylabel("simulated cycles (gemforge)")
            ax.set_title(title, fontsize=8)
            fig.tight_layout()
            fig.savefig(path, dpi=150)
            print(f"wrote {path}")
            return
    Path(path).write_text(scatter_svg([(r.measured, r.predicted) for r in sim], title))
    print(f"wrote {path}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", default=str(DEFAULT_CSV), help="FireSim calibration CSV (default: %(default)s)")
    ap.add_argument("--target", default="gemmini-default", help="target TOML file or built-in name")
    ap.add_argument("--json", help="write per-row results and the summary here")
    ap.add_argument("--summary-json", help="write only the summary (no measured cycles) here: the FireSim rows come "
                    "from a public repository and stay out of this one, so this is the file to keep in git")
    ap.add_argument("--plot", help="write a predicted-vs-measured plot here: SVG (no dependency), or PNG if the name "
                    "ends in .png and matplotlib is installed")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random weights and inputs")
    ap.add_argument("--max-tiles", type=int, default=64, help="layers with more tiles are estimated from steady-state "
                    "windows totalling this many simulated tiles (see calibration.simulate_layer); 0: every tile "
                    "(hours for the largest layers); default %(default)s")
    ap.add_argument("--bias", action="store_true", help="compile the layers with a bias (the measured harness had "
                    "none: NO_BIAS; see calibration.py)")
    ap.add_argument("--operand-reuse", action="store_true", help="compile with the current library's operand reuse "
                    "(a_spad_id / b_spad_id, gemmini-rocc-tests since 2023-05-11). The default models the library the "
                    "FireSim runs used (DOSA's gemmini.h, without it); see calibration.py")
    ap.add_argument("--target-as-is", action="store_true", help="simulate the target exactly as given; by default "
                    "the measured FireSim build's differences (calibration.MEASURED_BUILD) are applied on top of it")
    ap.add_argument("--workers", type=int, default=1, help="layers simulated in parallel")
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = ap.parse_args(argv)
    try:
        target = load(args.target)
        rows = load_rows(args.csv)
        t0 = time.time()
        progress = None if args.quiet else (lambda m: print(f"[{time.time() - t0:7.1f}s] {m}", file=sys.stderr))
        build = {} if args.target_as_is else MEASURED_BUILD
        results = evaluate(rows, target, seed=args.seed, max_tiles=args.max_tiles or None, workers=args.workers,
                           bias=args.bias, operand_reuse=args.operand_reuse, progress=progress,
                           build=build)
    except GemforgeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    summary = summarize(results)
    summary["worst"] = worst_layers(results)
    print_table(results, summary)
    print(f"baseline: the vendor library {'with' if args.operand_reuse else 'without'} operand reuse "
          f"(the measured runs had none; --operand-reuse), {'with' if args.bias else 'no'} bias (--bias); target "
          f"{target.name}" + ("" if args.target_as_is else f" with the measured build's {MEASURED_BUILD} (--target-as-is)"))
    for out in (args.json, args.summary_json, args.plot):
        if out:
            Path(out).parent.mkdir(parents=True, exist_ok=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"csv": str(Path(args.csv).resolve()), "target": target.name,
                                               "max_tiles": args.max_tiles, "bias": args.bias,
                                               "operand_reuse": args.operand_reuse, "build": build, "summary": summary,
                                               "rows": [r.as_dict() for r in results]}, indent=1))
        print(f"wrote {args.json}")
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps({"target": target.name, "max_tiles": args.max_tiles,
                                                       "bias": args.bias, "operand_reuse": args.operand_reuse, "build": build,
                                                       "summary": summary}, indent=1))
        print(f"wrote {args.summary_json}")
    if args.plot:
        plot(results, summary, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
