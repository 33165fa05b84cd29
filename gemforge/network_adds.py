"""Where a network's int8 ``graph.add`` s run: ``host`` (the default) or ``gemmini``.

``host`` computes the add exactly: ``sat_i8(rne(f32(a) * ma + f32(b) * mb))`` (with ReLU if
the add has it), ``ma``/``mb`` the input scales over the output scale.

``gemmini`` runs it the way the vendor library's ResNet-50 does, with ``tiled_resadd_auto``
(:mod:`gemforge.backends.gemmini.library.resadd`): ``a`` and ``b`` are moved into the
accumulator through the move-in scale unit, which rounds and saturates each to int8, they
are summed there, and the move-out scales and clips the sum. This rounds twice, so it is
not bit-exact: a result can be 1 LSB off whenever ``|a * ma|`` and ``|b * mb|`` stay within
int8 (:func:`~gemforge.backends.gemmini.library.resadd.resadd_scales`), and the error then
propagates through the layers after it. It is offered because it is what the vendor runs,
so that ``--schedule library --adds gemmini`` is the vendor's whole network.

Why no exact Gemmini add: Gemmini can only scale on the way in (to int8, saturating) and
on the way out. Computing ``wa * a + wb * b`` exactly with integer weights on the array
and scaling once on move-out still differs from the f32 reference on some input pairs for
every one of ResNet-50's 16 adds: with weights up to 8128, 2 to 40 of the 65,536 (a, b)
pairs round the other way (checked exhaustively over all int8 pairs, session 11 notes).
"""

from __future__ import annotations

import numpy as np
from xdsl.ir import Operation

from gemforge.backends.gemmini.library.resadd import emit_resadd, resadd_scales
from gemforge.backends.gemmini.program import Program, Tensor
from gemforge.dialects import graph as G
from gemforge.target import Target

ADDS = ("host", "gemmini")


def gemmini_add_refusal(op: Operation) -> str | None:
    """Why ``op`` cannot run as a Gemmini residual add (None: it can)."""
    if not isinstance(op, G.AddOp):
        return "not a graph.add"
    lhs, rhs, res = op.lhs.type, op.rhs.type, op.result.type
    if any(t.element_type.width.data != 8 for t in (lhs, rhs, res)):
        return "only int8 adds run on Gemmini"
    if lhs.get_shape() != rhs.get_shape() or lhs.get_shape() != res.get_shape():
        return "a broadcasting add (Gemmini's residual add needs equal shapes)"
    if op.activation not in ("none", "relu"):
        return f"an add with activation {op.activation}"
    return None


def add_multipliers(op: G.AddOp) -> tuple[float, float]:
    """(ma, mb) of an int8 add: f32(lhs_scale) / f32(output_scale), likewise for rhs."""
    f32 = np.float32
    out = f32(op.field("output_scale"))
    return float(f32(op.field("lhs_scale")) / out), float(f32(op.field("rhs_scale")) / out)


def emit_gemmini_add(program: Program, op: G.AddOp, name: str, a: Tensor, b: Tensor, out: Tensor,
                     target: Target) -> None:
    """Append ``op`` (``a`` + ``b`` -> ``out``) as the vendor's tiled_resadd."""
    sa, sb, sc = resadd_scales(*add_multipliers(op))
    emit_resadd(program, name, a, b, out, sa, sb, sc, op.activation == "relu", target)
