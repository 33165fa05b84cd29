"""Partition a graph network between the accelerator and the host, and build ONE Program.

Partitioning (BYOC style) runs on a copy of the module after the graph passes of
:func:`gemforge.network.fuse`:

* **accelerator**: ``graph.conv2d`` / ``graph.matmul`` (with their fused bias,
  requantization and activation) that the chosen code generator accepts, int8
  ``graph.maxpool`` s that Gemmini's pooled move-out computes exactly (bnb schedule,
  :func:`~gemforge.network_pool.pool_placement`), and int8 ``graph.avgpool`` s as
  depthwise all-ones convolutions (bnb schedule, :mod:`gemforge.network_avgpool`; a host
  node then recomputes the border windows that divide by fewer elements). A conv whose
  fused max pool the generator does not lower, or is faster split off
  (:mod:`gemforge.network_pool`), runs its conv and then the pool on its own (on Gemmini
  when exact, else on the host); a grouped convolution runs dense (block-diagonal
  weights) when that costs less than splitting it, else group by group
  (:mod:`gemforge.network_groups`). Anything
  else the generator rejects (residual epilogues, batched matmuls, ...) falls back to
  the host, with the generator's one-line reason in the report.
* **host**: every other op (add, other pools, concat, reshape, transpose, pad, softmax, ...)
  becomes a :class:`~gemforge.backends.gemmini.program.HostOp`: a kind of
  :mod:`gemforge.sim.host` where its semantics are exactly the op's (:func:`host_kind`:
  copy, relu, requantize, add, max_pool2d, global_avg_pool, which the C backend also
  emits), else the kind named after the op (:mod:`gemforge.sim.host_graph`, which also
  documents the CPU cost model).

The Program's DRAM image holds one tensor per network value: arguments (role
``input``, named as the graph function names them), results (role ``output``, same),
intermediates (``scratch``, named ``v<k>.<name hint>``), plus each layer's constants
and scratch under its node name. Items follow the network's op order; each node owns
a contiguous slice of ``program.items`` (recorded in :class:`Node`), which is what
per-layer simulation and the report use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from xdsl.dialects.builtin import ModuleOp
from xdsl.dialects.func import ReturnOp
from xdsl.ir import Operation, SSAValue

from gemforge.backends.gemmini.program import Program, Tensor
from gemforge.dialects import graph as G
from gemforge.dialects.graph_constant import NUMPY_DTYPES
from gemforge.errors import GemforgeError
from gemforge.graph_eval import find_function, input_names, output_names
from gemforge.layer_compile import LayerDump
from gemforge.network_avgpool import avgpool_conv, avgpool_refusal, has_partial_windows
from gemforge.network_adds import ADDS, add_multipliers, emit_gemmini_add, gemmini_add_refusal
from gemforge.network_groups import dense_conv, dense_pays, split_groups
from gemforge.network_layers import constant_of, emit_bnb, emit_library, layer_operands, transaction
from gemforge.network_pool import emit_pool, fused_pool_pays, pool_placement, split_pool
from gemforge.target import Target

ACCELERATOR, HOST = "accelerator", "host"
SCHEDULES = ("bnb", "library")
_HINT = re.compile(r"[^A-Za-z0-9_]+")


@dataclass
class Node:
    """One step of the network: an accelerator layer or a host kernel."""

    name: str
    op: str  # graph op name, e.g. "graph.conv2d"
    where: str  # ACCELERATOR or HOST
    reason: str  # why it runs on the host ("" on the accelerator)
    start: int  # its slice of program.items
    stop: int
    reads: list[str] = field(default_factory=list)  # network tensors it reads
    writes: list[str] = field(default_factory=list)  # network tensors it writes
    owned: list[str] = field(default_factory=list)  # its own constants and scratch
    macs: int = 0


def op_macs(op: Operation) -> int:
    """Multiply-accumulates of a conv2d / matmul (0 for other ops): the model's, so a
    densified grouped conv (``dense_groups``) counts its blocks, not its zeros."""
    if isinstance(op, G.Conv2DOp):
        kh, kw, cg, _ = op.weight.type.get_shape()
        n, oh, ow, oc = _conv_acc_shape(op)
        macs = n * oh * ow * oc * kh * kw * cg
        dense_groups = op.dense_groups or 1
        # the verifier makes dense_groups divide the input channels cg (groups is 1 then)
        assert macs % dense_groups == 0, (op.name, macs, dense_groups)
        return macs // dense_groups
    if isinstance(op, G.MatmulOp):
        out = op.result.type.get_shape()
        return int(np.prod(out)) * op.lhs.type.get_shape()[-1]
    return 0


def _conv_acc_shape(op: G.Conv2DOp) -> tuple[int, ...]:
    if op.pool_kernel is None:
        return tuple(op.result.type.get_shape())
    return tuple(op.with_options(pool_kernel=None, pool_stride=None, pool_padding=None).result.type.get_shape())


def _json(v):
    if isinstance(v, tuple | list):
        return [_json(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


def host_attrs(op: Operation) -> dict:
    """The host kernel attributes of a graph op: its properties as JSON values, plus
    ``has_bias`` / ``has_residual`` for the optional operands."""
    attrs = {f.name: _json(op.field(f.name)) for f in op.FIELDS}
    for name in op.KEYWORD_OPERANDS:
        attrs[f"has_{name}"] = getattr(op, name) is not None
    return attrs


def host_kind(op: Operation) -> tuple[str, dict]:
    """The host kernel for ``op``: a generic kind of :mod:`gemforge.sim.host` when its
    semantics are exactly the op's (so the C backend, which knows those, can emit it),
    else the ``graph.*`` kind of :mod:`gemforge.sim.host_graph`."""
    if isinstance(op, G.ReshapeOp):
        return "copy", {}
    if isinstance(op, G.ReluOp):
        return "relu", {}
    if isinstance(op, G.LutOp):  # inputs [x0, .., x_n-1, table]: table[c, concat(x)[c] + 128] in both
        return "lut", {}
    if isinstance(op, G.RequantizeOp):  # sat_i8(rne(f32(x) * f32(scale))) in both
        return "requantize", {"scale": op.field("scale")}
    if isinstance(op, G.MaxPoolOp):
        return maxpool_kind(op.field("kernel"), op.field("stride"), op.field("padding"))
    f32 = np.float32
    _, h, w, _ = op.operands[0].type.get_shape() if isinstance(op, G.AvgPoolOp | G.GlobalAvgPoolOp) else (0,) * 4
    whole = isinstance(op, G.AvgPoolOp) and tuple(op.field("kernel")) == (h, w) and not any(op.field("padding"))
    if isinstance(op, G.GlobalAvgPoolOp) or whole:  # all: rne(f32(sum) * m), m = f32(scale) / f32(H * W)
        return "global_avg_pool", {"scale": float(f32(op.field("scale")) / f32(h * w))}
    if isinstance(op, G.AddOp) and op.lhs.type.element_type.width.data == 8 and op.field("clip") is None:
        # both: sat(rne(f32(a) * ma + f32(b) * mb)), m = f32(input scale) / f32(output scale)
        ma, mb = add_multipliers(op)
        return "add", {"scale_a": ma, "scale_b": mb, "relu": op.field("activation") == "relu"}
    return op.name, host_attrs(op)


def maxpool_kind(kernel, stride, padding) -> tuple[str, dict]:
    """``max_pool2d`` for square windows and equal pads, else ``graph.maxpool``."""
    (kh, kw), (sh, sw) = kernel, stride
    if kh == kw and sh == sw and len(set(padding)) == 1:
        return "max_pool2d", {"kernel": kh, "stride": sh, "padding": padding[0]}
    return "graph.maxpool", {"kernel": list(kernel), "stride": list(stride), "padding": list(padding)}


class NetworkBuilder:
    """Builds the Program of one graph function (see the module docstring)."""

    def __init__(self, module: ModuleOp, target: Target, schedule: str = "bnb", progress=None,
                 dump: LayerDump | None = None, target_spec: str | None = None, adds: str = "host"):
        if schedule not in SCHEDULES:
            raise GemforgeError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
        if adds not in ADDS:
            raise GemforgeError(f"adds must be one of {', '.join(ADDS)}, got {adds!r}")
        self.adds = adds
        self.fn = find_function(module)
        self.target, self.schedule, self.progress, self.dump = target, schedule, progress, dump
        self.target_spec = target_spec or target.name  # how passes load the target (TOML path or name)
        self.program = Program(target.name, name=self.fn.sym_name.data)
        self.tensors: dict[SSAValue, Tensor] = {}
        self.nodes: list[Node] = []
        self.counts: dict[str, int] = {}
        self.input_names = input_names(self.fn)
        self.output_names = output_names(self.fn)
        ret = self.fn.body.block.last_op
        if not isinstance(ret, ReturnOp):
            raise GemforgeError(f"@{self.fn.sym_name.data}: the function has no func.return")
        self.ret = ret
        self.result_name: dict[SSAValue, str] = {}
        for name, v in zip(self.output_names, ret.arguments):
            self.result_name.setdefault(v, name)

    # -- tensors ----------------------------------------------------------------------
    def _add(self, name: str, value: SSAValue, role: str) -> Tensor:
        typ = value.type
        dtype = np.dtype(NUMPY_DTYPES[typ.element_type]).name
        t = self.program.add_tensor(name, typ.get_shape(), dtype, role)
        self.tensors[value] = t
        return t

    def tensor_of(self, value: SSAValue) -> Tensor:
        """The network tensor holding ``value`` (constants become constant tensors)."""
        t = self.tensors.get(value)
        if t is not None:
            return t
        data = constant_of(value)
        if data is None:
            raise GemforgeError(f"value {value.name_hint or '?'} is used before it is computed")
        t = self.program.add_tensor(f"const{len(self.tensors)}", data.shape, data.dtype.name, "constant", data)
        self.tensors[value] = t
        return t

    def result_tensor(self, value: SSAValue, node: str) -> Tensor:
        name = self.result_name.get(value)
        if name is not None:
            return self._add(name, value, "output")
        return self._add(f"v{len(self.tensors)}.{node}", value, "scratch")

    # -- nodes ------------------------------------------------------------------------
    def node_name(self, op: Operation) -> str:
        kind = op.name.split(".", 1)[1]
        k = self.counts.get(kind, 0)
        self.counts[kind] = k + 1
        hint = _HINT.sub("_", op.results[0].name_hint or "")
        return f"{kind}{k}" + (f"_{hint}" if hint and not hint.isdigit() else "")

    def _node(self, name, op, where, reason, start, reads, writes, before, macs=0) -> Node:
        owned = [n for n in self.program.tensors if n not in before and n not in writes]
        node = Node(name, op.name, where, reason, start, len(self.program.items), reads, writes, owned, macs)
        self.nodes.append(node)
        if self.progress is not None:
            self.progress(node)
        return node

    def host(self, op: Operation, name: str, reason: str, inputs: list[Tensor] | None = None,
             output: Tensor | None = None) -> Node:
        """Append ``op`` as a host kernel (optionally on explicit tensors)."""
        start, before = len(self.program.items), set(self.program.tensors)
        if inputs is None:
            inputs = [self.tensor_of(v) for v in op.operands]
        out = output or self.result_tensor(op.results[0], name)
        kind, attrs = host_kind(op)
        self.program.host(kind, [t.name for t in inputs], [out.name], **attrs)
        macs = op_macs(op)
        return self._node(name, op, HOST, reason, start, [t.name for t in inputs], [out.name], before, macs)

    def _on_accelerator(self, op: Operation, name: str, inputs: list[Tensor], emit_into, macs: int = 0) -> str | None:
        """Append ``op`` as one accelerator node whose code ``emit_into(out)`` writes; None when
        placed, else the code generator's reason (the Program rolled back)."""
        start, before = len(self.program.items), set(self.program.tensors)
        try:
            with transaction(self.program):
                out = self.result_tensor(op.results[0], name)
                emit_into(out)
        except GemforgeError as e:
            self.tensors.pop(op.results[0], None)
            return str(e)
        self._node(name, op, ACCELERATOR, "", start, [t.name for t in inputs], [out.name], before, macs)
        return None

    def accelerator(self, op: Operation, name: str) -> None:
        """Put a conv2d / matmul on the accelerator, splitting off a fused pool or
        falling back to the host when the code generator declines."""
        emit = emit_bnb if self.schedule == "bnb" else emit_library
        inputs = [self.tensor_of(v) for v in layer_operands(op)]
        # a grouped conv whose zero blocks cost less than splitting it runs dense (network_groups.py)
        layer = dense_conv(op) if isinstance(op, G.Conv2DOp) and dense_pays(op, self.target) else op

        def emit_into(out: Tensor) -> None:
            if self.schedule == "bnb" and isinstance(op, G.Conv2DOp) and op.pool_kernel is not None \
                    and not fused_pool_pays(layer, inputs, self.target, self.target_spec):
                raise GemforgeError("the pool is cheaper split off after the conv (gemforge/network_pool.py)")
            emit(self.program, layer, name, inputs, out, self.target, self.dump, self.target_spec)

        reason = self._on_accelerator(op, name, inputs, emit_into, op_macs(op))
        if reason is None:
            return
        if isinstance(op, G.Conv2DOp) and op.pool_kernel is not None and self._split_pool(op, name, inputs):
            return
        if isinstance(op, G.Conv2DOp) and op.groups > 1 and split_groups(self, op, name, emit):
            return
        self.host(op, name, _short(reason))

    def gemmini_add(self, op: G.AddOp, name: str) -> None:
        """An int8 add as the vendor's tiled_resadd (``adds="gemmini"``, :mod:`gemforge.network_adds`)."""
        why = gemmini_add_refusal(op)
        if why is None:
            a, b = self.tensor_of(op.lhs), self.tensor_of(op.rhs)
            why = self._on_accelerator(op, name, [a, b],
                                       lambda out: emit_gemmini_add(self.program, op, name, a, b, out, self.target))
            if why is None:
                return
        self.host(op, name, _short(why))

    def avgpool(self, op: G.AvgPoolOp, name: str) -> None:
        """An average pool as a depthwise all-ones conv, plus a host pass over the windows
        that reach into the padding when they divide by fewer elements (network_avgpool.py)."""
        why = avgpool_refusal(op, self.schedule)
        if why is None:
            x, conv = self.tensor_of(op.input), avgpool_conv(op)
            why = self._on_accelerator(op, name, [x], lambda out: emit_bnb(
                self.program, conv, name, [x], out, self.target, self.dump, self.target_spec))
            if why is None:
                if has_partial_windows(op):
                    out, border = self.tensors[op.result], f"{name}.border"
                    start, before = len(self.program.items), set(self.program.tensors)
                    self.program.host(op.name, [x.name], [out.name], **host_attrs(op), partial_only=True)
                    self._node(border, op, HOST, "windows that reach into the padding", start, [x.name, out.name],
                               [out.name], before)
                return
        self.host(op, name, _short(why))

    def _split_pool(self, op: G.Conv2DOp, name: str, inputs: list[Tensor]) -> bool:
        """The conv without its pool (on its own, else group by group), then the pool."""
        emit = emit_bnb if self.schedule == "bnb" else emit_library
        conv = op.with_options(pool_kernel=None, pool_stride=None, pool_padding=None)
        start, before = len(self.program.items), set(self.program.tensors)
        try:
            with transaction(self.program):
                acc = self._add(f"v{len(self.tensors)}.{name}.conv", conv.result, "scratch")
                layer = dense_conv(conv) if dense_pays(conv, self.target) else conv
                emit(self.program, layer, name, inputs, acc, self.target, self.dump, self.target_spec)
            self._node(name, op, ACCELERATOR, "", start, [t.name for t in inputs], [acc.name], before, op_macs(op))
        except GemforgeError:
            self.tensors.pop(conv.result, None)
            if conv.groups < 2 or not split_groups(self, conv, name, emit):
                return False
            acc = self.tensors[conv.result]
        pool_name = f"{name}.maxpool"
        start, before = len(self.program.items), set(self.program.tensors)
        out = self.result_tensor(op.result, pool_name)
        why = emit_pool(self.program, split_pool(op, conv), pool_name, acc, out, self.target, self.schedule,
                        self.dump, self.target_spec)
        self._node(pool_name, op, HOST if why else ACCELERATOR, why, start, [acc.name], [out.name], before)
        self.nodes[-1].op = "graph.maxpool"
        return True

    def build(self) -> Program:
        for name, arg in zip(self.input_names, self.fn.body.block.args):
            self._add(name, arg, "input")
        for op in self.fn.body.block.ops:
            if op is self.ret or isinstance(op, G.ConstantOp):
                continue
            name = self.node_name(op)
            if isinstance(op, G.Conv2DOp | G.MatmulOp):
                self.accelerator(op, name)
            elif isinstance(op, G.MaxPoolOp):
                why = pool_placement(op, self.schedule)  # None: Gemmini's pooled move-out (network_pool.py)
                if why is None:
                    self.accelerator(op, name)
                else:
                    self.host(op, name, why)
            elif isinstance(op, G.AvgPoolOp):
                self.avgpool(op, name)
            elif isinstance(op, G.AddOp) and self.adds == "gemmini":
                self.gemmini_add(op, name)
            else:
                self.host(op, name, "no accelerator lowering for this op")
        self._finish_outputs()
        return self.program

    def _finish_outputs(self) -> None:
        """Results that are not produced in place (an argument returned, a value
        returned twice) get a host copy into their output tensor."""
        for name, v in zip(self.output_names, self.ret.arguments):
            t = self.tensors.get(v)
            if t is not None and t.name == name:
                continue
            src = self.tensor_of(v)
            start, before = len(self.program.items), set(self.program.tensors)
            out = self.program.add_tensor(name, src.shape, src.dtype, "output")
            self.program.host("copy", [src.name], [out.name])
            self._node(f"copy_{name}", self.ret, HOST, "result copy", start, [src.name], [out.name], before)
            self.nodes[-1].op = "copy"


def _short(reason: str) -> str:
    return reason.splitlines()[0].strip() if reason else reason
