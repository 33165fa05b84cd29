"""Typed instruction fields of the gemmini dialect.

Every Gemmini instruction carries its operands bit-packed in two 64-bit registers
(rs1, rs2). In the IR each packed field is one typed *property* instead: an
``i64`` integer, an ``i1`` flag, an f32 scale or an enum attribute. One
:class:`Field` describes one ISA field: its name (the property name and the
Python read-back attribute), its kind, its ISA width in bits (the verifier's range
limit) and its default. The encoder (``backends/gemmini``) packs them; nothing
here knows bit positions.

Ops (``gemmini_base.GemminiOp``) list their fields; each becomes an IRDL property
(``<name>_attr``) plus a Python property (``<name>``) returning the plain value.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import auto
from typing import Any, Literal

from xdsl.dialects.builtin import (
    I64,
    BoolAttr,
    Float32Type,
    FloatAttr,
    IntegerAttr,
    f32,
    i64,
)
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import Attribute, SpacedOpaqueSyntaxAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.mlir_lexer import MLIRTokenKind
from xdsl.utils.str_enum import StrEnum


class Dataflow(StrEnum):
    """Systolic-array dataflow (config_ex rs1 bit 2: 0 = OS, 1 = WS)."""

    OS = auto()
    WS = auto()


class Activation(StrEnum):
    """Activation applied by the execute (config_ex), store (config_st) or loop units.

    Gemmini also defines LAYERNORM, IGELU and SOFTMAX (norm unit, config_norm);
    gemforge does not target the norm unit, so they are not representable.
    """

    NONE = auto()
    RELU = auto()


class Space(StrEnum):
    """Which local memory a local address names; ``garbage`` is the all-ones address."""

    SPAD = auto()
    ACC = auto()
    GARBAGE = auto()


#: ISA encodings of the enums, for the encoder and the simulator.
DATAFLOW_BITS: Mapping[Dataflow, int] = {Dataflow.OS: 0, Dataflow.WS: 1}
ACTIVATION_BITS: Mapping[Activation, int] = {Activation.NONE: 0, Activation.RELU: 1}


@irdl_attr_definition
class DataflowAttr(EnumAttribute[Dataflow], SpacedOpaqueSyntaxAttribute):
    """``#gemmini<dataflow ws>``"""

    name = "gemmini.dataflow"


@irdl_attr_definition
class ActivationAttr(EnumAttribute[Activation], SpacedOpaqueSyntaxAttribute):
    """``#gemmini<activation relu>``"""

    name = "gemmini.activation"


@irdl_attr_definition
class SpaceAttr(EnumAttribute[Space], SpacedOpaqueSyntaxAttribute):
    """``#gemmini<space acc>``"""

    name = "gemmini.space"


ENUM_ATTRS: Mapping[type[StrEnum], type[EnumAttribute[Any]]] = {
    Dataflow: DataflowAttr,
    Activation: ActivationAttr,
    Space: SpaceAttr,
}


def _fits_f32(value: float) -> bool:
    """False if a finite value rounds to infinity as an f32."""
    try:
        struct.pack("<f", value)
    except OverflowError:
        return False
    return True


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: Default of a field that has none: builders and the parser demand a value.
REQUIRED: Any = _Required()

FieldKind = Literal["uint", "flag", "enum", "f32"]


@dataclass(frozen=True)
class Field:
    """One typed field of a Gemmini instruction (one property of its op)."""

    name: str
    kind: FieldKind
    bits: int = 0
    """ISA width: a ``uint`` must lie in ``[minimum, 2**bits - 1]``."""
    minimum: int = 0
    default: Any = REQUIRED
    enum: type[StrEnum] | None = None
    doc: str = ""
    upper: int | None = None
    """A tighter maximum than the width allows (e.g. only 3 move-in ids exist)."""

    @property
    def maximum(self) -> int:
        if self.upper is not None:
            return self.upper
        # Properties are i64: a 64-bit field is capped at 2**63 - 1.
        return (1 << min(self.bits, 63)) - 1

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def constraint(self) -> Any:
        match self.kind:
            case "uint":
                return IntegerAttr[I64]
            case "flag":
                return BoolAttr
            case "f32":
                return FloatAttr[Float32Type]
            case "enum":
                assert self.enum is not None
                return ENUM_ATTRS[self.enum]

    def to_attr(self, value: Any) -> Attribute:
        """The property holding ``value`` (no range check: that is the verifier's)."""
        match self.kind:
            case "uint":
                if isinstance(value, bool) or not isinstance(value, int):
                    raise TypeError(f"field '{self.name}' wants an int, got {value!r}")
                if not -(1 << 63) <= value < (1 << 63):
                    # IntegerAttr would wrap it silently; the verifier could not see it.
                    raise ValueError(f"field '{self.name}' = {value} does not fit an i64")
                return IntegerAttr(value, i64)
            case "flag":
                return BoolAttr.from_bool(bool(value))
            case "f32":
                try:
                    return FloatAttr(float(value), f32)
                except OverflowError:
                    raise ValueError(f"field '{self.name}' = {value} does not fit an f32") from None
            case "enum":
                assert self.enum is not None
                try:
                    return ENUM_ATTRS[self.enum](self.enum(value))
                except ValueError:
                    choices = ", ".join(e.value for e in self.enum)
                    raise ValueError(
                        f"field '{self.name}' wants one of {choices}, got {value!r}"
                    ) from None

    def from_attr(self, attr: Attribute) -> Any:
        """The plain Python value of a property (int, bool, float or enum member)."""
        match self.kind:
            case "uint":
                assert isinstance(attr, IntegerAttr)
                return attr.value.data
            case "flag":
                assert isinstance(attr, IntegerAttr)
                return bool(attr.value.data)
            case "f32":
                assert isinstance(attr, FloatAttr)
                return attr.value.data
            case "enum":
                assert isinstance(attr, EnumAttribute)
                return attr.data

    def problem(self, value: Any) -> str | None:
        """Why ``value`` does not fit this ISA field, or None."""
        if self.kind == "uint" and not self.minimum <= value <= self.maximum:
            return (
                f"{self.name} = {value} is outside [{self.minimum}, {self.maximum}] "
                f"({self.bits}-bit field)"
            )
        if self.kind == "f32" and not math.isfinite(value):
            return f"{self.name} must be a finite f32, got {value}"
        return None

    def is_default(self, value: Any) -> bool:
        if self.required:
            return False
        if self.kind == "f32":  # by bits, so -0.0 is not elided as 0.0
            return struct.pack("<f", value) == struct.pack("<f", self.default)
        return value == self.default

    def print_value(self, printer: Printer, value: Any) -> None:
        match self.kind:
            case "uint":
                printer.print_int(value)
            case "f32":
                printer.print_float(value, f32)
            case "enum":
                printer.print_string(value.value)
            case "flag":
                pass

    def parse_value(self, parser: Parser) -> Any:
        match self.kind:
            case "uint":
                pos = parser.pos
                value = parser.parse_integer(allow_boolean=False)
                if not -(1 << 63) <= value < (1 << 63):
                    msg = f"{self.name} = {value} does not fit an i64"
                    parser.raise_error(msg, pos, parser.pos)
                return value
            case "f32":
                pos = parser.pos
                if parser._current_token.text[:2] in ("0x", "0X"):
                    # xDSL prints an f32 whose 9 significant digits have no '.' as its bits, MLIR-style
                    bits = parser.parse_integer(allow_boolean=False, allow_negative=False)
                    if bits >= 1 << 32:
                        parser.raise_error(f"{self.name} = {bits:#x} is not the bits of an f32", pos, parser.pos)
                    return struct.unpack("<f", struct.pack("<I", bits))[0]
                value = float(parser.parse_number())
                if not _fits_f32(value):
                    msg = f"{self.name} = {value} does not fit an f32"
                    parser.raise_error(msg, pos, parser.pos)
                return value
            case "enum":
                assert self.enum is not None
                return parser.parse_str_enum(self.enum)
            case "flag":
                return True


