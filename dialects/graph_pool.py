"""Pooling over NHWC tensors: ``graph.maxpool``, ``graph.avgpool``, ``graph.global_avgpool``.

Windows are [kh, kw] at stride [sh, sw] with padding [top, left, bottom, right]; the
output is PH = (H + top + bottom - kh) // sh + 1 by PW likewise (floor; a frontend
emulates ONNX ``ceil_mode`` with extra bottom/right padding). Every pad is smaller
than the kernel, so each window holds at least one input element.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from xdsl.dialects.builtin import TensorType, UnitAttr, i8, i32
from xdsl.ir import SSAValue
from xdsl.irdl import irdl_op_definition, operand_def, opt_prop_def, prop_def, result_def, traits_def
from xdsl.traits import Pure

from gemforge.dialects.graph_common import (
    IntsProp,
    ScaleProp,
    check_scale,
    expect_element,
    expect_rank,
    pooled_hw,
    tensor_of,
)
from gemforge.dialects.graph_syntax import Field, GraphOp, field_property, to_attr

WINDOW_FIELDS = (Field("kernel", "ints"), Field("stride", "ints"), Field("padding", "ints"))


def _window_props(kernel: Sequence[int], stride: Sequence[int] | None, padding: Sequence[int]) -> dict:
    padding = tuple(padding)
    return {
        "kernel": to_attr("ints", kernel),
        "stride": to_attr("ints", kernel if stride is None else stride),
        "padding": to_attr("ints", padding * 2 if len(padding) == 2 else padding),
    }


class _WindowOp(GraphOp):
    """A pooling op over sliding windows of an NHWC input."""

    ALLOWED: ClassVar = (i8,)

    kernel = field_property("kernel", "(kh, kw)")
    stride = field_property("stride", "(sh, sw)")
    padding = field_property("padding", "(top, left, bottom, right)")

    @classmethod
    def infer_type(cls, operands: dict[str, Any], props) -> TensorType:
        n, v = cls.name, cls.values_of(props)
        x = tensor_of(n, "input", operands["input"])
        expect_rank(n, "input", x, 4)
        expect_element(n, "input", x, cls.ALLOWED)
        if "scale" in v:
            check_scale(n, "scale", v["scale"])
        batch, h, w, c = x.get_shape()
        ph, pw = pooled_hw(n, "", (h, w), v["kernel"], v["stride"], v["padding"])
        return TensorType(x.element_type, [batch, ph, pw, c])


@irdl_op_definition
class MaxPoolOp(_WindowOp):
    """Max pooling of an NHWC i8 or i32 tensor; the result has the input's element type.

    ``y[n, py, px, c] = max of x[n, py*sh + ky - top, px*sw + kx - left, c]`` over the
    window positions inside the input (padded positions take no part). Scales pass
    through unchanged (max commutes with a positive scale).
    """

    name = "graph.maxpool"

    input = operand_def(TensorType)
    result = result_def(TensorType)
    kernel_prop = prop_def(IntsProp, prop_name="kernel")
    stride_prop = prop_def(IntsProp, prop_name="stride")
    padding_prop = prop_def(IntsProp, prop_name="padding")
    traits = traits_def(Pure())

    POSITIONAL: ClassVar = ("input",)
    FIELDS: ClassVar = WINDOW_FIELDS
    ALLOWED: ClassVar = (i8, i32)

    def __init__(
        self,
        input: SSAValue,
        kernel: Sequence[int],
        stride: Sequence[int] | None = None,
        padding: Sequence[int] = (0, 0, 0, 0),
    ):
        """``stride`` defaults to ``kernel``; ``padding`` may be (ph, pw)."""
        self._init({"input": input}, _window_props(kernel, stride, padding))


@irdl_op_definition
class AvgPoolOp(_WindowOp):
    """Average pooling of an NHWC i8 tensor, requantized to i8 by ``scale``.

    ``scale`` is ``s_input / s_output`` (1.0 keeps the input's scale). For each window::

        sum   = exact int32 sum of the window's input elements (padding adds nothing)
        count = kh * kw if count_include_pad else the number of input elements in it
        y     = sat_i8(rne(f32(sum) * (f32(scale) / f32(count))))

    (notation of :mod:`gemforge.dialects.graph_epilogue`).
    """

    name = "graph.avgpool"

    input = operand_def(TensorType)
    result = result_def(TensorType)
    kernel_prop = prop_def(IntsProp, prop_name="kernel")
    stride_prop = prop_def(IntsProp, prop_name="stride")
    padding_prop = prop_def(IntsProp, prop_name="padding")
    count_include_pad_prop = opt_prop_def(UnitAttr, prop_name="count_include_pad")
    scale_prop = prop_def(ScaleProp, prop_name="scale")
    traits = traits_def(Pure())

    POSITIONAL: ClassVar = ("input",)
    FIELDS: ClassVar = (*WINDOW_FIELDS, Field("count_include_pad", "flag"), Field("scale", "scale"))

    count_include_pad = field_property("count_include_pad", "True if padding counts in the divisor.")
    scale = field_property("scale", "s_input / s_output as a float.")

    def __init__(
        self,
        input: SSAValue,
        kernel: Sequence[int],
        stride: Sequence[int] | None = None,
        padding: Sequence[int] = (0, 0, 0, 0),
        *,
        count_include_pad: bool = False,
        scale: float = 1.0,
    ):
        """``stride`` defaults to ``kernel``; ``padding`` may be (ph, pw)."""
        props = {
            **_window_props(kernel, stride, padding),
            "count_include_pad": to_attr("flag", count_include_pad),
            "scale": to_attr("scale", scale),
        }
        self._init({"input": input}, props)


@irdl_op_definition
class GlobalAvgPoolOp(GraphOp):
    """Mean over H and W of an NHWC i8 tensor [N, H, W, C] -> [N, 1, 1, C] i8::

        y[n, 0, 0, c] = sat_i8(rne(f32(sum over h, w of x[n, h, w, c]) * (f32(scale) / f32(H * W))))

    with the sum exact in int32 and ``scale = s_input / s_output``.
    """

    name = "graph.global_avgpool"

    input = operand_def(TensorType)
    result = result_def(TensorType)
    scale_prop = prop_def(ScaleProp, prop_name="scale")
    traits = traits_def(Pure())

    POSITIONAL: ClassVar = ("input",)
    FIELDS: ClassVar = (Field("scale", "scale"),)

    scale = field_property("scale", "s_input / s_output as a float.")

    def __init__(self, input: SSAValue, *, scale: float = 1.0):
        self._init({"input": input}, {"scale": to_attr("scale", scale)})

    @classmethod
    def infer_type(cls, operands: dict[str, Any], props) -> TensorType:
        n, v = cls.name, cls.values_of(props)
        x = tensor_of(n, "input", operands["input"])
        expect_rank(n, "input", x, 4)
        expect_element(n, "input", x, [i8])
        check_scale(n, "scale", v["scale"])
        batch, _, _, c = x.get_shape()
        return TensorType(i8, [batch, 1, 1, c])
