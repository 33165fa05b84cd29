"""Time the branch-and-bound scheduler over a layer suite; print a table, optionally write JSON.

Usage: python benchmarks/schedule_search.py [--suite all|resnet50|...] [--target NAME|FILE]
                                            [--csv gemforge/suites/layers.csv] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

# The search does many tiny matrix products: BLAS threads only add contention.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from gemforge.errors import GemforgeError
from gemforge.layers import DEFAULT_SUITE, load_suite
from gemforge.passes.schedule.bnb import schedule
from gemforge.target import load


def _tiles(s) -> str:
    return " ".join(f"{n}{t}" for n, t in s.tiles)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="all")
    ap.add_argument("--target", default="gemmini-default")
    ap.add_argument("--csv", default=str(DEFAULT_SUITE))
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args(argv)
    try:
        target = load(args.target)
        layers = load_suite(args.csv, args.suite)
    except GemforgeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    schedule(layers[0][1], target)  # warm imports and caches out of the first measurement
    rows = []
    hdr = f"{'suite':<12} {'layer':<32} {'ms':>8} {'cpu ms':>7} {'nodes':>7} {'Mcycles':>9} {'bound':<7} schedule"
    print(hdr)
    print("-" * len(hdr))
    for suite, layer in layers:
        sched, cost, stats = schedule(layer, target)
        rows.append({"suite": suite, "layer": layer.name, "seconds": stats["seconds"],
                     "cpu_seconds": stats["cpu_seconds"], "nodes": stats["nodes"],
                     "leaves": stats["leaves"], "pruned": stats["pruned"], "schedule": sched.to_dict(),
                     "cost": cost.to_dict()})
        print(f"{suite:<12} {layer.name:<32} {stats['seconds'] * 1e3:8.1f} {stats['cpu_seconds'] * 1e3:7.1f} "
              f"{stats['nodes']:7d} "
              f"{cost.cycles / 1e6:9.3f} {cost.bound:<7} {sched.form}/{sched.dataflow}/"
              f"{'db' if sched.double_buffer else 'sb'}/{sched.stationary} {_tiles(sched)}")
    secs = [r["seconds"] for r in rows]
    cpu = [r["cpu_seconds"] for r in rows]
    summary = {"target": target.name, "layers": len(rows), "median_seconds": statistics.median(secs),
               "max_seconds": max(secs), "max_layer": rows[secs.index(max(secs))]["layer"],
               "median_cpu_seconds": statistics.median(cpu), "max_cpu_seconds": max(cpu),
               "total_mcycles": sum(r["cost"]["cycles"] for r in rows) / 1e6}
    for suite in sorted({r["suite"] for r in rows}):
        s = [r["seconds"] for r in rows if r["suite"] == suite]
        summary[f"{suite}_median_seconds"], summary[f"{suite}_max_seconds"] = statistics.median(s), max(s)
    print(f"\nwall: median {summary['median_seconds'] * 1e3:.1f} ms, max {summary['max_seconds'] * 1e3:.1f} ms "
          f"({summary['max_layer']}); cpu: median {summary['median_cpu_seconds'] * 1e3:.1f} ms, "
          f"max {summary['max_cpu_seconds'] * 1e3:.1f} ms; {len(rows)} layers on {target.name}")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"summary": summary, "layers": rows}, f, indent=1, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
