"""``gemforge run`` and ``gemforge compile``: whole ONNX networks from the command line.

    gemforge run                                   # the built-in example (ResNet-50)
    gemforge run model.onnx --check --json out.json --trace trace.json
    gemforge run squeezenet --schedule library --input x.npy --emit-dir ir/
    gemforge compile model.onnx -o build/ --emit c --emit instructions
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gemforge.errors import GemforgeError

from gemforge.layer_compile import LAYER_IR

EMIT_KINDS = ("c", "instructions")


def add_parsers(sub) -> None:
    """Register the ``run`` and ``compile`` subcommands on an argparse subparsers object."""
    r = sub.add_parser("run", help="compile and simulate an ONNX network (default: the built-in ResNet-50)")
    _common(r)
    r.add_argument("--input", metavar="NPY", help="input data: .npy (single input, float, ONNX layout) or .npz")
    r.add_argument("--check", action="store_true", help="compare every output with onnxruntime")
    r.add_argument("--json", metavar="OUT", help="write the results as JSON")
    r.add_argument("--trace", metavar="OUT", help="write a Chrome trace (open in Perfetto)")
    r.add_argument("--emit-dir", metavar="DIR", help="write the IR after each stage and the Program there")
    _layer_ir(r)
    r.add_argument("--functional", action="store_true", help="functional simulation only (no timing, faster)")
    r.add_argument("--quiet", action="store_true", help="no progress bar and no per-layer table")
    r.set_defaults(func=cmd_run)
    c = sub.add_parser("compile", help="compile an ONNX network to a Program (and IR) without simulating")
    _common(c)
    c.add_argument("-o", "--output", required=True, metavar="DIR", help="output directory")
    c.add_argument("--emit", action="append", choices=EMIT_KINDS, default=[],
                   help="also write C (program.c) or the instruction stream (program.insns); repeatable")
    _layer_ir(c)
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.set_defaults(func=cmd_compile)


def _layer_ir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--layer-ir", choices=LAYER_IR, default="all",
                   help="per-layer IR written to layers/: every pass's output (all, the default), only the "
                        "gemmini-dialect result (final), or none (printing every stage's weights is most of a "
                        "large network's compile time)")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", nargs="?", help="an .onnx file or a light model name (default: resnet50)")
    p.add_argument("--target", default="gemmini-default", help="target TOML file or built-in name")
    p.add_argument("--schedule", choices=("bnb", "library"), default="bnb",
                   help="accelerator code: branch-and-bound schedules or the vendor library")
    p.add_argument("--adds", choices=("host", "gemmini"), default="host",
                   help="where int8 residual adds run: host (exact) or gemmini (the vendor library's tiled_resadd, "
                        "which rounds twice: not bit-exact)")
    p.add_argument("--seed", type=int, default=0, help="seed of random weights (light models) and inputs")


def _bars(quiet: bool):
    from gemforge.network_progress import ProgressBar

    return ProgressBar("compile", 1, enabled=not quiet), ProgressBar("simulate", 1, enabled=not quiet)


def cmd_run(args: argparse.Namespace) -> int:
    from gemforge.network_model import run_model

    cbar, sbar = _bars(args.quiet)
    run = run_model(args.model, target=args.target, schedule=args.schedule, input_path=args.input, check=args.check,
                    timing=not args.functional, trace=bool(args.trace), emit_dir=args.emit_dir, seed=args.seed,
                    compile_progress=cbar, sim_progress=sbar, adds=args.adds,
                    layer_ir=args.layer_ir)
    sbar.close()
    if args.emit_dir:
        run.net.save(args.emit_dir)
    if args.trace:
        if run.result.trace is None:
            raise GemforgeError("--trace needs a timed simulation (drop --functional)")
        run.result.write_trace(args.trace)
    if not args.quiet:
        print(run.result.table())
    _summary(run)
    if args.json:
        Path(args.json).write_text(json.dumps(run.to_json(), indent=1))
    return 0 if run.check is None or run.check["passed"] else 1


def _summary(run) -> None:
    r, net = run.result, run.net
    how = net.schedule if net.adds == "host" else f"{net.schedule}, adds on {net.adds}"
    print(f"{run.model} on {net.target.name} ({how}): {len(net.accelerator_nodes)} nodes on the accelerator, "
          f"{len(net.host_nodes)} on the host; {r.total_cycles:,} cycles"
          f"{'' if r.timed else ' (functional run: no timing)'}; compile {net.compile_seconds:.1f} s, "
          f"simulate {r.simulate_seconds:.1f} s")
    if run.check is not None:
        c = run.check
        verdict = "PASSED" if c["passed"] else "FAILED"
        print(f"check against onnxruntime: {verdict} (max |diff| {c['max_abs_diff_lsb']} LSB, "
              f"{c['mismatched_fraction']:.4%} of elements differ; bound {c['bound']['max_lsb']} LSB on "
              f"{c['bound']['max_fraction']:.1%})")


def cmd_compile(args: argparse.Namespace) -> int:
    from gemforge.network_model import run_model

    cbar, _ = _bars(args.quiet)
    out = Path(args.output)
    run = run_model(args.model, target=args.target, schedule=args.schedule, emit_dir=out, seed=args.seed,
                    compile_progress=cbar, simulate=False, adds=args.adds, layer_ir=args.layer_ir)
    net = run.net
    net.save(out)
    written = ["program.npz", "program.txt", "partition.json", "graph.mlir", "fused.mlir"]
    for kind in dict.fromkeys(args.emit):
        if kind == "c":
            from gemforge.backends.gemmini.c import emit_c

            emit_c(net.program, out / "program.c", name=_c_name(run.model))
            written.append("program.c")
        else:
            from gemforge.backends.gemmini.stream import write_instructions

            write_instructions(net.program, out / "program.insns", net.target)
            written.append("program.insns")
    print(f"{run.model}: {len(net.accelerator_nodes)} nodes on the accelerator, {len(net.host_nodes)} on the host; "
          f"compiled in {net.compile_seconds:.1f} s; wrote {', '.join(written)}"
          f"{'' if args.layer_ir == 'none' else ' (+ layers/)'} to {out}")
    return 0


def _c_name(model: str) -> str:
    import re

    stem = re.sub(r"\.onnx$", "", model)
    name = re.sub(r"[^A-Za-z0-9_]", "_", stem)
    return name if name and not name[0].isdigit() else f"net_{name}"

