"""Data-movement ops that never change values: ``graph.reshape``, ``graph.transpose``,
``graph.concat``, ``graph.pad``. They accept i8, i32 and f32 tensors; int8 data keeps
its scale (``graph.concat`` operands must share one, which the frontend ensures by
inserting ``graph.requantize``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

from xdsl.dialects.builtin import TensorType, f32
from xdsl.ir import SSAValue
from xdsl.irdl import irdl_op_definition, operand_def, prop_def, result_def, traits_def, var_operand_def
from xdsl.traits import Pure

from gemforge.dialects.graph_common import (
    IntProp,
    IntsProp,
    ELEMENT_TYPES,
    check_non_negative,
    expect_element,
    fail,
    int_range,
    normalize_axis,
    tensor_of,
)
from gemforge.dialects.graph_syntax import Field, GraphOp, field_property, to_attr

F32_EXACT_INT = 2**24  # integers up to this magnitude are exact in f32


@irdl_op_definition
class ReshapeOp(GraphOp):
    """Reinterpret the row-major (C order) element sequence of ``input`` with the
    result's shape: ``y = x.reshape(result_shape)``. Same element type and count."""

    name = "graph.reshape"

    input = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    POSITIONAL: ClassVar = ("input",)

    def __init__(self, input: SSAValue, shape: Sequence[int]):
        """``shape`` may hold one -1, inferred from the element count (as in numpy)."""
        x = tensor_of(self.name, "input", input)
        shape = [int(d) for d in shape]
        if shape.count(-1) > 1 or any(d < -1 for d in shape):
            raise fail(self.name, f"shape {shape} may hold at most one -1 and no other negative")
        if -1 in shape:
            known = math.prod(d for d in shape if d != -1)
            if known == 0 or x.element_count() % known:
                raise fail(self.name, f"cannot infer -1 in {shape} for {x}")
            shape[shape.index(-1)] = x.element_count() // known
        super().__init__(operands=[input], result_types=[TensorType(x.element_type, shape)])

    def options(self) -> dict[str, object]:
        """The result shape is the one option (it lives in the result type)."""
        return {"shape": tuple(self.result.type.get_shape())}

    @classmethod
    def infer_type(cls, operands: dict[str, Any], props) -> TensorType:
        x = tensor_of(cls.name, "input", operands["input"])
        expect_element(cls.name, "input", x, ELEMENT_TYPES)
        return x

    def verify_(self) -> None:
        x = self.infer_type(self.operand_map(), self.properties)
        y = tensor_of(self.name, "result", self.result.type)
        if y.element_type != x.element_type or y.element_count() != x.element_count():
            raise fail(self.name, f"cannot reshape {x} to {y}: element type and count must match")


@irdl_op_definition
class TransposeOp(GraphOp):
    """Permute dimensions: ``y = numpy.transpose(x, perm)``, so result dim ``i`` is input
    dim ``perm[i]``; ``perm`` is a permutation of 0..rank-1."""

    name = "graph.transpose"

    input = operand_def(TensorType)
    result = result_def(TensorType)
    perm_prop = prop_def(IntsProp, prop_name="perm")
    traits = traits_def(Pure())

    POSITIONAL: ClassVar = ("input",)
    FIELDS: ClassVar = (Field("perm", "ints"),)

    perm = field_property("perm", "The permutation as a tuple.")

    def __init__(self, input: SSAValue, perm: Sequence[int]):
        self._init({"input": input}, {"perm": to_attr("ints", perm)})

    @classmethod
    def infer_type(cls, operands: dict[str, Any], props) -> TensorType:
        x = tensor_of(cls.name, "input", operands["input"])
        expect_element(cls.name, "input", x, ELEMENT_TYPES)
        perm = cls.values_of(props)["perm"]
        if sorted(perm) != list(range(x.get_num_dims())):
            raise fail(cls.name, f"perm {list(perm)} is not a permutation of 0..{x.get_num_dims() - 1}")
        shape = x.get_shape()
        return TensorType(x.element_type, [shape[p] for p in perm])


