"""Shared pieces of the graph dialect: its error type, element types, shape arithmetic
and converters between Python values and the attributes the ops store.

Everything here is dialect-internal plumbing; the public entry point is
:mod:`gemforge.dialects.graph`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from xdsl.dialects.builtin import (
    DenseArrayBase,
    FloatAttr,
    IntegerAttr,
    StringAttr,
    TensorType,
    f32,
    i8,
    i32,
    i64,
)
from xdsl.ir import Attribute, SSAValue
from xdsl.utils.exceptions import VerifyException

from gemforge.errors import GemforgeError

I8_MIN, I8_MAX = -128, 127
I32_MIN, I32_MAX = -(2**31), 2**31 - 1
# Element types the dialect knows; i8 and i32 are signless in the IR and read as
# two's-complement signed integers.
ELEMENT_TYPES: tuple[Attribute, ...] = (i8, i32, f32)

# Property constraints: int lists are i64 arrays, ints i64, scales f32. IRDL only checks
# the attribute kind; GraphOp.values_of checks the element type with a clearer message.
IntsProp = DenseArrayBase
IntProp = IntegerAttr
ScaleProp = FloatAttr


class GraphVerifyError(VerifyException, GemforgeError):
    """A graph op (or the arguments of its builder) breaks the op's rules.

    It is both an xDSL ``VerifyException`` (so ``gemforge-opt --verify-diagnostics``
    reports it) and a ``GemforgeError`` (so frontends may catch gemforge's family).
    Messages are one line and start with the op name.
    """


def fail(op_name: str, message: str) -> GraphVerifyError:
    """The exception to raise for ``op_name`` with a one-line ``message``."""
    return GraphVerifyError(f"{op_name}: {message}")


def tensor_of(op_name: str, what: str, value: SSAValue | Attribute) -> TensorType:
    """The static-shaped tensor type of an operand or a type, or a clear error."""
    typ = value.type if isinstance(value, SSAValue) else value
    if not isinstance(typ, TensorType) or any(d < 0 for d in typ.get_shape()):
        raise fail(op_name, f"{what} must be a statically shaped tensor, got {typ}")
    return typ


def expect_element(op_name: str, what: str, typ: TensorType, allowed: Sequence[Attribute]) -> None:
    """Fail unless the element type of ``typ`` is one of ``allowed``."""
    if typ.element_type not in allowed:
        names = " or ".join(str(a) for a in allowed)
        raise fail(op_name, f"{what} must have element type {names}, got {typ}")


def expect_rank(op_name: str, what: str, typ: TensorType, rank: int) -> None:
    if typ.get_num_dims() != rank:
        raise fail(op_name, f"{what} must have rank {rank}, got {typ}")


def int_range(element_type: Attribute) -> tuple[int, int]:
    """The closed value range of an integer element type (i8 or i32)."""
    if element_type == i8:
        return I8_MIN, I8_MAX
    if element_type == i32:
        return I32_MIN, I32_MAX
    raise ValueError(f"no integer range for {element_type}")


def check_result(op_name: str, actual: Attribute, expected: TensorType) -> None:
    """The shared last verifier step: the result type is the inferred one."""
    if actual != expected:
        raise fail(op_name, f"result type {actual} does not match the expected {expected}")


def window_out(size: int, kernel: int, stride: int, pad_lo: int, pad_hi: int, dilation: int = 1) -> int:
    """Output length of a sliding window: floor((size + pads - dilated kernel) / stride) + 1."""
    span = dilation * (kernel - 1) + 1
    return (size + pad_lo + pad_hi - span) // stride + 1


# --- attribute builders (Python value -> attribute) ---------------------------------


def ints_attr(values: Sequence[int]) -> DenseArrayBase:
    return DenseArrayBase.from_list(i64, [int(v) for v in values])


def int_attr(value: int) -> IntegerAttr:
    return IntegerAttr(int(value), i64)


# --- attribute readers (attribute -> Python value) -----------------------------------


def read_ints(attr: Attribute | None) -> tuple[int, ...] | None:
    if attr is None:
        return None
    assert isinstance(attr, DenseArrayBase)
    return tuple(int(v) for v in attr.get_values())


def read_int(attr: Attribute | None) -> int | None:
    if attr is None:
        return None
    assert isinstance(attr, IntegerAttr)
    return int(attr.value.data)


def read_float(attr: Attribute | None) -> float | None:
    if attr is None:
        return None
    assert isinstance(attr, FloatAttr)
    return float(attr.value.data)


def read_word(attr: Attribute | None) -> str | None:
    if attr is None:
        return None
    assert isinstance(attr, StringAttr)
    return attr.data


# --- checks on Python values read back from attributes --------------------------------


def check_len(op_name: str, name: str, values: Sequence[int] | None, length: int) -> None:
    if values is not None and len(values) != length:
        raise fail(op_name, f"{name} must have {length} values, got {list(values)}")


def check_positive(op_name: str, name: str, values: Sequence[int] | None) -> None:
    if values is not None and any(v < 1 for v in values):
        raise fail(op_name, f"{name} values must be positive, got {list(values)}")


def check_non_negative(op_name: str, name: str, values: Sequence[int] | None) -> None:
    if values is not None and any(v < 0 for v in values):
        raise fail(op_name, f"{name} values must be non-negative, got {list(values)}")


def check_scale(op_name: str, name: str, value: float | None) -> None:
    """Scales are finite, strictly positive f32 numbers."""
    if value is not None and not (math.isfinite(value) and value > 0.0):
        raise fail(op_name, f"{name} must be a finite positive number, got {value}")


def check_scale_set(
    op_name: str,
    values: dict,
    names: Sequence[str],
    element_type: Attribute,
    unscaled_type: Attribute,
    missing: str,
    unexpected: str,
) -> None:
    """An op with an int8 form (every scale in ``names`` given) and an ``unscaled_type``
    form (none given): ``missing`` / ``unexpected`` (+ the given names) say which broke."""
    given = [s for s in names if values[s] is not None]
    if element_type == i8 and len(given) != len(names):
        raise fail(op_name, missing)
    if element_type == unscaled_type and given:
        raise fail(op_name, f"{unexpected}, got {', '.join(given)}")
    for s in given:
        check_scale(op_name, s, values[s])


def normalize_axis(op_name: str, axis: int, rank: int) -> int:
    """Map a possibly negative axis (numpy style) into [0, rank); builders only."""
    if not -rank <= axis < rank:
        raise fail(op_name, f"axis {axis} is out of range for rank {rank}")
    return axis % rank


def pooled_hw(
    op_name: str,
    prefix: str,
    hw: tuple[int, int],
    kernel: Sequence[int] | None,
    stride: Sequence[int] | None,
    padding: Sequence[int] | None,
) -> tuple[int, int]:
    """Check a pooling window (kernel [kh, kw], stride [sh, sw], padding [top, left,
    bottom, right]) over an H x W plane and return the pooled (OH, OW).

    Every pad must be smaller than the kernel along its axis, so that every window
    holds at least one element of the input.
    """
    names = [f"{prefix}kernel", f"{prefix}stride", f"{prefix}padding"]
    if kernel is None or stride is None or padding is None:
        raise fail(op_name, f"{', '.join(names)} must be given together")
    check_len(op_name, names[0], kernel, 2)
    check_len(op_name, names[1], stride, 2)
    check_len(op_name, names[2], padding, 4)
    check_positive(op_name, names[0], kernel)
    check_positive(op_name, names[1], stride)
    check_non_negative(op_name, names[2], padding)
    top, left, bottom, right = padding
    if max(top, bottom) >= kernel[0] or max(left, right) >= kernel[1]:
        raise fail(op_name, f"{names[2]} {list(padding)} must be smaller than {names[0]} {list(kernel)}")
    oh = window_out(hw[0], kernel[0], stride[0], top, bottom)
    ow = window_out(hw[1], kernel[1], stride[1], left, right)
    if oh < 1 or ow < 1:
        raise fail(op_name, f"{names[0]} {list(kernel)} does not fit the padded {hw[0]}x{hw[1]} input")
    return oh, ow
