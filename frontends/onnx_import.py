"""Import a quantized ONNX model (QOperator or QDQ form) into one graph-dialect function.

The walk is one pass over the (topologically sorted) ONNX nodes; each tensor name is
bound to a value of :mod:`gemforge.frontends.onnx_values`. Converters live in
:mod:`~gemforge.frontends.onnx_ops` (integer ops: QLinearConv, QGemm, ...) and
:mod:`~gemforge.frontends.onnx_qdq` (Quantize/DequantizeLinear and float ops over
dequantized tensors) and :mod:`~gemforge.frontends.onnx_float` (float islands such as
LRN that are quantized again), :mod:`~gemforge.frontends.onnx_squeeze_pad` (Squeeze,
Unsqueeze, constant Pad) and :mod:`~gemforge.frontends.onnx_clip` (Clip, ReLU6). Float ops with no int8 form that only lead to graph outputs (a
final Softmax) form the *float tail*, returned as a small ONNX model for the host
(:mod:`~gemforge.frontends.onnx_tail`).

The function's arguments are the quantized network inputs (int8, NHWC for images),
its results the int8 tensors that the float tail or the ONNX outputs dequantize.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import numpy_helper
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, ModuleOp, StringAttr, TensorType, i8
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Block, Operation, Region, SSAValue

from gemforge.dialects import graph as G
from gemforge.errors import GemforgeError
from gemforge.frontends import onnx_clip, onnx_float, onnx_ops, onnx_qdq, onnx_squeeze_pad
from gemforge.frontends.onnx_tail import build_tail, is_tail_op, tail_inputs
from gemforge.frontends.onnx_values import NCHW_TO_NHWC, NHWC_TO_NCHW, Const, Deq, HostFloat, Quant, Value
from gemforge.graph_eval import NAME_KEY

CONVERTERS = {**onnx_ops.CONVERTERS, **onnx_qdq.CONVERTERS, **onnx_float.CONVERTERS,
              **onnx_squeeze_pad.CONVERTERS, **onnx_clip.CONVERTERS}


class NodeError(GemforgeError):
    """An ONNX node the importer cannot take; the message names node and op type."""


@dataclass
class TensorInfo:
    """How one network input or output crosses the int8 boundary."""

    name: str  # the ONNX tensor name
    scale: float  # real value = scale * q
    onnx_shape: tuple[int, ...]
    nhwc: bool  # the IR tensor is the ONNX NCHW tensor transposed to NHWC
    dequantized: bool = True  # the ONNX tensor is float (scale * q); else it is the int8 q


@dataclass
class ImportInfo:
    """What :func:`import_model` learnt besides the IR (see :mod:`gemforge.frontends.onnx`)."""

    inputs: list[TensorInfo] = field(default_factory=list)
    outputs: list[TensorInfo] = field(default_factory=list)  # the IR function's results
    float_tail: onnx.ModelProto | None = None  # host ops from the outputs above to the ONNX outputs
    onnx_outputs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # rounding notes (e.g. inexact rescales)
    quantized: onnx.ModelProto | None = None  # the quantized model imported (set by load_model)
    # Every ONNX tensor that holds int8 data (or its exact dequantization) -> its IR value.
    tensors: dict[str, Quant] = field(default_factory=dict)


class Importer:
    """State of one import: the block being filled and the value of every tensor name."""

    def __init__(self, model: onnx.ModelProto):
        self.model = model
        self.values: dict[str, Value] = {}
        for init in model.graph.initializer:
            self.values[init.name] = Const(numpy_helper.to_array(init))
        self.block = Block()
        self.info = ImportInfo()
        self.tail_nodes: list[onnx.NodeProto] = []
        self.node: onnx.NodeProto | None = None
        self.float_inputs: dict[str, tuple[tuple[int, ...], int]] = {}  # name -> (shape, elem type)
        self.arguments: dict[str, Quant] = {}
        for inp in model.graph.input:
            if inp.name not in self.values:
                tt = inp.type.tensor_type
                shape = tuple(d.dim_value if d.HasField("dim_value") else 1 for d in tt.shape.dim)
                self.float_inputs[inp.name] = (shape, tt.elem_type)

    # --- errors and values ---------------------------------------------------------

    def error(self, what: str) -> NodeError:
        node = self.node
        where = f"node '{node.name or node.output[0]}' ({node.op_type})" if node is not None else "model"
        return NodeError(f"onnx import: {where}: {what}")

    def get(self, name: str) -> Value:
        if name not in self.values:
            if name in self.float_inputs:
                raise self.error(f"network input '{name}' must go through a QuantizeLinear (int8 network inputs are not supported)")
            raise self.error(f"input '{name}' is not produced by any earlier node")
        return self.values[name]

    def const(self, name: str, what: str) -> np.ndarray:
        value = self.values.get(name)
        if not isinstance(value, Const):
            raise self.error(f"{what} '{name}' must be a constant initializer")
        return value.array

    def scalar(self, name: str, what: str) -> float:
        array = self.const(name, what)
        if array.size != 1:
            raise self.error(f"{what} '{name}' must be one value (per-tensor quantization), got shape {list(array.shape)}")
        return float(array.reshape(()))

    def zero_point(self, name: str | None, what: str) -> None:
        """Zero points must be absent or 0: gemforge's quantization is symmetric."""
        if name:
            zp = self.const(name, what)
            if np.any(zp != 0):
                raise self.error(f"{what} '{name}' is {zp.reshape(-1)[:4].tolist()}, but only zero points of 0 (symmetric int8) are supported")
            if zp.dtype not in (np.int8, np.int32):
                raise self.error(f"{what} '{name}' has type {zp.dtype}; only int8 quantization is supported")

    def quant(self, name: str, what: str = "input") -> Quant:
        value = self.get(name)
        if not isinstance(value, Quant):
            raise self.error(f"{what} '{name}' is not an int8 tensor ({type(value).__name__})")
        return value

    # --- emitting IR ---------------------------------------------------------------

    def emit(self, op: Operation) -> SSAValue:
        self.block.add_op(op)
        return op.results[0]

    def constant(self, array: np.ndarray) -> SSAValue:
        return self.emit(G.ConstantOp.from_numpy(np.ascontiguousarray(array)))

    def nhwc(self, q: Quant) -> Quant:
        """``q`` as an NHWC IR tensor (transposing a plain 4-D one)."""
        if q.nhwc:
            return q
        if len(q.ir_shape) != 4:
            raise self.error(f"expected a 4-D NCHW tensor, got shape {list(q.ir_shape)}")
        return Quant(self.emit(G.TransposeOp(q.value, NCHW_TO_NHWC)), q.scale, True)

    def plain(self, q: Quant) -> Quant:
        """``q`` in ONNX's own layout (transposing an NHWC one back to NCHW)."""
        if not q.nhwc:
            return q
        return Quant(self.emit(G.TransposeOp(q.value, NHWC_TO_NCHW)), q.scale, False)

    # --- the walk ------------------------------------------------------------------

    def run(self) -> tuple[ModuleOp, ImportInfo]:
        for node in self.model.graph.node:
            self.node = node
            inputs = [self.values.get(n) for n in node.input if n]
            if any(isinstance(v, HostFloat) for v in inputs) or (is_tail_op(node) and not self._feeds_quantize(node)):
                self.tail_nodes.append(node)
                for out in node.output:
                    self.values[out] = HostFloat()
                continue
            convert = CONVERTERS.get(node.op_type)
            if convert is None:
                raise self.error("op type is not supported (no graph-dialect equivalent)")
            results = convert(self, node)
            for out, value in zip(node.output, results):
                if out:
                    self.values[out] = value
        self.node = None
        for name, value in self.values.items():
            if isinstance(value, Quant) or (isinstance(value, Deq) and isinstance(value.source, Quant)):
                q = value if isinstance(value, Quant) else value.source
                self.info.tensors[name] = Quant(q.value, q.scale if isinstance(value, Quant) else value.scale, q.nhwc)
        outputs = self._outputs()
        self.info.float_tail = build_tail(self, outputs) if self.tail_nodes else None
        self.info.onnx_outputs = [o.name for o in self.model.graph.output]
        return self._module(outputs), self.info

    def _feeds_quantize(self, node: onnx.NodeProto) -> bool:
        """Does a float node's output reach a QuantizeLinear (so it is mid-network)?"""
        targets, seen = list(node.output), set()
        while targets:
            name = targets.pop()
            for index, user in enumerate(self.model.graph.node):
                if name in user.input and index not in seen:
                    if user.op_type == "QuantizeLinear":
                        return True
                    seen.add(index)
                    targets.extend(user.output)
        return False

    def argument(self, name: str, scale: float) -> Quant:
        """A network input quantized by the host: a new int8 function argument."""
        known = next((t for t in self.info.inputs if t.name == name), None)
        if known is not None:
            if np.float32(known.scale) != np.float32(scale):
                raise self.error(f"network input '{name}' is quantized with two scales ({known.scale}, {scale})")
            return self.arguments[name]
        shape, elem_type = self.float_inputs[name]
        if elem_type != onnx.TensorProto.FLOAT:
            raise self.error(f"network input '{name}' must be float32 to be quantized")
        nhwc = len(shape) == 4
        ir_shape = [shape[i] for i in NCHW_TO_NHWC] if nhwc else list(shape)
        arg = self.block.insert_arg(TensorType(i8, ir_shape), len(self.block.args))
        arg.name_hint = _hint(name)
        self.info.inputs.append(TensorInfo(name, scale, shape, nhwc))
        self.arguments[name] = Quant(arg, scale, nhwc)
        return self.arguments[name]

    def _outputs(self) -> list[tuple[str, Quant]]:
        """The int8 tensors the IR returns: ONNX outputs, or the float tail's inputs."""
        names = tail_inputs(self) + [o.name for o in self.model.graph.output]
        result, seen = [], set()
        for name in names:
            value = self.values.get(name)
            if isinstance(value, HostFloat) or name in seen:
                continue
            seen.add(name)
            if isinstance(value, Deq) and isinstance(value.source, Quant):
                q = Quant(value.source.value, value.scale, value.source.nhwc)
            elif isinstance(value, Quant):
                q = value
            else:
                raise GemforgeError(f"onnx import: output '{name}' is not an int8 tensor or its dequantization")
            result.append((name, q))
            self.info.outputs.append(TensorInfo(name, q.scale, q.onnx_shape, q.nhwc, isinstance(value, Deq)))
        return result

    def _module(self, outputs: list[tuple[str, Quant]]) -> ModuleOp:
        values = [q.value for _, q in outputs]
        self.block.add_op(ReturnOp(*values))
        names = lambda items: ArrayAttr([DictionaryAttr({NAME_KEY: StringAttr(n)}) for n in items])  # noqa: E731
        func = FuncOp(
            "main",
            ([a.type for a in self.block.args], [v.type for v in values]),
            Region(self.block),
            arg_attrs=names([t.name for t in self.info.inputs]),
            res_attrs=names([n for n, _ in outputs]),
        )
        return ModuleOp([func])


def _hint(name: str) -> str:
    """An SSA name hint from an ONNX tensor name (letters, digits, underscores)."""
    hint = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return hint if hint[:1].isalpha() or hint[:1] == "_" else f"t_{hint}"


def import_model(model: onnx.ModelProto) -> tuple[ModuleOp, ImportInfo]:
    """Import a quantized ONNX model; returns the module (one ``func.func @main``) and
    the :class:`ImportInfo` describing its inputs, outputs and float tail."""
    return Importer(model).run()
