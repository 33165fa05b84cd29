"""``convert-graph-to-tile``: tile every ``graph.conv2d`` / ``graph.matmul`` with the scheduler's choice.

Each function of graph ops becomes a function over DRAM memrefs
(``#tile.space<dram>``) in destination-passing style: tensor arguments become memref
arguments, results become extra trailing memref arguments (the function gets the
attribute ``gemforge.outputs`` = their number and returns nothing), ``graph.constant``
becomes a ``memref.global`` read with ``memref.get_global``, and intermediate tensors
become DRAM ``memref.alloc`` s. Each conv / matmul is scheduled by
:func:`gemforge.passes.schedule.schedule` (weight-stationary, fine-grained code,
double-buffered, the kernel never split) and emitted as a loop nest of tile ops
(:mod:`gemforge.passes._tiling_layers`), followed by a ``tile.fence`` (later layers
read what it stored).

Weight constants (every use the weight of a matmul or dense conv2d) get row-padded DRAM
images so each row starts on a DMA request boundary (:mod:`gemforge.passes._tiling_weights`).
In the fine form the bias is a resident block of DIM broadcast rows per column tile,
added by the array as the first matmul's D operand (``space.py``).

A 1x1 stride-1 unpadded convolution is tiled as a matmul over the flattened NHWC
tensors (``memref.collapse_shape``); a depthwise one computes channel blocks as
block-diagonal matmuls with weights expanded at compile time (``space.py``).

Options: ``target`` (built-in name or TOML path), and, to force parts of the schedule
(for tests and experiments), ``tiles`` (``"m=64,n=128,k=256"``: dim=tile pairs),
``stationary`` (input | weight | output), ``double-buffer`` (true | false) and ``form``
(fine | loop | im2col; default: the cheapest under the cost model).
A matmul (or 1x1 convolution) in the ``loop`` form is one ``gemmini.loop_ws`` per step
(:mod:`gemforge.passes._tiling_loops`) instead of tile ops; a dense convolution with an
int8 result (square kernel; a 1x1 stride-2 one reads every other pixel) is one
``gemmini.loop_conv_ws`` per step (:mod:`gemforge.passes._tiling_loopconv`).
A convolution with fewer than DIM input channels may take the ``im2col`` form
(:mod:`gemforge.passes._tiling_im2col`: the DMA packs each kernel row's ``kw*C`` window
bytes into one reduction), chosen when the cost model prices it (as the matmul it
computes) below the best fine / loop schedule, or forced with ``form=im2col``.
``LOOP_FORM`` / ``LOOP_CONV_FORM`` / ``IM2COL_FORM`` switch the unforced choice of each off.
A fused max pool is done by LOOP_CONV_WS on its move-outs (:meth:`_FunctionTiler.pooled_conv`:
dense square convolutions with an int8 result; a padded pool only after ReLU, as Gemmini
pools padding as zeros). A standalone int8 ``graph.maxpool`` is moved into the accumulator and
out through Gemmini's pooled move-out (:mod:`gemforge.passes._tiling_maxpool`; padded windows
only over an input known non-negative). Not supported (one-line error naming the op):
residual epilogues, grouped (non-depthwise) convolution, unequal strides or dilations per
axis, clip bounds other than ReLU's, activation on int32 results, batched right-hand
matmul operands, and graph ops other than conv2d / matmul / maxpool / constant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func, memref
from xdsl.dialects.builtin import (
    ArrayAttr, DenseArrayBase, DenseIntOrFPElementsAttr, IntegerAttr, MemRefType, ModuleOp, StringAttr, TensorType, UnitAttr, i64,
)
from xdsl.ir import Block, Region, SSAValue
from xdsl.passes import ModulePass

from gemforge.dialects import graph
from gemforge.dialects.tile import DRAM, FenceOp
from gemforge.layers import ConvLayer, MatmulLayer
from gemforge.passes._tiling_conv_forms import im2col_conv, strided_pointwise_conv
from gemforge.passes._tiling_layers import ConvGeometry, ConvTiler, Epilogue, MatmulTiler, expand_depthwise
from gemforge.passes._tiling_loopconv import LoopConvTiler, loop_conv_fits, pooled_fits
from gemforge.passes._tiling_loops import LoopMatmulTiler, loop_form_fits
from gemforge.passes._tiling_maxpool import MaxPoolTiler
from gemforge.passes._tiling_nest import Builder
from gemforge.passes._tiling_options import TilingError, forced_choices, op_label
from gemforge.passes._tiling_pooled import pooled_geometry
from gemforge.passes._tiling_weights import only_dense_weights, pad_rows
from gemforge.passes.schedule import schedule as run_scheduler
from gemforge.passes.schedule.space import ScheduleError, strided_pointwise
from gemforge.target import Target, load

OUTPUTS_ATTR = "gemforge.outputs"
LOOP_FORM = True  # consider the LOOP_WS form for matmuls when no form is forced
LOOP_CONV_FORM = True  # consider the LOOP_CONV_WS form for dense convolutions when no form is forced
IM2COL_FORM = True  # consider the im2col form for convolutions with few input channels when no form is forced
_TILED = graph.Conv2DOp | graph.MatmulOp | graph.MaxPoolOp


def memref_of(t: TensorType) -> MemRefType:
    return MemRefType(t.element_type, t.get_shape(), memory_space=DRAM)


@dataclass
class _Context:
    """Per-module state: globals created so far, the target and the forced schedule."""

    module: ModuleOp
    target: Target
    force: dict
    globals_made: int = 0


class _FunctionTiler:
    def __init__(self, ctx: _Context, fn: func.FuncOp):
        self.ctx, self.fn = ctx, fn
        self.values: dict[SSAValue, SSAValue] = {}

    def global_of(self, data: np.ndarray, element, hint: str) -> SSAValue:
        """A ``memref.global`` holding ``data`` and its ``get_global`` in this function."""
        c = self.ctx
        name = f"__gf_{hint}{c.globals_made}"
        c.globals_made += 1
        typ = MemRefType(element, data.shape, memory_space=DRAM)
        dense = graph.ConstantOp.from_numpy(data).value
        dense = DenseIntOrFPElementsAttr(TensorType(element, data.shape), dense.data)
        c.module.body.block.add_op(memref.GlobalOp.get(StringAttr(name), typ, dense, constant=UnitAttr()))
        get = memref.GetGlobalOp(name, typ)
        get.memref.name_hint = hint
        self.b.add(get)
        return get.memref

    def run(self) -> None:
        fn = self.fn
        old = fn.body.block
        ret = old.last_op
        assert isinstance(ret, func.ReturnOp)
        results = list(ret.arguments)
        in_types = [memref_of(a.type) for a in old.args]
        out_types = [memref_of(r.type) for r in results]
        block = Block(arg_types=[*in_types, *out_types])
        for new, arg in zip(block.args, old.args):
            new.name_hint = arg.name_hint
            self.values[arg] = new
        outs = block.args[len(in_types):]
        for i, o in enumerate(outs):
            o.name_hint = "output" if len(outs) == 1 else f"output{i}"
        self.b = Builder(block)
        dest_of = {}
        for r, o in zip(results, outs):
            if r in dest_of or not isinstance(r.owner, _TILED):
                raise TilingError(f"@{fn.sym_name.data}: a returned value must be produced by a conv2d, matmul "
                                  f"or maxpool (returned once)")
            dest_of[r] = o
        for op in list(old.ops):
            if op is ret:
                continue
            if isinstance(op, graph.ConstantOp):
                data = op.to_numpy()
                if only_dense_weights(op.result):
                    data = pad_rows(data, self.ctx.target)
                self.values[op.result] = self.global_of(data, op.result.type.element_type, "const")
            elif isinstance(op, _TILED):
                dest = dest_of.get(op.result)
                if dest is None:
                    alloc = memref.AllocOp([], [], memref_of(op.result.type))
                    self.b.add(alloc)
                    dest = alloc.memref
                self.values[op.result] = dest
                if isinstance(op, graph.MatmulOp):
                    self.matmul(op, dest)
                elif isinstance(op, graph.MaxPoolOp):
                    MaxPoolTiler(self.b, op, self.operand(op.input), dest, self.ctx.target, op_label(op)).run()
                else:
                    self.conv(op, dest)
                self.b.add(FenceOp())
            else:
                raise TilingError(f"@{fn.sym_name.data}: {op.name} has no accelerator lowering "
                                  f"(only graph.conv2d, graph.matmul, graph.maxpool and graph.constant are tiled)")
        self.b.add(func.ReturnOp())
        self.b.finish()
        new_fn = func.FuncOp(fn.sym_name.data, (in_types + out_types, []), Region(block))
        new_fn.attributes[OUTPUTS_ATTR] = IntegerAttr(len(out_types), i64)
        fn.parent_block().insert_op_after(new_fn, fn)
        fn.detach()
        fn.erase(safe_erase=False)

    # -- helpers ----------------------------------------------------------------------
    def operand(self, v: SSAValue) -> SSAValue:
        return self.values[v]

    def constant_data(self, op, v: SSAValue) -> np.ndarray:
        owner = v.owner
        if not isinstance(owner, graph.ConstantOp):
            raise TilingError(f"{op_label(op)}: depthwise weights must be a graph.constant")
        return owner.to_numpy()

    def epilogue(self, op) -> Epilogue:
        if op.residual is not None:
            raise TilingError(f"{op_label(op)}: residual epilogues are not lowered yet")
        act, clip = op.activation, op.clip
        if act == "clip":
            if tuple(clip) == (0, 127):
                act, clip = "relu", None
            elif tuple(clip) == (-128, 127):
                act, clip = "none", None
            else:
                raise TilingError(f"{op_label(op)}: clip {list(clip)} is not a Gemmini activation (only relu)")
        if op.output_scale is None and act != "none":
            raise TilingError(f"{op_label(op)}: activation {act} on an int32 result is not supported")
        return Epilogue(op.output_scale, act, None)

    def schedule(self, op, layer, bias: bool, tiles: dict | None = None, loop_fits=None, loop_default=LOOP_FORM):
        """The scheduler's choice, fine-grained WS; with ``loop_fits`` (whether the loop unit
        can run a schedule) also the loop form (LOOP_WS / LOOP_CONV_WS) when the user did
        not force a form and ``loop_default`` holds, whichever the cost model prices lower
        (its Cost in ``self.last_cost``)."""
        return self._choose(op, layer, bias, tiles, loop_fits, loop_default)

    def lowered(self, sched):
        """Identity: marks the scheduler result a layer lowered by another path than
        :meth:`schedule` was priced with (benchmarks/layers.py probes both)."""
        return sched

    def _choose(self, op, layer, bias: bool, tiles: dict | None = None, loop_fits=None, loop_default=LOOP_FORM):
        user = self.ctx.force
        if user.get("form") == "loop":
            if user.get("double_buffer") is False or user.get("dataflow", "WS") != "WS":
                raise TilingError(f"{op_label(op)}: the loop form is weight-stationary and double-buffered only "
                                  f"(forced {', '.join(f'{k}={v}' for k, v in user.items() if k != 'tiles')})")
            if loop_fits is None:
                raise TilingError(f"{op_label(op)}: the loop form is lowered for matmuls and dense convolutions "
                                  f"with an int8 result only")
            force = {"dataflow": "WS", "double_buffer": True, **user}
            force["tiles"] = {**force.get("tiles", {}), **(tiles or {})}
            if isinstance(layer, ConvLayer) and not _pointwise(layer):
                force["tiles"].update(kh=layer.kernel_h, kw=layer.kernel_w)
            loop = self._loop_schedule(layer, bias, force, loop_fits)
            if loop is None:
                raise TilingError(f"{op_label(op)}: no loop-form schedule fits (halves of the scratchpad and "
                                  f"accumulator, reduction innermost when split)")
            self.last_cost = loop[1]
            return loop[0]
        force = {"dataflow": "WS", "form": "fine", "double_buffer": True, **user}
        force["tiles"] = {**force.get("tiles", {}), **(tiles or {})}
        if isinstance(layer, ConvLayer) and not _pointwise(layer):
            force["tiles"].update(kh=layer.kernel_h, kw=layer.kernel_w)
        if force.get("form") != "fine" or force.get("dataflow") != "WS":
            raise TilingError(f"{op_label(op)}: only the fine-grained weight-stationary form is lowered")
        try:
            sched, cost, _ = run_scheduler(layer, self.ctx.target, force=force, bias=bias)
        except ScheduleError as e:
            raise TilingError(f"{op_label(op)}: {e}") from None
        self.last_cost = cost
        if loop_fits is None or "form" in user or not loop_default:
            return sched
        loop = self._loop_schedule(layer, bias, {**force, "form": "loop"}, loop_fits)
        # On a tie the fine form wins: a tie means both are bound by the DMA, where the
        # simulator shows small LOOP_WS steps serialising on their latency.
        if loop is not None and loop[1].cycles < cost.cycles:
            self.last_cost = loop[1]
            return loop[0]
        return sched

    def _loop_schedule(self, layer, bias: bool, force: dict, loop_fits):
        """The best LOOP_WS schedule the loop unit can run (reduction innermost when split), or None."""
        tries = [force] + ([] if "stationary" in force else [{**force, "stationary": "output"}])
        for f in tries:
            try:
                sched, cost, _ = run_scheduler(layer, self.ctx.target, force=f, bias=bias)
            except ScheduleError:
                continue
            if loop_fits(sched):
                return sched, cost
        return None

    def collapse(self, value: SSAValue, groups: list[list[int]]) -> SSAValue:
        typ = value.type
        shape = typ.get_shape()
        new_shape = [int(np.prod([shape[i] for i in g])) for g in groups]
        op = memref.CollapseShapeOp.build(
            operands=[value],
            result_types=[MemRefType(typ.element_type, new_shape, memory_space=DRAM)],
            properties={"reassociation": ArrayAttr([ArrayAttr([IntegerAttr(i, i64) for i in g]) for g in groups])},
        )
        self.b.add(op)
        return op.result

    def reshape(self, value: SSAValue, shape: list[int]) -> SSAValue:
        """The same DRAM bytes as a row-major memref of ``shape`` (collapse, then expand)."""
        flat = self.collapse(value, [list(range(len(value.type.get_shape())))])
        typ = value.type
        op = memref.ExpandShapeOp.build(
            operands=[flat, []],
            result_types=[MemRefType(typ.element_type, shape, memory_space=DRAM)],
            properties={"reassociation": ArrayAttr([ArrayAttr([IntegerAttr(i, i64) for i in range(len(shape))])]),
                        "static_output_shape": DenseArrayBase.from_list(i64, shape)},
        )
        self.b.add(op)
        return op.result

    def strided_pointwise(self, op, x, w, dest, bias, layer: ConvLayer, epi: Epilogue) -> None:
        """See :func:`gemforge.passes._tiling_conv_forms.strided_pointwise_conv`."""
        strided_pointwise_conv(self, op, x, w, dest, bias, layer, epi, LOOP_CONV_FORM)

    # -- layers -----------------------------------------------------------------------
    def matmul(self, op: graph.MatmulOp, dest: SSAValue) -> None:
        a, w = self.operand(op.lhs), self.operand(op.rhs)
        ashape, wshape = op.lhs.type.get_shape(), op.rhs.type.get_shape()
        if len(wshape) != 2:
            raise TilingError(f"{op_label(op)}: batched right-hand operands are not supported")
        if len(ashape) > 2:
            lead = list(range(len(ashape) - 1))
            a = self.collapse(a, [lead, [len(ashape) - 1]])
            dest = self.collapse(dest, [lead, [len(ashape) - 1]])
        m, k, n = int(np.prod(ashape[:-1])), ashape[-1], wshape[-1]
        bias = self.operand(op.bias) if op.bias is not None else None
        sched = self.schedule(op, MatmulLayer(m, k, n, name=op_label(op)), bias is not None,
                              loop_fits=self._matmul_fits((m, k, n)))
        self.emit_matmul(sched, a, w, dest, bias, (m, k, n), self.epilogue(op))

    def conv(self, op: graph.Conv2DOp, dest: SSAValue) -> None:
        if op.pool_kernel is not None:
            self.pooled_conv(op, dest)
            return
        (sh, sw), (dh, dw) = op.stride, op.dilation
        if sh != sw or dh != dw:
            raise TilingError(f"{op_label(op)}: strides {sh}x{sw} / dilations {dh}x{dw} must be equal per axis")
        n, h, wd, c = op.input.type.get_shape()
        kh, kw, _, oc = op.weight.type.get_shape()
        top, left, bottom, right = op.padding
        _, oh, ow, _ = op.result.type.get_shape()
        groups = op.groups
        depthwise = groups > 1 and groups == c == oc
        if groups > 1 and not depthwise:
            raise TilingError(f"{op_label(op)}: grouped convolution (groups {groups}) is not supported")
        x, w = self.operand(op.input), self.operand(op.weight)
        bias = self.operand(op.bias) if op.bias is not None else None
        epi = self.epilogue(op)
        if top == left == bottom == right:
            layer = ConvLayer(n, h, wd, c, oc, kh, kw, sh, top, groups, dh, name=op_label(op))
        else:  # the scheduler sees the padded input with pad 0: the same output size and spans
            layer = ConvLayer(n, h + top + bottom, wd + left + right, c, oc, kh, kw, sh, 0, groups, dh,
                              name=op_label(op))
        pointwise = kh == kw == 1 and sh == 1 and groups == 1
        if pointwise and any(op.padding) and layer.pad == 0:
            raise TilingError(f"{op_label(op)}: a 1x1 convolution with asymmetric padding is not supported")
        if pointwise and not any(op.padding):
            sched = self.schedule(op, layer, bias is not None, loop_fits=self._matmul_fits((n * h * wd, c, oc)))
            a = self.collapse(x, [[0, 1, 2], [3]])
            wm = self.collapse(w, [[0, 1, 2], [3]])
            out = self.collapse(dest, [[0, 1, 2], [3]])
            self.emit_matmul(sched, a, wm, out, bias, (n * h * wd, c, oc), epi)
            return
        if strided_pointwise(layer):  # the scheduler prices it so (space.py)
            self.strided_pointwise(op, x, w, dest, bias, layer, epi)
            return
        dim = self.ctx.target.dim
        if depthwise:
            # Channel tiles must start on a DIM boundary: the expanded weights put channel
            # c's diagonal entry in column c % DIM.
            forced_c = self.ctx.force.get("tiles", {}).get("c")
            if forced_c is not None and forced_c % dim and forced_c != c:
                raise TilingError(f"{op_label(op)}: depthwise channel tile {forced_c} must be a multiple of "
                                  f"DIM={dim} or all {c} channels")
        g = ConvGeometry(n, h, wd, c, oc, kh, kw, oh, ow, sh, dh, top, left)
        if self.im2col(op, x, dest, bias, g, epi, depthwise, layer):
            return
        fits = None if depthwise else (lambda s: loop_conv_fits(s, g, self.ctx.target, epi.raw))
        sched = self.schedule(op, layer, bias is not None, {"c": c} if depthwise and c <= dim else {},
                              loop_fits=fits, loop_default=LOOP_CONV_FORM)
        if sched.form == "loop":
            LoopConvTiler(self.b, sched, x, w, dest, bias, g, epi, self.ctx.target).run()
            return
        if depthwise:
            w = self.global_of(expand_depthwise(self.constant_data(op, op.weight), dim), op.weight.type.element_type,
                               "dw_weights")
        ConvTiler(self.b, sched, x, w, dest, bias, g, epi, self.zeros, dim, self.bias_rows).run()

    def pooled_conv(self, op: graph.Conv2DOp, dest: SSAValue) -> None:
        """A convolution with a fused max pool: LOOP_CONV_WS pools on its move-outs, so the
        loop form with the scheduler's tiling read as pooled tiles (each recomputes the
        convolution rows its pooling windows share with the next, as gemmini.h does)."""
        epi = self.epilogue(op)
        g, layer, pool = pooled_geometry(op, op_label(op), epi, self.ctx.force.get("form"))
        bias = self.operand(op.bias) if op.bias is not None else None
        force = {**self.ctx.force, "dataflow": "WS", "double_buffer": True, "form": "loop"}
        force["tiles"] = {**force.get("tiles", {}), "kh": g.kh, "kw": g.kw}
        found = self._loop_schedule(layer, bias is not None, force,
                                    lambda sch: pooled_fits(sch, g, pool, self.ctx.target))
        if found is None:
            raise TilingError(f"{op_label(op)}: no loop-form schedule with pooling fits (halves of the scratchpad "
                              f"and accumulator)")
        sched, self.last_cost = found
        LoopConvTiler(self.b, self.lowered(sched), self.operand(op.input), self.operand(op.weight), dest, bias, g,
                      epi, self.ctx.target, pool=pool).run()

    def im2col(self, op, x, dest, bias, g: ConvGeometry, epi: Epilogue, depthwise: bool, layer) -> bool:
        """See :func:`gemforge.passes._tiling_conv_forms.im2col_conv`."""
        return im2col_conv(self, op, x, dest, bias, g, epi, depthwise, layer, IM2COL_FORM, LOOP_CONV_FORM)

    def _matmul_fits(self, mkn):
        return lambda s: loop_form_fits(s, mkn, self.ctx.target)

    def emit_matmul(self, sched, a, w, out, bias, mkn, epi: Epilogue) -> None:
        if sched.form == "loop":
            LoopMatmulTiler(self.b, sched, a, w, out, bias, mkn, epi, self.ctx.target).run()
        else:
            MatmulTiler(self.b, sched, a, w, out, bias, mkn, epi, self.bias_rows).run()

    @property
    def bias_rows(self) -> int:
        """Rows of the resident bias block the fine form adds as the D operand (``space.py``)."""
        return self.ctx.target.dim

    def zeros(self, shape) -> SSAValue:
        return self.global_of(np.zeros(shape, np.int8), op_element_i8(), "zeros")


def _pointwise(layer: ConvLayer) -> bool:
    """A 1x1 stride-1 unpadded dense convolution (scheduled as a matmul)."""
    return layer.kernel_h == layer.kernel_w == 1 and layer.stride == 1 and layer.pad == 0 and layer.groups == 1


def op_element_i8():
    from xdsl.dialects.builtin import i8

    return i8


def tile_module(module: ModuleOp, target: Target, force: dict | None = None) -> None:
    """Tile every function of ``module`` that holds graph ops (see the module docstring)."""
    ctx = _Context(module, target, dict(force or {}))
    for fn in [op for op in module.body.block.ops if isinstance(op, func.FuncOp)]:
        if any(o.dialect_name() == "graph" for o in fn.walk()):
            _FunctionTiler(ctx, fn).run()


@dataclass(frozen=True)
class ConvertGraphToTile(ModulePass):
    """Tile graph conv2d / matmul ops into loops of tile ops (see the module docstring)."""

    name = "convert-graph-to-tile"

    target: str = "gemmini-default"
    tiles: str = ""
    stationary: str = ""
    double_buffer: bool | str = "true"  # xDSL parses true/false as a bool, the Python API may pass text
    form: str = ""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        force = forced_choices(self.form, self.tiles, self.stationary, self.double_buffer)
        tile_module(op, load(self.target), force)
