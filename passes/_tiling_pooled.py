"""What ``convert-graph-to-tile`` needs to lower a convolution with a fused max pool:
the checks that LOOP_CONV_WS can pool it exactly, and its geometry (the convolution's, the
pool's, and the layer the scheduler tiles). The tiling itself is the loop form's
(:class:`~gemforge.passes._tiling_loopconv.LoopConvTiler` with a ``Pool``)."""

from __future__ import annotations

from gemforge.dialects import graph
from gemforge.layers import ConvLayer
from gemforge.passes._tiling_layers import ConvGeometry, Epilogue
from gemforge.passes._tiling_loopconv import Pool
from gemforge.passes._tiling_options import TilingError
from gemforge.passes.schedule.space import problem_of


def pooled_geometry(op: graph.Conv2DOp, label: str, epi: Epilogue, form: str | None
                    ) -> tuple[ConvGeometry, ConvLayer, Pool]:
    """(convolution geometry, the layer to schedule, the pool) of ``op``, or a one-line
    TilingError naming what LOOP_CONV_WS cannot pool (``form``: the user's forced form)."""
    (sh, sw), (dh, dw) = op.stride, op.dilation
    n, h, wd, c = op.input.type.get_shape()
    kh, kw, _, oc = op.weight.type.get_shape()
    top, left, _, _ = op.padding
    (pkh, pkw), (psh, psw), ppad = op.pool_kernel, op.pool_stride, op.pool_padding
    why = ("a grouped convolution" if op.groups > 1 else "unequal strides or dilations" if (sh, dh) != (sw, dw)
           else "a non-square kernel" if kh != kw else "asymmetric padding" if len(set(op.padding)) > 1
           else "a non-square pool window, stride or padding" if (pkh, psh) != (pkw, psw) or len(set(ppad)) > 1
           else "an int32 result" if epi.raw
           # Gemmini's pooled move-out reads padding as 0: exact only where no value is negative
           else "a padded pool without ReLU (Gemmini pools padding as zeros)"
           if any(ppad) and epi.activation != "relu" else None)
    if why is None and form not in (None, "loop"):
        why = f"form={form} (pooling is lowered in the loop form)"
    if why is not None:
        raise TilingError(f"{label}: fused max pooling is lowered for dense square convolutions with "
                          f"an int8 result only, not {why}")
    oh, ow = (h + 2 * top - dh * (kh - 1) - 1) // sh + 1, (wd + 2 * left - dh * (kw - 1) - 1) // sh + 1
    _, poh, pow_, _ = op.result.type.get_shape()
    layer = ConvLayer(n, h, wd, c, oc, kh, kw, sh, top, 1, dh, name=label)
    if problem_of(layer).kind != "conv":  # the scheduler sees a matmul: no pooled tiles to give
        raise TilingError(f"{label}: fused max pooling is lowered for convolutions the scheduler tiles "
                          f"as convolutions, not a {kh}x{kw} stride-{sh} one (a matmul)")
    return (ConvGeometry(n, h, wd, c, oc, kh, kw, oh, ow, sh, dh, top, left), layer,
            Pool(pkh, psh, ppad[0], poh, pow_))
