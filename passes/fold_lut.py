"""``fold-lut``: replace a chain of unary per-channel int8 ops by one ``graph.lut``.

An op is *unary per-channel* when it maps int8 to int8 of the same shape and its result
at ``[..., c]`` depends only on one computed value at ``[..., c]`` and on constants
indexed by ``c`` at most:

- ``graph.channel_affine`` whose scale, shift and multiplier are ``graph.constant`` s;
- ``graph.requantize``, ``graph.relu``, ``graph.clip`` on int8;
- an int8 ``graph.add`` whose one operand (lhs or rhs) is a ``graph.constant`` equal at
  every position but the last axis (a per-channel or scalar bias) and whose other
  operand is computed (its scales, activation and clip are kept by evaluating it).

Pattern (a maximal chain; each result but the last has exactly one use, the next op)::

    %a = graph.channel_affine %x, %s, %t, %m input_scale .. output_scale ..
    %y = graph.add %a, %bias lhs_scale .. rhs_scale .. output_scale .. activation relu
  =>
    %table = graph.constant dense<...> : tensor<Cx256xi8>
    %y = graph.lut %x, %table

Exact, bit for bit: the table is the chain itself evaluated with the kernels of
:mod:`gemforge.graph_eval` on an int8 probe holding all 256 values in every channel
(``x[i, c] = i - 128``), the add's per-channel constant taken from its first pixel and
broadcast over the probe. When every channel's column is the same (no per-channel
constant, or equal ones) the table is ``tensor<1x256xi8>``.

Folded only when it saves host work: the chain's element visits in the host cost model
(:mod:`gemforge.sim.host_graph`: ``AFFINE_VISITS`` for a channel_affine, 1 for each other
op) must reach ``min-visits`` (default 2; a lookup costs 1). So a lone requantize, relu,
clip or add stays (they have generic host kernels of the same cost); a lone
channel_affine or any chain of two or more ops is folded. The ``graph.lut`` keeps the
name hint of the chain's last op.

Then, to a fixed point, the lookups take in what they read (:mod:`gemforge.passes._lut_absorb`;
DenseNet's dense blocks, ``lut(concat(prev, requantize(y)))``, lose every concat and
requantize)::

    %c = graph.concat %a, %b axis 3          (nested concats on one axis are flattened)
    %q = graph.requantize %c ..                -> %y = graph.lut %a, %x table %table'
    %y = graph.lut %c2, %table                     (%c2 = concat(%a, %q), %q = f(%x))

a lookup reads a last-axis concat's inputs directly and composes a unary per-channel
chain in front of an input into that input's rows of its table (even when the concat or
the chain has other readers, which keep it); Pure graph ops left without uses are erased.
Exact and never more host work: a lookup still reads each of its elements once.

Options: ``min-visits`` (int, default 2; only for the chains folded in the first step).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Operation
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import GreedyRewritePatternApplier, PatternRewriteWalker
from xdsl.rewriter import InsertPoint, Rewriter

from gemforge.dialects import graph as G
from gemforge.passes._lut_absorb import ABSORB_PATTERNS
from gemforge.passes._lut_chain import chain_table, lut_input, per_channel_constant
from gemforge.sim.host_graph import AFFINE_VISITS

__all__ = ["FoldLut", "chain_table", "fold_chain", "find_chains", "lut_input", "per_channel_constant", "visits"]


def visits(op: Operation) -> int:
    """Element visits per element of ``op`` in the host cost model."""
    return AFFINE_VISITS if isinstance(op, G.ChannelAffineOp) else 1


def _next_in_chain(op: Operation) -> Operation | None:
    """The op that continues a chain after ``op``: the sole use of its result, if that
    use is a unary per-channel op reading it as its computed operand."""
    result = op.results[0]
    if not result.has_one_use():
        return None
    user = result.get_user_of_unique_use()
    return user if user is not None and lut_input(user) is result else None


def find_chains(block: Block) -> list[list[Operation]]:
    """Maximal chains of unary per-channel ops in ``block``, each in program order."""
    chains = []
    for op in block.ops:
        data = lut_input(op)
        if data is None:
            continue
        producer = data.owner
        if isinstance(producer, Operation) and lut_input(producer) is not None and _next_in_chain(producer) is op:
            continue  # not the head: the chain through its producer covers it
        chain = [op]
        while (nxt := _next_in_chain(chain[-1])) is not None:
            chain.append(nxt)
        chains.append(chain)
    return chains


def fold_chain(chain: list[Operation]) -> G.LutOp:
    """Replace ``chain`` by a table constant and one ``graph.lut`` where its last op was.
    Constants only the chain read are left dead: the pass's ``EraseDead`` removes them."""
    last, x = chain[-1], lut_input(chain[0])
    table = G.ConstantOp.from_numpy(chain_table(chain))
    table.result.name_hint = "table"
    Rewriter.insert_op(table, InsertPoint.before(last))
    lut = G.LutOp(x, table.result)
    lut.result.name_hint = last.results[0].name_hint
    Rewriter.replace_op(last, lut)
    for op in reversed(chain[:-1]):
        Rewriter.erase_op(op)
    return lut


@dataclass(frozen=True)
class FoldLut(ModulePass):
    """Fold chains of unary per-channel int8 ops into per-channel table lookups."""

    name = "fold-lut"

    min_visits: int = 2

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        blocks = [b for o in op.walk() for r in o.regions for b in r.blocks]
        for block in blocks:
            for chain in find_chains(block):
                if sum(visits(o) for o in chain) >= self.min_visits:
                    fold_chain(chain)
        applier = GreedyRewritePatternApplier([pattern() for pattern in ABSORB_PATTERNS])
        PatternRewriteWalker(applier).rewrite_module(op)
