"""``convert-graph-to-tile`` for a standalone ``graph.maxpool``: Gemmini's pooled move-out.

An NHWC int8 max pool needs no matmul: its input rows are moved into the accumulator
(``tile.load`` of int8 into an int32 buffer: sign-extended, Gemmini's "shrunk" mvin)
and moved out again pooled (``tile.store ... pool``: ``config_st`` pool fields, scale 1,
no activation), which is exact -- max commutes with the identity epilogue.

Loops: batch -> pooled-row tiles -> pooled-column tiles -> channel tiles (innermost:
the channel tiles of one spatial tile reread the same DRAM lines, which the L2 then
holds; the loop that holds the load is the one ``double-buffer`` pipelines). A tile of
``p x q`` pooled pixels loads the ``((p - 1) * stride + window) x ((q - 1) * stride +
window)`` input pixels its windows reach (the halo shared with the next tile is loaded
twice), clipped to the image; the part of a border tile's windows outside the image is
the store's pad. A channel tile of up to ``dma_max_spad_mvin_blocks`` x DIM channels
moves each pixel in one mvin row (fewer, larger DMA requests) but leaves fewer
accumulator rows for pixels (more halo): :meth:`MaxPoolTiler._plan` prices both with
the DMA's request cost and picks the cheapest whose buffer fits half the accumulator
(so the double buffer fits too), else the whole accumulator.

Gemmini pools padding as 0 where ``graph.maxpool`` leaves it out: the two agree when no
window reaches outside the input (:func:`needs_nonnegative_input` is False) or when the
input is known non-negative (:func:`known_nonnegative`: a ReLU or an epilogue clipped at
0, through concats, reshapes, transposes, max / average pools, rescales and LRNs; or marked with
``NONNEGATIVE_ATTR`` by a caller that knows, as the network builder does).
"""

from __future__ import annotations

from xdsl.dialects.builtin import IntegerType, UnitAttr
from xdsl.ir import SSAValue

from gemforge.dialects import gemmini as gm
from gemforge.dialects import graph
from gemforge.dialects.tile import AllocOp, LoadOp, MemorySpace, StoreOp
from gemforge.dialects.tile_store import Pool
from gemforge.passes._tiling_nest import Builder, Lin, Point, TiledDim, emit_nest
from gemforge.passes._sign import known_nonnegative
from gemforge.passes._tiling_options import TilingError
from gemforge.passes.schedule.terms import DmaRates
from gemforge.target import Target

NONNEGATIVE_ATTR = "gemforge.nonnegative_input"
_LIMITS = gm.ConfigStOp.field_maxima()


def needs_nonnegative_input(op: graph.MaxPoolOp) -> bool:
    """Whether some window of ``op`` reaches outside its input (padding, which Gemmini
    pools as 0 and ``graph.maxpool`` leaves out)."""
    _, h, w, _ = op.input.type.get_shape()
    _, ph, pw, _ = op.result.type.get_shape()
    (kh, kw), (sh, sw) = op.kernel, op.stride
    top, left, _, _ = op.padding
    return bool(top or left or (ph - 1) * sh + kh - top > h or (pw - 1) * sw + kw - left > w)


def check_maxpool(op: graph.MaxPoolOp, label: str, target: Target) -> None:
    """One-line TilingError naming what Gemmini's pooled move-out cannot do for ``op``."""
    _, _, pw, _ = op.result.type.get_shape()
    (kh, kw), (sh, sw) = op.kernel, op.stride
    top, left, _, _ = op.padding
    et = op.input.type.element_type
    why = (f"a {et} input (int{target.input_bits} only)" if et != IntegerType(target.input_bits)
           else "a non-square window or stride" if (kh, sh) != (kw, sw)
           else f"a {kh}x{kh} window (at most {_LIMITS['pool_size']})" if kh > _LIMITS["pool_size"]
           else f"stride {sh} (at most {_LIMITS['pool_stride']})" if sh > _LIMITS["pool_stride"]
           else f"padding {top}, {left} (at most {_LIMITS['upad']})" if max(top, left) > _LIMITS["upad"]
           else f"pooled width {pw} (at most {_LIMITS['pool_out_dim']})" if pw > _LIMITS["pool_out_dim"]
           else "padding of a possibly negative input (Gemmini pools padding as zeros)"
           if needs_nonnegative_input(op) and not (NONNEGATIVE_ATTR in op.attributes or known_nonnegative(op.input))
           else None)
    if why is not None:
        raise TilingError(f"{label}: a max pool runs on Gemmini's pooled move-out, which cannot do {why}")


