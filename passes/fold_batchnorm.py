"""``fold-batchnorm``: fold a ``graph.batch_norm`` on a conv/matmul's int32 result into
the producer's constant weights and bias.

Pattern::

    %acc = graph.conv2d %x, %w [bias %b] ... -> tensor<...xi32>   # plain, no output_scale
    %y   = graph.batch_norm %acc, %scale, %shift                   # constants
  =>
    %y   = graph.conv2d %x, %w2 bias %b2 ...                       (+ rescaled requantizes)

with ``w``, ``b``, ``scale``, ``shift`` ``graph.constant`` results. Two cases, tried in
this order (per-channel quantities indexed by the output channel ``o``, the last axis
of the weight and of the accumulators):

1. Exact (bit for bit). When every ``scale[o]`` and ``shift[o]`` is an integer, every
   ``w * scale[o]`` fits int8, and ``|scale[o]| * (|b[o]| + 128 * sum |w[..., o]|) +
   |shift[o]| < 2**24`` (so every f32 step of the batch norm is exact for any int8
   input): ``w2 = w * scale``, ``b2 = b * scale + shift``. The result keeps its units,
   so any consumer may follow.
2. Re-quantized (unless ``exact-only=true``), as quantization tools fold batch norms
   before quantizing; the folded graph is then *the* reference, and it differs from
   the unfolded one by the weights' re-rounding. Needs every use of the batch norm
   to be a ``graph.requantize``, which absorbs the change of units. In float64::

       k   = max over o of (max |w[..., o]| * |scale[o]|) / 127      (1 if that is 0)
       w2  = sat_i8(rne(w * (scale[o] / k)))
       b2  = sat_i32(rne((b[o] * scale[o] + shift[o]) / k))
       each requantize scale S becomes f32(S * k)

   so the accumulators are in units ``k`` times the old ones. Per output, before the
   requantize rounding, the folded value differs from the unfolded one by at most
   ``S * (k * (0.5 * sum |x| + 0.5) + 0.5)`` plus f32 rounding, ``sum |x|`` over the
   inputs that output reads (weight rounding, bias rounding, the batch norm's own
   rounding); the tests check that bound.

Not folded: a producer with ``output_scale``, residual, activation or pooling (the
batch norm then does not see raw accumulators), non-constant operands, results with
other uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern
from xdsl.rewriter import InsertPoint

from gemforge.dialects import graph as G
from gemforge.dialects.graph_common import I32_MAX, I32_MIN, I8_MAX, I8_MIN
from gemforge.passes._fusion import EPILOGUE_OPS, constant_array, erase_if_dead, plain_epilogue, run_patterns, sole_producer

F32_EXACT = 2**24  # integers below this magnitude, and their sums below it, are exact in f32


def _weight_of(op: Operation):
    return op.weight if isinstance(op, G.Conv2DOp) else op.rhs


def max_accumulator(w: np.ndarray, bias: np.ndarray, conv: bool) -> np.ndarray:
    """Per output channel, the largest |accumulator| any int8 input can produce
    (conv weight: sum over all axes but the last; matmul rhs: over K, worst batch)."""
    a = np.abs(w.astype(np.int64))
    if conv:
        sums = a.reshape(-1, w.shape[-1]).sum(axis=0)
    else:
        sums = a.sum(axis=-2).reshape(-1, w.shape[-1]).max(axis=0)
    return np.abs(bias.astype(np.int64)) + 128 * sums


def exact_fold(w, bias, scale, shift, conv: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """(w2, b2) of the exact case, or ``None`` when it does not apply."""
    if not (np.array_equal(scale, np.rint(scale)) and np.array_equal(shift, np.rint(shift))):
        return None
    m, t = scale.astype(np.int64), shift.astype(np.int64)
    w2 = w.astype(np.int64) * m
    if w2.min(initial=0) < I8_MIN or w2.max(initial=0) > I8_MAX:
        return None
    if (np.abs(m) * max_accumulator(w, bias, conv) + np.abs(t) >= F32_EXACT).any():
        return None
    return w2.astype(np.int8), (bias.astype(np.int64) * m + t).astype(np.int32)


def requantized_fold(w, bias, scale, shift) -> tuple[np.ndarray, np.ndarray, float]:
    """(w2, b2, k) of the re-quantized case (module docstring), in float64."""
    m, t = scale.astype(np.float64), shift.astype(np.float64)
    reach = (np.abs(w.astype(np.float64)) * np.abs(m)).max(initial=0.0)
    k = reach / I8_MAX if reach > 0 else 1.0
    w2 = np.clip(np.rint(w * (m / k)), I8_MIN, I8_MAX).astype(np.int8)
    b2 = np.clip(np.rint((bias * m + t) / k), I32_MIN, I32_MAX).astype(np.int32)
    return w2, b2, float(k)


@dataclass
class FoldBatchNormPattern(RewritePattern):
    """conv2d / matmul (int32) -> batch_norm  =>  conv2d / matmul with folded weights."""

    exact_only: bool = False

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: G.BatchNormOp, rewriter: PatternRewriter) -> None:
        producer = sole_producer(op.input, EPILOGUE_OPS, op)
        if producer is None or producer.output_scale is not None or producer.residual is not None:
            return
        if not plain_epilogue(producer):
            return
        w = constant_array(_weight_of(producer))
        scale, shift = constant_array(op.scale), constant_array(op.shift)
        if w is None or scale is None or shift is None:
            return
        bias = np.zeros(w.shape[-1], np.int32) if producer.bias is None else constant_array(producer.bias)
        if bias is None or not (np.isfinite(scale).all() and np.isfinite(shift).all()):
            return
        exact = exact_fold(w, bias, scale, shift, isinstance(producer, G.Conv2DOp))
        requantizes = [use.operation for use in op.result.uses]
        if exact is None:
            if self.exact_only or not requantizes or not all(isinstance(u, G.RequantizeOp) for u in requantizes):
                return
            w2, b2, k = requantized_fold(w, bias, scale, shift)
            new_scales = [float(np.float32(u.scale * k)) for u in requantizes]
            if not all(np.isfinite(s) and s > 0 for s in new_scales):
                return
        else:
            (w2, b2), new_scales = exact, []
        self._rewrite(rewriter, op, producer, w2, b2, requantizes, new_scales)

    @staticmethod
    def _rewrite(rewriter, op, producer, w2, b2, requantizes, new_scales) -> None:
        weight, bias = G.ConstantOp.from_numpy(w2), G.ConstantOp.from_numpy(b2)
        weight.result.name_hint, bias.result.name_hint = "weight", "bias"
        first = producer.positional_operands()[0]
        folded = type(producer)(first, weight.result, **{**producer.options(), "bias": bias.result})
        old_operands = [*op.operands, *producer.operands]
        rewriter.insert([weight, bias], InsertPoint.before(op))
        if new_scales:
            folded.result.name_hint = op.result.name_hint
            rewriter.insert(folded, InsertPoint.before(op))
            for user, scale in zip(requantizes, new_scales):
                rewriter.replace(user, G.RequantizeOp(folded.result, scale))
            rewriter.erase(op)
        else:
            rewriter.replace(op, folded)
        rewriter.erase(producer)
        for value in old_operands:
            erase_if_dead(rewriter, value)


@dataclass(frozen=True)
class FoldBatchNorm(ModulePass):
    """Fold graph.batch_norm into the constant weights and bias of its conv2d / matmul."""

    name = "fold-batchnorm"

    exact_only: bool = False

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        run_patterns(ctx, op, FoldBatchNormPattern(self.exact_only))
