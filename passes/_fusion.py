"""Shared pieces of the graph fusion passes: who may absorb whom, the clamp algebra of
activations, and the rewrite that swaps a producer/consumer pair for one fused op.

Every fusion matches a *consumer* op whose operand is the single-use result of a
*producer* (``graph.conv2d`` / ``graph.matmul``, or ``graph.add`` for activations),
builds the producer again with changed epilogue options (``op.with_options``), puts it
where the consumer was (so every operand it reads is already defined there) and erases
the producer, plus any ``graph.constant`` the fusion left without uses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Operation, SSAValue
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
)
from xdsl.rewriter import InsertPoint

from gemforge.dialects import graph as G
from gemforge.dialects.graph_common import int_range

EPILOGUE_OPS = (G.Conv2DOp, G.MatmulOp)


def sole_producer(value: SSAValue, kinds: tuple[type[Operation], ...], consumer: Operation) -> Operation | None:
    """The op of ``kinds`` that defines ``value`` if ``consumer`` is its one and only
    use (one use, not one user: ``add %a, %a`` does not count); else ``None``."""
    owner = value.owner
    if not isinstance(owner, kinds) or not value.has_one_use():
        return None
    return owner if value.get_user_of_unique_use() is consumer else None


def plain_epilogue(op: Operation) -> bool:
    """True if ``op`` (conv2d / matmul) applies no activation, clip or pooling, so
    anything after its accumulators (and scaling) may still be added to its epilogue."""
    pooled = isinstance(op, G.Conv2DOp) and op.pool_kernel is not None
    return op.field("activation") is None and op.field("clip") is None and not pooled


def constant_array(value: SSAValue | None) -> np.ndarray | None:
    """The data of ``value`` if a ``graph.constant`` defines it, else ``None``."""
    return value.owner.to_numpy() if value is not None and isinstance(value.owner, G.ConstantOp) else None


# --- activations as clamps ------------------------------------------------------------
#
# relu and clip on a result of integer type T are both clamps to an interval of T:
# none = [T.min, T.max], relu = [0, T.max], clip [lo, hi] = [lo, hi]. Clamps compose
# into one clamp, and commute with any monotone non-decreasing map f as
# f(clamp(x, lo, hi)) = clamp(f(x), f(lo), f(hi)), which is what makes the
# activation fusions exact.


def result_element_type(op: Operation):
    typ = op.results[0].type
    assert isinstance(typ, TensorType)
    return typ.element_type


def activation_interval(op: Operation) -> tuple[int, int]:
    """The interval that ``op``'s activation clamps its result to."""
    lo, hi = int_range(result_element_type(op))
    clip = op.field("clip")
    if clip is not None:
        return int(clip[0]), int(clip[1])
    return (0, hi) if op.field("activation") == "relu" else (lo, hi)


def compose_clamps(first: Sequence[int], then: Sequence[int]) -> tuple[int, int]:
    """The one clamp equal to clamping to ``first`` and then to ``then``."""
    lo, hi = then
    return min(max(first[0], lo), hi), min(max(first[1], lo), hi)


def activation_options(interval: Sequence[int], element_type) -> dict[str, object]:
    """``activation`` / ``clip`` options that clamp a result of ``element_type`` to
    ``interval`` (relu and no activation where they are that clamp)."""
    lo, hi = int(interval[0]), int(interval[1])
    tmin, tmax = int_range(element_type)
    if (lo, hi) == (tmin, tmax):
        return {"activation": "none", "clip": None}
    if (lo, hi) == (0, tmax):
        return {"activation": "relu", "clip": None}
    return {"activation": "none", "clip": (lo, hi)}


# --- rewriting ------------------------------------------------------------------------


def erase_if_dead(rewriter: PatternRewriter, value: SSAValue | None) -> None:
    """Erase the ``graph.constant`` defining ``value`` if nothing uses it any more."""
    if value is not None and isinstance(value.owner, G.ConstantOp) and value.first_use is None:
        rewriter.erase(value.owner)


def fuse(
    rewriter: PatternRewriter,
    consumer: Operation,
    producers: Sequence[Operation],
    fused: Operation,
    before: Sequence[Operation] = (),
) -> None:
    """Replace ``consumer`` by ``fused`` (inserting ``before`` ahead of it), then erase
    the now unused ``producers`` (listed from the consumer's operand backwards) and the
    constants that only the removed ops read."""
    consumer_operands = list(consumer.operands)
    rewriter.insert(list(before), InsertPoint.before(consumer))  # apart, so the name hint goes to fused
    rewriter.replace(consumer, fused)
    for value in consumer_operands:
        erase_if_dead(rewriter, value)
    for producer in producers:
        operands = list(producer.operands)
        rewriter.erase(producer)
        for value in operands:
            erase_if_dead(rewriter, value)


def apply_patterns(module: ModuleOp, patterns: Sequence[RewritePattern]) -> None:
    """Apply ``patterns`` greedily until none matches (each fusion enables the next).
    Like every xDSL greedy walk, this also erases pure ops whose results are unused."""
    walker = PatternRewriteWalker(GreedyRewritePatternApplier(list(patterns)), apply_recursively=True)
    walker.rewrite_module(module)


def run_patterns(_ctx: Context, module: ModuleOp, *patterns: RewritePattern) -> None:
    """The body of a fusion pass's ``apply``."""
    apply_patterns(module, patterns)
