"""Two conv forms of ``convert-graph-to-tile`` that reshape the problem before tiling it.

* :func:`strided_pointwise_conv`: a 1x1 stride-s convolution as a stride-1 one over a
  view holding only the pixels it reads (or LOOP_CONV_WS with ``downsample``).
* :func:`im2col_conv`: the DMA-packed im2col form for few input channels
  (:mod:`gemforge.passes._tiling_im2col`), taken when forced or when the cost model
  prices it below the best fine / loop schedule.

Both take the pass's function tiler (``self``: its builder, context, scheduler and
helpers) and the pass's form switches, so ``convert_graph_to_tile`` keeps them in one place.
"""

from __future__ import annotations

from dataclasses import replace

from gemforge.dialects import graph
from gemforge.layers import ConvLayer
from gemforge.passes._tiling_im2col import FORM as IM2COL
from gemforge.passes._tiling_im2col import Im2colConvTiler, im2col_applies, im2col_weights
from gemforge.passes._tiling_im2col_cost import im2col_price
from gemforge.passes._tiling_layers import ConvGeometry, ConvTiler, Epilogue
from gemforge.passes._tiling_loopconv import LoopConvTiler, downsampled, loop_conv_fits
from gemforge.passes._tiling_options import TilingError, op_label
from gemforge.passes.schedule import schedule as run_scheduler
from gemforge.passes.schedule.space import Schedule


def strided_pointwise_conv(self, op, x, w, dest, bias, layer: ConvLayer, epi: Epilogue, loop_conv_form: bool) -> None:
    """A 1x1 convolution of stride s over an H x W image (both multiples of s) as a
    stride-1 one over a view that holds only the pixels it reads: the input as
    ``[N*H/s, s, W/s, s*C]`` (pixel (oh, ow) is element ``[n*H/s + oh, 0, ow, 0:C]``),
    one output row per batch entry. The input tile then moves the pixels the tile
    reads, not the full (s times wider and taller) window. For stride 2 the
    LOOP_CONV_WS form (``downsample``: the loop unit reads every other pixel) is the
    alternative the cost model may prefer."""
    s = layer.stride
    n, h, wd, c, oc = layer.batch, layer.in_h, layer.in_w, layer.in_c, layer.out_c
    oh, ow = h // s, wd // s
    g = ConvGeometry(n, h, wd, c, oc, 1, 1, oh, ow, s, 1, 0, 0)
    fits = (lambda sc: loop_conv_fits(sc, g, self.ctx.target, epi.raw)) if downsampled(g) else None
    sched = self.schedule(op, layer, bias is not None, loop_fits=fits, loop_default=loop_conv_form)
    if sched.form == "loop":
        LoopConvTiler(self.b, sched, x, w, dest, bias, g, epi, self.ctx.target).run()
        return
    t = dict(sched.tiles)
    rows = t["oh"] if t["b"] == 1 or t["oh"] < oh else t["b"] * oh
    tiles = {**t, "b": rows, "oh": 1}
    virtual = Schedule(sched.kind, tuple((d, tiles[d]) for d, _ in sched.tiles), sched.order, sched.stationary,
                       sched.dataflow, sched.double_buffer, sched.form)
    xv = self.reshape(x, [n * oh, s, ow, s * c])
    dv = self.reshape(dest, [n * oh, 1, ow, oc])
    g = ConvGeometry(n * oh, 1, ow, c, oc, 1, 1, 1, ow, 1, 1, 0, 0)
    ConvTiler(self.b, virtual, xv, w, dv, bias, g, epi, self.zeros, self.ctx.target.dim, self.bias_rows).run()


def im2col_conv(self, op, x, dest, bias, g: ConvGeometry, epi: Epilogue, depthwise: bool, layer, im2col_form: bool,
                loop_conv_form: bool) -> bool:
    """Lower ``op`` with the im2col variant (``_tiling_im2col``) when forced (``form=im2col``)
    or, unforced (no form, tiles or stationary operand forced), when the cost model prices it
    below the best fine / loop schedule (then scheduled twice: once unprobed to compare).
    Returns whether it did."""
    form, target = self.ctx.force.get("form"), self.ctx.target
    applies = not depthwise and isinstance(op.weight.owner, graph.ConstantOp) and im2col_applies(g, target.dim)
    if form == IM2COL:
        if not applies:
            raise TilingError(f"{op_label(op)}: the im2col form needs a dense, undilated convolution with "
                              f"fewer than DIM={target.dim} input channels and constant weights")
    elif form is not None or not im2col_form or not applies or {"tiles", "stationary"} & self.ctx.force.keys():
        return False  # a forced tiling or stationary operand belongs to the fine / loop forms
    plan = im2col_price(g, target, bias is not None, run_scheduler)
    if plan is None:
        if form == IM2COL:
            raise TilingError(f"{op_label(op)}: no im2col tiling fits the scratchpad and accumulator")
        return False
    sched, cost, priced = plan
    sched = replace(sched, double_buffer=self.ctx.force.get("double_buffer", True))
    if form != IM2COL:
        if cost is None:
            return False
        fits = lambda s: loop_conv_fits(s, g, target, epi.raw)  # noqa: E731
        self._choose(op, layer, bias is not None, loop_fits=fits, loop_default=loop_conv_form)
        if cost.cycles >= self.last_cost.cycles:
            return False
    if priced is not None:
        self.lowered(priced)
    w = self.global_of(im2col_weights(self.constant_data(op, op.weight), g), op.weight.type.element_type,
                       "im2col_weights")
    Im2colConvTiler(self.b, sched, x, w, dest, bias, g, epi, self.bias_rows).run()
    return True
