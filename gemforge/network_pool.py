"""Where a fused max pool runs: on Gemmini's move-outs or as a host kernel after the conv.

The optimizing path can pool on LOOP_CONV_WS's move-outs, but that pins the convolution
to the loop form with pooled tiles (each recomputing the rows its windows share with the
next); a few-channel stem conv is often much faster in the im2col or fine form, and its
pool then costs the host ``pooled elements * window * host_element_cycles``. Which one is
cheaper depends on the layer, so the network builder compiles both into scratch
Programs holding only this layer and simulates them (timing does not depend on the
data: zero inputs): the fused form is kept when it takes no more cycles.
"""

from __future__ import annotations

import numpy as np
from xdsl.ir import Operation

from gemforge.backends.gemmini.program import Program, Tensor
from gemforge.dialects import graph as G
from gemforge.dialects.graph_constant import NUMPY_DTYPES
from gemforge.target import Target


def _scratch(target: Target, inputs: list[Tensor]) -> tuple[Program, list[Tensor]]:
    p = Program(target.name, name="pool_trial")
    return p, [p.add_tensor(t.name, t.shape, t.dtype, "constant" if t.data is not None else "input", t.data)
               for t in inputs]


def _cycles(program: Program, target: Target) -> int:
    from gemforge import sim

    feeds = {t.name: np.zeros(t.shape, t.dtype) for t in program.tensors_with_role("input")}
    return sim.run(program, feeds, target, allow_uninitialized=True).cycles


def fused_pool_pays(op: G.Conv2DOp, inputs: list[Tensor], target: Target, spec: str) -> bool:
    """Whether pooling on the accelerator (``op`` as it is) takes no more cycles than the
    conv without its pool followed by the host's max pool. Raises what the code generator
    raises for the fused form (the caller then splits the pool off)."""
    from gemforge.network_build import maxpool_kind
    from gemforge.network_layers import emit_bnb

    def tensor(p: Program, value, name: str) -> Tensor:
        typ = value.type
        return p.add_tensor(name, typ.get_shape(), np.dtype(NUMPY_DTYPES[typ.element_type]).name, "output")

    fused, ins = _scratch(target, inputs)
    emit_bnb(fused, op, "fused", ins, tensor(fused, op.result, "out"), target, None, spec)
    conv = op.with_options(pool_kernel=None, pool_stride=None, pool_padding=None)
    split, ins = _scratch(target, inputs)
    acc = tensor(split, conv.result, "conv")
    emit_bnb(split, conv, "split", ins, acc, target, None, spec)
    kind, attrs = maxpool_kind(op.pool_kernel, op.pool_stride, op.pool_padding)
    split.host(kind, [acc.name], [tensor(split, op.result, "out").name], **attrs)
    return _cycles(fused, target) <= _cycles(split, target)
