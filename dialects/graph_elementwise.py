"""Element-wise and per-row ops: ``graph.add``, ``graph.relu``, ``graph.clip``,
``graph.requantize``, ``graph.softmax`` (notation of
:mod:`gemforge.dialects.graph_epilogue`)."""

from __future__ import annotations

from typing import Any, ClassVar

from xdsl.dialects.builtin import StringAttr, TensorType, f32, i8, i32
from xdsl.ir import SSAValue
from xdsl.irdl import irdl_op_definition, operand_def, opt_prop_def, prop_def, result_def, traits_def
from xdsl.traits import Pure

from gemforge.dialects.graph_common import (
    IntProp,
    IntsProp,
    ScaleProp,
    check_scale,
    check_scale_set,
    expect_element,
    fail,
    int_range,
    normalize_axis,
    tensor_of,
)
from gemforge.dialects.graph_epilogue import ACTIVATION_FIELDS, ActivationOp, activation_props, verify_activation
from gemforge.dialects.graph_syntax import Field, GraphOp, field_property, to_attr


class _UnaryOp(GraphOp):
    """One ``input`` operand; the result has the input's type unless overridden."""

    POSITIONAL: ClassVar = ("input",)
    ALLOWED: ClassVar = (i8, i32)

    @classmethod
    def infer_type(cls, operands: dict[str, Any], props) -> TensorType:
        x = tensor_of(cls.name, "input", operands["input"])
        expect_element(cls.name, "input", x, cls.ALLOWED)
        return x


@irdl_op_definition
class AddOp(ActivationOp):
    """Element-wise sum of two tensors of the same shape.

    int8 form (``lhs``, ``rhs`` i8; ``lhs_scale``, ``rhs_scale``, ``output_scale`` the
    real scales of the operands and of the result, all required)::

        ma = f32(lhs_scale) / f32(output_scale);  mb = f32(rhs_scale) / f32(output_scale)
        y  = sat_i8(rne(f32(lhs) * ma + f32(rhs) * mb))

    int32 form (``lhs``, ``rhs`` i32, no scales): ``y = lhs + rhs`` with two's-complement
    wrap-around. Then the optional ``activation`` (relu, or clip [lo, hi] in the result's
    units), as in the conv epilogue. The result has the operands' type.
    """

    name = "graph.add"

    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)
    lhs_scale_prop = opt_prop_def(ScaleProp, prop_name="lhs_scale")
    rhs_scale_prop = opt_prop_def(ScaleProp, prop_name="rhs_scale")
    output_scale_prop = opt_prop_def(ScaleProp, prop_name="output_scale")
    activation_prop = opt_prop_def(StringAttr, prop_name="activation")
    clip_prop = opt_prop_def(IntsProp, prop_name="clip")
    traits = traits_def(Pure())

    POSITIONAL: ClassVar = ("lhs", "rhs")
    SCALES: ClassVar = ("lhs_scale", "rhs_scale", "output_scale")
    FIELDS: ClassVar = (*(Field(s, "scale") for s in SCALES), *ACTIVATION_FIELDS)

    lhs_scale = field_property("lhs_scale", "Real scale of lhs (int8 form), else None.")
    rhs_scale = field_property("rhs_scale", "Real scale of rhs (int8 form), else None.")
    output_scale = field_property("output_scale", "Real scale of the result (int8 form), else None.")

    def __init__(
        self,
        lhs: SSAValue,
        rhs: SSAValue,
        *,
        lhs_scale: float | None = None,
        rhs_scale: float | None = None,
        output_scale: float | None = None,
        activation: str | None = "none",
        clip=None,
    ):
        props = {
            "lhs_scale": to_attr("scale", lhs_scale),
            "rhs_scale": to_attr("scale", rhs_scale),
            "output_scale": to_attr("scale", output_scale),
            **activation_props(self.name, activation, clip, output_scale),
        }
        self._init({"lhs": lhs, "rhs": rhs}, props)

    @classmethod
    def infer_type(cls, operands: dict[str, Any], props) -> TensorType:
        n, v = cls.name, cls.values_of(props)
        a = tensor_of(n, "lhs", operands["lhs"])
        b = tensor_of(n, "rhs", operands["rhs"])
        expect_element(n, "lhs", a, [i8, i32])
        if a != b:
            raise fail(n, f"operands must have the same type, got {a} and {b}")
        missing = "int8 operands need lhs_scale, rhs_scale and output_scale"
        check_scale_set(n, v, cls.SCALES, a.element_type, i32, missing, "int32 operands take no scales")
        verify_activation(n, v["activation"], v["clip"], a.element_type)
        return a


@irdl_op_definition
class ReluOp(_UnaryOp):
    """``y = max(x, 0)`` element-wise on an i8, i32 or f32 tensor (scales pass through)."""

    name = "graph.relu"

    input = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    ALLOWED: ClassVar = (i8, i32, f32)

    def __init__(self, input: SSAValue):
        self._init({"input": input}, {})


