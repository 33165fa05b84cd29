"""onnxruntime as the second reference: run the very quantized model that was imported
and read back the int8 tensors the graph function returns.

onnxruntime normally rewrites signed-int8 QDQ models to uint8 on x86 and then leaves
some layers in float; ``session.qdqisint8allowed`` keeps them int8 so every QDQ group
runs as its integer kernel (QLinearConv, QLinearAdd, ...), as in the QOperator form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx

from gemforge.frontends.onnx_import import ImportInfo


def onnxruntime_session(model: onnx.ModelProto, extra_outputs: list[str] = ()):
    """An onnxruntime CPU session on ``model`` that also returns ``extra_outputs``."""
    import onnxruntime as ort

    ort.set_default_logger_severity(3)
    model_copy = onnx.ModelProto()
    model_copy.CopyFrom(model)
    present = {o.name for o in model_copy.graph.output}
    for name in extra_outputs:
        if name not in present:
            model_copy.graph.output.append(onnx.helper.make_value_info(name, onnx.TypeProto()))
            present.add(name)
    options = ort.SessionOptions()
    options.add_session_config_entry("session.qdqisint8allowed", "1")
    return ort.InferenceSession(model_copy.SerializeToString(), options, providers=["CPUExecutionProvider"])


def onnxruntime_outputs(info: ImportInfo, feeds: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(int8, final): onnxruntime's values of the graph function's results (int8, ONNX
    layout, keyed like ``info.outputs``) and of the ONNX model's own outputs."""
    model = info.quantized
    producer = {out: node for node in model.graph.node for out in node.output}
    sources = {}
    for t in info.outputs:
        node = producer.get(t.name)
        # A DequantizeLinear output is read at its int8 input; any other float tensor
        # (a ReLU of a dequantized value, say) holds scale * q exactly.
        sources[t.name] = node.input[0] if node is not None and node.op_type == "DequantizeLinear" else t.name
    session = onnxruntime_session(model, list(sources.values()))
    names = [o.name for o in session.get_outputs()]
    values = dict(zip(names, session.run(names, feeds)))
    int8 = {}
    for t in info.outputs:
        v = values[sources[t.name]]
        int8[t.name] = v if v.dtype == np.int8 else np.rint(v / np.float32(t.scale)).astype(np.int8)
    return int8, {name: values[name] for name in info.onnx_outputs}


@dataclass
class Diff:
    """How two int8 tensors differ, in least significant bits (LSB)."""

    count: int  # elements that differ
    size: int
    max_lsb: int

    @property
    def fraction(self) -> float:
        return self.count / max(self.size, 1)

    def within(self, max_lsb: int = 1, max_fraction: float = 1e-3) -> bool:
        """At most ``max_lsb`` apart, on at most ``max_fraction`` of the elements."""
        return self.max_lsb <= max_lsb and self.fraction <= max_fraction


def diff(a: np.ndarray, b: np.ndarray) -> Diff:
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    d = np.abs(a.astype(np.int64) - b.astype(np.int64))
    return Diff(int(np.count_nonzero(d)), int(d.size), int(d.max(initial=0)))


def compare_layers(module, info: ImportInfo, feeds: dict[str, np.ndarray]) -> dict[str, Diff]:
    """Layer by layer: every ONNX tensor the import mapped to an int8 IR value, as
    graph_eval computes it against onnxruntime's value of that tensor."""
    from gemforge.frontends.onnx import quantize_inputs
    from gemforge.frontends.onnx_values import NHWC_TO_NCHW
    from gemforge.graph_eval import evaluate

    trace: dict = {}
    evaluate(module, quantize_inputs(info, feeds), trace=trace)
    names = [n for n in info.tensors if n not in {i.name for i in info.quantized.graph.initializer}]
    session = onnxruntime_session(info.quantized, names)
    values = dict(zip(names, session.run(names, feeds)))
    result = {}
    for name in names:
        q = info.tensors[name]
        ours = trace[q.value]
        ours = ours.transpose(NHWC_TO_NCHW) if q.nhwc else ours
        theirs = values[name]
        if theirs.dtype != np.int8:  # a float tensor that is exactly scale * q
            theirs = np.rint(theirs / np.float32(q.scale)).astype(np.int8)
        result[name] = diff(ours, theirs)
    return result