@irdl_op_definition
class ConcatOp(GraphOp):
    """Join one or more tensors along ``axis`` (0 <= axis < rank):
    ``y = numpy.concatenate(inputs, axis)``. Operands share element type, rank, and
    every dim but ``axis``; int8 operands must share one scale."""

    name = "graph.concat"

    inputs = var_operand_def(TensorType)
    result = result_def(TensorType)
    axis_prop = prop_def(IntProp, prop_name="axis")
    traits = traits_def(Pure())

    POSITIONAL: ClassVar = ("inputs",)
    VARIADIC: ClassVar = True
    FIELDS: ClassVar = (Field("axis", "int"),)

    axis = field_property("axis", "The joined axis (non-negative).")

    def __init__(self, inputs: Sequence[SSAValue], axis: int):
        """``axis`` may be negative (counted from the end)."""
        if not inputs:
            raise fail(self.name, "needs at least one input")
        rank = tensor_of(self.name, "input 0", inputs[0]).get_num_dims()
        axis = normalize_axis(self.name, axis, rank)
        self._init({"inputs": list(inputs)}, {"axis": to_attr("int", axis)})

    @classmethod
    def infer_type(cls, operands: dict[str, Any], props) -> TensorType:
        n, axis = cls.name, cls.values_of(props)["axis"]
        types = [tensor_of(n, f"input {i}", v) for i, v in enumerate(operands["inputs"])]
        if not types:
            raise fail(n, "needs at least one input")
        first = types[0]
        expect_element(n, "input 0", first, ELEMENT_TYPES)
        if not 0 <= axis < first.get_num_dims():
            raise fail(n, f"axis {axis} is out of range for rank {first.get_num_dims()}")
        shape = list(first.get_shape())
        for i, t in enumerate(types[1:], 1):
            other = list(t.get_shape())
            same = len(other) == len(shape) and all(
                a == b for d, (a, b) in enumerate(zip(shape, other)) if d != axis
            )
            if t.element_type != first.element_type or not same:
                raise fail(n, f"input {i} {t} does not match input 0 {first} outside axis {axis}")
            shape[axis] += other[axis]
        return TensorType(first.element_type, shape)


@irdl_op_definition
class PadOp(GraphOp):
    """Constant padding: ``pads`` holds 2 * rank non-negative values, all the leading
    pads then all the trailing ones (ONNX order ``[b_0, ..., b_r-1, e_0, ..., e_r-1]``);
    ``y = numpy.pad(x, [(b_i, e_i)], constant_values=value)``. ``value`` is an integer
    that the element type holds exactly (in its range; |value| <= 2**24 for f32)."""

    name = "graph.pad"

    input = operand_def(TensorType)
    result = result_def(TensorType)
    pads_prop = prop_def(IntsProp, prop_name="pads")
    value_prop = prop_def(IntProp, prop_name="value")
    traits = traits_def(Pure())

    POSITIONAL: ClassVar = ("input",)
    FIELDS: ClassVar = (Field("pads", "ints"), Field("value", "int"))

    pads = field_property("pads", "(begin_0, ..., begin_r-1, end_0, ..., end_r-1)")
    value = field_property("value", "The padding value (int).")

    def __init__(self, input: SSAValue, pads: Sequence[int], value: int = 0):
        self._init({"input": input}, {"pads": to_attr("ints", pads), "value": to_attr("int", value)})

    @classmethod
    def infer_type(cls, operands: dict[str, Any], props) -> TensorType:
        n, v = cls.name, cls.values_of(props)
        x = tensor_of(n, "input", operands["input"])
        expect_element(n, "input", x, ELEMENT_TYPES)
        rank, pads = x.get_num_dims(), v["pads"]
        if len(pads) != 2 * rank:
            raise fail(n, f"pads must have {2 * rank} values (2 x rank), got {list(pads)}")
        check_non_negative(n, "pads", pads)
        lo, hi = (-F32_EXACT_INT, F32_EXACT_INT) if x.element_type == f32 else int_range(x.element_type)
        if not lo <= v["value"] <= hi:
            raise fail(n, f"value {v['value']} is not exact in {x.element_type} (range [{lo}, {hi}])")
        shape = [d + pads[i] + pads[i + rank] for i, d in enumerate(x.get_shape())]
        return TensorType(x.element_type, shape)


__all__ = ["ReshapeOp", "TransposeOp", "ConcatOp", "PadOp"]
