"""Quantize a float ONNX model with onnxruntime's own tooling (never by hand).

:func:`quantize_model` runs ``quant_pre_process`` (shape inference and onnxruntime's
basic graph optimizations, which fold batch norms into convolutions and drop Dropout)
and then ``quantize_static`` with symmetric, per-tensor int8 activations and weights,
calibrated on user-given inputs or on seeded random ones. Results are cached on disk
(``onnx_cache.py``): a model is quantized once per calibration data and versions.

Two float-level rewrites run first, both exact: the opset is raised to 13 (the
quantizer needs >= 10), and a two-input ``Sum`` (old Caffe2 exports) becomes ``Add``,
which the quantizer knows. Softmax stays float: onnxruntime's ``QLinearSoftmax`` has
zero point -128, which symmetric quantization excludes.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable

import numpy as np
import onnx
from onnx import version_converter

from gemforge.errors import GemforgeError
from gemforge.frontends import onnx_cache

MIN_OPSET = 13
# Ops handed to the quantizer; everything else stays float between Q/DQ pairs.
QUANTIZED_OPS = (
    "Conv", "MatMul", "Gemm", "Add", "AveragePool", "GlobalAveragePool", "MaxPool",
    "Relu", "Clip", "Reshape", "Flatten", "Transpose", "Concat", "Pad", "Squeeze", "Unsqueeze",
)
_ONNX_TO_NUMPY = {1: np.float32, 6: np.int32, 7: np.int64, 3: np.int8, 2: np.uint8}


def prepare_float_model(model: onnx.ModelProto) -> onnx.ModelProto:
    """Exact float rewrites the quantizer needs: opset >= 13, two-input Sum -> Add."""
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < MIN_OPSET:
        try:
            model = version_converter.convert_version(model, MIN_OPSET)
        except Exception as exc:  # the converter raises bare RuntimeErrors
            raise GemforgeError(f"onnx: cannot convert the model from opset {opset} to {MIN_OPSET}: {exc}") from None
    for node in model.graph.node:
        if node.op_type == "Sum" and len(node.input) == 2:
            node.op_type = "Add"
    return model


def input_specs(model: onnx.ModelProto) -> list[tuple[str, tuple[int, ...], type]]:
    """(name, static shape, numpy dtype) of every graph input that is not a weight."""
    inits = {t.name for t in model.graph.initializer}
    specs = []
    for inp in model.graph.input:
        if inp.name in inits:
            continue
        tt = inp.type.tensor_type
        shape = tuple(d.dim_value if d.HasField("dim_value") else 1 for d in tt.shape.dim)
        specs.append((inp.name, shape, _ONNX_TO_NUMPY.get(tt.elem_type, np.float32)))
    return specs


def random_inputs(model: onnx.ModelProto, seed: int = 0, count: int = 2) -> list[dict[str, np.ndarray]]:
    """``count`` seeded standard-normal input feeds (dynamic dims taken as 1)."""
    rng = np.random.default_rng(seed)
    return [
        {name: rng.standard_normal(shape).astype(dtype) for name, shape, dtype in input_specs(model)}
        for _ in range(count)
    ]


class _Feeds:
    """The ``CalibrationDataReader`` protocol over a list of feeds."""

    def __init__(self, feeds: list[dict[str, np.ndarray]]):
        self._it = iter(feeds)

    def get_next(self):
        return next(self._it, None)

    def __iter__(self):  # CalibrationDataReader is iterable in recent versions
        return self

    def __next__(self):
        item = self.get_next()
        if item is None:
            raise StopIteration
        return item

    def set_range(self, start_index: int, end_index: int) -> None:  # strided calibration hook
        pass


def quantize_model(
    model: onnx.ModelProto,
    *,
    calibration: Iterable[dict[str, np.ndarray]] | None = None,
    seed: int = 0,
    quant_format: str = "qoperator",
    op_types: Iterable[str] = QUANTIZED_OPS,
) -> onnx.ModelProto:
    """Quantize a float model: symmetric per-tensor int8 activations and weights.

    ``calibration``: input feeds (name -> float array) for the min/max calibration;
    by default two seeded standard-normal feeds. ``quant_format``: "qoperator"
    (QLinearConv, QGemm, ...) or "qdq" (QuantizeLinear/DequantizeLinear around float ops).
    """
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    formats = {"qoperator": QuantFormat.QOperator, "qdq": QuantFormat.QDQ}
    if quant_format not in formats:
        raise GemforgeError(f"onnx: unknown quant_format '{quant_format}' (expected qoperator or qdq)")
    model = prepare_float_model(model)
    feeds = list(calibration) if calibration is not None else random_inputs(model, seed)
    if not feeds:
        raise GemforgeError("onnx: calibration needs at least one input feed")
    op_types = list(op_types)
    options = [quant_format, *op_types]

    def quantize() -> onnx.ModelProto:
        with tempfile.TemporaryDirectory() as tmp:
            src, pre, out = (os.path.join(tmp, f) for f in ("float.onnx", "pre.onnx", "quant.onnx"))
            onnx.save(model, src)
            # Static shapes only, so onnx's own shape inference suffices (no sympy).
            logging.getLogger().disabled, was = True, logging.getLogger().disabled
            try:
                quant_pre_process(src, pre, skip_symbolic_shape=True)
                quantize_static(
                    pre,
                    out,
                    _Feeds(feeds),
                    quant_format=formats[quant_format],
                    op_types_to_quantize=op_types,
                    per_channel=False,
                    activation_type=QuantType.QInt8,
                    weight_type=QuantType.QInt8,
                    extra_options={"ActivationSymmetric": True, "WeightSymmetric": True, "ForceQuantizeNoInputCheck": True},
                )
            except Exception as exc:  # onnxruntime raises many types, with long messages
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise GemforgeError(f"onnx: onnxruntime could not quantize the model: {first}") from None
            finally:
                logging.getLogger().disabled = was
            return onnx.load(out)

    return onnx_cache.cached(lambda: onnx_cache.key(model, feeds, options), quantize)
