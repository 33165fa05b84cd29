"""Emit one accelerator layer (a graph conv2d / matmul) into a network's shared Program.

Two code generators, same contract: the layer reads and writes tensors the network
Program already holds (its input, its output), adds its own constants (weights, bias)
and DRAM scratch under a per-layer prefix, and appends its instructions, ending in a
fence, at the end of ``program.items``.

* :func:`emit_bnb`: the optimizing path. The op becomes a one-op graph module (its
  non-constant operands as arguments ``in0``, ``in1``, ...; constants copied in), runs
  through ``gemforge-pipeline`` (:func:`gemforge.passes.gemforge_pipeline.pipeline_passes`),
  and the encoder (:mod:`gemforge.backends.gemmini.encode`) writes it into the shared
  Program through :class:`_LayerSink`, which binds the layer's argument tensors to the
  network's tensors so every address is final.
* :func:`emit_library`: the vendor-library baseline (``tiled_conv_auto`` /
  ``tiled_matmul_auto`` streams, :mod:`gemforge.backends.gemmini.library`).

Both raise :class:`~gemforge.errors.GemforgeError` when the layer cannot run on the
accelerator; :func:`transaction` undoes whatever a failed attempt added to the Program.
"""

from __future__ import annotations

import contextlib

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Operation, Region, SSAValue

from gemforge.backends.gemmini.program import Program, Tensor
from gemforge.dialects import graph as G
from gemforge.errors import GemforgeError
from gemforge.layer_compile import LayerDump, compiled
from gemforge.target import Target


class LayerError(GemforgeError):
    """A layer the chosen code generator cannot put on the accelerator."""


@contextlib.contextmanager
def transaction(program: Program):
    """Roll ``program`` back (items, tensors, allocator) if the body raises."""
    items, names, next_addr = len(program.items), set(program.tensors), program._next_addr
    try:
        yield
    except BaseException:
        del program.items[items:]
        for name in set(program.tensors) - names:
            del program.tensors[name]
        program._next_addr = next_addr
        program._stack = [program.items]
        raise


def constant_of(value: SSAValue) -> np.ndarray | None:
    owner = value.owner
    return owner.to_numpy() if isinstance(owner, G.ConstantOp) else None


def layer_operands(op: Operation) -> list[SSAValue]:
    """The operands of ``op`` that are not graph constants, in operand order."""
    return [v for v in op.operands if not isinstance(v.owner, G.ConstantOp)]


def single_op_module(op: Operation) -> ModuleOp:
    """``op`` alone in ``func.func @layer``: non-constant operands become arguments
    ``in0, in1, ...`` (in :func:`layer_operands` order), constants are copied in."""
    args = layer_operands(op)
    block = Block(arg_types=[v.type for v in args])
    mapping: dict[SSAValue, SSAValue] = {}
    for i, (v, a) in enumerate(zip(args, block.args)):
        a.name_hint = f"in{i}"
        mapping[v] = a
    ops: list[Operation] = []
    for v in op.operands:
        if v not in mapping:
            c = v.owner.clone()
            ops.append(c)
            mapping[v] = c.results[0]
    new = op.clone(value_mapper=mapping)
    ops += [new, func.ReturnOp(new.results[0])]
    block.add_ops(ops)
    fn = func.FuncOp("layer", ([v.type for v in args], [new.results[0].type]), Region(block))
    return ModuleOp([fn])


class _LayerSink:
    """Looks like a Program to the encoder: argument tensors resolve to the network's
    tensors (``bindings``), every other tensor is added to the network Program under
    ``prefix``; instructions go straight into the network Program."""

    def __init__(self, program: Program, prefix: str, bindings: dict[str, Tensor]):
        self._program, self._prefix, self._bindings = program, prefix, bindings

    def add_tensor(self, name, shape, dtype="int8", role="scratch", data=None, **kw) -> Tensor:
        if role in ("input", "output"):
            t = self._bindings.get(name)
            if t is None or t.shape != tuple(shape) or t.dtype != np.dtype(dtype).name:
                raise LayerError(f"layer {self._prefix}: argument {name} {dtype}{list(shape)} has no matching "
                                 f"network tensor")
            return t
        return self._program.add_tensor(f"{self._prefix}.{name}", shape, dtype, role, data, **kw)

    def __getattr__(self, attr):
        return getattr(self._program, attr)


