"""``fuse-requantize``: fold a ``graph.requantize`` of an int32 conv/matmul result into
the producer's ``output_scale`` (Gemmini's move-out scaling).

Pattern::

    %acc = graph.conv2d ... : (...) -> tensor<...xi32>        # no output_scale
    %y   = graph.requantize %acc scale S : ... -> tensor<...xi8>
  =>
    %y   = graph.conv2d ... output_scale S : (...) -> tensor<...xi8>

Exact, bit for bit: requantize computes ``sat_i8(rne(f32(x) * S))`` on the int32
result, which is the epilogue's step 2 on the same int32 values (the residual, if
any, is added before both). Whatever the producer did after its accumulators stays
exact because ``f(x) = sat_i8(rne(f32(x) * S))`` is monotone non-decreasing with
``f(0) = 0``:

- an int32 ``relu`` becomes the int8 ``relu`` (``f(max(x, 0)) = max(f(x), 0)``);
- an int32 ``clip [lo, hi]`` becomes ``clip [f(lo), f(hi)]``;
- a fused max pool stays (``f`` of a max is the max of ``f``).

Not fused: a producer that already has ``output_scale`` (requantizing an int8 result
rounds twice), or whose result has other uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, i8
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from gemforge.dialects import graph as G
from gemforge.passes._fusion import EPILOGUE_OPS, activation_interval, activation_options, fuse, run_patterns, sole_producer


def requantize_scalar(x: int, scale: float) -> int:
    """``sat_i8(rne(f32(x) * f32(scale)))`` for one integer."""
    return int(np.clip(np.rint(np.float32(x) * np.float32(scale)), -128, 127))


class FuseRequantizePattern(RewritePattern):
    """conv2d / matmul (int32 result) -> requantize  =>  conv2d / matmul output_scale."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: G.RequantizeOp, rewriter: PatternRewriter) -> None:
        producer = sole_producer(op.input, EPILOGUE_OPS, op)
        if producer is None or producer.output_scale is not None:
            return
        scale = op.scale
        lo, hi = activation_interval(producer)
        interval = (requantize_scalar(lo, scale), requantize_scalar(hi, scale))
        fused = producer.with_options(output_scale=scale, **activation_options(interval, i8))
        fuse(rewriter, op, [producer], fused)


@dataclass(frozen=True)
class FuseRequantize(ModulePass):
    """Fold int32 -> int8 requantization into the producing conv2d / matmul."""

    name = "fuse-requantize"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        run_patterns(ctx, op, FuseRequantizePattern())
