"""Tile code of one scheduled layer: buffers, loads, matmuls and stores in the loop nest.

A :class:`LayerTiler` turns a :class:`~gemforge.passes.schedule.space.Schedule` into tile
IR following ``space.py``'s contract: the tile loops run in ``schedule.order``; a
tensor's tile is loaded inside the innermost loop it depends on (so it stays resident
across the loops inside); the output tile is *visited* inside the innermost loop of
its own dims: a visit starts from the bias (first visit) or the partial sums stored by
the previous visit, runs the matmuls of the reduction loops inside it, and ends with
the final (scaled) store or, when more reduction tiles follow in outer loops, a raw
int32 store of the partial sums into a DRAM scratch tensor.

With ``bias_rows`` (DIM), the bias is not moved into every output tile: a bias block of
``bias_rows`` broadcast rows per column tile (site ``bias``, refilled when the column tile
changes) is the D operand of the first matmul of each visit, which overwrites the
accumulator tile (Gemmini adds D in the array), so the accumulator tile needs no load.

Every buffer site gets its own ``tile.alloc`` right before the loop (run) that refills
it, so ``double-buffer`` can ping-pong it and ``allocate-scratchpad`` can reuse rows
between runs.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from xdsl.dialects import memref
from xdsl.dialects.builtin import MemRefType, i8, i32
from xdsl.ir import Attribute, SSAValue

from gemforge.dialects.tile import DRAM, AllocOp, LoadOp, MatmulOp, MemorySpace, StoreOp, View
from gemforge.passes._tiling_nest import Builder, Lin, Point, TiledDim, emit_nest
from gemforge.passes.schedule.space import Schedule


@dataclass(frozen=True)
class Epilogue:
    """What the final store does: requantize (``scale``), activation, or raw int32."""

    scale: float | None
    activation: str  # 'none' | 'relu' | 'clip'
    clip: tuple[int, int] | None = None

    @property
    def raw(self) -> bool:
        return self.scale is None


@dataclass(frozen=True)
class Site:
    """A buffer refilled at one nest level: its deps (dims), shape, element type, space."""

    name: str
    deps: frozenset[str]
    shape: tuple[int, ...]
    element: Attribute
    space: MemorySpace


class LayerTiler:
    """Shared machinery; subclasses define dims, sites, loads, the step and the store."""

    red: frozenset[str] = frozenset()
    out_deps: frozenset[str] = frozenset()

    col: str = ""

    def __init__(self, b: Builder, schedule: Schedule, dims: list[TiledDim], epilogue: Epilogue,
                 out: SSAValue, bias: SSAValue | None, bias_rows: int | None = None):
        self.b, self.s, self.epi, self.out, self.bias = b, schedule, epilogue, out, bias
        self.bias_rows = bias_rows if bias is not None else None
        by_name = {d.name: d for d in dims}
        # Dims of a single tile need no loop: they are fixed in the starting point.
        self.dims = [by_name[n] for n in schedule.order if by_name[n].count > 1]
        self.pos = {d.name: i for i, d in enumerate(self.dims)}
        self.fixed = Point()
        for d in dims:
            if d.count == 1:
                self.fixed.offset[d.name], self.fixed.sig[d.name], self.fixed.index[d.name] = Lin(0), d.signature(0), 0
        self.buf: dict[str, SSAValue] = {}
        self.visit = self.level_of(self.out_deps)
        self.across = [d for d in self.red if self.pos.get(d, self.visit) < self.visit]
        self.inner_red = [d for d in self.red if self.pos.get(d, -1) > self.visit]
        self.partial: SSAValue | None = None
        if self.across:  # partial sums travel through DRAM between visits
            alloc = memref.AllocOp([], [], MemRefType(i32, self.acc_dram_shape(), memory_space=DRAM))
            alloc.memref.name_hint = "partial"
            b.add(alloc)
            self.partial = alloc.memref

    # -- to define ------------------------------------------------------------------
    def sites(self) -> list[Site]:
        raise NotImplementedError

    def load(self, site: Site, pt: Point) -> None:
        raise NotImplementedError

    def step(self, pt: Point, accumulate: bool) -> None:
        raise NotImplementedError

    def acc_dram_shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    def acc_window(self, pt: Point) -> tuple[list, list[int]]:
        """(DRAM offsets, sizes) of the output tile at ``pt`` (unpooled accumulator view)."""
        raise NotImplementedError

    def bias_sizes(self, pt: Point) -> list[int]:
        return self.acc_window(pt)[1]

    def bias_offset(self, pt: Point) -> Lin:
        raise NotImplementedError

    # -- the nest -------------------------------------------------------------------
    def level_of(self, deps) -> int:
        """The level whose loop refills a buffer: its innermost looped dep (-1: none)."""
        return max((self.pos[d] for d in deps if d in self.pos), default=-1)

    def run(self) -> None:
        sites = self.sites()
        if self.bias_rows:
            tile = dict(self.s.tiles)[self.col]
            sites.append(Site("bias", frozenset({self.col}), (self.bias_rows, tile), i32, MemorySpace.ACC))
        self._by_level: dict[int, list[Site]] = {}
        for s in sites:
            self._by_level.setdefault(self.level_of(s.deps), []).append(s)
        self._before(-1)
        self._enter(-1, self.fixed)
        emit_nest(self.b, self.dims, self._before, self._enter, self._leave, self._step, self.fixed)
        self._leave(-1, self.fixed)

    def _before(self, lv: int) -> None:
        for s in self._by_level.get(lv, []):
            alloc = AllocOp.get(s.shape, s.element, s.space)
            alloc.buffer.name_hint = s.name
            self.b.add(alloc)
            self.buf[s.name] = alloc.buffer

    def _first(self, pt: Point, names) -> bool:
        return all(pt.sig[d][1] for d in names)

    def _last(self, pt: Point, names) -> bool:
        return all(pt.sig[d][2] for d in names)

    def _enter(self, lv: int, pt: Point) -> None:
        for s in self._by_level.get(lv, []):
            if s.name == "bias":
                n = pt.sig[self.col][0]
                self.b.add(LoadOp(self.bias, [self.b.mixed(pt.offset[self.col])], [self.bias_rows, n],
                                  self.buf["bias"], [0, 0]))
            elif s.space is MemorySpace.ACC:
                self._init_acc(pt)
            else:
                self.load(s, pt)

    def _leave(self, lv: int, pt: Point) -> None:
        if lv == self.visit:
            self._store(pt)

    def _step(self, pt: Point) -> None:
        first = self._first(pt, self.inner_red)
        with_d = bool(self.bias_rows) and first and self._first(pt, self.across)
        self.step(pt, self._has_init(pt) or not first, self.d_view(pt) if with_d else None)

    def d_view(self, pt: Point) -> View:
        """The bias block as the D operand of the visit's first matmul."""
        return View.of(self.buf["bias"], [0, 0], [self.bias_rows, pt.sig[self.col][0]])

    def _has_init(self, pt: Point) -> bool:
        return (self.bias is not None and not self.bias_rows) or not self._first(pt, self.across)

    def _init_acc(self, pt: Point) -> None:
        b, acc = self.b, self.buf["acc"]
        sizes = self.bias_sizes(pt)
        zeros = [0] * len(sizes)
        if not self._first(pt, self.across):
            offs, _ = self.acc_window(pt)
            b.add(LoadOp(self.partial, [b.mixed(o) for o in offs], sizes, acc, zeros))
        elif self.bias is not None and not self.bias_rows:
            b.add(LoadOp(self.bias, [b.mixed(self.bias_offset(pt))], sizes, acc, zeros))

    def _store(self, pt: Point) -> None:
        b, acc = self.b, self.buf["acc"]
        offs, sizes = self.acc_window(pt)
        zeros = [0] * len(sizes)
        dest_offs = [b.mixed(o) for o in offs]
        if not self._last(pt, self.across):
            b.add(StoreOp(acc, zeros, sizes, self.partial, dest_offs, raw=True))
            return
        e = self.epi
        if e.raw:
            b.add(StoreOp(acc, zeros, sizes, self.out, dest_offs, raw=True))
        else:
            b.add(StoreOp(acc, zeros, sizes, self.out, dest_offs, scale=e.scale,
                          activation=e.activation if e.activation != "clip" else "none", clip=e.clip))


