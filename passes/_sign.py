"""Which graph values are provably >= 0 element by element (:func:`known_nonnegative`).

A padded max pool is exact on Gemmini's pooled move-out, which pools padding as 0, only
when its input is never negative; the proof walks back through the ops that keep the
sign (data movement, max, rescales by a scale >= 0, table lookups whose entries are >= 0)
to a source that is >= 0 whatever its inputs (a ReLU, an epilogue clipped at 0).

Local response normalization keeps the sign of its input when its window sum provably
stays positive in float32 (:func:`lrn_keeps_sign`): ``t = v * pow(d, -beta)`` with
``v >= 0`` is then >= 0 and finite or +inf, never NaN, and so is ``y = sat(rne(t / s))``.
"""

from __future__ import annotations

import math

from xdsl.ir import SSAValue

from gemforge.dialects import graph

_F32_UNIT = 2.0 ** -24  # float32 round-to-nearest: |fl(x) - x| <= u |fl(x)|
_F32_MAX = 3.4028234663852886e38


def lrn_keeps_sign(op: graph.LRNOp) -> bool:
    """Whether ``op`` maps every input >= 0 to an output >= 0, for any float32 evaluation
    of its steps that rounds each to nearest (fused multiply-adds only round less).

    The running window sum ``d`` is ``bias`` plus products ``a * q`` that are each added
    once and later subtracted as the same float32 value, so in exact arithmetic it is at
    least ``bias``; each of its ``size + 2 (C - 1)`` additions errs by at most ``u |s|``
    with ``|s| <= M``, the largest the sum reaches (``bias + (size + 1) * a *
    (127 * input_scale)^2``, widened by the roundings). ``d >= bias - n u M > 0`` then,
    and ``pow(d, -beta)`` must not overflow there (an infinite power times ``v = 0``
    would be NaN)."""
    size, alpha, beta, bias = op.size, op.alpha, op.beta, op.bias
    s_in, s_out = op.input_scale, op.output_scale
    params = (alpha, beta, bias, s_in, s_out)
    if not all(math.isfinite(p) for p in params) or min(alpha, beta, bias, s_in) < 0 or s_out <= 0:
        return False
    channels = op.input.type.get_shape()[-1]
    ops = size + 2 * (channels - 1)
    if ops * _F32_UNIT >= 0.5:
        return False
    # a window briefly holds size + 1 products (the next is added before the last leaves);
    # each product is at most alpha / size * (127 * input_scale)^2, widened by the roundings
    # of the scale, v, q, a, a * q and bias (generously: 10 of them)
    widen = (1 + _F32_UNIT) ** 10
    peak = (bias + (size + 1) / size * alpha * (127 * s_in) ** 2) * widen
    largest = peak / (1 - ops * _F32_UNIT)
    floor = bias * (1 - _F32_UNIT) - ops * _F32_UNIT * largest
    # float32 pow(floor, -beta) stays finite, with a factor-2 margin for powf's error
    return floor > 0 and -beta * math.log(floor) < math.log(_F32_MAX / 2)


def _relu_epilogue(op) -> bool:
    """Whether ``op`` (a conv, matmul or add) ends in a ReLU or a clip whose lower bound is
    >= 0, so its result is >= 0 whatever its inputs. In the IR a clip is the ``clip``
    property alone (``activation`` then absent), so the bounds are read, not the word."""
    names = {f.name for f in getattr(op, "FIELDS", ())}
    if "activation" not in names:
        return False
    clip = op.field("clip") if "clip" in names else None
    return op.field("activation") == "relu" or (clip is not None and clip[0] >= 0)


def _scale_keeps_sign(scale) -> bool:
    """A rescale by ``scale`` maps x >= 0 to rne(x * scale) >= 0 (absent, negative or
    non-finite scales prove nothing)."""
    return scale is not None and math.isfinite(scale) and scale >= 0


def _nonnegative_needs(op) -> tuple[SSAValue, ...] | None:
    """What must be >= 0 for every element of ``op``'s result to be: () when it is
    whatever the inputs (a ReLU, an epilogue clipped at 0), the inputs whose
    non-negativity carries through (data movement, max, a rescale by a scale >= 0, an
    LRN whose window sum stays positive, a lookup whose entries for x >= 0 are >= 0),
    None when unknown. Each rule follows the op's docstring in ``gemforge.dialects``."""
    if isinstance(op, graph.ReluOp) or _relu_epilogue(op):
        return ()
    if isinstance(op, graph.ClipOp):
        # min(max(x, lo), hi): >= 0 when lo >= 0; else when x >= 0 and hi >= 0
        return () if op.min >= 0 else (op.input,) if op.max >= 0 else None
    if isinstance(op, graph.ConcatOp):
        return tuple(op.inputs)
    if isinstance(op, (graph.ReshapeOp, graph.TransposeOp, graph.MaxPoolOp)):
        return (op.input,)
    if isinstance(op, graph.PadOp):
        return (op.input,) if op.value >= 0 else None
    if isinstance(op, (graph.AvgPoolOp, graph.GlobalAvgPoolOp, graph.RequantizeOp)):
        return (op.input,) if _scale_keeps_sign(op.scale) else None
    if isinstance(op, graph.LRNOp):
        return (op.input,) if lrn_keeps_sign(op) else None
    if isinstance(op, graph.LutOp):  # table[c, x + 128]: >= 0 whatever x when every entry is,
        table = op.table.owner         # for x >= 0 when the entries of x >= 0 are
        if not isinstance(table, graph.ConstantOp):
            return None
        t = table.to_numpy()
        return () if t.min() >= 0 else tuple(op.inputs) if t[:, 128:].min() >= 0 else None
    return None


def known_nonnegative(value: SSAValue) -> bool:
    """Whether every element of ``value`` is provably >= 0: it comes from a ReLU or an
    epilogue clipped at 0 through ops that keep the sign (:func:`_nonnegative_needs`).
    Function arguments and other ops are unknown (False). An explicit work list, not
    recursion: networks chain hundreds of ops."""
    todo, seen = [value], {value}
    while todo:
        needs = _nonnegative_needs(todo.pop().owner)
        if needs is None:
            return False
        for v in needs:
            if v not in seen:
                seen.add(v)
                todo.append(v)
    return True
