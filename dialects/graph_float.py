"""Float islands with an int8 boundary: ``graph.lrn`` and ``graph.channel_affine``.

Quantizers leave some ops in float between a ``DequantizeLinear`` and a
``QuantizeLinear`` (LRN, a batch norm that follows no convolution). Each op here is
one such island: it dequantizes its int8 input, computes the float op in float32 in
onnxruntime's order of operations, and quantizes the result the way ONNX's
``QuantizeLinear`` does (a division by the output scale)::

    v = f32(x) * f32(input_scale)                 (DequantizeLinear)
    ...                                           (the op, float32)
    y = sat_i8(rne(t / f32(output_scale)))        (QuantizeLinear)

Both are host ops (no accelerator lowering). Channels are the last axis (NHWC).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from xdsl.dialects.builtin import TensorType, f32, i8
from xdsl.ir import SSAValue
from xdsl.irdl import irdl_op_definition, operand_def, prop_def, result_def, traits_def
from xdsl.traits import Pure

from gemforge.dialects.graph_common import IntProp, ScaleProp, check_scale, expect_element, expect_rank, fail, tensor_of
from gemforge.dialects.graph_constant import ConstantOp
from gemforge.dialects.graph_syntax import Field, GraphOp, field_property, to_attr

_SCALES = (Field("input_scale", "scale"), Field("output_scale", "scale"))


def _int8_input(name: str, operands: dict[str, Any]) -> TensorType:
    x = tensor_of(name, "input", operands["input"])
    expect_element(name, "input", x, [i8])
    return x


@irdl_op_definition
class LRNOp(GraphOp):
    """Local response normalization across channels, as onnxruntime's CPU kernel
    computes it (int8 NHWC in and out; ``size`` odd, ``alpha``, ``beta`` > 0,
    ``bias`` >= 0). With ``C`` channels, ``a = f32(alpha) / size`` and
    ``pre = (size - 1) / 2``, per pixel::

        v = f32(x) * f32(input_scale);  q[k] = v[k - pre]^2 (0 outside 0..C-1)
        s = bias;  s = s + a * q[k] for k = 0 .. size-1       (channel 0's sum)
        d[0] = s; for c = 1 .. C-1: s = s + a * q[c + size - 1]; s = s + (-a) * q[c - 1]; d[c] = s
        t[c] = v[c] * pow(d[c], -beta)
        y = sat_i8(rne(t / f32(output_scale)))

    Every step is one float32 operation (a running window sum, not a fresh sum per
    channel, exactly like onnxruntime). ``pow`` is the host libm's ``powf``;
    onnxruntime uses Eigen's vectorized pow, which differs by a few float32 ulps, so
    an int8 result may differ by one where ``t / output_scale`` lies that close to a
    rounding boundary (see the float notes of :mod:`gemforge.sim.host_graph`).
    """

    name = "graph.lrn"

    input = operand_def(TensorType)
    result = result_def(TensorType)
    size_prop = prop_def(IntProp, prop_name="size")
    alpha_prop = prop_def(ScaleProp, prop_name="alpha")
    beta_prop = prop_def(ScaleProp, prop_name="beta")
    bias_prop = prop_def(ScaleProp, prop_name="bias")
    input_scale_prop = prop_def(ScaleProp, prop_name="input_scale")
    output_scale_prop = prop_def(ScaleProp, prop_name="output_scale")
    traits = traits_def(Pure())

    POSITIONAL: ClassVar = ("input",)
    FIELDS: ClassVar = (Field("size", "int"), Field("alpha", "scale"), Field("beta", "scale"),
                        Field("bias", "scale"), *_SCALES)

    size = field_property("size", "Channels in the window (odd).")
    alpha = field_property("alpha", "The ONNX alpha (divided by size inside).")
    beta = field_property("beta", "The exponent.")
    bias = field_property("bias", "The ONNX bias (k).")
    input_scale = field_property("input_scale", "Real scale of the int8 input.")
    output_scale = field_property("output_scale", "Real scale of the int8 result.")

    def __init__(self, input: SSAValue, size: int, alpha: float, beta: float, bias: float, *,
                 input_scale: float, output_scale: float):
        props = {"size": to_attr("int", size), "alpha": to_attr("scale", alpha), "beta": to_attr("scale", beta),
                 "bias": to_attr("scale", bias), "input_scale": to_attr("scale", input_scale),
                 "output_scale": to_attr("scale", output_scale)}
        self._init({"input": input}, props)

    @classmethod
    def infer_type(cls, operands: dict[str, Any], props) -> TensorType:
        n, v = cls.name, cls.values_of(props)
        x = _int8_input(n, operands)
        expect_rank(n, "input", x, 4)
        for name in ("size", "alpha", "beta", "bias", "input_scale", "output_scale"):
            if v[name] is None:
                raise fail(n, f"property '{name}' is required")
        if v["size"] < 1 or v["size"] % 2 == 0:
            raise fail(n, f"size must be a positive odd number, got {v['size']}")
        for name in ("alpha", "beta", "input_scale", "output_scale"):
            check_scale(n, name, v[name])
        if not (math.isfinite(v["bias"]) and v["bias"] >= 0.0):
            raise fail(n, f"bias must be a finite number >= 0, got {v['bias']}")
        return x


@irdl_op_definition
class ChannelAffineOp(GraphOp):
    """A per-channel float affine map between int8 tensors: an inference batch norm
    (onnxruntime's form: ``scale = gamma / sqrt(var + eps)``, ``shift = beta - mean *
    scale``, computed in float32 by the importer) followed by a per-channel multiply
    (a Caffe ``Scale`` layer's ``Mul``; all ones when there is none). Channels last::

        v = f32(x) * f32(input_scale)
        t = ((v * scale[c]) + shift[c]) * multiplier[c]     (three float32 operations)
        y = sat_i8(rne(t / f32(output_scale)))

    ``scale``, ``shift``, ``multiplier``: [C] f32, finite (checked when they are
    ``graph.constant`` results).
    """

    name = "graph.channel_affine"

    input = operand_def(TensorType)
    scale = operand_def(TensorType)
    shift = operand_def(TensorType)
    multiplier = operand_def(TensorType)
    result = result_def(TensorType)
    input_scale_prop = prop_def(ScaleProp, prop_name="input_scale")
    output_scale_prop = prop_def(ScaleProp, prop_name="output_scale")
    traits = traits_def(Pure())

    POSITIONAL: ClassVar = ("input", "scale", "shift", "multiplier")
    FIELDS: ClassVar = _SCALES
    VECTORS: ClassVar = ("scale", "shift", "multiplier")

    input_scale = field_property("input_scale", "Real scale of the int8 input.")
    output_scale = field_property("output_scale", "Real scale of the int8 result.")

    def __init__(self, input: SSAValue, scale: SSAValue, shift: SSAValue, multiplier: SSAValue, *,
                 input_scale: float, output_scale: float):
        props = {"input_scale": to_attr("scale", input_scale), "output_scale": to_attr("scale", output_scale)}
        self._init({"input": input, "scale": scale, "shift": shift, "multiplier": multiplier}, props)

    @classmethod
    def infer_type(cls, operands: dict[str, Any], props) -> TensorType:
        n, v = cls.name, cls.values_of(props)
        x = _int8_input(n, operands)
        if x.get_num_dims() < 1:
            raise fail(n, f"input must have rank >= 1 (channels last), got {x}")
        expected = TensorType(f32, [x.get_shape()[-1]])
        for what in cls.VECTORS:
            t = tensor_of(n, what, operands[what])
            if t != expected:
                raise fail(n, f"{what} must be {expected} (one f32 per channel), got {t}")
        for name in ("input_scale", "output_scale"):
            if v[name] is None:
                raise fail(n, f"property '{name}' is required")
            check_scale(n, name, v[name])
        return x

    def verify_(self) -> None:
        super().verify_()
        for what in self.VECTORS:
            owner = getattr(self, what).owner
            if isinstance(owner, ConstantOp) and not np.isfinite(owner.to_numpy()).all():
                raise fail(self.name, f"{what} holds a non-finite value")


__all__ = ["LRNOp", "ChannelAffineOp"]
