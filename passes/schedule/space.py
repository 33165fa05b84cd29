"""The scheduler's search space: loop-nest views of layers, candidate tiles, and the Schedule.

A layer is scheduled as a loop nest over *tiles*. This module fixes exactly what a
:class:`Schedule` means, so that the tiling pass can lower it and the cost model
(``cost.py``) can price it; both follow the rules below.

Problem views (``problem_of``)
------------------------------
* ``matmul``: ``C[m, n] = A[m, k] x B[k, n]``; loop dims ``m`` (rows of A and C),
  ``n`` (columns of B and C), ``k`` (reduction). A 1x1 convolution with stride 1,
  padding 0 and one group is scheduled in this view on its NHWC flattening
  (``m = batch*out_h*out_w``, ``k = in_c``, ``n = out_c``).
* ``conv``: loop dims ``b, oh, ow`` (output pixels), ``oc`` (output channels),
  ``ic, kh, kw`` (reduction: input channels, kernel rows, kernel columns). A 1x1
  convolution of stride s > 1 without padding over an image whose sides are multiples
  of s (``strided_pointwise``) has stride 1 on the subsampled ``out_h x out_w`` image:
  its input tile is exactly the pixels it reads (a strided view of the input). A grouped
  (not depthwise) convolution gets an extra outermost dim ``g`` (one group per tile,
  tile 1); ``oc``/``ic`` are then the per-group channel counts.
* ``depthwise``: loop dims ``b, oh, ow``, ``c`` (channel: input and output at once),
  ``kh, kw``. Channels are computed in groups of up to DIM as block-diagonal matmuls:
  for a kernel position and a block of ``bs <= DIM`` channels, A is the block's input
  pixels (``rows x bs``), B is ``diag(w[kh, kw, c0:c0+bs])`` (``bs x bs``, expanded at
  compile time in DRAM as ``bs`` rows of ``bs`` int8), C accumulates ``rows x bs``.

Dims belong to classes: ``pix`` (b, oh, ow, m), ``col`` (oc, n), ``red`` (ic, kh, kw,
k) and ``all`` (g, and depthwise c: relevant to every tensor). Tensor A (input)
depends on pix+red(+all), B (weights) on col+red(+all), C (output) on pix+col(+all).

Tiles (``Schedule.tiles``)
--------------------------
Every loop dim is tiled; ``tile(d)`` is in elements (output rows/cols/channels,
kernel rows/cols), ``1 <= tile <= size``. The dim runs ``n = ceil(size / tile)``
tiles; tiles 0..n-2 have ``tile`` elements and the last one has the remainder
``size - (n-1)*tile`` (a smaller tile, never padding to a multiple). Inside a tile the
code works in DIM blocks: A rows are blocked by DIM along ``m`` (matmul) or along
``ow`` per output row (conv: a block never spans two output rows), B/C columns by DIM
along ``n``/``oc``/``c``, the reduction by DIM along ``k``/``ic`` and one block per
kernel position ``(kh, kw)``; partial blocks are issued with fewer rows/columns.
Within one step the cost model assumes this instruction order: WS, for each column
block j and reduction block k (kernel positions, then ic blocks): preload B(k, j)
with the first A-row block's compute, then one preload(garbage B) + compute per
further A-row block; OS, for each (i, j): preload C, then one compute per k block.
Moves: A/B mvins of at most DIM rows x ``dma_max_spad_mvin_blocks``*DIM columns (a
conv input mvin covers up to DIM consecutive pixels of one input row), accumulator
mvins of ``dma_max_acc_mvin_blocks``*DIM columns, mvouts of ``dma_max_mvout_blocks``*DIM
(fine form: only from an output buffer of DIM rows, else DIM; raw int32 mvouts: DIM).

The conv input tile for output rows ``[o0, o0+to)`` and kernel rows ``[k0, k0+tk)``
is the contiguous input-row span ``(to-1)*stride + (tk-1)*dilation + 1`` starting at
``o0*stride + k0*dilation - pad`` (likewise for columns); rows/columns outside the
input are padding: they occupy scratchpad rows but are zero-filled, not read.

Loop order (``Schedule.order``), outer to inner
-----------------------------------------------
The tile loops run in ``order``; inside the innermost tile loop one *step* processes
one tile of every dim. The order is always ``[all-class dims] + [the two
non-stationary classes, in the fixed class order pix, col, red] + [stationary class]``
with each class's dims in view order. ``stationary`` names the tensor that does not
depend on the innermost class and so stays resident across it: ``'input'`` (A; col
innermost), ``'weight'`` (B; pix innermost), ``'output'`` (C; red innermost, partial
sums stay in the accumulator). The cost model shows every other interleaving of
classes moves at least as much data, so only these three orders are searched;
the stationary class must have a loop with more than one tile (or, if no pix/col/red
loop has more than one tile, ``'output'`` is recorded).

(``cost.estimate`` prices any schedule by the class of its innermost loop with more
than one tile, which is what the loop nest really keeps innermost.)

Data movement per step: a tensor's tile is (re)loaded when its tile index changes
from the previous step and kept otherwise (in the ``loop`` form this is LOOP_WS /
LOOP_CONV_WS's a/b spad ids and skip bits). The output tile: on its first visit the
bias (if any) and residual (if any) are moved into its accumulator rows (loop form),
or (fine form, WS) the bias is added by the array: a resident *bias block* of DIM
broadcast int32 rows per column block of the column tile, refilled whenever the
column tile changes (once per column tile when the pix class is innermost, else once
per (pix, col) tile), is the D operand of the first reduction block's computes of the
visit, which then cost DIM cycles each; without bias or residual the tile starts
from zero (C address written, not accumulated); if the reduction is not
innermost (stationary != 'output') and the reduction has more than one tile, a visit
that is not the last stores the int32 partial sums (mvout of full accumulator rows)
and the next visit moves them back into the accumulator (mvin, accumulate); the last
visit stores the scaled int8 result.

Buffers (``double_buffer``) and code form (``form``)
----------------------------------------------------
One buffer per tensor holds one full-size tile: scratchpad rows
``A = ceil(ic_t/DIM) * b_t * span_h * span_w`` (matmul ``ceil(k_t/DIM) * m_t``),
``B = ceil(oc_t/DIM) * kh_t*kw_t*ic_t`` (matmul ``ceil(n_t/DIM) * k_t``, depthwise
``kh_t*kw_t*c_t``); accumulator rows ``C = ceil(oc_t/DIM) * b_t*oh_t*ow_t`` (+ ``DIM * ceil(oc_t/DIM)`` for the
fine form's bias block).
``double_buffer=False``: one copy, A+B must fit the scratchpad and C the
accumulator; loads of a step wait for the previous step's computes and stores.
``double_buffer=True``: two copies (ping-pong, step s uses copy s mod 2; a
stationary tile stays where it is until it changes), so A+B must fit HALF the
scratchpad and C HALF the accumulator; the loads of step s+1 and the stores of step
s-1 overlap the computes of step s.
``form='fine'``: the host issues every mvin/preload/compute/mvout itself.
``form='loop'``: one LOOP_WS (matmul) or LOOP_CONV_WS (conv, depthwise with
``c_t <= DIM``) per step, WS only; a LOOP_WS buffer holds whole DIM blocks (A
``ceil(m_t/DIM)*DIM * ceil(k_t/DIM)`` rows, likewise B and C); the hardware runs two loops at once in
alternating halves, so a loop schedule is always ``double_buffer=True``; a loop
accumulates a split reduction only across consecutive loops, so a loop schedule whose
reduction has more than one tile is output-stationary.
``dataflow``: ``'WS'`` (weights preloaded, A rows stream) or ``'OS'`` (fine form only).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from gemforge.errors import GemforgeError
from gemforge.layers import ConvLayer, Layer, MatmulLayer
from gemforge.target import Target

CLASSES = ("pix", "col", "red")
STATIONARY_OF = {"pix": "weight", "col": "input", "red": "output"}
CLASS_OF_STATIONARY = {v: k for k, v in STATIONARY_OF.items()}


class ScheduleError(GemforgeError):
    """No schedule exists (or a forced one is invalid) for a layer on a target."""


@dataclass(frozen=True)
class LoopDim:
    """One loop of the nest: its extent, class and whether tiles count in DIM blocks."""

    name: str
    size: int
    cls: str  # 'pix' | 'col' | 'red' | 'all'
    blocked: bool  # candidates are multiples of DIM (plus the exact size)


@dataclass(frozen=True)
class Problem:
    """A layer as a loop nest (see the module docstring for the three kinds)."""

    kind: str  # 'matmul' | 'conv' | 'depthwise'
    dims: tuple[LoopDim, ...]
    name: str
    stride: int = 1
    dilation: int = 1
    pad: int = 0
    in_h: int = 1
    in_w: int = 1

    def dim(self, name: str) -> LoopDim:
        for d in self.dims:
            if d.name == name:
                return d
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dims)

    def classes(self) -> tuple[str, ...]:
        """The stationary classes this view offers (a class with at least one dim)."""
        return tuple(c for c in CLASSES if any(d.cls == c for d in self.dims))


def problem_of(layer: Layer) -> Problem:
    """The loop-nest view of a layer."""
    if isinstance(layer, MatmulLayer):
        return _matmul(layer.m, layer.k, layer.n, layer.name)
    if not isinstance(layer, ConvLayer):
        raise ScheduleError(f"layer {getattr(layer, 'name', layer)!r}: not a ConvLayer or MatmulLayer")
    L = layer
    if L.kernel_h == L.kernel_w == 1 and L.stride == 1 and L.pad == 0 and L.groups == 1:
        return _matmul(L.batch * L.out_h * L.out_w, L.in_c, L.out_c, L.name)
    geo = dict(stride=L.stride, dilation=L.dilation, pad=L.pad, in_h=L.in_h, in_w=L.in_w, name=L.name)
    if strided_pointwise(L):  # the lowering reads only the pixels a tile needs: stride 1 on the subsampled image
        geo.update(stride=1, dilation=1, in_h=L.out_h, in_w=L.out_w)
    pix = (LoopDim("b", L.batch, "pix", False), LoopDim("oh", L.out_h, "pix", False), LoopDim("ow", L.out_w, "pix", True))
    red_k = (LoopDim("kh", L.kernel_h, "red", False), LoopDim("kw", L.kernel_w, "red", False))
    if L.depthwise:
        return Problem("depthwise", pix + (LoopDim("c", L.in_c, "all", True),) + red_k, **geo)
    groups = (LoopDim("g", L.groups, "all", False),) if L.groups > 1 else ()
    dims = groups + pix + (LoopDim("oc", L.out_c // L.groups, "col", True), LoopDim("ic", L.in_c // L.groups, "red", True)) + red_k
    return Problem("conv", dims, **geo)


def strided_pointwise(L: ConvLayer) -> bool:
    """A 1x1, stride s > 1, unpadded, ungrouped convolution over an image whose sides are
    multiples of s: lowered as a stride-1 one over a view holding every s-th pixel."""
    return (L.kernel_h == L.kernel_w == 1 and L.stride > 1 and L.pad == 0 and L.groups == 1
            and L.in_h % L.stride == 0 and L.in_w % L.stride == 0)


def _matmul(m: int, k: int, n: int, name: str) -> Problem:
    return Problem("matmul", (LoopDim("m", m, "pix", True), LoopDim("n", n, "col", True), LoopDim("k", k, "red", True)), name)


def candidates(dim: LoopDim, target: Target) -> list[int]:
    """Tile sizes searched for a dim, ascending.

    Blocked dims: every value when ``size <= DIM``, else the multiples of DIM below
    ``size`` and ``size`` itself. Other dims (b, oh, kh, kw): every value up to DIM,
    the multiples of DIM, and ``size``. Group dims: only 1.
    """
    D, dim_ = dim.size, target.dim
    if dim.name == "g":
        return [1]
    if dim.blocked and D > dim_:
        vals = set(range(dim_, D, dim_))
    else:
        vals = set(range(1, min(D, dim_) + 1)) | set(range(dim_, D, dim_))
    vals.add(D)
    return sorted(vals)


def trips(size: int, tile: int) -> tuple[int, int]:
    """(number of tiles, size of the last tile)."""
    n = ceil(size / tile)
    return n, size - (n - 1) * tile


def span(t_out: int, t_k: int, stride: int, dilation: int) -> int:
    """Input extent (rows or columns) needed by ``t_out`` outputs and ``t_k`` kernel taps."""
    return (t_out - 1) * stride + (t_k - 1) * dilation + 1


@dataclass(frozen=True)
class Config:
    """The non-tile choices of a schedule."""

    dataflow: str  # 'WS' | 'OS'
    form: str  # 'loop' | 'fine'
    double_buffer: bool
    stationary: str  # class kept innermost: 'pix' | 'col' | 'red'


def configs(problem: Problem, target: Target, dataflows=None, force: dict | None = None) -> list[Config]:
    """Every valid Config, filtered by ``dataflows`` and forced fields."""
    force = force or {}
    supported = [df for df, ok in (("WS", target.weight_stationary), ("OS", target.output_stationary)) if ok]
    if dataflows is not None:
        supported = [df for df in supported if df in {d.upper() for d in dataflows}]
    out = []
    for df in supported:
        # loop first: on equal cost the search keeps the first config (fewer host instructions)
        forms = ([("loop", True)] if df == "WS" else []) + [("fine", True), ("fine", False)]
        for form, db in forms:
            for cls in problem.classes():
                c = Config(df, form, db, cls)
                if _forced_ok(c, force):
                    out.append(c)
    if not out:
        raise ScheduleError(f"layer {problem.name}: no dataflow/form/buffering left (target supports "
                            f"{', '.join(supported) or 'none'} of {dataflows}, forced {force})")
    return out


def _forced_ok(c: Config, force: dict) -> bool:
    checks = {
        "dataflow": c.dataflow, "form": c.form, "double_buffer": c.double_buffer,
        "stationary": STATIONARY_OF[c.stationary],
    }
    return all(force[k] == v for k, v in checks.items() if k in force)


def order_for(problem: Problem, stationary_cls: str) -> tuple[str, ...]:
    """The loop order (outer to inner) of a stationary class (module docstring)."""
    seq = ["all"] + [c for c in CLASSES if c != stationary_cls] + [stationary_cls]
    return tuple(d.name for c in seq for d in problem.dims if d.cls == c)


@dataclass(frozen=True)
class Schedule:
    """A complete schedule of one layer; the module docstring defines every field."""

    kind: str
    tiles: tuple[tuple[str, int], ...]  # (dim, tile) in view order
    order: tuple[str, ...]  # tile loops, outer to inner
    stationary: str  # 'input' | 'weight' | 'output'
    dataflow: str  # 'WS' | 'OS'
    double_buffer: bool
    form: str  # 'loop' | 'fine'

    def tile(self, name: str) -> int:
        return dict(self.tiles)[name]

    @property
    def config(self) -> Config:
        return Config(self.dataflow, self.form, self.double_buffer, CLASS_OF_STATIONARY[self.stationary])

    def to_dict(self) -> dict:
        return {"kind": self.kind, "tiles": dict(self.tiles), "order": list(self.order), "stationary": self.stationary,
                "dataflow": self.dataflow, "double_buffer": self.double_buffer, "form": self.form}


def make_schedule(problem: Problem, tiles: dict[str, int], config: Config) -> Schedule:
    return Schedule(problem.kind, tuple((d.name, int(tiles[d.name])) for d in problem.dims),
                    order_for(problem, config.stationary), STATIONARY_OF[config.stationary],
                    config.dataflow, config.double_buffer, config.form)


def footprint(problem: Problem, tiles: dict[str, int], target: Target, bias_block: bool = False) -> tuple[int, int]:
    """(scratchpad rows, accumulator rows) of one buffer of a full-size tile; ``bias_block``
    adds the fine form's resident bias block (DIM rows per column block) to the accumulator."""
    t, blk = tiles, lambda v: ceil(v / target.dim)
    col = {"matmul": "n", "depthwise": "c"}.get(problem.kind, "oc")
    spad, acc = _footprint(problem, t, target)
    return spad, acc + (target.dim * blk(t[col]) if bias_block else 0)


