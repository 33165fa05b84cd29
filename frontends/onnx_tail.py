"""The float tail: ONNX float ops after the last int8 tensor (typically a Softmax, or
GlobalAveragePool -> Flatten -> Softmax when the quantizer left the pooling float).

The graph dialect works on int8 tensors and has no dequantize op, so these ops run on
the host. They are cut out as a small self-contained ONNX model whose inputs are the
dequantized int8 results of the graph function; :func:`gemforge.frontends.onnx.run`
feeds it through onnxruntime, which keeps the float arithmetic identical to running
the whole quantized model there. A float op in the *middle* of the network (one whose
result is quantized again, e.g. LRN) is a float island of
:mod:`~gemforge.frontends.onnx_float` instead.
"""

from __future__ import annotations

import onnx
from onnx import helper

from gemforge.frontends.onnx_values import Const, Deq, HostFloat, Quant

# Float ops that may only run on the host, after the int8 part of the network.
TAIL_OPS = {"Softmax", "LogSoftmax", "GlobalAveragePool", "AveragePool", "LRN", "Sigmoid", "Tanh", "ArgMax"}


def is_tail_op(node: onnx.NodeProto) -> bool:
    return node.op_type in TAIL_OPS


def tail_inputs(imp) -> list[str]:
    """Tensor names the tail reads that the int8 part produces, in first-use order."""
    produced = {out for node in imp.tail_nodes for out in node.output}
    names: list[str] = []
    for node in imp.tail_nodes:
        for name in node.input:
            if name and name not in produced and name not in names and not isinstance(imp.values.get(name), Const):
                names.append(name)
    return names


def build_tail(imp, outputs: list[tuple[str, Quant]]) -> onnx.ModelProto:
    """The tail as an ONNX model: float (or int8) inputs, the original ONNX outputs."""
    by_name = dict(outputs)
    inputs = []
    for name in tail_inputs(imp):
        value = imp.values[name]
        elem = onnx.TensorProto.FLOAT if isinstance(value, Deq) else onnx.TensorProto.INT8
        inputs.append(helper.make_tensor_value_info(name, elem, list(by_name[name].onnx_shape)))
    used = {name for node in imp.tail_nodes for name in node.input}
    inits = [t for t in imp.model.graph.initializer if t.name in used]
    tail_outputs = [o for o in imp.model.graph.output if isinstance(imp.values.get(o.name), HostFloat)]
    graph = helper.make_graph(list(imp.tail_nodes), "float_tail", inputs, tail_outputs, inits)
    model = helper.make_model(graph, opset_imports=list(imp.model.opset_import))
    model.ir_version = imp.model.ir_version
    return model
