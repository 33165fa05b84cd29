"""``fuse-residual``: fold an int8 ``graph.add`` of a conv/matmul result and another
int8 tensor into the producer's residual (Gemmini moves the scaled residual into the
accumulator and the conv accumulates on top). Off unless
``allow-approximate-residual=true``, because the fused form is never bit-exact.

Pattern (either operand of the add may be the producer)::

    %a = graph.conv2d ... output_scale So -> tensor<...xi8>         # plain epilogue
    %y = graph.add %a, %b lhs_scale Sa rhs_scale Sb output_scale Sy [activation A]
  =>
    %y = graph.conv2d ... residual %b residual_scale Rs output_scale Os [activation A]

with, in f32: ``ma = Sa / Sy``, ``mb = Sb / Sy``, ``Os = So * ma``, ``Rs = mb / Os``.

Why it cannot be exact: the add sees the conv's result already rounded and saturated
to int8, ``a = sat_i8(rne(acc * So))``, and computes
``sat_i8(rne(a * ma + b * mb))``; the fused conv computes
``sat_i8(rne((acc + rne(b * Rs)) * Os))`` with one rounding at the end. No
int32-exact form exists in the dialect either: an int32 ``graph.add`` has an int32
operand, but ``residual`` is int8.

Bound: before the final rounding the two differ by at most
``0.5 * ma + 0.5 * Os`` (+ f32 rounding), so whenever that is below 1 the results
differ by at most 1 LSB, provided the unfused conv result ``a`` did not saturate (if it
did, the fused result is the one closer to the real sum). The pass fuses only when
``ma + Os <= MAX_ERROR_SUM`` (1.99), which keeps the 1-LSB bound.

Not fused (even with the option): a producer with an int32 result, an existing
residual, its own activation or pooling (they act before the add), results with other
uses, or scales outside the bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, i8
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from gemforge.dialects import graph as G
from gemforge.passes._fusion import EPILOGUE_OPS, fuse, plain_epilogue, run_patterns, sole_producer

# 0.5 * (ma + Os) must stay below 1 with room for f32 rounding (see the module docstring).
MAX_ERROR_SUM = 1.99


def residual_scales(producer_scale: float, own_scale: float, other_scale: float, sum_scale: float):
    """(output_scale, residual_scale, ma) of the fused op, as f32 values, from the
    producer's ``output_scale`` and the add's scales for the producer's operand, the
    other operand and the sum."""
    f = np.float32
    ma = f(own_scale) / f(sum_scale)
    mb = f(other_scale) / f(sum_scale)
    out = f(producer_scale) * ma
    return float(out), float(mb / out), float(ma)


@dataclass
class FuseResidualPattern(RewritePattern):
    """conv2d / matmul (int8) + int8 tensor  =>  conv2d / matmul with residual."""

    allow_approximate: bool = False

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: G.AddOp, rewriter: PatternRewriter) -> None:
        if not self.allow_approximate or op.result.type.element_type != i8:
            return
        sides = ((op.lhs, op.rhs, op.lhs_scale, op.rhs_scale), (op.rhs, op.lhs, op.rhs_scale, op.lhs_scale))
        for acc, other, own_scale, other_scale in sides:
            producer = sole_producer(acc, EPILOGUE_OPS, op)
            if producer is None or producer.output_scale is None or producer.residual is not None:
                continue
            if not plain_epilogue(producer):
                continue
            out, res, ma = residual_scales(producer.output_scale, own_scale, other_scale, op.output_scale)
            if not ma + out <= MAX_ERROR_SUM or not np.isfinite(res) or res <= 0:
                continue
            fused = producer.with_options(
                residual=other,
                residual_scale=res,
                output_scale=out,
                activation=op.field("activation"),
                clip=op.clip,
            )
            fuse(rewriter, op, [producer], fused)
            return


@dataclass(frozen=True)
class FuseResidual(ModulePass):
    """Fold an int8 residual add into the producing conv2d / matmul (approximate; opt-in)."""

    name = "fuse-residual"

    allow_approximate_residual: bool = False

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        run_patterns(ctx, op, FuseResidualPattern(self.allow_approximate_residual))