def window_span(i: int, tile: int, out: int, extent: int, k: int, s: int, pad: int) -> tuple[int, int, int]:
    """(first input index, inputs loaded, pad before) of output tile ``i`` of ``tile``
    pooled outputs along one axis of ``extent`` inputs (window ``k``, stride ``s``)."""
    size = min(tile, out - i * tile)
    start = i * tile * s - pad
    lo, hi = max(0, start), min(extent, start + (size - 1) * s + k)
    return lo, hi - lo, lo - start


class MaxPoolTiler:
    """Emits the tile loops of one ``graph.maxpool`` (see the module docstring)."""

    def __init__(self, b: Builder, op: graph.MaxPoolOp, x: SSAValue, out: SSAValue, target: Target, label: str):
        check_maxpool(op, label, target)
        self.b, self.x, self.out, self.t = b, x, out, target
        self.n, self.h, self.w, self.c = op.input.type.get_shape()
        _, self.ph, self.pw, _ = op.result.type.get_shape()
        self.k, self.s = op.kernel[0], op.stride[0]
        self.top, self.left = op.padding[0], op.padding[1]
        self.ct, self.tp, self.tq = self._plan(label)

    # -- the tiling ---------------------------------------------------------------------
    def rows(self, i: int, tp: int) -> tuple[int, int, int]:
        return window_span(i, tp, self.ph, self.h, self.k, self.s, self.top)

    def cols(self, j: int, tq: int) -> tuple[int, int, int]:
        return window_span(j, tq, self.pw, self.w, self.k, self.s, self.left)

    def _axis(self, span, out: int, tile: int) -> tuple[int, int]:
        """(most inputs of one tile, inputs loaded over all tiles) along one axis."""
        loaded = [span(i, tile)[1] for i in range(-(-out // tile))]
        return max(loaded), sum(loaded)

    def _spatial(self, blocks: int, budget: int) -> tuple[int, int, int] | None:
        """(pooled rows, pooled cols, input pixels loaded) of the row x column tile whose
        buffer fits ``budget`` accumulator rows and loads the fewest pixels (halos are
        loaded twice), the larger tile on a tie; None if none fits."""
        best = None
        for tp in range(1, min(self.ph, _LIMITS["porows"]) + 1):
            rmax, rsum = self._axis(self.rows, self.ph, tp)
            if rmax > _LIMITS["orows"] or rmax * blocks > budget:
                break
            cap = min(budget // (rmax * blocks), _LIMITS["ocols"])
            tq = min(self.pw, _LIMITS["pocols"], max(0, (cap - self.k) // self.s + 1) if cap < self.w else self.pw)
            while tq and self._axis(self.cols, self.pw, tq)[0] > cap:
                tq -= 1
            if not tq:
                continue
            key = (rsum * self._axis(self.cols, self.pw, tq)[1], -tp * tq)
            if best is None or key < best[0]:
                best = (key, tp, tq)
        return None if best is None else (best[1], best[2], best[0][0])

    def _plan(self, label: str) -> tuple[int, int, int]:
        """(channel tile, pooled-row tile, pooled-column tile): wider channel tiles move
        each pixel in fewer, larger DMA requests but leave room for smaller spatial tiles
        (more halo); the cheapest load (the cost model's DMA price of one pixel's row,
        ``DmaRates.chunk``), preferring a buffer that fits half the accumulator (so
        ``double-buffer`` can ping-pong it)."""
        t, dim = self.t, self.t.dim
        dma = DmaRates(t)
        widest = min(t.dma_max_spad_mvin_blocks, -(-self.c // dim)) * dim
        for budget in (t.acc_rows // 2, t.acc_rows):
            best = None
            for ct in range(dim, widest + 1, dim):
                cw = min(ct, self.c)
                rest = self.c % cw  # a buffer per run of channel tiles, all live together
                plan = self._spatial(-(-cw // dim) + -(-rest // dim), budget)
                if plan is None:
                    continue
                tp, tq, pixels = plan
                cost = pixels * -(-self.c // cw) * dma.chunk(cw * t.input_bytes)
                if best is None or cost < best[0]:
                    best = (cost, cw, tp, tq)
            if best is not None:
                return best[1:]
        raise TilingError(f"{label}: one pooled pixel's window needs {self.k * self.k} accumulator rows per "
                          f"channel block, more than the target's {t.acc_rows}")

    def row_sig(self, i: int):
        _, rows, pad = self.rows(i, self.tp)
        return (min(self.tp, self.ph - i * self.tp), rows, pad)

    def col_sig(self, j: int):
        _, cols, pad = self.cols(j, self.tq)
        return (min(self.tq, self.pw - j * self.tq), cols, pad)

    # -- the loops ----------------------------------------------------------------------
    def run(self) -> None:
        dims = [TiledDim("n", self.n, 1, lambda i: ()),
                TiledDim("ph", self.ph, self.tp, self.row_sig),
                TiledDim("pw", self.pw, self.tq, self.col_sig),
                TiledDim("c", self.c, self.ct, lambda i: (min(self.ct, self.c - i * self.ct),))]
        self.col_runs, self.chan_runs, self.visits = dims[2].runs(), dims[3].runs(), 0
        emit_nest(self.b, dims, self.alloc, lambda lv, pt: None, lambda lv, pt: None, self.step)

    def alloc(self, lv: int) -> None:
        """In front of each run of column tiles, a buffer per run of channel tiles, as wide
        as the run's tiles (the pooled move-out reads window rows ``ocols`` apart). Only
        the loop holding its load uses it -- the channel loop, else the column loop -- so
        ``double-buffer`` can ping-pong it; buffers not live at once share rows."""
        if lv != 2:
            return
        _, cols, _ = self.col_runs[self.visits % len(self.col_runs)][2]  # emit_nest visits the runs in order
        self.visits += 1
        dim, rows = self.t.dim, self._axis(self.rows, self.ph, self.tp)[0]
        self.bufs = {}
        for _, _, sig in self.chan_runs:
            alloc = AllocOp.get((1, rows, cols, -(-sig[0] // dim) * dim), IntegerType(self.t.acc_bits),
                                MemorySpace.ACC)
            alloc.buffer.name_hint = "pool_in"
            self.b.add(alloc)
            self.bufs[sig] = alloc.buffer

    def step(self, pt: Point) -> None:
        b = self.b
        size, rows, top = pt.sig["ph"]
        psize, cols, left = pt.sig["pw"]
        (cw,) = pt.sig["c"]
        n, c0 = b.mixed(pt.offset["n"]), b.mixed(pt.offset["c"])
        row0 = Lin(0) if top else pt.offset["ph"] * self.s + (-self.top)
        col0 = Lin(0) if left else pt.offset["pw"] * self.s + (-self.left)
        view, buf = [1, rows, cols, cw], self.bufs[pt.sig["c"]]
        b.add(LoadOp(self.x, [n, b.mixed(row0), b.mixed(col0), c0], view, buf, [0, 0, 0, 0]))
        pool = Pool(self.k, self.s, (top, left), (1, size, psize, cw))
        b.add(StoreOp(buf, [0, 0, 0, 0], view, self.out,
                      [n, b.mixed(pt.offset["ph"]), b.mixed(pt.offset["pw"]), c0], pool=pool))


def mark_nonnegative(op: graph.MaxPoolOp) -> None:
    """Record that ``op``'s input is known non-negative (see :data:`NONNEGATIVE_ATTR`)."""
    op.attributes[NONNEGATIVE_ATTR] = UnitAttr()