def uint(
    name: str,
    bits: int,
    *,
    minimum: int = 0,
    upper: int | None = None,
    default: Any = REQUIRED,
    doc: str = "",
) -> Field:
    """An unsigned ISA field of ``bits`` bits (stored as an ``i64`` property)."""
    return Field(name, "uint", bits=bits, minimum=minimum, default=default, doc=doc, upper=upper)


def flag(name: str, doc: str = "") -> Field:
    """A one-bit ISA flag (an ``i1`` property, false by default)."""
    return Field(name, "flag", bits=1, default=False, doc=doc)


def enum(name: str, enum_type: type[StrEnum], *, default: Any = REQUIRED, doc: str = "") -> Field:
    """An ISA field that takes one of the values of ``enum_type``."""
    return Field(name, "enum", enum=enum_type, default=default, doc=doc)


def f32_field(name: str, *, default: Any = REQUIRED, doc: str = "") -> Field:
    """A 32-bit floating-point scale (an f32 property)."""
    return Field(name, "f32", bits=32, default=default, doc=doc)


def print_keyword_fields(
    printer: Printer, fields: Iterable[Field], values: Mapping[str, Any]
) -> None:
    """Print `` name value`` per field (flags as `` name`` when set); defaults are elided."""
    for f in fields:
        value = values[f.name]
        if f.kind == "flag":
            if value:
                printer.print_string(f" {f.name}")
        elif not f.is_default(value):
            printer.print_string(f" {f.name} ")
            f.print_value(printer, value)


def parse_keyword_fields(parser: Parser, fields: Iterable[Field]) -> dict[str, Any]:
    """Parse keyword fields in any order; fill defaults; reject repeats and missing fields."""
    by_name = {f.name: f for f in fields}
    values: dict[str, Any] = {}
    start = parser.pos
    while True:
        pos = parser.pos
        name = parser.parse_optional_keyword_in(by_name)
        if name is None:
            break
        if name in values:
            parser.raise_error(f"field '{name}' given twice", pos, parser.pos)
        values[name] = by_name[name].parse_value(parser)
    _reject_unknown_field(parser, by_name)
    for f in by_name.values():
        if f.name not in values:
            if f.required:
                parser.raise_error(f"expected field '{f.name}'", start, parser.pos)
            values[f.name] = f.default
    return values


def _reject_unknown_field(parser: Parser, known: Mapping[str, Field]) -> None:
    """Report a misspelt field here rather than as an unregistered op on the next parse.

    A bare word without a dot cannot start an operation, so it must be a field.
    (Peeks at the parser's current token: the public API offers no peek.)
    """
    token = parser._current_token  # pyright: ignore[reportPrivateUsage]
    word = token.text
    if token.kind == MLIRTokenKind.BARE_IDENT and "." not in word and word != "attributes":
        expected = ", ".join(known) or "none"
        parser.raise_error(f"unknown field '{word}' (fields: {expected})", token.span)


__all__ = [
    "ACTIVATION_BITS",
    "DATAFLOW_BITS",
    "REQUIRED",
    "Activation",
    "ActivationAttr",
    "Dataflow",
    "DataflowAttr",
    "Field",
    "Space",
    "SpaceAttr",
    "enum",
    "f32_field",
    "flag",
    "parse_keyword_fields",
    "print_keyword_fields",
    "uint",
]
