"""Whole networks: every light model shipped with onnx, end to end on the simulator.

    python benchmarks/models.py [--json OUT] [--models resnet50,squeezenet] [--functional] [--workers N]

For each model (seeded weights, quantized by onnxruntime, imported): compile with the
branch-and-bound schedules (``bnb``) and with the vendor library (``library``),
simulate both with timing (per layer), check both against onnxruntime on the same
quantized model, and print: nodes on the accelerator vs the host, compile and simulate
seconds, total cycles of each schedule, the speedup of bnb over the library, and the
check result. A model whose int8 adds run on the host is also run with ``--adds gemmini``
(the vendor library's tiled_resadd, not bit-exact) under both schedules: ``library`` with it
is the vendor's whole network. A model the frontend cannot import gets a row with its one-line error.
``--functional`` skips timing (cycles 0), for a quick correctness sweep. ``--workers N``
runs N models at once in separate processes (rows keep the model order; with more than one
worker the per-model seconds include contention for the machine's cores).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from concurrent.futures import ProcessPoolExecutor

from gemforge.errors import GemforgeError
from gemforge.frontends.onnx_light import light_names


def one_schedule(module, info, feeds, schedule: str, timing: bool, adds: str = "host") -> dict:
    from gemforge.frontends.onnx import quantize_inputs, to_onnx_layout
    from gemforge.network import compile_network
    from gemforge.network_model import check_against_onnxruntime, final_outputs, value_names

    net = compile_network(module, schedule=schedule, names=value_names(info), adds=adds)
    result = net.run(quantize_inputs(info, feeds), timing=timing)
    int8 = to_onnx_layout(info, result.outputs)
    check = check_against_onnxruntime(info, feeds, int8, final_outputs(info, int8))
    return {"accelerator_nodes": len(net.accelerator_nodes), "host_nodes": len(net.host_nodes),
            "compile_seconds": round(net.compile_seconds, 2), "simulate_seconds": round(result.simulate_seconds, 2),
            "compile_cpu_seconds": round(net.compile_cpu_seconds, 2),
            "simulate_cpu_seconds": round(result.simulate_cpu_seconds, 2),
            "total_cycles": result.total_cycles, "totals": result.totals(),
            "host_adds": sum(1 for n in net.host_nodes if n.op == "graph.add"),
            "check": {k: check[k] for k in ("passed", "max_abs_diff_lsb", "mismatched_fraction")}}


def bench_model(name: str, timing: bool) -> dict:
    from gemforge.frontends.onnx import load_model
    from gemforge.frontends.onnx_quantize import random_inputs

    row: dict = {"model": name}
    t0 = time.perf_counter()
    try:
        module, info = load_model(name)
    except GemforgeError as e:
        row["error"] = str(e)
        return row
    row["import_seconds"] = round(time.perf_counter() - t0, 2)
    feeds = random_inputs(info.quantized, seed=1, count=1)[0]
    for schedule in ("bnb", "library"):
        try:
            row[schedule] = one_schedule(module, info, feeds, schedule, timing)
        except GemforgeError as e:
            row[schedule] = {"error": str(e)}
    bnb, lib = row["bnb"].get("total_cycles"), row["library"].get("total_cycles")
    row["speedup"] = round(lib / bnb, 3) if bnb and lib else None
    if row["bnb"].get("host_adds"):
        for schedule in ("bnb", "library"):
            try:
                row[f"{schedule}_resadd"] = one_schedule(module, info, feeds, schedule, timing, adds="gemmini")
            except GemforgeError as e:
                row[f"{schedule}_resadd"] = {"error": str(e)}
    return row


def _print_row(r: dict) -> None:
    if "error" in r:
        print(f"{r['model']:<14} import failed: {r['error']}")
        return
    b, lib = r["bnb"], r["library"]

    def col(d, key, fmt):
        return format(d[key], fmt) if key in d else "err"

    def verdict(d):
        if "error" in d:
            return "error"
        c = d["check"]
        return f"{'ok' if c['passed'] else 'FAIL'} {c['max_abs_diff_lsb']}lsb"

    nodes = f"{b['accelerator_nodes']}/{b['host_nodes']}" if "error" not in b else "err"
    speed = f"{r['speedup']:.2f}x" if r["speedup"] else "-"
    print(f"{r['model']:<14}{nodes:>9}{col(b, 'compile_seconds', '.1f'):>9}{col(b, 'simulate_seconds', '.1f'):>8}"
          f"{col(lib, 'compile_seconds', '.1f'):>9}{col(lib, 'simulate_seconds', '.1f'):>8}"
          f"{col(b, 'total_cycles', ','):>16}{col(lib, 'total_cycles', ','):>16}{speed:>9}"
          f"  {verdict(b)} / {verdict(lib)}")
    for d, s in ((b, "bnb"), (lib, "library")):
        if "error" in d:
            print(f"{'':<14}{s}: {d['error']}")
    for s in ("bnb_resadd", "library_resadd"):
        d = r.get(s)
        if d is not None:
            print(f"{'':<14}{s}: " + (d["error"] if "error" in d else
                                      f"{d['total_cycles']:,} cycles, {d['host_nodes']} host nodes, {verdict(d)}"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write results to this JSON file")
    ap.add_argument("--models", help="comma-separated light model names (default: all)")
    ap.add_argument("--functional", action="store_true", help="no timing (cycles 0): a quick correctness sweep")
    ap.add_argument("--workers", type=int, default=1, help="models run at once, in separate processes")
    args = ap.parse_args()
    names = args.models.split(",") if args.models else light_names()
    print(f"{'model':<14}{'acc/host':>9}{'bnb c s':>9}{'sim s':>8}{'lib c s':>9}{'sim s':>8}{'bnb cycles':>16}"
          f"{'lib cycles':>16}{'speedup':>9}  check bnb / library")
    timing = not args.functional
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers) as pool:
            rows = list(pool.map(bench_model, names, [timing] * len(names)))
        for row in rows:
            _print_row(row)
    else:
        rows = []
        for name in names:
            rows.append(bench_model(name, timing))
            _print_row(rows[-1])
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": platform.platform(), "python": platform.python_version(), "workers": args.workers,
                       "models": rows}, f, indent=2)


if __name__ == "__main__":
    main()
