"""``fuse-activation``: fold a ``graph.relu`` or ``graph.clip`` into the activation of
the op that produced its input (``graph.conv2d``, ``graph.matmul`` or ``graph.add``).

Pattern::

    %y = graph.conv2d ... output_scale S : ... -> tensor<...xi8>
    %z = graph.relu %y : ...                       (or graph.clip %y min A max B)
  =>
    %z = graph.conv2d ... output_scale S activation relu     (or clip [A, B])

Exact, bit for bit, on int8 and int32 results alike: the epilogue applies its
activation to the final (saturated) result in the result's own units, which is what
the separate op sees. An activation already on the producer composes with the new
one: both are clamps, and clamping to ``[a, b]`` then to ``[c, d]`` is clamping to
``[clamp(a, c, d), clamp(b, c, d)]`` (written back as relu, clip or nothing). A fused
max pool stays: a clamp is monotone, so it commutes with the max.

Not fused: a producer whose result has other uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern

from gemforge.dialects import graph as G
from gemforge.dialects.graph_common import int_range
from gemforge.passes._fusion import (
    activation_interval,
    activation_options,
    compose_clamps,
    fuse,
    result_element_type,
    run_patterns,
    sole_producer,
)

ACTIVATION_PRODUCERS = (G.Conv2DOp, G.MatmulOp, G.AddOp)


class FuseActivationPattern(RewritePattern):
    """conv2d / matmul / add -> relu | clip  =>  producer with the composed activation."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if isinstance(op, G.ReluOp):
            new = (0, int_range(result_element_type(op))[1])
        elif isinstance(op, G.ClipOp):
            new = (op.min, op.max)
        else:
            return
        producer = sole_producer(op.input, ACTIVATION_PRODUCERS, op)
        if producer is None:
            return
        interval = compose_clamps(activation_interval(producer), new)
        fused = producer.with_options(**activation_options(interval, result_element_type(producer)))
        fuse(rewriter, op, [producer], fused)


@dataclass(frozen=True)
class FuseActivation(ModulePass):
    """Fold relu / clip into the activation of the producing conv2d / matmul / add."""

    name = "fuse-activation"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        run_patterns(ctx, op, FuseActivationPattern())
