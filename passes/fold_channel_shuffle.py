"""``fold-channel-shuffle``: fold a chain of ``graph.transpose`` / ``graph.reshape`` ops
that only permutes the channels of an NHWC tensor into the constant weights of the
conv that produces or consumes it.

Pattern (ShuffleNet's channel shuffle, as imported from NCHW models)::

    %x = graph.conv2d %in, %w bias %b ... groups G ...   : -> tensor<NxHxWxCxi8>
    %0 = graph.transpose %x perm [0, 3, 1, 2]            : -> NxCxHxW
    %1 = graph.reshape %0                                : -> NxGxC/GxHxW
    %2 = graph.transpose %1 perm [0, 2, 1, 3, 4]         : -> NxC/GxGxHxW
    %3 = graph.reshape %2                                : -> NxCxHxW
    %y = graph.transpose %3 perm [0, 2, 3, 1]            : -> NxHxWxC
  =>
    %y = graph.conv2d %in, %w2 bias %b2 ... groups 1 ...

A chain is maximal: it starts at a rank-4 value ``x`` (the input of an op whose input
is not itself the one-use result of a chain op) and each intermediate value has
exactly one use, the next op (so none is a function result). It ends at the last
value ``y`` along it with ``x``'s shape (the longest such prefix that folds is taken;
the rest is a chain of its own). The chain is a *channel permutation* ``P`` when
``y[n, h, w, c] == x[n, h, w, P[c]]`` everywhere, decided by running the chain's own
reference kernels (:func:`gemforge.graph_eval.evaluate_op`) on the index array
``arange(x.size).reshape(x.shape)``: every output's index must sit at its own pixel,
and its channel part must be the same ``P`` at every pixel. Then, tried in order:

1. ``P`` is the identity: the chain is a no-op; ``y`` is replaced by ``x``.
2. Producer: ``x`` is the one-use result of a ``graph.conv2d`` with constant weight
   (and bias, if any) and no residual. Its output channels are permuted: weights
   ``dense(w)[..., P]`` with ``dense`` the block-diagonal form of a grouped (or
   depthwise) weight (:func:`~gemforge.passes._densify.block_diagonal`; a permutation
   moves channels across groups), bias ``b[P]``, ``groups 1``, and ``dense_groups G``
   (times the producer's own ``dense_groups``, if it already had one; a groups-1
   producer keeps its ``dense_groups`` as is) so the model's multiply-accumulates are
   still counted as the grouped conv's, not the dense form's G times as many. Every
   other property (output_scale, activation, clip, pooling) acts per channel and
   commutes with ``P``.
3. Consumer: ``y``'s one use is the ``input`` of a ``graph.conv2d`` with ``groups 1``
   and a constant weight. It reads ``x`` instead, with its input rows permuted by
   ``Pinv = argsort(P)``: ``sum_c y[c] w[c] = sum_d x[d] w[Pinv[d]]``, so the weight
   becomes ``w[:, :, Pinv, :]`` (its ``dense_groups``, if any, stays: permuting rows
   moves no weight into or out of the zero blocks' count).

Otherwise the chain stays. Every rewrite is exact, bit for bit (a zero weight adds
nothing to an int32 accumulator). The op now producing ``y``'s value takes ``y``'s
name hint (``x``'s if ``y`` has none; a function argument keeps its own name, which is
the function's input name).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import OpResult, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern
from xdsl.rewriter import InsertPoint

from gemforge.dialects import graph as G
from gemforge.graph_eval import evaluate_op
from gemforge.passes._densify import block_diagonal
from gemforge.passes._fusion import constant_array, erase_if_dead, run_patterns

LAYOUT_OPS = (G.TransposeOp, G.ReshapeOp)


def _shape(value: SSAValue) -> tuple[int, ...] | None:
    typ = value.type
    return tuple(typ.get_shape()) if isinstance(typ, TensorType) else None


def _next_layout_op(value: SSAValue) -> Operation | None:
    """The layout op that is the one and only use of ``value``, else ``None``."""
    if not value.has_one_use():
        return None
    user = value.get_user_of_unique_use()
    return user if isinstance(user, LAYOUT_OPS) else None


def chain_from(head: Operation) -> list[Operation] | None:
    """The maximal chain of layout ops starting at ``head``, or ``None`` if ``head``
    is not a layout op or continues a chain started earlier."""
    if not isinstance(head, LAYOUT_OPS):
        return None
    source = head.input
    if isinstance(source, OpResult) and isinstance(source.op, LAYOUT_OPS) and _next_layout_op(source) is head:
        return None
    chain = [head]
    while (nxt := _next_layout_op(chain[-1].results[0])) is not None:
        chain.append(nxt)
    return chain


def channel_permutation(chain: list[Operation]) -> np.ndarray | None:
    """``P`` with ``y[n, h, w, c] == x[n, h, w, P[c]]`` for the rank-4 input ``x`` and
    output ``y`` of ``chain``, or ``None`` if the chain is not such a permutation."""
    shape = _shape(chain[0].input)
    if shape is None or len(shape) != 4 or 0 in shape or _shape(chain[-1].results[0]) != shape:
        return None
    channels = shape[-1]
    current = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    for op in chain:
        current = evaluate_op(op, {op.input: current})
    rows = current.reshape(-1, channels)
    pixels = np.arange(rows.shape[0], dtype=np.int64)[:, None]
    if not (rows // channels == pixels).all():
        return None
    perm = rows[0] % channels
    return perm if (rows % channels == perm).all() else None


def _conv_constants(conv: G.Conv2DOp) -> tuple[np.ndarray, np.ndarray | None] | None:
    """(weight, bias or None) of ``conv`` if both are ``graph.constant`` s."""
    w = constant_array(conv.weight)
    if w is None or (conv.bias is not None and constant_array(conv.bias) is None):
        return None
    return w, constant_array(conv.bias)


def _constant(data: np.ndarray, hint: str) -> G.ConstantOp:
    const = G.ConstantOp.from_numpy(np.ascontiguousarray(data))
    const.result.name_hint = hint
    return const


def _erase_chain(rewriter: PatternRewriter, chain: list[Operation]) -> None:
    for op in reversed(chain):
        rewriter.erase(op)


def fold_into_producer(rewriter: PatternRewriter, chain: list[Operation], perm: np.ndarray) -> bool:
    """Rewrite case 2 of the module docstring; ``False`` if it does not apply."""
    x, last = chain[0].input, chain[-1]
    conv = x.owner
    if not isinstance(conv, G.Conv2DOp) or conv.residual is not None or not x.has_one_use():
        return False
    constants = _conv_constants(conv)
    if constants is None:
        return False
    w, b = constants
    dense = block_diagonal(w, conv.groups) if conv.groups > 1 else w
    # the verifier allows dense_groups only with groups 1, so at most one factor exceeds 1
    dense_groups = (conv.dense_groups or 1) * conv.groups
    new = [_constant(dense[..., perm], "weight")]
    if b is not None:
        new.append(_constant(b[perm], "bias"))
    folded = G.Conv2DOp(conv.input, new[0].result, **{
        **conv.options(), "bias": new[1].result if b is not None else None, "groups": 1,
        "dense_groups": dense_groups if dense_groups > 1 else None})
    folded.result.name_hint = last.results[0].name_hint or x.name_hint
    old_operands = list(conv.operands)
    rewriter.insert(new, InsertPoint.before(last))
    rewriter.replace(last, folded)
    _erase_chain(rewriter, chain[:-1])
    rewriter.erase(conv)
    for value in old_operands:
        erase_if_dead(rewriter, value)
    return True


def fold_into_consumer(rewriter: PatternRewriter, chain: list[Operation], perm: np.ndarray) -> bool:
    """Rewrite case 3 of the module docstring; ``False`` if it does not apply."""
    x, y = chain[0].input, chain[-1].results[0]
    if not y.has_one_use():
        return False
    conv = y.get_user_of_unique_use()
    if not isinstance(conv, G.Conv2DOp) or conv.groups != 1 or conv.input is not y:
        return False
    w = constant_array(conv.weight)
    if w is None:
        return False
    weight = _constant(w[:, :, np.argsort(perm), :], "weight")
    folded = G.Conv2DOp(x, weight.result, **conv.options())
    old_weight = conv.weight
    rewriter.insert(weight, InsertPoint.before(conv))
    rewriter.replace(conv, folded)
    _erase_chain(rewriter, chain)
    erase_if_dead(rewriter, old_weight)
    return True


def remove_identity(rewriter: PatternRewriter, chain: list[Operation]) -> None:
    """Case 1: ``y`` is ``x``; ``x``'s producer takes ``y``'s name if the chain was its
    only use (a function argument keeps its name)."""
    x, y = chain[0].input, chain[-1].results[0]
    if isinstance(x, OpResult) and x.has_one_use() and y.name_hint is not None:
        x.name_hint = y.name_hint
    rewriter.replace_all_uses_with(y, x)
    _erase_chain(rewriter, chain)


class FoldChannelShufflePattern(RewritePattern):
    """transpose / reshape chain permuting NHWC channels  =>  nothing, or permuted
    weights of the producing or consuming conv2d."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        chain = chain_from(op)
        if chain is None:
            return
        for end in range(len(chain), 0, -1):
            prefix = chain[:end]
            perm = channel_permutation(prefix)
            if perm is None:
                continue
            if (perm == np.arange(perm.size)).all():
                remove_identity(rewriter, prefix)
                return
            if fold_into_producer(rewriter, prefix, perm):
                return
            if fold_into_consumer(rewriter, prefix, perm):
                return


@dataclass(frozen=True)
class FoldChannelShuffle(ModulePass):
    """Fold transpose / reshape chains that permute NHWC channels into conv weights."""

    name = "fold-channel-shuffle"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        run_patterns(ctx, op, FoldChannelShufflePattern())
