"""``graph.constant``: a tensor literal (weights, biases, lookup data).

The data is a builtin ``DenseIntOrFPElementsAttr``: raw little-endian bytes, so a
ResNet-50's 25M weights cost 25 MB. Its custom syntax is MLIR's::

    %w = graph.constant dense<"0x0102..."> : tensor<3x3x64x64xi8>

Tensors of more than 100 elements print as one hex string (written straight from
the bytes, without unpacking them into Python numbers), and so do f32 tensors holding
NaN, infinities or -0.0; smaller ones and splats print as literals. Parsing a hex string is
a single ``bytes.fromhex``. (The generic form goes through xDSL's own printer, which
writes the 100+ element hex string too but loses NaN/inf in small literals.)
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from xdsl.dialects.builtin import BytesAttr, DenseIntOrFPElementsAttr, TensorType, f32, i8, i32
from xdsl.ir import Attribute
from xdsl.irdl import IRDLOperation, irdl_op_definition, prop_def, result_def, traits_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import ConstantLike, Pure

from gemforge.dialects.graph_common import check_result, fail, tensor_of

# Element type -> numpy dtype of the stored bytes (little-endian, as xDSL stores them).
NUMPY_DTYPES: dict[Attribute, np.dtype] = {
    i8: np.dtype("<i1"),
    i32: np.dtype("<i4"),
    f32: np.dtype("<f4"),
}
HEX_THRESHOLD = 100  # xDSL's own rule: more elements than this print as hex


@irdl_op_definition
class ConstantOp(IRDLOperation):
    """A constant tensor of i8, i32 or f32 whose value is ``value`` (a dense elements
    attribute with exactly the result's type). Quantization scales of constant data
    live on the ops that consume it, not here."""

    name = "graph.constant"

    value = prop_def(DenseIntOrFPElementsAttr)
    result = result_def(TensorType)
    traits = traits_def(Pure(), ConstantLike())

    NUMPY_DTYPES: ClassVar = NUMPY_DTYPES

    def __init__(self, value: DenseIntOrFPElementsAttr):
        super().__init__(properties={"value": value}, result_types=[value.get_type()])

    @classmethod
    def from_numpy(cls, array: np.ndarray) -> ConstantOp:
        """A constant holding ``array`` (dtype int8, int32 or float32), bit for bit."""
        array = np.asarray(array)
        element_type = next((t for t, d in NUMPY_DTYPES.items() if d == array.dtype.newbyteorder("<")), None)
        if element_type is None:
            raise fail(cls.name, f"unsupported numpy dtype {array.dtype} (expected int8, int32 or float32)")
        data = np.ascontiguousarray(array, dtype=NUMPY_DTYPES[element_type]).tobytes()
        return cls(DenseIntOrFPElementsAttr(TensorType(element_type, array.shape), BytesAttr(data)))

    def to_numpy(self) -> np.ndarray:
        """The data as a read-only numpy array viewing the stored bytes (``.copy()`` to
        modify it)."""
        dtype = NUMPY_DTYPES[self.value.get_element_type()]
        return np.frombuffer(self.value.data.data, dtype=dtype).reshape(self.value.get_shape())

    def verify_(self) -> None:
        vtype = tensor_of(self.name, "value", self.value.get_type())
        if vtype.element_type not in NUMPY_DTYPES:
            raise fail(self.name, f"element type must be i8, i32 or f32, got {vtype}")
        expected_bytes = vtype.element_count() * NUMPY_DTYPES[vtype.element_type].itemsize
        if len(self.value.data.data) != expected_bytes:
            raise fail(self.name, f"value holds {len(self.value.data.data)} bytes, {vtype} needs {expected_bytes}")
        check_result(self.name, self.result.type, vtype)

    def print(self, printer: Printer) -> None:
        printer.print_op_attributes(self.attributes)
        printer.print_string(" ")
        value = self.value
        dtype = NUMPY_DTYPES.get(value.get_element_type())
        if dtype is None:  # only reachable for an op that does not verify
            printer.print_attribute(value)
            return
        data = value.data.data
        array = np.frombuffer(data, dtype=dtype)
        finite = dtype.kind != "f" or bool(np.isfinite(array).all())
        # xDSL prints non-finite floats in literals as integers that parse back as
        # numbers, not bit patterns, and folds [0.0, -0.0] into a splat (0.0 == -0.0),
        # so those always take the hex form, as do floats xDSL would print as 0x...
        # bit patterns (e.g. 1000001.0), which its parser reads back as integer values.
        splat = len(array) > 0 and data == data[: dtype.itemsize] * len(array)
        exact_literal = finite and _literal_exact(array[:1] if splat else array)
        if not exact_literal or len(array) > HEX_THRESHOLD:
            if exact_literal and splat:
                printer.print_string("dense<")  # a splat prints as one literal
                self._print_scalar(printer, array[0])
                printer.print_string(">")
            else:
                printer.print_string(f'dense<"0x{data.hex().upper()}">')
            printer.print_string(" : ")
            printer.print_attribute(value.get_type())
        else:
            printer.print_attribute(value)

    @staticmethod
    def _print_scalar(printer: Printer, scalar: np.generic) -> None:
        if scalar.dtype.kind == "f":
            printer.print_float(float(scalar), f32)
        else:
            printer.print_string(str(int(scalar)))

    @classmethod
    def parse(cls, parser: Parser) -> ConstantOp:
        attrs = parser.parse_optional_attr_dict()
        pos = parser.pos
        value = parser.parse_attribute()
        if not isinstance(value, DenseIntOrFPElementsAttr):
            parser.raise_error(f"{cls.name} expects a dense<...> : tensor<...> literal", pos, parser.pos)
        op = cls(value)
        op.attributes.update(attrs)
        return op


def _literal_exact(array: np.ndarray) -> bool:
    """Whether xDSL's literal syntax reads ``array`` (finite values) back bit for bit."""
    if array.dtype.kind != "f" or not len(array):
        return True
    if np.signbit(array[array == 0]).any():
        return False
    values = array.tolist()
    short = np.array([float(f"{x:.5e}") for x in values], array.dtype)
    # xDSL's print_float: 6 significant digits when they read back, else 9 ("%.9g"),
    # else (no decimal point in that) a 0x bit pattern, which is the case to avoid.
    return all(a == b or "." in f"{x:.9g}" for a, b, x in zip(short.tolist(), array.tolist(), values))
