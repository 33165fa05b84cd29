"""Tabulating chains of unary per-channel int8 ops (shared by ``fold-lut``'s rewrites).

A *unary per-channel* op maps int8 to int8 of the same shape; its result at ``[..., c]``
depends on one computed value at ``[..., c]`` and on constants indexed by ``c`` at most
(see :mod:`gemforge.passes.fold_lut`). A chain of them is exactly a ``[C, 256]`` table.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import TensorType, i8
from xdsl.ir import Operation, SSAValue

from gemforge.dialects import graph as G
from gemforge.dialects.graph_lut import LUT_ENTRIES
from gemforge.graph_eval import evaluate_op


def _int8_same_type(value: SSAValue, op: Operation) -> bool:
    typ = value.type
    return (isinstance(typ, TensorType) and typ.element_type == i8 and typ.get_num_dims() >= 1
            and typ == op.results[0].type)


def per_channel_constant(value: SSAValue) -> np.ndarray | None:
    """The ``[C]`` vector of a ``graph.constant`` of rank >= 1 that is equal at every
    position but the last axis, else ``None``."""
    if not isinstance(value.owner, G.ConstantOp):
        return None
    data = value.owner.to_numpy()
    if data.ndim < 1:
        return None
    rows = data.reshape(-1, data.shape[-1])
    return rows[0] if len(rows) and (rows == rows[0]).all() else None


def lut_input(op: Operation) -> SSAValue | None:
    """The one computed operand of ``op`` if it is a unary per-channel int8 op (module
    docstring), else ``None``."""
    if isinstance(op, G.ChannelAffineOp):
        constant = all(isinstance(v.owner, G.ConstantOp) for v in (op.scale, op.shift, op.multiplier))
        data = op.input if constant else None
    elif isinstance(op, G.RequantizeOp | G.ReluOp | G.ClipOp):
        data = op.input
    elif isinstance(op, G.LutOp):  # a lookup of one input through a constant table composes too
        data = op.inputs[0] if len(op.inputs) == 1 and isinstance(op.table.owner, G.ConstantOp) else None
    elif isinstance(op, G.AddOp):
        const = [per_channel_constant(v) is not None for v in (op.lhs, op.rhs)]
        computed = [not isinstance(v.owner, G.ConstantOp) for v in (op.lhs, op.rhs)]
        data = op.rhs if const[0] and computed[1] else op.lhs if const[1] and computed[0] else None
    else:
        return None
    return data if data is not None and _int8_same_type(data, op) else None


def chain_table(chain: list[Operation]) -> np.ndarray:
    """The ``[C, 256]`` (or shared ``[1, 256]``) int8 table equal to ``chain``."""
    x = lut_input(chain[0])
    shape = x.type.get_shape()
    channels = shape[-1]
    lead = (1,) * max(len(shape) - 2, 0)
    values = np.arange(-128, 128, dtype=np.int16).astype(np.int8)
    probe = np.ascontiguousarray(np.broadcast_to(values[:, None], (LUT_ENTRIES, channels))).reshape(
        *lead, LUT_ENTRIES, channels)
    current = probe
    for op in chain:
        data = lut_input(op)
        env: dict[SSAValue, np.ndarray] = {}
        for v in op.operands:
            if v is data:
                continue
            vector = per_channel_constant(v) if isinstance(op, G.AddOp) else None
            env[v] = np.broadcast_to(vector, probe.shape) if vector is not None else v.owner.to_numpy()
        env[data] = current
        current = evaluate_op(op, env)
    return compact(np.ascontiguousarray(current.reshape(LUT_ENTRIES, channels).T))


def compact(table: np.ndarray) -> np.ndarray:
    """``table`` as one shared row when every row is the same."""
    return table[:1] if (table == table[0]).all() else table


__all__ = ["per_channel_constant", "lut_input", "chain_table", "compact"]
