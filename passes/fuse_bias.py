"""``fuse-bias``: fold an int32 ``graph.add`` of a per-channel constant into the bias
of the conv/matmul that produced the other operand.

``graph.add`` does not broadcast, so an importer that keeps a bias apart writes it as
a full-shaped i32 constant that repeats one [C] row along every axis but the last::

    %acc = graph.conv2d %x, %w [bias %b] ... -> tensor<1x8x8x16xi32>
    %c   = graph.constant dense<...> : tensor<1x8x8x16xi32>   # same row everywhere
    %y   = graph.add %acc, %c [activation A] : ... -> tensor<1x8x8x16xi32>
  =>
    %b2  = graph.constant dense<b + row> : tensor<16xi32>
    %y   = graph.conv2d %x, %w bias %b2 ... [activation A] -> tensor<1x8x8x16xi32>

Exact, bit for bit: the int32 add wraps around like the accumulators, so adding the
row to the result or to the bias gives the same int32 values (a residual already on
the producer is added in the same wrapped sum). The add's activation becomes the
producer's.

Not fused: a producer with an int8 result (an int8 add rounds; see
``fuse-residual``), with its own activation or pooling (they act before the add), a
bias that is not a ``graph.constant``, a constant that varies along any axis but the
last, results with other uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, i32
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from gemforge.dialects import graph as G
from gemforge.passes._fusion import EPILOGUE_OPS, constant_array, fuse, plain_epilogue, run_patterns, sole_producer


def per_channel_row(array: np.ndarray) -> np.ndarray | None:
    """The [C] row that ``array`` repeats along every axis but the last, or ``None``."""
    row = array.reshape(-1, array.shape[-1])[0] if array.size else None
    return row if row is not None and (array == row).all() else None


def wrapping_sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a + b`` in int32 with two's-complement wrap-around."""
    return (a.astype(np.int64) + b.astype(np.int64)).astype(np.uint32).astype(np.int32)


class FuseBiasPattern(RewritePattern):
    """conv2d / matmul (int32) + per-channel constant  =>  conv2d / matmul bias."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: G.AddOp, rewriter: PatternRewriter) -> None:
        if op.result.type.element_type != i32:
            return
        for acc, other in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            producer = sole_producer(acc, EPILOGUE_OPS, op)
            data = constant_array(other)
            if producer is None or data is None or producer.output_scale is not None:
                continue
            if not plain_epilogue(producer):
                continue
            row = per_channel_row(data)
            bias = np.zeros_like(row) if producer.bias is None or row is None else constant_array(producer.bias)
            if row is None or bias is None:
                continue
            new_bias = G.ConstantOp.from_numpy(wrapping_sum(bias, row))
            new_bias.result.name_hint = "bias"
            fused = producer.with_options(bias=new_bias.result, activation=op.field("activation"), clip=op.clip)
            fuse(rewriter, op, [producer], fused, before=[new_bias])
            return


@dataclass(frozen=True)
class FuseBias(ModulePass):
    """Fold an int32 per-channel constant add into the producing conv2d / matmul bias."""

    name = "fuse-bias"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        run_patterns(ctx, op, FuseBiasPattern())
