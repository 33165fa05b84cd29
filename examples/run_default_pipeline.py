"""Compile a graph-dialect .mlir file with gemforge's default pipeline, simulate it, check it.

    python examples/run_default_pipeline.py examples/conv.mlir [--target gemmini-32x32] [--seed 1]

Steps, each one public gemforge API call:

1. parse the file (xDSL's ``Parser`` in ``gemforge.testing.context()``: every gemforge
   and xDSL dialect) and verify it;
2. keep a copy of the graph IR: it is the exact reference;
3. run ``gemforge-pipeline`` (fuse epilogues, branch-and-bound tiling, double
   buffering, scratchpad allocation, instruction selection) and encode the result to a
   Program (``gemforge.compile.compile_module``);
4. simulate the Program on seeded random inputs (``gemforge.sim.run``);
5. evaluate the graph IR copy with numpy (``gemforge.graph_eval.evaluate``) and check
   that every output matches bit for bit.

Prints the cycles and the simulator's summary (per-unit utilisation, instruction
counts). Exit status: 0 if bit-exact, 1 on a mismatch or an error (one line).
Without FILE it runs ``matmul.mlir`` next to this script.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from xdsl.parser import Parser

from gemforge import graph_eval, sim
from gemforge.compile import compile_module
from gemforge.dialects.graph_constant import NUMPY_DTYPES
from gemforge.diagnostics import one_line
from gemforge.target import load
from gemforge.testing import context


def random_inputs(func, seed: int) -> dict[str, np.ndarray]:
    """A seeded random array of the exact type of every function argument."""
    rng = np.random.default_rng(seed)
    inputs = {}
    for name, arg in zip(graph_eval.input_names(func), func.body.block.args):
        dtype, shape = NUMPY_DTYPES[arg.type.element_type], tuple(arg.type.get_shape())
        info = np.iinfo(dtype)
        low, high = max(info.min, -128), min(info.max, 127)  # int32 inputs: keep them small
        inputs[name] = rng.integers(low, high + 1, size=shape, dtype=dtype)
    return inputs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", nargs="?", default=str(Path(__file__).with_name("matmul.mlir")),
                    help="graph-dialect .mlir file (default: %(default)s)")
    ap.add_argument("--target", default="gemmini-default", help="built-in target name or TOML path")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random inputs")
    args = ap.parse_args(argv)
    try:
        target = load(args.target)
        ctx = context()
        try:
            text = Path(args.file).read_text()
        except OSError as e:
            print(f"{args.file}: error: cannot read: {e.strerror}", file=sys.stderr)
            return 1
        module = Parser(ctx, text, args.file).parse_module()  # errors name file:line:col
        module.verify()
        reference = module.clone()  # the pipeline rewrites `module` in place
        program = compile_module(module, target)
        func = graph_eval.find_function(reference)
        inputs = random_inputs(func, args.seed)
        expected = graph_eval.evaluate(reference, inputs)
        result = sim.run(program, inputs, target)
    except Exception as e:  # noqa: BLE001: a user-facing script: one line, no traceback
        print(one_line(e, args.file), file=sys.stderr)
        return 1
    # Outputs pair up by position: graph results in order, program output tensors in order.
    ok = True
    for (ref_name, want), tensor in zip(expected.items(), program.tensors_with_role("output")):
        got = result.outputs[tensor.name]
        same = got.shape == want.shape and np.array_equal(got, want)
        ok &= same
        print(f"output {tensor.name} (graph result {ref_name}) {list(got.shape)}: "
              f"{'bit-exact' if same else f'MISMATCH in {int(np.sum(got != want))} elements'}")
    print(f"{Path(args.file).name} on {target.name}: {result.cycles:,} cycles")
    print(result.summary())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
