"""ONNX frontend: load a model, quantize it with onnxruntime, import it into the graph
dialect, and run the imported network with the numpy reference.

Public API::

    module, info = load_model("model.onnx")          # float -> quantized by onnxruntime
    module, info = load_model("resnet50")            # a light model with seeded weights
    module, info = builtin_example()                 # ResNet-50
    outputs = run(module, info, {"input": x_float})  # ONNX output name -> array

``info`` is an :class:`~gemforge.frontends.onnx_import.ImportInfo` plus the quantized
ONNX model (``info.quantized``), so onnxruntime can run the very same model.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import onnx
from xdsl.dialects.builtin import ModuleOp

from gemforge.errors import GemforgeError
from gemforge.frontends.onnx_import import ImportInfo, import_model
from gemforge.frontends.onnx_light import light_file_name, light_float_model, light_names
from gemforge.frontends.onnx_quantize import quantize_model
from gemforge.frontends.onnx_scales import dequantize, quantize_input
from gemforge.frontends.onnx_values import NCHW_TO_NHWC, NHWC_TO_NCHW

QUANTIZED_OPS = {"QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "QGemm"}


def is_quantized(model: onnx.ModelProto) -> bool:
    """Does the model already hold quantized ops (so it is imported as it is)?"""
    return any(node.op_type in QUANTIZED_OPS for node in model.graph.node)


def load_model(
    path_or_name: str | os.PathLike | onnx.ModelProto,
    *,
    calibration: Iterable[dict[str, np.ndarray]] | None = None,
    seed: int = 0,
    quant_format: str = "qoperator",
) -> tuple[ModuleOp, ImportInfo]:
    """Import an ONNX model into the graph dialect.

    ``path_or_name``: an ``.onnx`` file, a ``ModelProto``, or the name of a light model
    shipped with onnx (``resnet50``, ``squeezenet``, ...; weights drawn with ``seed``;
    the zoo's own ``light_<name>.onnx`` file is read the same way).
    A float model is quantized by onnxruntime (symmetric per-tensor int8, calibrated on
    ``calibration`` feeds or on seeded random data, ``quant_format`` "qoperator" or
    "qdq"); an already quantized model is imported as it is.
    """
    if isinstance(path_or_name, onnx.ModelProto):
        model = path_or_name
    elif light_file_name(path_or_name) is not None:
        # The zoo file itself: its weights are ConstantOfShape stubs, so seed them.
        model = light_float_model(light_file_name(path_or_name), seed)
    elif os.path.isfile(path_or_name):
        try:
            model = onnx.load(os.fspath(path_or_name))
        except Exception as exc:  # protobuf decode errors
            raise GemforgeError(f"{path_or_name}: not a readable ONNX model ({exc})") from None
    elif str(path_or_name) in light_names():
        model = light_float_model(str(path_or_name), seed)
    else:
        raise GemforgeError(f"{path_or_name}: no such file or light model (light models: {', '.join(light_names())})")
    if not is_quantized(model):
        model = quantize_model(model, calibration=calibration, seed=seed, quant_format=quant_format)
    module, info = import_model(model)
    info.quantized = model
    return module, info


def builtin_example(name: str = "resnet50", *, seed: int = 0, quant_format: str = "qoperator") -> tuple[ModuleOp, ImportInfo]:
    """The built-in example network: a light model (ResNet-50 by default) with seeded
    He-scaled weights, quantized by onnxruntime and imported."""
    return load_model(name, seed=seed, quant_format=quant_format)


def quantize_inputs(info: ImportInfo, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Float ONNX inputs -> the int8 arguments of the graph function (NCHW -> NHWC)."""
    args = {}
    for t in info.inputs:
        if t.name not in feeds:
            raise GemforgeError(f"missing input '{t.name}'")
        x = np.asarray(feeds[t.name], dtype=np.float32)
        if tuple(x.shape) != t.onnx_shape:
            raise GemforgeError(f"input '{t.name}' must have shape {list(t.onnx_shape)}, got {list(x.shape)}")
        q = quantize_input(x, t.scale)
        args[t.name] = np.ascontiguousarray(q.transpose(NCHW_TO_NHWC)) if t.nhwc else q
    return args


def to_onnx_layout(info: ImportInfo, results: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The graph function's int8 results in ONNX layout (NHWC -> NCHW), still int8."""
    out = {}
    for t in info.outputs:
        r = results[t.name]
        out[t.name] = np.ascontiguousarray(r.transpose(NHWC_TO_NCHW)) if t.nhwc else r
    return out


def run(module: ModuleOp, info: ImportInfo, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run the imported network on float inputs with the numpy reference
    (:func:`gemforge.graph_eval.evaluate`) and the float tail (onnxruntime); returns
    every ONNX output by name (float, as the ONNX model defines them)."""
    from gemforge.graph_eval import evaluate

    int8 = to_onnx_layout(info, evaluate(module, quantize_inputs(info, feeds)))
    floats = {t.name: dequantize(int8[t.name], t.scale) if t.dequantized else int8[t.name] for t in info.outputs}
    if info.float_tail is not None:
        import onnxruntime as ort

        session = ort.InferenceSession(info.float_tail.SerializeToString(), providers=["CPUExecutionProvider"])
        tail_feeds = {i.name: (floats[i.name] if i.type.tensor_type.elem_type == onnx.TensorProto.FLOAT else int8[i.name]) for i in info.float_tail.graph.input}
        names = [o.name for o in info.float_tail.graph.output]
        floats.update(zip(names, session.run(names, tail_feeds)))
    return {name: floats[name] for name in info.onnx_outputs}