def size_sig(d: int, tile: int) -> "callable":
    return lambda i: (min(tile, d - i * tile),)


def red_sig(d: int, tile: int) -> "callable":
    n = -(-d // tile)
    return lambda i: (min(tile, d - i * tile), i == 0, i == n - 1)


class MatmulTiler(LayerTiler):
    """``C[M, N] = A[M, K] x B[K, N]`` (+ bias[N]) in tiles of (m, n, k)."""

    red = frozenset({"k"})
    out_deps = frozenset({"m", "n"})
    col = "n"

    def __init__(self, b: Builder, schedule: Schedule, a: SSAValue, w: SSAValue, out: SSAValue,
                 bias: SSAValue | None, mkn: tuple[int, int, int], epilogue: Epilogue, bias_rows: int | None = None):
        m, k, n = mkn
        self.a, self.w, self.mkn = a, w, mkn
        t = dict(schedule.tiles)
        self.t = t
        dims = [TiledDim("m", m, t["m"], size_sig(m, t["m"])), TiledDim("n", n, t["n"], size_sig(n, t["n"])),
                TiledDim("k", k, t["k"], red_sig(k, t["k"]))]
        super().__init__(b, schedule, dims, epilogue, out, bias, bias_rows)

    def sites(self) -> list[Site]:
        t = self.t
        return [Site("a", frozenset({"m", "k"}), (t["m"], t["k"]), i8, MemorySpace.SPAD),
                Site("b", frozenset({"k", "n"}), (t["k"], t["n"]), i8, MemorySpace.SPAD),
                Site("acc", frozenset({"m", "n"}), (t["m"], t["n"]), i32, MemorySpace.ACC)]

    def acc_dram_shape(self):
        return (self.mkn[0], self.mkn[2])

    def acc_window(self, pt: Point):
        return [pt.offset["m"], pt.offset["n"]], [pt.sig["m"][0], pt.sig["n"][0]]

    def bias_offset(self, pt: Point) -> Lin:
        return pt.offset["n"]

    def load(self, site: Site, pt: Point) -> None:
        b = self.b
        if site.name == "a":
            m, k = pt.sig["m"][0], pt.sig["k"][0]
            b.add(LoadOp(self.a, [b.mixed(pt.offset["m"]), b.mixed(pt.offset["k"])], [m, k], self.buf["a"], [0, 0]))
        else:
            k, n = pt.sig["k"][0], pt.sig["n"][0]
            b.add(LoadOp(self.w, [b.mixed(pt.offset["k"]), b.mixed(pt.offset["n"])], [k, n], self.buf["b"], [0, 0]))

    def step(self, pt: Point, accumulate: bool, d: View | None = None) -> None:
        m, n, k = (pt.sig[d_][0] for d_ in "mnk")
        self.b.add(MatmulOp(View.of(self.buf["acc"], [0, 0], [m, n]), View.of(self.buf["a"], [0, 0], [m, k]),
                            View.of(self.buf["b"], [0, 0], [k, n]), accumulate=accumulate, d=d))


@dataclass(frozen=True)
class ConvGeometry:
    """Per-axis convolution geometry (NHWC input ``n x h x w x c``, kernel ``kh x kw``)."""

    n: int
    h: int
    w: int
    c: int
    oc: int
    kh: int
    kw: int
    oh: int
    ow: int
    stride: int
    dilation: int
    pad_top: int
    pad_left: int

    def span(self, outs: int, k: int) -> int:
        return (outs - 1) * self.stride + (k - 1) * self.dilation + 1


def halo_sig(out: int, tile: int, k: int, extent: int, pad: int, g: ConvGeometry):
    """Signature of an output-row (or column) tile: (size, padding before, padding after)."""

    def sig(i: int):
        size = min(tile, out - i * tile)
        start = i * tile * g.stride - pad
        span = g.span(size, k)
        before = min(span, max(0, -start))
        after = min(span - before, max(0, start + span - extent))
        return (size, before, after)

    return sig


class ConvTiler(LayerTiler):
    """A dense (groups 1) or depthwise convolution over (b, oh, ow, oc|c, ic, kh, kw) tiles.

    The kernel is never split (``kh``/``kw`` tiles are the full kernel), so an input tile
    is the window of its output tile; halo rows and columns outside the image are
    zero-filled from a zero tensor (``zeros``) with the input's row stride.
    """

    def __init__(self, b: Builder, schedule: Schedule, x: SSAValue, w: SSAValue, out: SSAValue,
                 bias: SSAValue | None, g: ConvGeometry, epilogue: Epilogue, zeros_for, dim: int,
                 bias_rows: int | None = None):
        self.x, self.w, self.g, self.dim = x, w, g, dim
        self.dw = schedule.kind == "depthwise"
        t = dict(schedule.tiles)
        self.t = t
        self.ch = self.col = "c" if self.dw else "oc"
        self.red = frozenset({"kh", "kw"} if self.dw else {"ic", "kh", "kw"})
        self.out_deps = frozenset({"b", "oh", "ow", self.ch})
        dims = [TiledDim("b", g.n, t["b"], size_sig(g.n, t["b"])),
                TiledDim("oh", g.oh, t["oh"], halo_sig(g.oh, t["oh"], g.kh, g.h, g.pad_top, g)),
                TiledDim("ow", g.ow, t["ow"], halo_sig(g.ow, t["ow"], g.kw, g.w, g.pad_left, g)),
                TiledDim(self.ch, g.oc, t[self.ch], size_sig(g.oc, t[self.ch])),
                TiledDim("kh", g.kh, g.kh, red_sig(g.kh, g.kh)), TiledDim("kw", g.kw, g.kw, red_sig(g.kw, g.kw))]
        if not self.dw:
            dims.append(TiledDim("ic", g.c, t["ic"], red_sig(g.c, t["ic"])))
        self.in_ch = t["c"] if self.dw else t["ic"]
        self.span_h, self.span_w = g.span(t["oh"], g.kh), g.span(t["ow"], g.kw)
        self.zeros = zeros_for((t["b"], self.span_h, self.span_w, g.c))
        super().__init__(b, schedule, dims, epilogue, out, bias, bias_rows)

    def sites(self) -> list[Site]:
        t, g = self.t, self.g
        a_deps = {"b", "oh", "ow", "kh", "kw", "c" if self.dw else "ic"}
        if self.dw:
            b_site = Site("b", frozenset({"c", "kh", "kw"}), (g.kh, g.kw, t["c"], min(self.dim, g.c)), i8,
                          MemorySpace.SPAD)
        else:
            b_site = Site("b", frozenset({"oc", "ic", "kh", "kw"}), (g.kh, g.kw, t["ic"], t["oc"]), i8,
                          MemorySpace.SPAD)
        return [Site("a", frozenset(a_deps), (t["b"], self.span_h, self.span_w, self.in_ch), i8, MemorySpace.SPAD),
                b_site,
                Site("acc", self.out_deps, (t["b"], t["oh"], t["ow"], t[self.ch]), i32, MemorySpace.ACC)]

    def acc_dram_shape(self):
        g = self.g
        return (g.n, g.oh, g.ow, g.oc)

    def acc_window(self, pt: Point):
        offs = [pt.offset["b"], pt.offset["oh"], pt.offset["ow"], pt.offset[self.ch]]
        return offs, [pt.sig["b"][0], pt.sig["oh"][0], pt.sig["ow"][0], pt.sig[self.ch][0]]

    def bias_offset(self, pt: Point) -> Lin:
        return pt.offset[self.ch]

    def _in_ch(self, pt: Point) -> tuple[Lin, int]:
        name = "c" if self.dw else "ic"
        return pt.offset[name], pt.sig[name][0]

    def load(self, site: Site, pt: Point) -> None:
        if site.name == "a":
            self._load_input(pt)
        else:
            self._load_weights(pt)

    def _load_weights(self, pt: Point) -> None:
        b, g = self.b, self.g
        if self.dw:
            c0, c = pt.offset["c"], pt.sig["c"][0]
            cols = min(self.dim, g.c)
            b.add(LoadOp(self.w, [0, 0, b.mixed(c0), 0], [g.kh, g.kw, c, cols], self.buf["b"], [0, 0, 0, 0]))
            return
        ic0, ic = pt.offset["ic"], pt.sig["ic"][0]
        oc0, oc = pt.offset["oc"], pt.sig["oc"][0]
        b.add(LoadOp(self.w, [0, 0, b.mixed(ic0), b.mixed(oc0)], [g.kh, g.kw, ic, oc], self.buf["b"], [0, 0, 0, 0]))

    def _load_input(self, pt: Point) -> None:
        b, g, a = self.b, self.g, self.buf["a"]
        nb = pt.sig["b"][0]
        oh, top, bottom = pt.sig["oh"]
        ow, left, right = pt.sig["ow"]
        c0, c = self._in_ch(pt)
        sh, sw = g.span(oh, g.kh), g.span(ow, g.kw)
        rows, cols = sh - top - bottom, sw - left - right
        if rows > 0 and cols > 0:
            h0 = pt.offset["oh"] * g.stride + (top - g.pad_top)
            w0 = pt.offset["ow"] * g.stride + (left - g.pad_left)
            b.add(LoadOp(self.x, [b.mixed(pt.offset["b"]), b.mixed(h0), b.mixed(w0), b.mixed(c0)],
                         [nb, rows, cols, c], a, [0, top, left, 0]))
        # Zero the halo: full-width bands above and below, then the sides of the middle.
        bands = [(0, top, 0, sw), (sh - bottom, bottom, 0, sw)]
        if rows > 0:
            bands += [(top, rows, 0, left), (top, rows, sw - right, right)]
        for r0, nr, c0_, nc in bands:
            if nr > 0 and nc > 0:
                b.add(LoadOp(self.zeros, [0, 0, 0, 0], [nb, nr, nc, c], a, [0, r0, c0_, 0]))

    def step(self, pt: Point, accumulate: bool, d: View | None = None) -> None:
        g, b = self.g, self.b
        nb, oh, ow = pt.sig["b"][0], pt.sig["oh"][0], pt.sig["ow"][0]
        _, c = self._in_ch(pt)
        strides = [1, g.stride, g.stride, 1]
        for kh in range(g.kh):
            for kw in range(g.kw):
                acc = accumulate or kh > 0 or kw > 0
                first_d = d if kh == kw == 0 else None  # the bias joins the first kernel position
                if not self.dw:
                    oc = pt.sig["oc"][0]
                    b.add(MatmulOp(View.of(self.buf["acc"], [0, 0, 0, 0], [nb, oh, ow, oc]),
                                   View.of(self.buf["a"], [0, kh * g.dilation, kw * g.dilation, 0], [nb, oh, ow, c],
                                           strides),
                                   View.of(self.buf["b"], [kh, kw, 0, 0], [1, 1, c, oc]), accumulate=acc, d=first_d))
                    continue
                for c0 in range(0, c, self.dim):
                    bs = min(self.dim, c - c0)
                    dv = None if first_d is None else View.of(first_d.buffer, [0, c0], [first_d.sizes[0], bs])
                    b.add(MatmulOp(View.of(self.buf["acc"], [0, 0, 0, c0], [nb, oh, ow, bs]),
                                   View.of(self.buf["a"], [0, kh * g.dilation, kw * g.dilation, c0],
                                           [nb, oh, ow, bs], strides),
                                   View.of(self.buf["b"], [kh, kw, c0, 0], [1, 1, bs, bs]), accumulate=acc, d=dv))


def expand_depthwise(w, dim: int):
    """HWIO depthwise weights ``[KH, KW, 1, C]`` -> ``[KH, KW, C, min(DIM, C)]`` with
    ``out[kh, kw, c, c % DIM] = w[kh, kw, 0, c]`` (the diagonal of each channel block)."""
    import numpy as np

    kh, kw, _, c = w.shape
    cols = min(dim, c)
    out = np.zeros((kh, kw, c, cols), dtype=np.int8)
    idx = np.arange(c)
    out[:, :, idx, idx % dim] = w[:, :, 0, :]
    return out
