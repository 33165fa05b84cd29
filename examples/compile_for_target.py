"""Compile one conv layer for a non-default target and compare it with the default target.

    python examples/compile_for_target.py [--target gemforge/targets/gemmini-32x32.toml]
                                          [--layer N,H,W,C,K,KH,KW,STRIDE,PAD]

A target is one TOML file (see ``gemforge target <name or file>``); the scheduler, the
scratchpad allocator, the encoder and the simulator all read it, so retargeting is
``compile_layer(layer, target)`` with another Target. This script loads the given
target (a built-in name or a TOML path; the default is the 32x32 array shipped with
gemforge), prints the fields in which it differs from ``gemmini-default``, compiles the
same conv layer (same seeded weights, bias and input) for both, simulates both, checks
both against numpy, and prints cycles and the speedup.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields

import numpy as np

from gemforge import sim
from gemforge.compile import compile_layer
from gemforge.diagnostics import one_line
from gemforge.layers import ConvLayer
from gemforge.target import default, load

DEFAULT_LAYER = "1,14,14,32,64,3,3,1,1"  # a ResNet-like 3x3 conv, small enough to simulate in a second


def parse_layer(text: str) -> ConvLayer:
    n, h, w, c, k, kh, kw, s, p = (int(v) for v in text.split(","))
    return ConvLayer(n, h, w, c, k, kh, kw, stride=s, pad=p, name=f"conv{kh}x{kw}_c{c}_k{k}_s{s}")


def differences(a, b) -> list[str]:
    """``field: a -> b`` for every target field that differs."""
    return [f"{f.name}: {getattr(a, f.name)} -> {getattr(b, f.name)}" for f in fields(a)
            if f.name not in ("name", "description", "source") and getattr(a, f.name) != getattr(b, f.name)]


def compile_and_run(layer: ConvLayer, target, x: np.ndarray) -> tuple[int, bool]:
    program, info = compile_layer(layer, target, seed=0)
    result = sim.run(program, {"input": x}, target)
    return result.cycles, bool(np.array_equal(result.outputs["output"], info.expected(x)))


def main(argv: list[str] | None = None) -> int:
    from importlib import resources

    builtin_32 = str(resources.files("gemforge.targets") / "gemmini-32x32.toml")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", default=builtin_32, help="target TOML path or built-in name (default: %(default)s)")
    ap.add_argument("--layer", default=DEFAULT_LAYER, help="conv as N,H,W,C,K,KH,KW,STRIDE,PAD (default: %(default)s)")
    args = ap.parse_args(argv)
    try:
        base, other = default(), load(args.target)
        layer = parse_layer(args.layer)
        print(f"layer {layer.name}: input {layer.input_shape}, weights {layer.weight_shape}, {layer.macs:,} MACs")
        print(f"target {other.name} differs from {base.name} in:")
        for line in differences(base, other) or ["(nothing)"]:
            print(f"  {line}")
        x = np.random.default_rng(0).integers(-128, 128, size=layer.input_shape, dtype=np.int8)
        runs = {t.name: compile_and_run(layer, t, x) for t in (base, other)}
    except ValueError:
        print(f"error: --layer {args.layer!r}: expected 9 comma-separated integers", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001: a user-facing script: one line, no traceback
        print(one_line(e), file=sys.stderr)
        return 1
    for name, (cycles, ok) in runs.items():
        print(f"{name:<20}{cycles:>12,} cycles  {'bit-exact' if ok else 'MISMATCH'}")
    (c_base, _), (c_other, _) = runs[base.name], runs[other.name]
    print(f"speedup of {other.name} over {base.name}: {c_base / c_other:.2f}x")
    return 0 if all(ok for _, ok in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