@irdl_op_definition
class ClipOp(_UnaryOp):
    """``y = min(max(x, min), max)`` element-wise on an i8 or i32 tensor, with integer
    bounds ``min <= max`` inside the element type's range (scales pass through)."""

    name = "graph.clip"

    input = operand_def(TensorType)
    result = result_def(TensorType)
    min_prop = prop_def(IntProp, prop_name="min")
    max_prop = prop_def(IntProp, prop_name="max")
    traits = traits_def(Pure())

    FIELDS: ClassVar = (Field("min", "int"), Field("max", "int"))

    min = field_property("min", "Lower bound (int).")
    max = field_property("max", "Upper bound (int).")

    def __init__(self, input: SSAValue, min: int, max: int):
        self._init({"input": input}, {"min": to_attr("int", min), "max": to_attr("int", max)})

    @classmethod
    def infer_type(cls, operands: dict[str, Any], props) -> TensorType:
        x = super().infer_type(operands, props)
        v = cls.values_of(props)
        lo, hi = int_range(x.element_type)
        if not lo <= v["min"] <= v["max"] <= hi:
            raise fail(cls.name, f"need {lo} <= min <= max <= {hi}, got min {v['min']} max {v['max']}")
        return x


@irdl_op_definition
class RequantizeOp(_UnaryOp):
    """Rescale an i32 (accumulator) or i8 tensor to i8:
    ``y = sat_i8(rne(f32(x) * scale))``, element-wise, with ``scale`` a finite positive
    f32 (``s_input / s_output``). This is the arithmetic of Gemmini's move-out scaling.
    """

    name = "graph.requantize"

    input = operand_def(TensorType)
    result = result_def(TensorType)
    scale_prop = prop_def(ScaleProp, prop_name="scale")
    traits = traits_def(Pure())

    FIELDS: ClassVar = (Field("scale", "scale"),)

    scale = field_property("scale", "s_input / s_output as a float.")

    def __init__(self, input: SSAValue, scale: float):
        self._init({"input": input}, {"scale": to_attr("scale", scale)})

    @classmethod
    def infer_type(cls, operands: dict[str, Any], props) -> TensorType:
        x = super().infer_type(operands, props)
        check_scale(cls.name, "scale", cls.values_of(props)["scale"])
        return TensorType(i8, x.get_shape())


@irdl_op_definition
class SoftmaxOp(_UnaryOp):
    """Softmax along ``axis`` (0 <= axis < rank); a host op (no accelerator lowering).

    f32 form (f32 in and out, no scales)::

        e = exp(x - max over axis of x);  y = e / (sum over axis of e)

    int8 form (i8 in and out, ``input_scale`` and ``output_scale`` required)::

        v = f32(x) * f32(input_scale);  e = exp(v - max over axis of v)
        y = sat_i8(rne((e / sum over axis of e) / f32(output_scale)))

    Everything is float32; ``exp`` and the order of the sum are those of the host's
    libm / numpy, so an exact reference may differ from another implementation by one
    float32 ulp before rounding (at most 1 in the int8 result).
    """

    name = "graph.softmax"

    input = operand_def(TensorType)
    result = result_def(TensorType)
    axis_prop = prop_def(IntProp, prop_name="axis")
    input_scale_prop = opt_prop_def(ScaleProp, prop_name="input_scale")
    output_scale_prop = opt_prop_def(ScaleProp, prop_name="output_scale")
    traits = traits_def(Pure())

    ALLOWED: ClassVar = (i8, f32)
    FIELDS: ClassVar = (Field("axis", "int"), Field("input_scale", "scale"), Field("output_scale", "scale"))

    axis = field_property("axis", "The reduced axis (non-negative).")
    input_scale = field_property("input_scale", "Real scale of the int8 input, else None.")
    output_scale = field_property("output_scale", "Real scale of the int8 result, else None.")

    def __init__(
        self,
        input: SSAValue,
        axis: int = -1,
        *,
        input_scale: float | None = None,
        output_scale: float | None = None,
    ):
        """``axis`` may be negative (counted from the end), as in numpy."""
        rank = tensor_of(self.name, "input", input).get_num_dims()
        props = {
            "axis": to_attr("int", normalize_axis(self.name, axis, rank)),
            "input_scale": to_attr("scale", input_scale),
            "output_scale": to_attr("scale", output_scale),
        }
        self._init({"input": input}, props)

    @classmethod
    def infer_type(cls, operands: dict[str, Any], props) -> TensorType:
        n, x = cls.name, super().infer_type(operands, props)
        v = cls.values_of(props)
        if not 0 <= v["axis"] < x.get_num_dims():
            raise fail(n, f"axis {v['axis']} is out of range for rank {x.get_num_dims()}")
        scales, missing = ("input_scale", "output_scale"), "int8 input needs input_scale and output_scale"
        check_scale_set(n, v, scales, x.element_type, f32, missing, "f32 input takes no scales")
        return x
