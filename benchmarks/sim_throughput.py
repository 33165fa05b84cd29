"""Simulator throughput: Gemmini instructions simulated per second of wall time.

    python benchmarks/sim_throughput.py [--json OUT] [--quick]

Runs a fixed set of large programs built with the Program builder (a 512x768x768 GEMM
written with fine-grained mvin/preload/compute/mvout in Program loops, the same GEMM with
one LOOP_WS per tile, and a ResNet-style 3x3 convolution with LOOP_CONV_WS), checks each
output against numpy, and reports instructions (after loop and unroller expansion) and
simulated cycles per second of wall time (and instructions per CPU-second, which a loaded
machine disturbs less).  ``--quick`` uses smaller sizes (for smoke tests).
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

from gemforge import sim
from gemforge.sim.programs import (conv_loop_conv_ws, conv_reference, gemm_fine, gemm_loop_ws,
                                   gemm_reference)
from gemforge.target import default


def programs(quick: bool):
    t = default()
    rng = np.random.default_rng(0)
    M, K, N = (128, 192, 192) if quick else (512, 768, 768)
    a = rng.integers(-128, 128, (M, K)).astype(np.int8)
    b = rng.integers(-128, 128, (K, N)).astype(np.int8)
    ref = gemm_reference(a, b, None, 0.001)
    yield (f"gemm_fine_{M}x{K}x{N}", gemm_fine(M, K, N, t, tile=(4, 4, 4), scale=0.001), {"A": a, "B": b}, "C", ref)
    yield (f"gemm_loop_ws_{M}x{K}x{N}", gemm_loop_ws(M, K, N, t, tile=(4, 4, 4), scale=0.001), {"A": a, "B": b},
           "C", ref)
    H, C, OC = (14, 32, 32) if quick else (56, 64, 64)
    x = rng.integers(-128, 128, (1, H, H, C)).astype(np.int8)
    w = rng.integers(-128, 128, (3, 3, C, OC)).astype(np.int8)
    bias = rng.integers(-3000, 3000, OC).astype(np.int32)
    p = conv_loop_conv_ws(1, H, H, C, OC, 3, 1, 1, t, bias=True, scale=0.002, relu=True)
    yield (f"conv3x3_loop_conv_ws_{H}x{H}x{C}->{OC}", p, {"X": x, "W": w, "bias": bias}, "Y",
           conv_reference(x, w, bias, 1, 1, 0.002, True))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write results to this JSON file")
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    args = ap.parse_args(argv)
    rows = []
    for name, prog, inputs, out_name, ref in programs(args.quick):
        t0, c0 = time.perf_counter(), time.process_time()
        res = sim.run(prog, inputs)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        rows.append(dict(name=name, instructions=res.instructions, host_issued=res.host_issued,
                         generated=res.generated, program_items=prog.count_insns(), cycles=res.cycles,
                         seconds=round(wall, 3), cpu_seconds=round(cpu, 3),
                         instructions_per_second=round(res.instructions / wall),
                         exact=bool(np.array_equal(res.outputs[out_name], ref))))
    total_i = sum(r["instructions"] for r in rows)
    total_c = sum(r["cycles"] for r in rows)
    total_s = sum(r["seconds"] for r in rows)
    total_cpu = sum(r["cpu_seconds"] for r in rows)
    summary = dict(instructions_per_second=round(total_i / total_s),
                   instructions_per_cpu_second=round(total_i / max(total_cpu, 1e-9)),
                   cycles_per_second=round(total_c / total_s),
                   instructions=total_i, cycles=total_c, seconds=round(total_s, 3),
                   cpu_seconds=round(sum(r["cpu_seconds"] for r in rows), 3), machine=platform.machine(),
                   python=platform.python_version(), programs=rows)
    print(f"{'program':<36}{'instructions':>13}{'cycles':>12}{'seconds':>9}{'insn/s':>10}  exact")
    for r in rows:
        print(f"{r['name']:<36}{r['instructions']:>13,}{r['cycles']:>12,}{r['seconds']:>9.2f}"
              f"{r['instructions_per_second']:>10,}  {r['exact']}")
    print(f"{'total':<36}{total_i:>13,}{total_c:>12,}{total_s:>9.2f}{summary['instructions_per_second']:>10,}"
          f"  ({summary['instructions_per_cpu_second']:,} per CPU-second)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
    return 0 if all(r["exact"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
