"""The rewrites of ``fold-lut`` that take channel concatenations and unary producers into
the lookups that read them (DenseNet's dense blocks: ``lut(concat(prev, requantize(y)))``
chained over a block copies every concat in full, quadratically in the block length).

- :class:`FlattenConcat`: ``concat(.., concat(a, b), ..)`` on the same axis reads ``a``
  and ``b`` directly.
- :class:`AbsorbConcat`: a ``graph.lut`` input that is a concat on the last axis is
  replaced by the concat's inputs (a lookup's inputs are joined on the last axis anyway).
- :class:`AbsorbProducer`: a ``graph.lut`` input computed by a chain of unary per-channel
  int8 ops (:func:`gemforge.passes._lut_chain.lut_input`) is replaced by the chain's input
  and the chain composed into that input's rows of the table: ``T'[c, v] = T[c, f_c(v)]``.
- :class:`ConcatToLut`: a last-axis int8 concat one of whose inputs is computed by a unary
  chain that nothing else reads (Inception's and SqueezeNet's branch outputs requantized to
  the concat's scale) becomes a lookup with the identity table, which then absorbs the
  chain: the concat's one pass over its elements does the requantize too. Not when the
  concat is read by a lookup or a concat, which take it apart themselves.
- :class:`EraseDead`: a Pure graph op (constants included) whose results are unused goes.

Each is exact (an index permutation, or a composition of exact tables) and applies even
when the concat or the chain has other readers: those keep it; once nothing reads it,
:class:`EraseDead` removes it. None adds host work: a lookup still reads each of its
elements once.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import i8
from xdsl.ir import Operation, SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern
from xdsl.traits import Pure

from gemforge.dialects import graph as G
from gemforge.dialects.graph_lut import LUT_ENTRIES
from gemforge.passes._lut_chain import chain_table, compact, lut_input


def _concat_on(value: SSAValue, axis: int) -> G.ConcatOp | None:
    """The ``graph.concat`` producing ``value`` if it joins along ``axis``, else ``None``."""
    owner = value.owner
    return owner if isinstance(owner, G.ConcatOp) and owner.axis == axis else None


def _spliced(values, axis: int) -> list[SSAValue] | None:
    """``values`` with each concat on ``axis`` replaced by its inputs; ``None`` if none is."""
    if not any(_concat_on(v, axis) for v in values):
        return None
    out: list[SSAValue] = []
    for v in values:
        concat = _concat_on(v, axis)
        out.extend(concat.inputs if concat is not None else (v,))
    return out


class FlattenConcat(RewritePattern):
    """``concat(.., concat(a, b), ..)`` on one axis -> ``concat(.., a, b, ..)``."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: G.ConcatOp, rewriter: PatternRewriter) -> None:
        inputs = _spliced(op.inputs, op.axis)
        if inputs is not None:
            rewriter.replace(op, G.ConcatOp(inputs, op.axis))


class AbsorbConcat(RewritePattern):
    """``lut(.., concat(a, b), .., T)`` on the last axis -> ``lut(.., a, b, .., T)``."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: G.LutOp, rewriter: PatternRewriter) -> None:
        inputs = _spliced(op.inputs, op.result.type.get_num_dims() - 1)
        if inputs is not None:
            rewriter.replace(op, G.LutOp(inputs, op.table))


def producer_chain(value: SSAValue) -> list[Operation]:
    """The longest chain of unary per-channel ops ending at ``value``, in program order
    (empty if ``value`` is not computed by one). Its ops may have other readers."""
    chain: list[Operation] = []
    while isinstance(value.owner, Operation) and (data := lut_input(value.owner)) is not None:
        chain.append(value.owner)
        value = data
    return chain[::-1]


def composed_table(table: np.ndarray, channels: list[int], chains: list[list[Operation]]) -> np.ndarray:
    """``table`` (rows for the channels of inputs of ``channels`` extents, or one shared
    row) with each input's rows composed with its chain: ``T'[c, v] = T[c, f_c(v) + 128]``."""
    full = np.broadcast_to(table, (sum(channels), LUT_ENTRIES)).copy()
    start = 0
    for c, chain in zip(channels, chains):
        if chain:
            inner = np.broadcast_to(chain_table(chain), (c, LUT_ENTRIES)).astype(np.intp) + 128
            full[start:start + c] = np.take_along_axis(full[start:start + c], inner, axis=1)
        start += c
    return compact(full)


class AbsorbProducer(RewritePattern):
    """``lut(.., f(x), .., T)`` with ``f`` a unary per-channel chain and ``T`` a constant
    -> ``lut(.., x, .., T o f)``."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: G.LutOp, rewriter: PatternRewriter) -> None:
        if not isinstance(op.table.owner, G.ConstantOp):
            return
        chains = [producer_chain(v) for v in op.inputs]
        if not any(chains):
            return
        channels = [v.type.get_shape()[-1] for v in op.inputs]
        table = G.ConstantOp.from_numpy(composed_table(op.table.owner.to_numpy(), channels, chains))
        table.result.name_hint = "table"
        inputs = [lut_input(chain[0]) if chain else v for v, chain in zip(op.inputs, chains)]
        rewriter.replace(op, [table, G.LutOp(inputs, table.result)])


def _only_reader(value: SSAValue, op: Operation) -> bool:
    return all(use.operation is op for use in value.uses)


class ConcatToLut(RewritePattern):
    """``concat(.., f(x), ..)`` on the last axis, ``f`` a unary per-channel chain read only
    by it, the concat read by neither a lookup nor a concat -> ``lut(.., f(x), .., identity)``
    (then :class:`AbsorbProducer` composes ``f``)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: G.ConcatOp, rewriter: PatternRewriter) -> None:
        rank = op.result.type.get_num_dims()
        if op.axis % rank != rank - 1 or op.result.type.element_type != i8:
            return
        if any(isinstance(use.operation, G.LutOp | G.ConcatOp) for use in op.result.uses):
            return
        if not any(producer_chain(v) and _only_reader(v, op) for v in op.inputs):
            return
        identity = G.ConstantOp.from_numpy(np.arange(-128, 128, dtype=np.int8)[None, :])
        identity.result.name_hint = "table"
        rewriter.replace(op, [identity, G.LutOp(list(op.inputs), identity.result)])


class EraseDead(RewritePattern):
    """Erase a Pure ``graph.*`` op none of whose results is used."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if op.name.startswith("graph.") and op.has_trait(Pure) and all(r.first_use is None for r in op.results):
            rewriter.erase(op)


# The order the greedy applier tries them on each op; the walker repeats to a fixed point.
ABSORB_PATTERNS: tuple[type[RewritePattern], ...] = (FlattenConcat, AbsorbConcat, AbsorbProducer, ConcatToLut,
                                                       EraseDead)

__all__ = ["FlattenConcat", "AbsorbConcat", "AbsorbProducer", "ConcatToLut", "EraseDead", "ABSORB_PATTERNS",
           "producer_chain", "composed_table"]
