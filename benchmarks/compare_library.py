"""Cycles of gemforge (bnb) vs the vendor library per layer of benchmarks/layers.csv: python benchmarks/compare_library.py [suite] [layer names...]."""
import sys, time, math, json
import numpy as np
from gemforge.compile import compile_layer, run
from gemforge.layers import load_suite
from gemforge.target import default
t = default()
suite = sys.argv[1] if len(sys.argv) > 1 else "all"
only = sys.argv[2:] 
rows = []
for s, layer in load_suite(suite=suite):
    if only and layer.name not in only:
        continue
    x = np.random.default_rng(0).integers(-128, 128, size=layer.input_shape, dtype=np.int8)
    res = {}
    for sched in ("library", "bnb"):
        t0 = time.time()
        try:
            prog, info = compile_layer(layer, t, schedule=sched)
            tc = time.time() - t0
            r = run(prog, {"input": x}, t)
            ok = np.array_equal(r.outputs["output"], info.expected(x))
            res[sched] = (r.cycles, ok, tc, time.time() - t0 - tc, prog.count_insns())
        except Exception as e:
            res[sched] = (None, False, 0, 0, str(e)[:80])
    lib, bnb = res["library"], res["bnb"]
    sp = lib[0] / bnb[0] if lib[0] and bnb[0] else float("nan")
    print(f"{s:12s} {layer.name:32s} lib {lib[0]} ok={lib[1]}  bnb {bnb[0]} ok={bnb[1]} speedup {sp:.2f}  "
          f"(compile {bnb[2]:.1f}s sim {bnb[3]:.1f}s insns {bnb[4]})", flush=True)
    rows.append((s, layer.name, lib[0], bnb[0], sp))
for s in sorted({r[0] for r in rows}):
    sps = [r[4] for r in rows if r[0] == s and r[4] == r[4]]
    if sps:
        print(f"{s}: geomean speedup {math.exp(sum(map(math.log, sps)) / len(sps)):.3f} over {len(sps)} layers, min {min(sps):.2f}")
