"""The fused epilogue of ``graph.conv2d`` and ``graph.matmul`` (and the activation of
``graph.add``): what happens to the int32 accumulators before they are stored.

In this order, on each accumulator value ``acc`` (int32, two's-complement wrap-around):

1. ``residual`` (optional int8 operand shaped like the accumulators, with
   ``residual_scale``): ``acc = acc + sat_i32(rne(f32(residual) * residual_scale))``.
   ``residual_scale`` converts the residual into accumulator units
   (``s_residual / (s_input * s_weight)``), as Gemmini does when it moves a scaled
   residual into the accumulator before the convolution accumulates on top.
2. ``output_scale`` (optional f32): ``y = sat_i8(rne(f32(acc) * output_scale))`` and the
   result is int8; without it ``y = acc`` and the result is int32.
3. activation (optional): ``activation relu`` is ``y = max(y, 0)``; ``clip [lo, hi]``
   (without ``activation``) is ``y = min(max(y, lo), hi)`` in the result's units (so a
   ReLU6 on an int8 result is ``clip [0, min(127, rne(6 / s_out))]``).
4. pooling (``graph.conv2d`` only; see ``graph.conv2d``).

Notation used in every graph docstring: ``f32(v)`` is the float32 nearest to ``v``
(ties to even); every ``*``, ``+`` and ``/`` on f32 values is one IEEE float32
operation (rounded to nearest even), evaluated left to right; ``rne`` rounds to the
nearest integer, ties to even (``numpy.rint``); ``sat_i8`` / ``sat_i32`` clamp to the
type's range. A numpy reference of step 2 is
``np.clip(np.rint(acc.astype(np.float32) * np.float32(s)), -128, 127).astype(np.int8)``.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import TensorType, i8, i32
from xdsl.ir import Attribute, SSAValue

from gemforge.dialects.graph_common import (
    I8_MAX,
    check_scale,
    fail,
    int_range,
    tensor_of,
)
from gemforge.dialects.graph_syntax import Field, GraphOp, field_property, to_attr

ACTIVATION_FIELDS = (Field("activation", "word"), Field("clip", "ints"))


class ActivationOp(GraphOp):
    """Read-back of the ``activation`` / ``clip`` fields (ops with ``ACTIVATION_FIELDS``)."""

    clip = field_property("clip", "(lo, hi) for activation 'clip', else None.")

    @property
    def activation(self) -> str:
        """'none', 'relu' or 'clip' (then ``clip`` holds the bounds)."""
        return "clip" if self.field("clip") is not None else self.field("activation") or "none"
EPILOGUE_FIELDS = (
    Field("output_scale", "scale"),
    Field("residual_scale", "scale"),
    *ACTIVATION_FIELDS,
)


def activation_props(
    op_name: str, activation: str | None, clip, output_scale: float | None
) -> dict[str, Attribute | None]:
    """Builder side: turn ``activation`` ("none", "relu", "relu6", "clip") and ``clip``
    into the ``activation`` / ``clip`` properties.

    In the IR, ``activation`` only ever holds ``relu`` and a clip is the ``clip``
    property alone. ``relu6`` needs ``output_scale`` (the int8 units) and becomes
    ``clip [0, min(127, rne(f32(6) / f32(output_scale)))]``. A ``clip`` given with
    ``activation`` "none" (or ``None``) means "clip".
    """
    act = activation or "none"
    if act == "relu6":
        if output_scale is None or clip is not None:
            raise fail(op_name, "activation relu6 needs output_scale and no explicit clip")
        six = np.rint(np.float32(6.0) / np.float32(output_scale))
        clip, act = (0, int(min(I8_MAX, six))), "clip"
    if act == "none" and clip is not None:
        act = "clip"
    if act not in ("none", "relu", "clip"):
        raise fail(op_name, f"unknown activation '{act}' (expected none, relu, relu6 or clip)")
    if act == "clip" and clip is None:
        raise fail(op_name, "activation clip needs clip=(lo, hi)")
    if act == "relu" and clip is not None:
        raise fail(op_name, "clip bounds given with activation relu")
    return {
        "activation": to_attr("word", "relu" if act == "relu" else None),
        "clip": to_attr("ints", clip),
    }


def epilogue_props(
    op_name: str,
    output_scale: float | None,
    residual_scale: float | None,
    activation: str | None,
    clip,
) -> dict[str, Attribute | None]:
    """Builder side: all epilogue properties as attributes (absent ones as ``None``)."""
    return {
        "output_scale": to_attr("scale", output_scale),
        "residual_scale": to_attr("scale", residual_scale),
        **activation_props(op_name, activation, clip, output_scale),
    }


def verify_activation(op_name: str, activation: str | None, clip, element_type: Attribute) -> None:
    """``activation`` is absent or ``relu``; ``clip`` excludes it and is ordered and
    inside the range of the result's element type."""
    if activation is not None and activation != "relu":
        raise fail(op_name, f"unknown activation '{activation}' (expected relu; a clip is the clip property)")
    if clip is None:
        return
    if activation is not None:
        raise fail(op_name, "activation relu and clip exclude each other")
    if len(clip) != 2 or clip[0] > clip[1]:
        raise fail(op_name, f"clip must be [lo, hi] with lo <= hi, got {list(clip)}")
    lo, hi = int_range(element_type)
    if clip[0] < lo or clip[1] > hi:
        raise fail(op_name, f"clip {list(clip)} is outside the {element_type} range [{lo}, {hi}]")


def verify_epilogue(
    op_name: str,
    acc_shape: tuple[int, ...],
    residual: SSAValue | None,
    output_scale: float | None,
    residual_scale: float | None,
    activation: str | None,
    clip,
) -> Attribute:
    """Check the epilogue of an op whose accumulators have shape ``acc_shape``;
    returns the result element type (i8 with ``output_scale``, else i32)."""
    check_scale(op_name, "output_scale", output_scale)
    check_scale(op_name, "residual_scale", residual_scale)
    if (residual is None) != (residual_scale is None):
        raise fail(op_name, "residual and residual_scale must be given together")
    if residual is not None:
        rtype = tensor_of(op_name, "residual", residual)
        expected = TensorType(i8, acc_shape)
        if rtype != expected:
            raise fail(op_name, f"residual must be {expected} (the accumulator shape), got {rtype}")
    element_type = i8 if output_scale is not None else i32
    verify_activation(op_name, activation, clip, element_type)
    return element_type
