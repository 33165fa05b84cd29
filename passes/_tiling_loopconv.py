"""The ``loop`` code form of a convolution tiling: one ``gemmini.loop_conv_ws`` per step.

LOOP_CONV_WS is a whole convolution tile in hardware: its unroller moves in the input
window (zero-filling the halo rows/columns the tile's ``upad/dpad/lpad/rpad`` name),
the weights and the bias, issues every preload and compute, and moves the scaled int8
output out, in scratchpad and accumulator halves it picks itself. Like the LOOP_WS
form (``_tiling_loops.py``) it is emitted straight as gemmini ops over the same step
nest (``_tiling_nest.emit_nest``):

* the kernel is never split; the input-channel reduction is split across steps only
  with the reduction innermost (``stationary='output'``): later steps pass no bias
  (the loop then accumulates onto its accumulator half) and only the last passes the
  output address (which flips the half);
* without a bias the first reduction step passes a non-null dummy bias address with
  ``no_bias`` (the unroller then zero-fills the accumulator, as the vendor library does);
* a stationary input (``'input'``) or weight (``'weight'``) tile is pinned to a fixed
  scratchpad half (``a_spad_id`` / ``b_spad_id``) and loaded only on the first step of
  the innermost loop;
* a 1x1 stride-2 convolution moves in every other input pixel (``downsample``);
* ``max_pixels_per_row`` packs several kernel columns of a few-channel input into one
  DIM-wide scratchpad row (one compute covers ``P * kchs`` reduction rows).

The unroller sizes a tile's input window as ``orows*stride + (krows-1)*dilation`` rows
(one more stride than the window needs, minus one); :func:`loop_conv_fits` checks
that layout against the halves.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from xdsl.dialects import memref
from xdsl.ir import SSAValue

from gemforge.dialects import gemmini as gm
from gemforge.passes._tiling_layers import ConvGeometry, Epilogue, red_sig, size_sig
from gemforge.passes._tiling_nest import Builder, Lin, Point, TiledDim, emit_nest
from gemforge.passes.schedule.space import Schedule
from gemforge.target import Target

INNER_OF = {"input": "oc", "weight": "ow", "output": "ic"}


def downsampled(g: ConvGeometry) -> bool:
    """A 1x1 stride-2 unpadded convolution over an even image: the loop unit moves in every
    other input pixel only (``downsample``), so the input tile is exactly the pixels read."""
    return (g.stride == 2 and g.kh == g.kw == 1 and g.pad_top == g.pad_left == 0 and g.h % 2 == 0
            and g.w % 2 == 0)


def pixels_per_row(g: ConvGeometry, kchs: int, dim: int) -> int:
    """Kernel columns one scratchpad row holds (the library's first-layer optimisation)."""
    if g.dilation > 1 or kchs > dim or downsampled(g):
        return 1
    return max(1, min(dim // kchs, g.kw))


def _window(outs: int, k: int, g: ConvGeometry) -> int:
    """Input rows (or columns) the unroller reserves for ``outs`` outputs of a ``k`` kernel."""
    return outs * g.stride + (k - 1) * g.dilation


def loop_conv_fits(schedule: Schedule, g: ConvGeometry, target: Target, raw: bool) -> bool:
    """Whether LOOP_CONV_WS can run the schedule: int8 output, the full kernel per tile,
    a split reduction innermost, input + weights in half the scratchpad and the output
    tile in half the accumulator (in the unroller's layout)."""
    t, dim = dict(schedule.tiles), target.dim
    if raw or schedule.kind != "conv" or g.kh != g.kw or t.get("kh", g.kh) != g.kh or t.get("kw", g.kw) != g.kw:
        return False
    if ceil(g.c / t["ic"]) > 1 and schedule.stationary != "output":
        return False
    if max(g.h, g.w) >= 1 << 16 or g.stride >= 1 << 8:
        return False
    ds = int(downsampled(g))
    a = ceil(t["ic"] / dim) * t["b"] * (_window(t["oh"], g.kh, g) >> ds) * (_window(t["ow"], g.kw, g) >> ds)
    w = ceil(t["oc"] / dim) * g.kh * g.kw * t["ic"]
    acc = ceil(t["oc"] / dim) * t["b"] * t["oh"] * t["ow"]
    return a + w <= target.spad_rows // 2 and acc <= target.acc_rows // 2


def pad_sig(out: int, tile: int, k: int, extent: int, pad: int, g: ConvGeometry):
    """Signature of an output-row (column) tile: (size, padding before, padding after) of
    the unroller's input window, which starts at ``o0*stride - pad``."""

    def sig(i: int):
        size = min(tile, out - i * tile)
        start = i * tile * g.stride - pad
        span = _window(size, k, g)
        before = min(span, max(0, -start))
        after = min(span - before, max(0, start + span - extent))
        return (size, before, after)

    return sig


@dataclass(frozen=True)
class Pool:
    """A max pool on the loop's move-outs: ``size`` x ``size`` windows, ``stride``, ``padding``
    on every side, over the ``oh`` x ``ow`` convolution output (pooled: ``poh`` x ``pow``)."""

    size: int
    stride: int
    padding: int
    poh: int
    pow: int

    def tile(self, conv_tile: int) -> int:
        """Pooled rows (columns) a tile of ``conv_tile`` convolution rows can produce."""
        return max(1, (conv_tile - self.size + 1) // self.stride)

    def conv_rows(self, pooled: int) -> int:
        """Convolution rows the unroller computes for ``pooled`` pooled rows (as gemmini.h)."""
        return pooled * self.stride + self.size - 1


def pooled_fits(schedule: Schedule, g: ConvGeometry, pool: Pool, target: Target) -> bool:
    """:func:`loop_conv_fits` for the convolution rows and columns the pooled tiles of
    ``schedule`` (``oh`` / ``ow`` are convolution tiles) really compute."""
    t = dict(schedule.tiles)
    rows = min(g.oh, pool.conv_rows(pool.tile(t["oh"])))
    cols = min(g.ow, pool.conv_rows(pool.tile(t["ow"])))
    wider = Schedule(schedule.kind, tuple((d, {"oh": rows, "ow": cols}.get(d, v)) for d, v in schedule.tiles),
                     schedule.order, schedule.stationary, schedule.dataflow, schedule.double_buffer, schedule.form)
    return loop_conv_fits(wider, g, target, False)


def pool_sig(pool: Pool, pooled_tile: int, out: int, k: int, extent: int, pad: int, g: ConvGeometry, rows: bool):
    """Signature of a pooled-row (column) tile, as gemmini.h's tiled_conv computes it:
    (pooled size, input padding before, after, pooling padding before, after, conv rows)."""
    pout = pool.poh if rows else pool.pow

    def sig(i: int):
        size = min(pooled_tile, pout - i * pooled_tile)
        o0 = i * pooled_tile * pool.stride - pool.padding
        full = pool.conv_rows(size)
        before_p, after_p = max(0, -o0), max(0, o0 + full - out)
        outs = full - before_p - after_p
        start = max(o0, 0) * g.stride - pad
        span = _window(outs, k, g)
        before = max(0, -start)
        return (size, before, max(0, start + span - extent), before_p, after_p, outs)

    return sig


class LoopConvTiler:
    """A dense convolution (NHWC input, HWIO weights) as LOOP_CONV_WS steps, optionally
    max-pooled on its move-outs (``pool``: the tiles then count pooled rows and columns)."""

    def __init__(self, b: Builder, schedule: Schedule, x: SSAValue, w: SSAValue, out: SSAValue,
                 bias: SSAValue | None, g: ConvGeometry, epilogue: Epilogue, target: Target,
                 pixels: bool = True, pool: Pool | None = None):
        self.b, self.s, self.g, self.epi, self.target, self.pool = b, schedule, g, epilogue, target, pool
        t = dict(schedule.tiles)
        self.t = t
        if pool is None:
            rows = TiledDim("oh", g.oh, t["oh"], pad_sig(g.oh, t["oh"], g.kh, g.h, g.pad_top, g))
            cols = TiledDim("ow", g.ow, t["ow"], pad_sig(g.ow, t["ow"], g.kw, g.w, g.pad_left, g))
        else:
            pr, pc = pool.tile(t["oh"]), pool.tile(t["ow"])
            rows = TiledDim("oh", pool.poh, pr, pool_sig(pool, pr, g.oh, g.kh, g.h, g.pad_top, g, True))
            cols = TiledDim("ow", pool.pow, pc, pool_sig(pool, pc, g.ow, g.kw, g.w, g.pad_left, g, False))
        dims = {"b": TiledDim("b", g.n, t["b"], size_sig(g.n, t["b"])), "oh": rows, "ow": cols,
                "oc": TiledDim("oc", g.oc, t["oc"], size_sig(g.oc, t["oc"])),
                "ic": TiledDim("ic", g.c, t["ic"], red_sig(g.c, t["ic"]))}
        looped = [dims[d] for d in schedule.order if d in dims and dims[d].count > 1]
        self.reuse = None
        inner_class = {"input": ("oc",), "weight": ("b", "oh", "ow")}.get(schedule.stationary, ())
        if looped and looped[-1].name in inner_class:
            d = looped[-1]
            sig = d.signature
            looped[-1] = TiledDim(d.name, d.size, d.tile, lambda i, sig=sig: (*sig(i), i == 0))
            self.reuse = "a" if schedule.stationary == "input" else "b"
        self.dims = looped
        self.fixed = Point()
        for d in dims.values():
            if d.count == 1:
                self.fixed.offset[d.name], self.fixed.sig[d.name], self.fixed.index[d.name] = Lin(0), d.signature(0), 0
        self.addr = {name: self._pointer(v) for name, v in (("x", x), ("w", w), ("out", out), ("bias", bias))
                     if v is not None}
        self.has_bias = bias is not None
        self.pixels = pixels
        self.w_stride = w.type.get_shape()[-1]  # weight rows may be padded past oc (aligned requests)

    def _pointer(self, mem: SSAValue) -> SSAValue:
        op = memref.ExtractAlignedPointerAsIndexOp.get(mem)
        self.b.add(op)
        return op.results[0]

    def _at(self, name: str, elems: Lin) -> SSAValue:
        return self.b.value(Lin(0, ((self.addr[name], 1),)) + elems)

    def run(self) -> None:
        e = self.epi
        self.act = gm.Activation.RELU if e.activation == "relu" else gm.Activation.NONE
        self.b.add(gm.ConfigStOp(stride=self.g.oc, activation=self.act, scale=e.scale))
        self.ds = downsampled(self.g) and self.pool is None
        self.b.add(gm.ConfigExOp(dataflow=gm.Dataflow.WS, a_stride=self.g.stride >> int(self.ds)))
        nothing = lambda *a: None  # noqa: E731
        emit_nest(self.b, self.dims, nothing, nothing, nothing, self._step, self.fixed)

    def _step(self, pt: Point) -> None:
        b, g, dim = self.b, self.g, self.target.dim
        nb = pt.sig["b"][0]
        oh, upad, dpad = pt.sig["oh"][:3]
        ow, lpad, rpad = pt.sig["ow"][:3]
        p = self.pool
        oc = pt.sig["oc"][0]
        ic, first, last = pt.sig["ic"][:3]
        ob, ooh, oow, ooc, oic = (pt.offset[d] for d in ("b", "oh", "ow", "oc", "ic"))
        a_id = b_id = 0
        load_a = load_b = True
        if self.reuse is not None:
            first_inner = pt.sig[self.dims[-1].name][-1]
            if self.reuse == "a":
                a_id, load_a = 1, first_inner
            else:
                b_id, load_b = 2, first_inner
        zero = b.const(0)
        if p is None:
            pooled = dict(pool_out_row_dim=g.oh, pool_out_col_dim=g.ow, orows=oh, ocols=ow, no_pool=True)
            row0, col0, out_rows, out_cols = ooh, oow, g.oh, g.ow
        else:  # the first convolution row / column of the tile: its pooling window's, clipped to the image
            pupad, pdpad, orows = pt.sig["oh"][3:6]
            plpad, prpad, ocols = pt.sig["ow"][3:6]
            pooled = dict(pool_out_row_dim=p.poh, pool_out_col_dim=p.pow, orows=orows, ocols=ocols, no_pool=False,
                          pool_size=p.size, pool_stride=p.stride, pool_padding=p.padding,
                          plpad=plpad, prpad=prpad, pupad=pupad, pdpad=pdpad)
            row0, col0 = ooh * p.stride + (pupad - p.padding), oow * p.stride + (plpad - p.padding)
            out_rows, out_cols = p.poh, p.pow
        irow = row0 * g.stride + (upad - g.pad_top)
        icol = col0 * g.stride + (lpad - g.pad_left)
        x_addr = self._at("x", ((ob * g.h + irow) * g.w + icol) * g.c + oic) if load_a else zero
        w_addr = self._at("w", oic * self.w_stride + ooc) if load_b else zero
        out_addr = self._at("out", ((ob * out_rows + ooh) * out_cols + oow) * g.oc + ooc) if last else None
        if first:
            bias_addr = self._at("bias", ooc * 4) if self.has_bias else b.const(1)
        else:
            bias_addr = None
        pixels = pixels_per_row(g, ic, dim) if self.pixels else 1
        b.add(gm.LoopConvWsOp(
            w_addr, out_addr if out_addr is not None else zero, bias_addr, x_addr,
            batch_size=g.n, in_row_dim=g.h, in_col_dim=g.w, in_channels=g.c, out_channels=g.oc,
            out_row_dim=g.oh, out_col_dim=g.ow,
            stride=g.stride, padding=max(g.pad_top, g.pad_left), kernel_dim=max(g.kh, g.kw),
            kernel_dilation=g.dilation, batches=nb, porows=oh, pocols=ow, pochs=oc, krows=g.kh, kcols=g.kw,
            kchs=ic, lpad=lpad, rpad=rpad, upad=upad, dpad=dpad,
            in_stride=g.c, weight_stride=self.w_stride, out_stride=g.oc, activation=self.act,
            no_bias=not self.has_bias, downsample=self.ds, max_pixels_per_row=pixels,
            a_spad_id=a_id, b_spad_id=b_id, **pooled))