def emit_bnb(program: Program, op: Operation, prefix: str, inputs: list[Tensor], output: Tensor,
             target: Target, dump: LayerDump | None = None, spec: str | None = None) -> None:
    """Compile ``op`` with the optimizing pipeline into ``program`` (see module docstring).
    ``dump``: which IR stages of the layer to write, and where (``<prefix>.<k>-<pass>.mlir``,
    :class:`~gemforge.layer_compile.LayerDump`); ``spec``: how the passes find the target
    (a TOML path or built-in name; default ``target.name``).  The pipeline's result is
    memoized (:func:`~gemforge.layer_compile.compiled`): a layer compiled again costs only
    its encoding."""
    from gemforge.backends.gemmini.encode import encode_function

    module = compiled(op, target, spec or target.name, dump, prefix)
    fn = next(o for o in module.ops if isinstance(o, func.FuncOp))
    bindings = {f"in{i}": t for i, t in enumerate(inputs)}
    bindings["output"] = output
    encode_function(module, fn, _LayerSink(program, prefix, bindings))


def _activation(op) -> str:
    act, clip = op.activation, op.clip
    if act == "clip":
        if tuple(clip) == (0, 127):
            return "relu"
        if tuple(clip) == (-128, 127):
            return "none"
        raise LayerError(f"clip {list(clip)} is not a Gemmini activation")
    return act


def emit_library(program: Program, op: Operation, prefix: str, inputs: list[Tensor], output: Tensor,
                 target: Target, dump: LayerDump | None = None, spec: str | None = None) -> None:
    """Emit ``op`` as the vendor library would (auto tiling) into ``program`` (no IR
    stages to dump: the library builds instructions directly)."""
    from gemforge.backends.gemmini.library import ConvOperands, MatmulOperands, emit_tiled_conv, emit_tiled_matmul
    from gemforge.backends.gemmini.library import matmul_auto_tiling, searched_conv_tiling
    from gemforge.layers import ConvLayer, MatmulLayer

    if op.residual is not None:
        raise LayerError("the library has no residual epilogue")
    if op.output_scale is None:
        raise LayerError("the library needs an int8 (requantized) result")
    if isinstance(op, G.Conv2DOp) and op.pool_kernel is not None:
        raise LayerError("fused pooling is not mapped to the library")
    w = constant_of(op.operands[1])
    if w is None or len(inputs) != 1:
        raise LayerError("the library needs constant weights")
    act = _activation(op)
    b = constant_of(op.bias) if op.bias is not None else None
    if op.bias is not None and b is None:
        raise LayerError("the library needs a constant bias")
    bias = program.add_tensor(f"{prefix}.bias", b.shape, "int32", "constant", b) if b is not None else None
    if isinstance(op, G.MatmulOp):
        if w.ndim != 2:
            raise LayerError("batched right-hand operands are not supported")
        m, k, n = int(np.prod(inputs[0].shape[:-1])), w.shape[0], w.shape[1]
        layer = MatmulLayer(m, k, n, name=prefix)
        tiling = matmul_auto_tiling(layer, target)
        weights = program.add_tensor(f"{prefix}.weights", w.shape, "int8", "constant", w)
        emit_tiled_matmul(program, target, m, k, n, MatmulOperands(a=inputs[0], b=weights, d=bias, c=output), tiling,
                          activation=act, output_scale=op.output_scale)
        return
    (sh, sw), (dh, dw) = op.stride, op.dilation
    top, left, bottom, right = op.padding
    if sh != sw or dh != dw or not top == left == bottom == right:
        raise LayerError("the library needs equal strides, dilations and paddings on both axes")
    n, h, wd, c = inputs[0].shape
    kh, kw, _, oc = w.shape
    layer = ConvLayer(n, h, wd, c, oc, kh, kw, sh, top, op.groups, dh, name=prefix)
    if layer.groups != 1 and not layer.depthwise:
        raise LayerError(f"the library has no grouped conv (groups = {layer.groups})")
    if layer.depthwise and layer.dilation != 1:
        raise LayerError("the library's depthwise conv has no dilation")
    w_dram = np.ascontiguousarray(w[:, :, 0, :].transpose(2, 0, 1)) if layer.depthwise else w
    weights = program.add_tensor(f"{prefix}.weights", w_dram.shape, "int8", "constant", w_dram)
    tiling = searched_conv_tiling(program, layer, target)
    emit_tiled_conv(program, target, layer, ConvOperands(input=inputs[0], weights=weights, output=output, bias=bias),
                    tiling, activation=act, output_scale=op.output_scale)
