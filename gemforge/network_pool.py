"""Where a max pool runs: fused into LOOP_CONV_WS's move-outs, or split off after the conv.

The optimizing path can pool on LOOP_CONV_WS's move-outs, but that pins the convolution
to the loop form with pooled tiles (each recomputing the rows its windows share with the
next); a few-channel stem conv is often much faster in the im2col or fine form, followed
by a pool of its own. Which one is cheaper depends on the layer, so the network builder
compiles both into scratch Programs holding only this layer and simulates them (timing
does not depend on the data: zero inputs): the fused form is kept when it takes no more
cycles. The builder then emits the winner into the network's Program; the pipeline's
results are memoized (:mod:`gemforge.layer_compile`), so that costs only the encoding.

A pool that is not fused (split off, or a ``graph.maxpool`` of its own) runs on Gemmini's
pooled move-out (:mod:`gemforge.passes._tiling_maxpool`: int8 rows moved into the
accumulator and out pooled) when that is exact -- no window reaches outside the input, or
the input is known non-negative (Gemmini pools padding as 0, ``graph.maxpool`` leaves it
out) -- and the schedule is ``bnb`` (the vendor library has no standalone pool); else on
the host (:func:`pool_placement` says why).
"""

from __future__ import annotations

import numpy as np
from xdsl.ir import Operation

from gemforge.backends.gemmini.program import Program, Tensor
from gemforge.dialects import graph as G
from gemforge.dialects.graph_constant import NUMPY_DTYPES
from gemforge.errors import GemforgeError
from gemforge.passes._sign import known_nonnegative
from gemforge.passes._tiling_maxpool import mark_nonnegative, needs_nonnegative_input
from gemforge.target import Target


def _scratch(target: Target, inputs: list[Tensor]) -> tuple[Program, list[Tensor]]:
    p = Program(target.name, name="pool_trial")
    return p, [p.add_tensor(t.name, t.shape, t.dtype, "constant" if t.data is not None else "input", t.data)
               for t in inputs]


def _cycles(program: Program, target: Target) -> int:
    from gemforge import sim

    feeds = {t.name: np.zeros(t.shape, t.dtype) for t in program.tensors_with_role("input")}
    # Only the cycles matter: skip the matmuls (vgg19 compiles in about half the time).
    return sim.run(program, feeds, target, allow_uninitialized=True, arithmetic=False).cycles


def fused_pool_pays(op: G.Conv2DOp, inputs: list[Tensor], target: Target, spec: str) -> bool:
    """Whether pooling on the accelerator (``op`` as it is) takes no more cycles than the
    conv without its pool followed by the split-off pool (:func:`emit_pool`). Raises what the code generator
    raises for the fused form (the caller then splits the pool off)."""
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
    emit_pool(split, split_pool(op, conv), "split.pool", acc, tensor(split, op.result, "out"), target, "bnb",
              spec=spec)
    return _cycles(fused, target) <= _cycles(split, target)


def split_pool(op: G.Conv2DOp, conv: G.Conv2DOp) -> G.MaxPoolOp:
    """The max pool fused into ``op`` as an op of its own, reading ``conv`` (``op`` unpooled)."""
    return G.MaxPoolOp(conv.result, op.pool_kernel, op.pool_stride, op.pool_padding)


def pool_placement(pool: G.MaxPoolOp, schedule: str) -> str | None:
    """Why ``pool`` stays on the host (None: Gemmini's pooled move-out computes it exactly;
    ``pool`` is then marked so the tiling knows its input is non-negative if it must be)."""
    if schedule != "bnb":
        return "the vendor library has no standalone max pool"
    if needs_nonnegative_input(pool):
        if not known_nonnegative(pool.input):
            return "a padded max pool of a possibly negative input (Gemmini pools padding as zeros)"
        mark_nonnegative(pool)
    return None


def emit_pool(program: Program, pool: G.MaxPoolOp, name: str, source: Tensor, out: Tensor, target: Target,
              schedule: str, dump=None, spec: str | None = None) -> str:
    """Append ``pool`` (``source`` -> ``out``) to ``program``: on Gemmini when
    :func:`pool_placement` allows and the code generator accepts it, else as a host kernel.
    Returns why it runs on the host ("" when on Gemmini)."""
    from gemforge.network_build import maxpool_kind
    from gemforge.network_layers import emit_bnb, transaction

    why = pool_placement(pool, schedule)
    if why is None:
        try:
            with transaction(program):
                emit_bnb(program, pool, name, [source], out, target, dump, spec)
            return ""
        except GemforgeError as e:
            why = str(e).splitlines()[0].strip()
    kind, attrs = maxpool_kind(pool.kernel, pool.stride, pool.padding)
    program.host(kind, [source.name], [out.name], **attrs)
    return why
