"""Implicit im2col by the DMA: a convolution with few input channels as packed-reduction matmuls.

In NHWC the ``kw`` pixels a kernel row covers are ``kw * C`` contiguous bytes. One
``mvin`` whose DRAM row stride is ``stride * C`` bytes therefore moves, for up to DIM
consecutive output pixels of one output row and one kernel row ``ky``, their whole
``(kx, c)`` windows into consecutive scratchpad rows: a reduction of ``J = kw * C``
values per ``ky`` (split by the lowering into ``ceil(J / DIM)`` blocks) instead of ``C``
per ``(ky, kx)``. The source of these loads is an overlapping view of the input
(``memref.reinterpret_cast`` with strides ``[H*W*C, W*C, stride*C, 1]``), the weights a
compile-time matrix per ``ky`` whose rows are ordered ``kx``-major then ``c``.

Tiles are one output row by up to DIM output pixels (by ``oc`` columns). Padding:

* vertical: a kernel row whose input row lies outside the image is skipped (the output
  row's signature holds the valid ``ky`` range);
* horizontal: the window of a *border* pixel (one whose window crosses the left or right
  edge) would read neighbouring pixels. Each border pixel instead loads only its valid
  ``kx`` range ``[kx0, kx1)`` (``(kx1 - kx0) * C`` bytes from input column
  ``ox*stride - pad + kx0``) and is multiplied by its own weight variant holding the
  kernel's ``kx0 .. kx1-1`` columns, so every read stays inside the image and the
  padding contributes exactly zero. Border pixels sit in the first and last tiles of a
  row; those tiles are emitted one by one (their signature holds the tile index).

The bias is the resident D block of :class:`~gemforge.passes._tiling_layers.LayerTiler`.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects import memref
from xdsl.dialects.builtin import MemRefType, StridedLayoutAttr, i8, i32
from xdsl.ir import SSAValue

from gemforge.dialects.tile import DRAM, LoadOp, MatmulOp, MemorySpace, View
from gemforge.passes._tiling_layers import ConvGeometry, LayerTiler, Site, size_sig
from gemforge.passes._tiling_nest import Builder, Point, TiledDim
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


def im2col_schedule(g: ConvGeometry, dim: int, oc_tile: int, double_buffer: bool = True) -> Schedule:
    """The variant's fixed tiling: one output row, DIM pixels, ``oc_tile`` channels; the
    channel loop outermost so each weight tile is loaded once."""
    tiles = (("b", 1), ("oh", 1), ("ow", min(dim, g.ow)), ("oc", oc_tile))
    return Schedule("conv", tiles, ("oc", "b", "oh", "ow"), "weight", "WS", double_buffer, FORM)


class Im2colConvTiler(LayerTiler):
    """Emits the im2col variant of one convolution (see the module docstring)."""

    red = frozenset()
    out_deps = frozenset({"b", "oh", "ow", "oc"})
    col = "oc"

    def __init__(self, b: Builder, schedule: Schedule, x: SSAValue, w_all: SSAValue, out: SSAValue,
                 bias: SSAValue | None, g: ConvGeometry, epilogue, bias_rows: int | None = None):
        self.g, self.w = g, w_all
        t = dict(schedule.tiles)
        self.t = t
        self.J = g.kw * g.c
        self.left, self.right = border_pixels(g)
        self.borders = [*range(self.left), *range(self.right, g.ow)]
        self.window = self._window_view(b, x) if self.right > self.left else None
        self.rows = self._row_view(b, x) if self.borders else None
        T = t["ow"]
        dims = [TiledDim("b", g.n, 1, size_sig(g.n, 1)),
                TiledDim("oh", g.oh, 1, self._row_sig),
                TiledDim("ow", g.ow, T, self._col_sig(T)),
                TiledDim("oc", g.oc, t["oc"], size_sig(g.oc, t["oc"]))]
        super().__init__(b, schedule, dims, epilogue, out, bias, bias_rows)

    # -- views and signatures -----------------------------------------------------------
    def _window_view(self, b: Builder, x: SSAValue) -> SSAValue:
        """``[n, iy, ox - L, j]`` = byte ``j`` of the window of interior output column ``ox``."""
        g = self.g
        shape = [g.n, g.h, self.right - self.left, self.J]
        strides = [g.h * g.w * g.c, g.w * g.c, g.stride * g.c, 1]
        offset = (self.left * g.stride - g.pad_left) * g.c
        typ = MemRefType(i8, shape, StridedLayoutAttr(strides, offset), DRAM)
        op = memref.ReinterpretCastOp(x, [], [], [], [offset], shape, strides, typ)
        op.result.name_hint = "windows"
        b.add(op)
        return op.result

    def _row_view(self, b: Builder, x: SSAValue) -> SSAValue:
        """The input as ``[n, h, 1, w*C]`` (a border pixel reads a byte range of one row)."""
        g = self.g
        shape = [g.n, g.h, 1, g.w * g.c]
        op = memref.ReinterpretCastOp(x, [], [], [], [0], shape, [g.h * g.w * g.c, g.w * g.c, g.w * g.c, 1],
                                      MemRefType(i8, shape, memory_space=DRAM))
        op.result.name_hint = "image_rows"
        b.add(op)
        return op.result

    def _row_sig(self, oy: int):
        """Valid kernel rows ``(ky0, ky1)`` of output row ``oy``."""
        g = self.g
        start = oy * g.stride - g.pad_top
        return (max(0, -start), min(g.kh, g.h - start))

    def _col_sig(self, T: int):
        g = self.g

        def sig(i: int):
            lo, size = i * T, min(T, g.ow - i * T)
            border = any(ox < self.left or ox >= self.right for ox in range(lo, lo + size))
            return (size, i if border else None)

        return sig

    def _pixels(self, pt: Point) -> tuple[int, int, list[tuple[int, int]]]:
        """(first, end) tile positions of the interior pixels and (position, variant) of
        each border pixel of the ow tile at ``pt``."""
        size, index = pt.sig["ow"]
        if index is None:
            return 0, size, []
        lo = index * self.t["ow"]
        inner = [p for p in range(size) if self.left <= lo + p < self.right]
        border = [(p, 1 + self.borders.index(lo + p)) for p in range(size) if not self.left <= lo + p < self.right]
        return (inner[0], inner[-1] + 1, border) if inner else (0, 0, border)

    # -- LayerTiler hooks -------------------------------------------------------------
    def sites(self) -> list[Site]:
        t, g = self.t, self.g
        variants = 1 + len(self.borders)
        # One buffer per kernel row: a buffer filled by a single load double-buffers.
        a_sites = [Site(f"a{ky}", frozenset({"b", "oh", "ow"}), (1, 1, t["ow"], self.J), i8, MemorySpace.SPAD)
                   for ky in range(g.kh)]
        return [*a_sites,
                Site("b", frozenset({"oc"}), (variants, g.kh, self.J, t["oc"]), i8, MemorySpace.SPAD),
                Site("acc", self.out_deps, (1, 1, t["ow"], t["oc"]), i32, MemorySpace.ACC)]

    def acc_dram_shape(self):
        g = self.g
        return (g.n, g.oh, g.ow, g.oc)

    def acc_window(self, pt: Point):
        offs = [pt.offset["b"], pt.offset["oh"], pt.offset["ow"], pt.offset["oc"]]
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
        ky, s = int(site.name[1:]), g.stride
        ky0, ky1 = pt.sig["oh"]
        if not ky0 <= ky < ky1:
            return
        a = self.buf[site.name]
        first, end, border = self._pixels(pt)
        n, ox0 = b.mixed(pt.offset["b"]), pt.offset["ow"]
        iy = b.mixed(pt.offset["oh"] * s + (ky - g.pad_top))
        if end > first:
            b.add(LoadOp(self.window, [n, iy, b.mixed(ox0 + (first - self.left)), 0], [1, 1, end - first, self.J],
                         a, [0, 0, first, 0]))
        for p, _ in border:
            ox = pt.sig["ow"][1] * self.t["ow"] + p
            kx0, kx1 = kx_range(g, ox)
            col = (ox * s - g.pad_left + kx0) * g.c
            b.add(LoadOp(self.rows, [n, iy, 0, col], [1, 1, 1, (kx1 - kx0) * g.c], a, [0, 0, p, 0]))

    def step(self, pt: Point, accumulate: bool, d: View | None = None) -> None:
        b, g = self.b, self.g
        ky0, ky1 = pt.sig["oh"]
        oc = pt.sig["oc"][0]
        first, end, border = self._pixels(pt)
        groups = ([(first, end - first, 0, self.J)] if end > first else [])
        for p, v in border:
            ox = pt.sig["ow"][1] * self.t["ow"] + p
            kx0, kx1 = kx_range(g, ox)
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


def _fits(g: ConvGeometry, target, oc_tile: int, variants: int) -> bool:
    """Whether two buffers of each site (double buffering) fit the scratchpad and accumulator."""
    dim, j = target.dim, g.kw * g.c
    blocks = -(-oc_tile // dim)
    spad = 2 * (variants * g.kh * j * blocks + g.kh * dim * -(-j // dim))
    acc = 2 * dim * blocks + dim * blocks  # output tiles + the bias block
    return spad <= target.spad_rows and acc <= target.acc_rows


def im2col_price(g: ConvGeometry, target, bias: bool, scheduler=None):
    """(schedule, Cost, the priced matmul schedule) of the variant (both None if the cost
    model cannot price it), or None if no channel tile fits. ``scheduler``: the
    ``passes.schedule.schedule`` to call (default: that one).

    The cost model has no im2col term of its own: the variant is priced as the matmul it
    computes, ``M`` = output pixels, ``K`` = ``kh`` x the per-kernel-row reduction padded
    to whole DIM blocks (the array's work per pixel block), ``N`` = output channels, with
    the tiles the variant uses (DIM pixels, the whole reduction, the channel tile)."""
    from gemforge.layers import MatmulLayer
    from gemforge.passes.schedule import schedule as default_scheduler
    from gemforge.passes.schedule.space import ScheduleError

    dim = target.dim
    left, right = border_pixels(g)
    variants = 1 + left + g.ow - right  # the full window + one per border pixel
    oc_tile = g.oc
    while not _fits(g, target, oc_tile, variants):
        if oc_tile <= dim:
            return None
        oc_tile = max(dim, (oc_tile // 2) // dim * dim)
    k = g.kh * -(-(g.kw * g.c) // dim) * dim
    m = g.n * g.oh * g.ow
    force = {"tiles": {"m": min(dim, m), "k": k, "n": oc_tile}, "dataflow": "WS", "form": "fine",
             "double_buffer": True, "stationary": "weight"}
    try:
        priced, cost, _ = (scheduler or default_scheduler)(MatmulLayer(m, k, g.oc, name="im2col"), target,
                                                           force=force, bias=bias,
                                                           load_floor=im2col_load_floor(g, target))
    except ScheduleError:  # unpriceable: lowerable when forced, never chosen unforced
        priced = cost = None
    return im2col_schedule(g, dim, oc_tile), cost, priced


def im2col_load_floor(g: ConvGeometry, target) -> float:
    """Least cycles of the variant's move-ins under the L2's one-request-per-line rule
    (:mod:`~gemforge.passes.schedule.line_chain`): a window mvin's rows are ``kw*C`` bytes
    ``stride*C`` apart, so up to a line's worth of them chain one L2 latency apart; the
    controller holds ``dma_slots`` transfers at once; a transfer starting on the line the
    previous one ended on starts after it; an input row's first reader misses the L2.
    Played in issue order (per-request costs left to the matmul the variant is priced as)."""
    from collections import deque

    from gemforge.passes.schedule.line_chain import chain_floor, dma_slots

    line, T = target.mem_l2_line_bytes, min(target.dim, g.ow)
    left, right = border_pixels(g)
    slots = dma_slots(target)
    done = deque([0.0] * slots, maxlen=slots)  # completion of the latest transfers
    prev_line, seen = -1, -1
    for _ in range(g.n):
        for oy in range(g.oh):
            start = oy * g.stride - g.pad_top
            ky0, ky1 = max(0, -start), min(g.kh, g.h - start)
            for lo in range(0, g.ow, T):
                hi = min(g.ow, lo + T)
                for ky in range(ky0, ky1):
                    iy = start + ky
                    base = iy * g.w * g.c
                    moves = []
                    a, b = max(lo, left), min(hi, right)
                    if b > a:
                        moves.append((base + (a * g.stride - g.pad_left) * g.c, b - a, g.kw * g.c, g.stride * g.c))
                    for ox in [*range(lo, min(hi, left)), *range(max(lo, right), hi)]:
                        kx0, kx1 = kx_range(g, ox)
                        moves.append((base + (ox * g.stride - g.pad_left + kx0) * g.c, 1, (kx1 - kx0) * g.c, 0))
                    for addr, rows, nbytes, stride in moves:
                        t0 = max(done[0], done[-1]) if addr // line == prev_line else done[0]
                        done.append(t0 + chain_floor(target, rows, nbytes, stride, miss=iy > seen))
                        prev_line = (addr + (rows - 1) * stride + nbytes - 1) // line
            seen = max(seen, start + ky1 - 1)
        seen = -1
    return max(done)