def _footprint(problem: Problem, t: dict[str, int], target: Target) -> tuple[int, int]:
    blk = lambda v: ceil(v / target.dim)  # noqa: E731
    if problem.kind == "matmul":
        return blk(t["k"]) * t["m"] + blk(t["n"]) * t["k"], blk(t["n"]) * t["m"]
    sh = span(t["oh"], t["kh"], problem.stride, problem.dilation)
    sw = span(t["ow"], t["kw"], problem.stride, problem.dilation)
    pix, kk = t["b"] * t["oh"] * t["ow"], t["kh"] * t["kw"]
    if problem.kind == "depthwise":
        return blk(t["c"]) * t["b"] * sh * sw + kk * t["c"], blk(t["c"]) * pix
    return blk(t["ic"]) * t["b"] * sh * sw + blk(t["oc"]) * kk * t["ic"], blk(t["oc"]) * pix


def capacity(target: Target, double_buffer: bool) -> tuple[int, int]:
    """(scratchpad rows, accumulator rows) one buffer may use."""
    div = 2 if double_buffer else 1
    return target.spad_rows // div, target.acc_rows // div


def fits(problem: Problem, schedule: Schedule, target: Target, bias: bool = False) -> bool:
    """Whether the schedule's buffers fit (halves when double-buffered; loop form rules;
    ``bias``: the layer has a bias, which the fine WS form keeps resident)."""
    tiles = dict(schedule.tiles)
    spad, acc = footprint(problem, tiles, target, bias and schedule.form == "fine" and schedule.dataflow == "WS")
    cap_s, cap_a = capacity(target, schedule.double_buffer)
    ok = spad <= cap_s and acc <= cap_a
    if schedule.form == "loop":
        ok = ok and schedule.double_buffer and schedule.dataflow == "WS"
        split = any(ceil(d.size / tiles[d.name]) > 1 for d in problem.dims if d.cls == "red")
        ok = ok and not (split and schedule.stationary != "output")
        if problem.kind == "matmul":  # LOOP_WS pads every tile to whole DIM blocks
            bi, bj, bk = (ceil(tiles[d] / target.dim) for d in "mnk")
            ok = ok and (bi * bk + bk * bj) * target.dim <= cap_s and bi * bj * target.dim <= cap_a
        if problem.kind == "depthwise":
            ok = ok and tiles["c"] <= target.dim
    return ok
