"""The ``loop`` code form of a matmul tiling: one ``gemmini.loop_ws`` per step.

LOOP_WS is a whole tile step in hardware: its unroller moves the A, B and bias (D) tiles
in from DRAM, runs the preloads and computes, and moves C out, in scratchpad and
accumulator halves it picks itself (two loops run at once, in alternating halves).
There are no tile buffers to allocate or double-buffer, so this form is emitted
straight as gemmini ops (with the load, store and execute configs it needs) instead of
``tile.load`` / ``tile.matmul`` / ``tile.store``; the loop nest over steps is the same
as the fine form's (``_tiling_nest.emit_nest``), following ``space.py``:

* the reduction is split across steps only with the reduction innermost
  (``stationary='output'``): steps before the last ``k`` tile pass C = 0, so the
  accumulator half does not flip and the next loop accumulates onto it
  (``ex_accumulate``); the bias (D, one repeated int32 row) goes in with the first;
* a stationary A (``'input'``) or B (``'weight'``) tile is reused across the innermost
  loop: it sits in a fixed scratchpad half (``a_spad_id`` / ``b_spad_id``) and only the
  first step of the innermost loop passes its address (0 = keep what is there).

:func:`loop_form_fits` says whether a schedule's padded tiles fit the loop unit's halves.
"""

from __future__ import annotations

from math import ceil

from xdsl.dialects import arith, memref
from xdsl.ir import SSAValue

from gemforge.dialects import gemmini as gm
from gemforge.passes._tiling_layers import Epilogue, red_sig, size_sig
from gemforge.passes._tiling_nest import Builder, Lin, Point, TiledDim, emit_nest
from gemforge.passes.schedule.space import Schedule
from gemforge.target import Target

INNER_OF = {"input": "n", "weight": "m", "output": "k"}


def loop_form_fits(schedule: Schedule, mkn: tuple[int, int, int], target: Target) -> bool:
    """Whether LOOP_WS can run the schedule: padded A+B tiles fit half the scratchpad, C
    half the accumulator, and a reduction split across steps is innermost."""
    m, k, n = mkn
    t, dim = dict(schedule.tiles), target.dim
    bi, bj, bk = (ceil(t[d] / dim) for d in "mnk")
    if ceil(k / t["k"]) > 1 and schedule.stationary != "output":
        return False
    return (bi * bk + bk * bj) * dim <= target.spad_rows // 2 and bi * bj * dim <= target.acc_rows // 2


class LoopMatmulTiler:
    """``C[M, N] = A[M, K] x B[K, N]`` (+ bias[N]) as LOOP_WS steps (see the module docstring)."""

    def __init__(self, b: Builder, schedule: Schedule, a: SSAValue, w: SSAValue, out: SSAValue,
                 bias: SSAValue | None, mkn: tuple[int, int, int], epilogue: Epilogue, target: Target):
        self.b, self.s, self.epi, self.target = b, schedule, epilogue, target
        self.mkn = mkn
        m, k, n = mkn
        t = dict(schedule.tiles)
        self.t = t
        inner = INNER_OF[schedule.stationary]
        dims = {"m": TiledDim("m", m, t["m"], size_sig(m, t["m"])), "n": TiledDim("n", n, t["n"], size_sig(n, t["n"])),
                "k": TiledDim("k", k, t["k"], red_sig(k, t["k"]))}
        looped = [dims[d] for d in schedule.order if dims[d].count > 1]
        # The stationary operand is reloaded on the first step of the innermost loop only.
        self.reuse = None
        if looped and looped[-1].name == inner and inner != "k":
            d = looped[-1]
            sig = d.signature
            looped[-1] = TiledDim(d.name, d.size, d.tile, lambda i, sig=sig: (*sig(i), i == 0))
            self.reuse = "a" if inner == "n" else "b"
        self.dims = looped
        self.fixed = Point()
        for d in dims.values():
            if d.count == 1:
                self.fixed.offset[d.name], self.fixed.sig[d.name], self.fixed.index[d.name] = Lin(0), d.signature(0), 0
        self.addr = {name: self._pointer(v) for name, v in (("a", a), ("b", w), ("c", out), ("d", bias))
                     if v is not None}
        self.has_bias = bias is not None
        self.b_stride = w.type.get_shape()[-1]  # B's DRAM rows may be padded past n (aligned requests)

    def _pointer(self, mem: SSAValue) -> SSAValue:
        op = memref.ExtractAlignedPointerAsIndexOp.get(mem)
        self.b.add(op)
        return op.results[0]

    def _configs(self) -> None:
        m, k, n = self.mkn
        e, dim = self.epi, self.target.dim
        act = gm.Activation.RELU if e.activation == "relu" else gm.Activation.NONE
        out_bytes = 4 if e.raw else 1
        b = self.b
        b.add(gm.ConfigExOp(dataflow=gm.Dataflow.WS, a_stride=1))
        b.add(gm.ConfigStOp(stride=n * out_bytes, activation=act if not e.raw else gm.Activation.NONE,
                            scale=1.0 if e.raw else e.scale))
        b.add(gm.ConfigLdOp(stride=k, block_stride=dim, id=0, scale=1.0, shrunk=False))
        b.add(gm.ConfigLdOp(stride=self.b_stride, block_stride=dim, id=1, scale=1.0, shrunk=False))
        b.add(gm.ConfigLdOp(stride=0, block_stride=dim, id=2, scale=1.0, shrunk=False))
        self.act = act

    def run(self) -> None:
        self._configs()
        nothing = lambda *a: None  # noqa: E731
        emit_nest(self.b, self.dims, nothing, nothing, nothing, self._step, self.fixed)

    def _at(self, name: str, elems: Lin) -> SSAValue:
        return self.b.value(Lin(0, ((self.addr[name], 1),)) + elems)

    def _step(self, pt: Point) -> None:
        b, dim = self.b, self.target.dim
        m, k, n = self.mkn
        mt, nt = pt.sig["m"][0], pt.sig["n"][0]
        kt, first_k, last_k = pt.sig["k"][:3]
        bi, bj, bk = ceil(mt / dim), ceil(nt / dim), ceil(kt / dim)
        om, on, ok = pt.offset["m"], pt.offset["n"], pt.offset["k"]
        raw = self.epi.raw
        a_id = b_id = 0
        load_a = load_b = True
        if self.reuse is not None:
            inner = self.dims[-1].name
            first_inner = pt.sig[inner][-1]
            if self.reuse == "a":
                a_id, load_a = 1, first_inner
            else:
                b_id, load_b = 2, first_inner
        zero = b.const(0)
        a_addr = self._at("a", om * k + ok) if load_a else zero
        b_addr = self._at("b", ok * self.b_stride + on) if load_b else zero
        d_addr = self._at("d", on * 4) if self.has_bias and first_k else None
        c_addr = self._at("c", (om * n + on) * (4 if raw else 1)) if last_k else None
        b.add(gm.LoopWsOp(a_addr, b_addr, d_addr, c_addr, i=bi, j=bj, k=bk, pad_i=bi * dim - mt,
                          pad_j=bj * dim - nt, pad_k=bk * dim - kt, a_stride=k, b_stride=self.b_stride, d_stride=0,
                          c_stride=n, activation=self.act, full_c=raw, low_d=False,
                          ex_accumulate=self.has_bias or not first_k, a_spad_id=a_id, b_spad_id=b_id))
