"""Grouped convolution on the accelerator, one group at a time.

Neither code generator lowers a grouped (non-depthwise) convolution, so the network
builder splits one into its groups: for each group g a host ``slice_channels`` kernel
copies input channels [g * C/G, (g + 1) * C/G) into a scratch tensor, the accelerator
runs an ordinary convolution on it with the group's weights and bias (same stride,
padding, dilation and epilogue: the epilogue is per element, so it splits exactly),
and one host ``graph.concat`` joins the group outputs along channels. Exact by
construction; it pays off when the convolution's MACs cost more on the host than the
copies (``host_mac_cycles`` per MAC against ``host_element_cycles`` per copied element).

When the copies cost more than the zeros would, the builder runs the convolution dense
instead (:func:`dense_conv`: block-diagonal weights, ``passes/_densify.py``), which is
exact too and needs no host kernel at all (:func:`dense_pays`).
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import TensorType, i8
from xdsl.ir import Block

from gemforge.dialects import graph as G
from gemforge.errors import GemforgeError
from gemforge.network_layers import constant_of, transaction
from gemforge.passes._densify import block_diagonal
from gemforge.target import Target


def split_groups(builder, op: G.Conv2DOp, name: str, emit) -> bool:
    """Emit ``op`` group by group into ``builder`` (a NetworkBuilder); False (and nothing
    emitted) if it does not apply or any group fails to compile."""
    from gemforge.network_build import op_macs

    w, groups = constant_of(op.weight), op.groups
    if groups < 2 or w is None or op.residual is not None or op.pool_kernel is not None:
        return False
    b = constant_of(op.bias) if op.bias is not None else None
    if op.bias is not None and b is None:
        return False
    p = builder.program
    x = builder.tensor_of(op.input)
    n, h, wd, c = x.shape
    cg, og = c // groups, w.shape[3] // groups
    opts = {k: v for k, v in op.options().items() if k not in ("bias", "residual", "groups")}
    mark = len(builder.nodes)
    try:
        with transaction(p):
            parts = []
            for g in range(groups):
                gname = f"{name}.g{g}"
                start, before = len(p.items), set(p.tensors)
                xs = p.add_tensor(f"{gname}.in", (n, h, wd, cg), "int8", "scratch")
                p.host("slice_channels", [x.name], [xs.name], start=g * cg, stop=(g + 1) * cg)
                builder._node(f"{gname}.slice", op, "host", "channels of one group", start, [x.name], [xs.name],
                              before)
                builder.nodes[-1].op = "slice_channels"
                conv = _group_conv(op, w[..., g * og:(g + 1) * og], None if b is None else b[g * og:(g + 1) * og],
                                   (n, h, wd, cg), opts)
                start, before = len(p.items), set(p.tensors)
                out = p.add_tensor(f"{gname}.out", conv.result.type.get_shape(), "int8", "scratch")
                emit(p, conv, gname, [xs], out, builder.target, builder.dump, builder.target_spec)
                macs = op_macs(conv)
                builder._node(gname, conv, "accelerator", "", start, [xs.name], [out.name], before, macs)
                parts.append(out)
            start, before = len(p.items), set(p.tensors)
            result = builder.result_tensor(op.result, name)
            p.host("graph.concat", [t.name for t in parts], [result.name], axis=3)
            builder._node(f"{name}.concat", op, "host", "joins the groups", start, [t.name for t in parts],
                          [result.name], before)
            builder.nodes[-1].op = "graph.concat"
    except GemforgeError:
        del builder.nodes[mark:]
        builder.tensors.pop(op.result, None)
        return False
    return True


def _group_conv(op: G.Conv2DOp, w, b, in_shape, opts) -> G.Conv2DOp:
    """A detached ungrouped conv2d over a fresh argument of ``in_shape``."""
    return detached_conv(in_shape, w, b, groups=1, **opts)


def detached_conv(in_shape, w, b=None, residual_type=None, **props) -> G.Conv2DOp:
    """A conv2d outside any function: a fresh int8 input argument of ``in_shape`` (and a
    fresh residual argument of ``residual_type``), constant weights ``w`` and bias ``b``;
    what the code generators compile for a layer the builder rewrote."""
    args = Block(arg_types=[TensorType(i8, in_shape)] + ([residual_type] if residual_type else [])).args
    wc = G.ConstantOp.from_numpy(np.ascontiguousarray(w))
    bc = G.ConstantOp.from_numpy(np.ascontiguousarray(b)) if b is not None else None
    residual = {"residual": args[1]} if residual_type else {}
    return G.Conv2DOp(args[0], wc.result, bc.result if bc else None, **props, **residual)


def dense_pays(op: G.Conv2DOp, target: Target) -> bool:
    """Whether a grouped (not depthwise) conv is cheaper dense than group by group: the
    zero blocks' extra multiply-accumulates at the array's peak rate (dim * dim per cycle)
    against the host copies that splitting costs (every input element sliced out, every
    output element concatenated)."""
    from gemforge.network_build import op_macs

    n, h, w, c = op.input.type.get_shape()
    groups = op.groups
    if groups < 2 or groups == c or constant_of(op.weight) is None:
        return False
    extra = (groups - 1) * op_macs(op) / (target.dim * target.dim)
    copies = (n * h * w * c + int(np.prod(op.result.type.get_shape()))) * target.host_element_cycles
    return extra < copies


def dense_conv(op: G.Conv2DOp) -> G.Conv2DOp:
    """``op`` with groups 1 and block-diagonal weights (exactly the same result), detached:
    its input (and residual) are fresh arguments of the same types, in operand order."""
    b = constant_of(op.bias) if op.bias is not None else None
    opts = {k: v for k, v in op.options().items() if k not in ("bias", "residual", "groups")}
    return detached_conv(op.input.type.get_shape(), block_diagonal(constant_of(op.weight), op.groups), b,
                         op.residual.type if op.residual is not None else None, groups=1, **opts)
