"""Per-layer benchmark: gemforge's optimizing path vs the vendor-library baseline, on the simulator.

    python benchmarks/layers.py [--suite resnet50|mobilenetv2|bert|all] [--layers CSV]
                                [--target T] [--workers N] [--json OUT]

Every layer of the suite CSV (default ``gemforge/suites/layers.csv``, i.e.
``gemforge.layers.DEFAULT_SUITE``; ``--layers`` takes another CSV with the same columns)
is compiled twice for the target T (built-in name or TOML path; default
gemmini-default): by gemforge (``compile_layer(schedule="bnb")``, the branch-and-bound
scheduler and ``gemforge-pipeline``) and by the library baseline
(``schedule="library"``), with the same seeded weights, bias and input. Both programs
run on the simulator; the outputs are compared with the exact numpy result.

Columns (one row per layer):

* ``gemforge`` / ``library``: simulated cycles; ``speedup`` = library / gemforge.
* ``roofline``: max(MACs / DIM^2, minimum DRAM bytes / DMA bytes per cycle), where
  *minimum DRAM bytes* = input + weights + output + bias bytes, each tensor moved
  exactly once (int8 input, weights and output at ``input_bytes`` per element, int32
  bias at ``acc_bytes`` per output channel), and *DMA bytes per cycle* =
  min(target.dma_bus_bytes, target.mem_bytes_per_cycle).
* ``%roof``: roofline / gemforge cycles (gemforge's fraction of the roofline).
* ``exact``: gemforge / library output equals the numpy reference bit for bit (yes, NO,
  or ERR when it failed to compile or run; JSON ``bit_exact`` / ``library_bit_exact``).
* ``sched s``: wall seconds in the scheduler, summed over every call the pipeline made
  (it may search once per code form).
* ``model err``: cost_model_error = (model - simulated) / simulated cycles for the
  schedule gemforge lowered (the cost model's estimate of that schedule; JSON
  ``schedule_source`` says how it was identified, see ``install_schedule_probe``).
* ``limit``: what limits gemforge on the layer, from the simulator's busy cycles per
  unit (Result.busy) and the cost model's breakdown. The busiest of execute
  (``compute``), DMA transfers (``DMA bandwidth``) and host issue (``issue rate``)
  names the limit, except: ``capacity`` when the DMA is the busiest unit and the
  chosen tiling moves more than CAPACITY_RATIO times the DRAM bytes the cost model
  prices for the same layer with every tensor resident in one tile (the tiles that
  fit the scratchpad/accumulator make operands be fetched again), and ``latency``
  when no unit is busy for more than LATENCY_UTILIZATION of the cycles (fill, drain
  and serialisation dominate). ``util`` is that unit's busy fraction; ``reload`` the
  traffic ratio behind ``capacity``.

Summary per suite: geomean speedup over the library and the number of layers slower
than it (both only over layers where gemforge and the library are bit-exact: a speedup
over a wrong baseline means nothing; such speedups are marked ``*`` in the table),
geomean fraction of the roofline, bit-exact counts, limit counts.

JSON (``--json OUT``): {"layers": [{"suite", "name", "gemforge_cycles",
"library_cycles", "roofline_cycles", "bit_exact", "schedule_seconds",
"cost_model_error", ... more per-layer fields}], "summary": {"suites": {suite: {...}},
"target", "workers", "total_seconds", "failures"}}. Progress goes to stderr. Exit
status 1 if any gemforge layer failed to compile or was not bit-exact.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import sys
import time
from collections import Counter
from dataclasses import replace

import numpy as np

CAPACITY_RATIO = 1.5
LATENCY_UTILIZATION = 0.5
LIMITS = ("compute", "DMA bandwidth", "issue rate", "capacity", "latency")


# ----------------------------------------------------------------------------- roofline
def min_dram_bytes(layer, target, bias: bool = True) -> int:
    """Input + weights + output (+ int32 bias) bytes, each moved once."""
    n = lambda shape: int(np.prod(shape))  # noqa: E731
    out_c = layer.output_shape[-1]
    data = n(layer.input_shape) + n(layer.weight_shape) + n(layer.output_shape)
    return data * target.input_bytes + (out_c * target.acc_bytes if bias else 0)


def dma_bytes_per_cycle(target) -> float:
    return min(target.dma_bus_bytes, target.mem_bytes_per_cycle)


def roofline_cycles(layer, target, bias: bool = True) -> float:
    """max(MACs / DIM^2, minimum DRAM bytes / DMA bytes per cycle)."""
    return max(layer.macs / target.dim ** 2, min_dram_bytes(layer, target, bias) / dma_bytes_per_cycle(target))


# ----------------------------------------------------------------------------- schedule probe
_CALLS: list[dict] = []  # every scheduler call the tiling pass made
_CHOSEN: list = []  # the schedules it lowered


def install_schedule_probe() -> bool:
    """Record every scheduler call of the tiling pass and the schedules it chose to lower.

    The pass (and its helper modules) import the scheduler as ``run_scheduler`` and may call
    it several times per op (e.g. once per code form), keeping one result: wrapping ``run_scheduler``
    gives the calls (time, cost), wrapping ``_FunctionTiler.schedule`` the choice, so
    the benchmark never duplicates the pass's rules. Returns False if the pass no
    longer has ``run_scheduler`` (the caller then reschedules the layer itself).
    """
    try:
        from gemforge.passes import convert_graph_to_tile as cgt
    except ImportError:
        return False
    orig = getattr(cgt, "run_scheduler", None)
    if orig is None:
        return False
    if getattr(orig, "_gemforge_probe", False):
        return True

    def probe(layer, target, **kwargs):
        t0 = time.perf_counter()
        out = orig(layer, target, **kwargs)
        _CALLS.append({"layer": layer, "kwargs": kwargs, "schedule": out[0], "cost": out[1],
                       "seconds": time.perf_counter() - t0})
        return out

    probe._gemforge_probe = True
    # Every tiling module that imported the scheduler under that name (the conv forms
    # price im2col with their own reference) gets the wrapper, or its calls go unseen.
    import sys
    for name, module in list(sys.modules.items()):
        if name.startswith("gemforge.passes") and getattr(module, "run_scheduler", None) is orig:
            module.run_scheduler = probe
    tiler = getattr(cgt, "_FunctionTiler", None)
    for name in ("schedule", "lowered"):  # lowered: a schedule priced for another lowering path
        choose = getattr(tiler, name, None)
        if callable(choose):
            def chosen(self, *args, _choose=choose, **kwargs):
                sched = _choose(self, *args, **kwargs)
                _CHOSEN.append(sched)
                return sched

            setattr(tiler, name, chosen)
    return True


def _scheduled(layer, target, calls: list[dict], chosen: list) -> tuple[list[dict], float, str]:
    """(the calls whose schedule was lowered, all scheduler seconds, how they were found).

    ``probe``: matched to the pass's choice; ``cheapest``: no choice recorded, the call
    with the lowest model cost per layer; ``rescheduled``: nothing recorded, one fresh
    unconstrained call."""
    if calls:
        seconds = sum(c["seconds"] for c in calls)
        picked = [c for c in calls if any(c["schedule"] is s for s in chosen)]
        if picked:
            return picked, seconds, "probe"
        by_layer: dict = {}
        for c in calls:
            best = by_layer.get(c["layer"])
            if best is None or c["cost"].cycles < best["cost"].cycles:
                by_layer[c["layer"]] = c
        return list(by_layer.values()), seconds, "cheapest"
    from gemforge.passes.schedule import schedule

    t0 = time.perf_counter()
    sched, cost, _ = schedule(layer, target)
    return [{"layer": layer, "kwargs": {}, "schedule": sched, "cost": cost}], time.perf_counter() - t0, "rescheduled"


def resident_dram_bytes(rec: dict, target) -> float | None:
    """DRAM bytes the cost model prices for the recorded layer with every dim in one tile."""
    try:
        from gemforge.passes.schedule import estimate, problem_of

        problem = problem_of(rec["layer"])
        sched = rec["schedule"]
        full = tuple((n, t if n == "g" else problem.dim(n).size) for n, t in sched.tiles)
        kw = {k: v for k, v in rec["kwargs"].items() if k in ("bias", "residual")}
        return float(estimate(rec["layer"], replace(sched, tiles=full), target, **kw).dram_bytes)
    except Exception:  # reporting only: a changed model API must not sink the benchmark
        return None


# ----------------------------------------------------------------------------- limiter
def classify(busy: dict, cycles: int, reload_ratio: float | None) -> tuple[str, float]:
    """(limit, busy fraction of the busiest unit): see the module docstring."""
    demand = {"compute": busy.get("execute", 0.0), "DMA bandwidth": busy.get("dma", 0.0),
              "issue rate": busy.get("host", 0.0)}
    top = max(demand, key=demand.get)
    util = demand[top] / cycles if cycles else 0.0
    if util < LATENCY_UTILIZATION:
        return "latency", util
    if top == "DMA bandwidth" and reload_ratio is not None and reload_ratio > CAPACITY_RATIO:
        return "capacity", util
    return top, util


# ----------------------------------------------------------------------------- one layer
def measure(task: tuple) -> dict:
    """Compile and simulate one layer both ways; never raises (errors go in the row)."""
    index, suite, layer, target, seed = task
    from gemforge.compile import compile_layer, run

    install_schedule_probe()
    t_start = time.perf_counter()
    x = np.random.default_rng(seed + index).integers(-128, 128, size=layer.input_shape, dtype=np.int8)
    row = {"index": index, "suite": suite, "name": layer.name, "macs": layer.macs,
           "gemforge_cycles": None, "library_cycles": None,
           "roofline_cycles": roofline_cycles(layer, target), "min_dram_bytes": min_dram_bytes(layer, target),
           "bit_exact": False, "library_bit_exact": False, "schedule_seconds": None, "cost_model_error": None,
           "error": None, "library_error": None}
    try:
        _CALLS.clear()
        _CHOSEN.clear()
        t0 = time.perf_counter()
        program, info = compile_layer(layer, target, schedule="bnb", seed=seed)
        row["compile_seconds"] = time.perf_counter() - t0
        res = run(program, {"input": x}, target)
        row["gemforge_cycles"] = int(res.cycles)
        row["bit_exact"] = bool(np.array_equal(res.outputs["output"], info.expected(x)))
        row["busy"] = {u: float(b) for u, b in res.busy.items()}
        row["dram_bytes"] = int(res.dma_bytes_read + res.dma_bytes_written)
        recs, row["schedule_seconds"], row["schedule_source"] = _scheduled(layer, target, list(_CALLS), list(_CHOSEN))
        model = sum(float(r["cost"].cycles) for r in recs)
        row["scheduler_calls"] = len(_CALLS)
        row["schedules"] = [r["schedule"].to_dict() for r in recs]
        row["model_cycles"] = model
        row["model_bound"] = recs[0]["cost"].bound if len(recs) == 1 else "mixed"
        row["cost_model_error"] = (model - res.cycles) / res.cycles if res.cycles else None
        moved = [r["cost"].dram_bytes for r in recs]
        resident = [resident_dram_bytes(r, target) for r in recs]
        ratio = sum(moved) / sum(resident) if None not in resident and sum(resident) > 0 else None
        row["reload_ratio"] = ratio
        row["limit"], row["limit_utilization"] = classify(row["busy"], res.cycles, ratio)
    except Exception as e:  # noqa: BLE001: one failing layer is a row, not a crash
        row["error"] = _one_line(e)
    try:
        program, info = compile_layer(layer, target, schedule="library", seed=seed)
        res = run(program, {"input": x}, target)
        row["library_cycles"] = int(res.cycles)
        row["library_bit_exact"] = bool(np.array_equal(res.outputs["output"], info.expected(x)))
    except Exception as e:  # noqa: BLE001
        row["library_error"] = _one_line(e)
    g, lib = row["gemforge_cycles"], row["library_cycles"]
    row["speedup"] = lib / g if g and lib else None
    # A speedup over a wrong baseline means nothing: summaries use only layers where both are exact.
    row["speedup_valid"] = row["speedup"] is not None and row["bit_exact"] and row["library_bit_exact"]
    row["roofline_fraction"] = row["roofline_cycles"] / g if g else None
    row["seconds"] = time.perf_counter() - t_start
    return row


def _one_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"[:200]


def run_layers(tasks: list[tuple], workers: int, progress=sys.stderr) -> list[dict]:
    """Measure every task (largest first across ``workers`` processes); rows in task order."""
    order = sorted(tasks, key=lambda t: -t[2].macs)  # longest first: better load balance
    rows: list[dict] = []

    def report(row):
        rows.append(row)
        g, lib = row["gemforge_cycles"], row["library_cycles"]
        what = f"gemforge {_fmt(g, ',d')} library {_fmt(lib, ',d')}"
        if row["error"] or row["library_error"]:
            what += f" [{row['error'] or row['library_error']}]"
        print(f"[{len(rows)}/{len(tasks)}] {row['suite']}/{row['name']}: {what} ({row['seconds']:.1f} s)",
              file=progress, flush=True)

    if workers <= 1:
        for t in order:
            report(measure(t))
    else:
        with multiprocessing.get_context("fork").Pool(workers, initializer=install_schedule_probe) as pool:
            for row in pool.imap_unordered(measure, order):
                report(row)
    return sorted(rows, key=lambda r: r["index"])


# ----------------------------------------------------------------------------- output
def geomean(values) -> float | None:
    vals = [v for v in values if v]
    return math.exp(sum(map(math.log, vals)) / len(vals)) if vals else None


def summarize(rows: list[dict]) -> dict:
    """Per suite (and 'all'): geomean speedup and roofline fraction, slower count, limits."""
    out = {}
    suites = list(dict.fromkeys(r["suite"] for r in rows))
    for s in suites + (["all"] if len(suites) > 1 else []):
        rs = [r for r in rows if s in ("all", r["suite"])]
        valid = [r for r in rs if r["speedup_valid"]]
        out[s] = {
            "layers": len(rs),
            "geomean_speedup": geomean(r["speedup"] for r in valid),
            "speedup_layers": len(valid),
            "geomean_roofline_fraction": geomean(r["roofline_fraction"] for r in rs),
            "slower_than_library": sum(1 for r in valid if r["speedup"] < 1),
            "bit_exact": sum(1 for r in rs if r["bit_exact"]),
            "library_bit_exact": sum(1 for r in rs if r["library_bit_exact"]),
            "failed": sum(1 for r in rs if r["error"]),
            "library_failed": sum(1 for r in rs if r["library_error"]),
            "limits": dict(Counter(r.get("limit") for r in rs if r.get("limit"))),
            "mean_abs_cost_model_error": (float(np.mean([abs(r["cost_model_error"]) for r in rs]))
                                          if all(r["cost_model_error"] is not None for r in rs) and rs else None),
        }
    return out


def _fmt(v, spec: str, none: str = "-") -> str:
    return none if v is None else format(v, spec)


def _speedup(r: dict) -> str:
    """The speedup, marked '*' when a side is not bit-exact (left out of the summary)."""
    return _fmt(r["speedup"], ".2f") + ("" if r["speedup_valid"] or r["speedup"] is None else "*")


def table(rows: list[dict]) -> str:
    head = (f"{'suite':<12}{'layer':<32}{'gemforge':>11}{'library':>11}{'speedup':>8}{'roofline':>11}"
            f"{'%roof':>7}{'exact':>9}{'sched s':>8}{'model err':>10}  {'limit':<14}{'util':>5}{'reload':>7}")
    lines = [head, "-" * len(head)]
    for r in rows:
        exact = "/".join("yes" if r[k] else ("ERR" if r[e] else "NO")
                         for k, e in (("bit_exact", "error"), ("library_bit_exact", "library_error")))
        lines.append(
            f"{r['suite']:<12}{r['name'][:31]:<32}{_fmt(r['gemforge_cycles'], ',d'):>11}"
            f"{_fmt(r['library_cycles'], ',d'):>11}{_speedup(r):>8}{r['roofline_cycles']:>11,.0f}"
            f"{_fmt(r['roofline_fraction'], '.0%'):>7}{exact:>9}{_fmt(r['schedule_seconds'], '.2f'):>8}"
            f"{_fmt(r['cost_model_error'], '+.1%'):>10}  {r.get('limit') or '-':<14}"
            f"{_fmt(r.get('limit_utilization'), '.0%'):>5}{_fmt(r.get('reload_ratio'), '.1f'):>7}")
        for key, who in (("error", "gemforge"), ("library_error", "library")):
            if r[key]:
                lines.append(f"{'':<12}  {who} failed: {r[key]}")
    return "\n".join(lines)


def summary_lines(summary: dict) -> list[str]:
    lines = []
    for s, v in summary.items():
        limits = ", ".join(f"{k} {v['limits'][k]}" for k in LIMITS if k in v["limits"])
        lines.append(
            f"{s}: {v['layers']} layers, geomean speedup over library {_fmt(v['geomean_speedup'], '.3f')} "
            f"(on the {v['speedup_layers']} where both are bit-exact), "
            f"geomean fraction of roofline {_fmt(v['geomean_roofline_fraction'], '.1%')}, "
            f"slower than library {v['slower_than_library']}/{v['speedup_layers']}, bit-exact {v['bit_exact']}/{v['layers']} "
            f"(library {v['library_bit_exact']}/{v['layers']}), failed {v['failed']} (library {v['library_failed']}), "
            f"mean |model err| {_fmt(v['mean_abs_cost_model_error'], '.1%')}; limits: {limits or '-'}")
    return lines


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    from gemforge.errors import GemforgeError
    from gemforge.layers import DEFAULT_SUITE, load_suite
    from gemforge.target import load

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", default="all", help="suite column to keep: resnet50, mobilenetv2, bert or all")
    ap.add_argument("--layers", default=str(DEFAULT_SUITE), help="layer-suite CSV (default: %(default)s)")
    ap.add_argument("--target", default="gemmini-default", help="built-in target name or TOML path")
    ap.add_argument("--workers", type=int, default=2, help="parallel processes (default: 2)")
    ap.add_argument("--seed", type=int, default=0, help="seed of weights, bias and inputs")
    ap.add_argument("--json", metavar="OUT", help="write the results as JSON")
    args = ap.parse_args(argv)
    try:
        target = load(args.target)
        layers = load_suite(args.layers, args.suite)
    except GemforgeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not layers:
        print(f"error: {args.layers}: no layers in suite '{args.suite}'", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    tasks = [(i, s, layer, target, args.seed) for i, (s, layer) in enumerate(layers)]
    rows = run_layers(tasks, args.workers)
    total = time.perf_counter() - t0
    summary = summarize(rows)
    print(f"target {target.name}, {len(rows)} layers from {args.layers} (suite {args.suite})")
    print(table(rows))
    print()
    print("\n".join(summary_lines(summary)))
    failures = [r["name"] for r in rows if r["error"] or not r["bit_exact"]]
    print(f"total {total:.1f} s with {args.workers} worker(s)")
    if args.json:
        doc = {"layers": rows, "summary": {"suites": summary, "target": target.name, "workers": args.workers,
                                           "total_seconds": total, "failures": failures}}
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
    if failures:
        print(f"gemforge failed or was not bit-exact on: {', '.join(failures)}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
