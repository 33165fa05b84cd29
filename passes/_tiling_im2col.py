"""Implicit im2col by the DMA: a convolution with few input channels as packed-reduction matmuls.

In NHWC the ``kw`` pixels a kernel row covers are ``kw * C`` contiguous bytes. One
``mvin`` whose DRAM row stride is ``stride * C`` bytes therefore moves, for up to DIM
consecutive output pixels of one output row and one kernel row ``ky``, their whole
``(kx, c)`` windows into consecutive scratchpad rows: a reduction of ``J = kw * C``
values per ``ky`` (split by the lowering into ``ceil(J / DIM)`` blocks) instead of ``C``
per ``(ky, kx)``. The source of these loads is an overlapping view of the input
(``memref.reinterpret_cast``), the weights a
compile-time matrix per ``ky`` whose rows are ordered ``kx``-major then ``c``.

Tiles are up to DIM output pixels of one output row (by ``oc`` columns) taken ``P``
apart: the *phase* ``r < P`` tile holds the pixels ``ox = q*P + r`` (``P`` divides the
output width, ``Q = OW / P`` pixels per phase). A window mvin's DRAM rows are then
``P * stride * C`` bytes apart instead of ``stride * C``, so fewer of them share one L2
line (the L2 serves one request per line at a time: :mod:`~gemforge.passes.schedule.line_chain`),
and the output tile is stored with a row stride of ``P`` pixels. ``P`` is the cost
model's choice (:mod:`~gemforge.passes._tiling_im2col_cost`); ``P = 1`` is the plain
consecutive-pixel tiling. The loads read through an overlapping view
``[n, h*w*C, Q, kw*C]`` of the input whose second index is a byte offset in the image
and whose third steps ``P`` pixels; the stores write through ``[n, oh*ow, Q, oc]``.

Padding:

* vertical: a kernel row whose input row lies outside the image is skipped (the output
  row's signature holds the valid ``ky`` range);
* horizontal: the window of a *border* pixel (one whose window crosses the left or right
  edge) would read neighbouring pixels. Each border pixel instead loads only its valid
  ``kx`` range ``[kx0, kx1)`` (``(kx1 - kx0) * C`` bytes from input column
  ``ox*stride - pad + kx0``) and is multiplied by its own weight variant holding the
  kernel's ``kx0 .. kx1-1`` columns, so every read stays inside the image and the
  padding contributes exactly zero. Border pixels sit at the ends of the first and last
  tiles of a phase; a phase with border pixels and a tile with border pixels (in any
  phase) are emitted one by one (their signatures hold the phase / tile index), so a
  tile's interior pixels are one contiguous run of its rows.

The bias is the resident D block of :class:`~gemforge.passes._tiling_layers.LayerTiler`.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects import memref
from xdsl.dialects.builtin import MemRefType, StridedLayoutAttr, i8, i32
from xdsl.ir import SSAValue

from gemforge.dialects.tile import DRAM, LoadOp, MatmulOp, MemorySpace, View
from gemforge.passes._tiling_layers import ConvGeometry, LayerTiler, Site, size_sig
from gemforge.passes._tiling_nest import Builder, Lin, Point, TiledDim
from gemforge.passes.schedule.space import Schedule

FORM = "im2col"


def border_pixels(g: ConvGeometry) -> tuple[int, int]:
    """(L, R): output columns ``[L, R)`` have their whole window inside the image rows."""
    left = min(g.ow, -(-g.pad_left // g.stride))
    right = max(left, min(g.ow, (g.w + g.pad_left - g.kw) // g.stride + 1)) if g.w + g.pad_left >= g.kw else left
    return left, right


def kx_range(g: ConvGeometry, ox: int) -> tuple[int, int]:
    """Valid kernel columns ``[kx0, kx1)`` of output column ``ox``."""
    start = ox * g.stride - g.pad_left
    return max(0, -start), min(g.kw, g.w - start)


def im2col_applies(g: ConvGeometry, dim: int) -> bool:
    """Whether the variant can lower ``g``: dense, undilated, every output pixel reads at
    least one kernel column, and the packed reduction ``kw*C`` of one kernel row is at
    most a few DIM blocks (it pays off only when ``C`` is well below DIM)."""
    if g.dilation != 1 or g.c >= dim:
        return False
    rows = [oy * g.stride - g.pad_top for oy in range(g.oh)]
    return (all(kx_range(g, ox)[0] < kx_range(g, ox)[1] for ox in range(g.ow))
            and all(max(0, -r) < min(g.kh, g.h - r) for r in rows))


def im2col_weights(w: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """HWIO weights ``[kh, kw, C, K]`` -> ``[1 + borders, kh, kw*C, K]``: variant 0 is the
    full window (rows ``kx*C + c``); variant ``1 + i`` belongs to the i-th border pixel
    (left ones, then right ones) and holds kernel columns ``kx0 .. kx1-1`` from row 0,
    zero below."""
    kh, kw, c, k = w.shape
    left, right = border_pixels(g)
    borders = [*range(left), *range(right, g.ow)]
    out = np.zeros((1 + len(borders), kh, kw * c, k), np.int8)
    out[0] = w.reshape(kh, kw * c, k)
    for i, ox in enumerate(borders):
        kx0, kx1 = kx_range(g, ox)
        out[1 + i, :, : (kx1 - kx0) * c] = w[:, kx0:kx1].reshape(kh, (kx1 - kx0) * c, k)
    return out


def im2col_schedule(g: ConvGeometry, dim: int, oc_tile: int, phases: int = 1,
                    double_buffer: bool = True) -> Schedule:
    """The variant's fixed tiling: one output row, up to DIM pixels ``phases`` apart
    (the ``owp`` entry holds ``P``, not a tile), ``oc_tile`` channels; the channel loop
    outermost so each weight tile is loaded once."""
    q = g.ow // phases
    tiles = (("b", 1), ("oh", 1), ("owp", phases), ("ow", min(dim, q)), ("oc", oc_tile))
    return Schedule("conv", tiles, ("oc", "b", "oh", "owp", "ow"), "weight", "WS", double_buffer, FORM)


class Im2colConvTiler(LayerTiler):
    """Emits the im2col variant of one convolution (see the module docstring)."""

    red = frozenset()
    out_deps = frozenset({"b", "oh", "owp", "ow", "oc"})
    col = "oc"

    def __init__(self, b: Builder, schedule: Schedule, x: SSAValue, w_all: SSAValue, out: SSAValue,
                 bias: SSAValue | None, g: ConvGeometry, epilogue, bias_rows: int | None = None):
        self.g, self.w = g, w_all
        t = dict(schedule.tiles)
        self.t, self.P = t, t["owp"]
        if g.ow % self.P:
            raise ValueError(f"im2col: {self.P} pixel phases do not divide the output width {g.ow}")
        self.Q = g.ow // self.P
        self.J = g.kw * g.c
        self.left, self.right = border_pixels(g)
        self.borders = [*range(self.left), *range(self.right, g.ow)]
        self.windows = self._window_view(b, x)
        T = t["ow"]
        dims = [TiledDim("b", g.n, 1, size_sig(g.n, 1)),
                TiledDim("oh", g.oh, 1, self._row_sig),
                TiledDim("owp", self.P, 1, self._phase_sig),
                TiledDim("ow", self.Q, T, self._col_sig(T)),
                TiledDim("oc", g.oc, t["oc"], size_sig(g.oc, t["oc"]))]
        super().__init__(b, schedule, dims, epilogue, self._out_view(b, out), bias, bias_rows)

    # -- views and signatures -----------------------------------------------------------
    def _window_view(self, b: Builder, x: SSAValue) -> SSAValue:
        """``[n, e, q, j]`` = byte ``e + q*P*stride*C + j`` of image ``n``: the windows of
        the pixels ``P`` apart whose first one starts at byte ``e``."""
        g = self.g
        shape = [g.n, g.h * g.w * g.c, self.Q, self.J]
        strides = [g.h * g.w * g.c, 1, self.P * g.stride * g.c, 1]
        typ = MemRefType(i8, shape, StridedLayoutAttr(strides, 0), DRAM)
        op = memref.ReinterpretCastOp(x, [], [], [], [0], shape, strides, typ)
        op.result.name_hint = "windows"
        b.add(op)
        return op.result

    def _out_view(self, b: Builder, out: SSAValue) -> SSAValue:
        """``[n, p, q, k]`` = channel ``k`` of output pixel ``p + q*P`` (``p`` counts rows * ow)."""
        g = self.g
        shape = [g.n, g.oh * g.ow, self.Q, g.oc]
        strides = [g.oh * g.ow * g.oc, g.oc, self.P * g.oc, 1]
        typ = MemRefType(out.type.element_type, shape, StridedLayoutAttr(strides, 0), DRAM)
        op = memref.ReinterpretCastOp(out, [], [], [], [0], shape, strides, typ)
        op.result.name_hint = "out_phases"
        b.add(op)
        return op.result

    def _row_sig(self, oy: int):
        """Valid kernel rows ``(ky0, ky1)`` of output row ``oy``."""
        g = self.g
        start = oy * g.stride - g.pad_top
        return (max(0, -start), min(g.kh, g.h - start))

    def _border(self, ox: int) -> bool:
        return not self.left <= ox < self.right

    def _phase_sig(self, r: int):
        return (r if any(self._border(q * self.P + r) for q in range(self.Q)) else None,)

    def _col_sig(self, T: int):
        P = self.P

        def sig(i: int):
            lo, size = i * T, min(T, self.Q - i * T)
            border = any(self._border(q * P + r) for q in range(lo, lo + size) for r in range(P))
            return (size, i if border else None)

        return sig

    def _ox(self, pt: Point, p: int) -> int:
        """Output column of tile row ``p`` (a tile whose phase and index are static)."""
        return (pt.sig["ow"][1] * self.t["ow"] + p) * self.P + pt.sig["owp"][0]

    def _pixels(self, pt: Point) -> tuple[int, int, list[tuple[int, int]]]:
        """(first, end) tile positions of the interior pixels and (position, variant) of
        each border pixel of the tile at ``pt``."""
        size = pt.sig["ow"][0]
        if pt.sig["ow"][1] is None or pt.sig["owp"][0] is None:
            return 0, size, []
        inner = [p for p in range(size) if not self._border(self._ox(pt, p))]
        border = [(p, 1 + self.borders.index(self._ox(pt, p))) for p in range(size) if self._border(self._ox(pt, p))]
        return (inner[0], inner[-1] + 1, border) if inner else (0, 0, border)

    def _first_ox(self, pt: Point, p: int) -> Lin:
        """Output column of tile row ``p`` at ``pt`` (dynamic)."""
        return (pt.offset["ow"] + p) * self.P + pt.offset["owp"]

    # -- LayerTiler hooks -------------------------------------------------------------
    def sites(self) -> list[Site]:
        t, g = self.t, self.g
        variants = 1 + len(self.borders)
        # One buffer per kernel row: a buffer filled by a single load double-buffers.
        pix = frozenset({"b", "oh", "owp", "ow"})
        a_sites = [Site(f"a{ky}", pix, (1, 1, t["ow"], self.J), i8, MemorySpace.SPAD) for ky in range(g.kh)]
        return [*a_sites,
                Site("b", frozenset({"oc"}), (variants, g.kh, self.J, t["oc"]), i8, MemorySpace.SPAD),
                Site("acc", self.out_deps, (1, 1, t["ow"], t["oc"]), i32, MemorySpace.ACC)]

    def acc_dram_shape(self):
        g = self.g
        return (g.n, g.oh * g.ow, self.Q, g.oc)

    def acc_window(self, pt: Point):
        pix = pt.offset["oh"] * self.g.ow + pt.offset["owp"]
        offs = [pt.offset["b"], pix, pt.offset["ow"], pt.offset["oc"]]
        return offs, [1, 1, pt.sig["ow"][0], pt.sig["oc"][0]]

    def bias_offset(self, pt: Point):
        return pt.offset["oc"]

    def load(self, site: Site, pt: Point) -> None:
        b, g = self.b, self.g
        if site.name == "b":  # all weight variants of the channel tile
            oc = pt.sig["oc"][0]
            variants = 1 + len(self.borders)
            b.add(LoadOp(self.w, [0, 0, 0, b.mixed(pt.offset["oc"])], [variants, g.kh, self.J, oc],
                         self.buf["b"], [0, 0, 0, 0]))
            return
        ky, s, c = int(site.name[1:]), g.stride, g.c
        ky0, ky1 = pt.sig["oh"]
        if not ky0 <= ky < ky1:
            return
        a = self.buf[site.name]
        first, end, border = self._pixels(pt)
        n = b.mixed(pt.offset["b"])
        row = (pt.offset["oh"] * s + (ky - g.pad_top)) * (g.w * c)  # byte offset of input row iy
        if end > first:
            start = row + self._first_ox(pt, first) * (s * c) + (-g.pad_left * c)
            b.add(LoadOp(self.windows, [n, b.mixed(start), 0, 0], [1, 1, end - first, self.J], a, [0, 0, first, 0]))
        for p, _ in border:
            kx0, kx1 = kx_range(g, self._ox(pt, p))
            start = row + (self._ox(pt, p) * s - g.pad_left + kx0) * c
            b.add(LoadOp(self.windows, [n, b.mixed(start), 0, 0], [1, 1, 1, (kx1 - kx0) * c], a, [0, 0, p, 0]))

    def step(self, pt: Point, accumulate: bool, d: View | None = None) -> None:
        b, g = self.b, self.g
        ky0, ky1 = pt.sig["oh"]
        oc = pt.sig["oc"][0]
        first, end, border = self._pixels(pt)
        groups = ([(first, end - first, 0, self.J)] if end > first else [])
        for p, v in border:
            kx0, kx1 = kx_range(g, self._ox(pt, p))
            groups.append((p, 1, v, (kx1 - kx0) * g.c))
        acc_buf, w = self.buf["acc"], self.buf["b"]
        for p, rows, v, red in groups:
            for ky in range(ky0, ky1):
                dv = None
                if d is not None and ky == ky0:
                    dv = View.of(d.buffer, [0, 0], [d.sizes[0], oc])
                b.add(MatmulOp(View.of(acc_buf, [0, 0, p, 0], [1, 1, rows, oc]),
                               View.of(self.buf[f"a{ky}"], [0, 0, p, 0], [1, 1, rows, red]),
                               View.of(w, [v, ky, 0, 0], [1, 1, red, oc]),
                               accumulate=accumulate or ky > ky0, d=dv))
