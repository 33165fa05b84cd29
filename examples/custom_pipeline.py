"""Build a layer in Python, lower it with a hand-written pass pipeline, watch every stage.

    python examples/custom_pipeline.py [--tiles m=32,n=64,k=64] [--target T] [--counts]

The layer (a 64x128 by 128x64 int8 matmul with bias, output scale and ReLU) is built
with the graph dialect's builders (``gemforge.dialects.graph``). Instead of
``gemforge-pipeline`` it runs the same passes spelled out, with a forced tiling and
xDSL's ``canonicalize`` and ``cse`` added:

    convert-graph-to-tile{target=T tiles="m=32,n=64,k=64"}, canonicalize,
    double-buffer, allocate-scratchpad{target=T}, convert-tile-to-gemmini{target=T}, cse

The pipeline string is parsed exactly as ``gemforge-opt -p`` parses it
(``gemforge.testing.pipeline``) and applied with an xDSL ``PassPipeline`` callback that
prints the IR after every pass (``--counts``: only the number of ops of each kind).
The result is encoded to a Program, simulated, and checked against numpy.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import replace

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType, i8
from xdsl.ir import Block, Region

from gemforge import reference, sim
from gemforge.backends.gemmini.encode import encode
from gemforge.diagnostics import one_line
from gemforge.dialects import graph
from gemforge.target import load
from gemforge.testing import context, pipeline, print_ir

M, K, N = 64, 128, 64
OUTPUT_SCALE = 0.005


def build_layer(w: np.ndarray, b: np.ndarray) -> ModuleOp:
    """func @layer(%input: tensor<MxKxi8>) -> tensor<MxNxi8>: one graph.matmul, constant weights."""
    x_type = TensorType(i8, (M, K))
    block = Block(arg_types=[x_type])
    block.args[0].name_hint = "input"
    weights, bias = graph.ConstantOp.from_numpy(w), graph.ConstantOp.from_numpy(b)
    mm = graph.MatmulOp(block.args[0], weights.result, bias.result, output_scale=OUTPUT_SCALE, activation="relu")
    block.add_ops([weights, bias, mm, func.ReturnOp(mm.result)])
    fn = func.FuncOp("layer", ([x_type], [mm.result.type]), Region(block))
    return ModuleOp([fn])


def show_stage(after, module: ModuleOp, counts: bool) -> None:
    """PassPipeline callback body: print the IR (or op counts) after ``after``."""
    title = "input (graph dialect)" if after is None else f"after {after.name}"
    print(f"// ----- {title}")
    if counts:
        ops = Counter(op.name for op in module.walk())
        print("// " + ", ".join(f"{name} {n}" for name, n in sorted(ops.items())))
    else:
        print(print_ir(module))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tiles", default="m=32,n=64,k=64", help="forced tiles of convert-graph-to-tile")
    ap.add_argument("--target", default="gemmini-default", help="built-in target name or TOML path")
    ap.add_argument("--counts", action="store_true", help="print op counts per stage instead of the IR")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    w = rng.integers(-128, 128, size=(K, N), dtype=np.int8)
    b = rng.integers(-2000, 2000, size=(N,), dtype=np.int32)
    x = rng.integers(-128, 128, size=(M, K), dtype=np.int8)
    t = f'target="{args.target}"'  # quoted: a TOML path has '/' and '.'
    spec = (f'convert-graph-to-tile{{{t} tiles="{args.tiles}"}},canonicalize,double-buffer,'
            f"allocate-scratchpad{{{t}}},convert-tile-to-gemmini{{{t}}},cse")
    print(f"// pipeline: {spec}")
    try:
        target = load(args.target)
        module = build_layer(w, b)
        module.verify()
        passes = pipeline(spec)
        # The callback gets (pass that just ran or None at the start, module, next pass or None).
        passes = replace(passes, callback=lambda prev, op, nxt: show_stage(prev, op, args.counts))
        passes.apply(context(), module)
        program = encode(module, target)
        result = sim.run(program, {"input": x}, target)
    except Exception as e:  # noqa: BLE001: a user-facing script: one line, no traceback
        print(one_line(e), file=sys.stderr)
        return 1
    want = reference.requantize(reference.matmul(x, w, b), OUTPUT_SCALE, "relu")
    ok = np.array_equal(result.outputs["output"], want)
    print(f"// tiles {args.tiles} on {target.name}: {result.cycles:,} cycles, "
          f"{'bit-exact' if ok else 'MISMATCH'} against numpy")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
