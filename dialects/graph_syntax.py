"""The custom syntax shared by the graph ops (all but ``graph.constant``)::

    %r = graph.OP %a, %b [bias %c] [residual %d] [field value]... [{attr-dict}]
             : (type(%a), type(%b), ...) -> type(%r)

Positional operands come first, then optional operands introduced by their name, then
the op's properties as ``name value`` pairs (printed in a fixed order, parsed in any
order). Values print as ``[1, 2]`` (int lists), ``3`` (ints), ``1.250000e-01`` (f32
scales), a bare word (``relu``), or nothing for a flag. Operand types are listed in
the order the operands are printed. Properties that are absent are not printed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from xdsl.dialects.builtin import DenseArrayBase, FloatAttr, IntegerAttr, StringAttr, UnitAttr, f32, i64
from xdsl.ir import Attribute, SSAValue
from xdsl.irdl import IRDLOperation
from xdsl.parser import Parser
from xdsl.printer import Printer

from gemforge.dialects.graph_common import (
    check_result,
    fail,
    int_attr,
    ints_attr,
    read_float,
    read_int,
    read_ints,
    read_word,
)

KINDS = ("ints", "int", "scale", "word", "flag")


@dataclass(frozen=True)
class Field:
    """A property in the custom syntax: its name (in IR and in Python) and kind.

    kind: ``ints`` (i64 array), ``int`` (i64), ``scale`` (f32), ``word`` (string
    printed bare), ``flag`` (unit attribute, present or absent).
    """

    name: str
    kind: str

    def __post_init__(self):
        assert self.kind in KINDS, self.kind


def to_attr(kind: str, value) -> Attribute | None:
    """Python value -> property attribute (``None``/``False`` -> absent)."""
    if value is None:
        return None
    match kind:
        case "ints":
            return ints_attr(value)
        case "int":
            return int_attr(value)
        case "scale":
            return FloatAttr(float(value), f32)
        case "word":
            return StringAttr(str(value))
        case _:
            return UnitAttr() if value else None


def from_attr(kind: str, attr: Attribute | None):
    """Property attribute -> Python value (absent -> ``None``, or ``False`` for flags)."""
    match kind:
        case "ints":
            return read_ints(attr)
        case "int":
            return read_int(attr)
        case "scale":
            return read_float(attr)
        case "word":
            return read_word(attr)
        case _:
            return attr is not None


_ATTR_CHECKS = {
    "ints": lambda a: isinstance(a, DenseArrayBase) and a.elt_type == i64,
    "int": lambda a: isinstance(a, IntegerAttr) and a.type == i64,
    "scale": lambda a: isinstance(a, FloatAttr) and a.type == f32,
    "word": lambda a: isinstance(a, StringAttr),
    "flag": lambda a: isinstance(a, UnitAttr),
}
_ATTR_DESCRIPTIONS = {
    "ints": "an array<i64: ...>",
    "int": "an i64 integer",
    "scale": "an f32 float",
    "word": "a string",
    "flag": "a unit attribute",
}


class GraphOp(IRDLOperation):
    """Base of the graph ops with the shared syntax and Python conveniences.

    Subclasses list their positional operand names (``POSITIONAL``; with
    ``VARIADIC = True`` the single positional is variadic), their optional operands
    printed with a keyword (``KEYWORD_OPERANDS``) and their properties (``FIELDS``).
    """

    POSITIONAL: ClassVar[tuple[str, ...]] = ()
    VARIADIC: ClassVar[bool] = False
    KEYWORD_OPERANDS: ClassVar[tuple[str, ...]] = ()
    FIELDS: ClassVar[tuple[Field, ...]] = ()

    # --- verification: every op infers its result type and checks everything else -----

    @classmethod
    def infer_type(cls, operands: dict[str, Any], props: Mapping[str, Attribute | None]) -> Attribute:
        """The result type implied by the operands (name -> value, ``None`` for an absent
        optional operand, a list for a variadic one) and properties; raises
        :class:`GraphVerifyError` on anything the op does not allow. Builders use it to
        type their result, ``verify_`` to check the parsed one."""
        raise NotImplementedError

    @classmethod
    def values_of(cls, props: Mapping[str, Attribute | None]) -> dict[str, Any]:
        """Every field of ``props`` as a Python value, after checking its attribute type."""
        for f in cls.FIELDS:
            attr = props.get(f.name)
            if attr is not None and not _ATTR_CHECKS[f.kind](attr):
                raise fail(cls.name, f"property '{f.name}' must be {_ATTR_DESCRIPTIONS[f.kind]}, got {attr}")
        return {f.name: from_attr(f.kind, props.get(f.name)) for f in cls.FIELDS}

    def operand_map(self) -> dict[str, Any]:
        """Operand definition name -> value (``None`` if absent, a tuple if variadic)."""
        return {name: getattr(self, name) for name, _ in self.get_irdl_definition().operands}

    def verify_(self) -> None:
        check_result(self.name, self.result_types[0], self.infer_type(self.operand_map(), self.properties))

    def _init(self, operands: dict[str, Any], props: Mapping[str, Attribute | None]) -> None:
        """Builder helper: infer the result type and initialise the op."""
        props = {k: v for k, v in props.items() if v is not None}
        result_type = self.infer_type(operands, props)
        names = [name for name, _ in self.get_irdl_definition().operands]
        super().__init__(
            operands=[operands.get(n) for n in names], result_types=[result_type], properties=props
        )

    # --- Python conveniences --------------------------------------------------------

    def field(self, name: str):
        """The Python value of property ``name`` (see :class:`Field` for kinds)."""
        kind = next(f.kind for f in self.FIELDS if f.name == name)
        return from_attr(kind, self.properties.get(name))

    def options(self) -> dict[str, object]:
        """Keyword arguments that rebuild this op with its constructor: every
        property as a Python value plus the optional operands (or ``None``)."""
        opts: dict[str, object] = {f.name: self.field(f.name) for f in self.FIELDS}
        for name in self.KEYWORD_OPERANDS:
            opts[name] = getattr(self, name)
        return opts

    def positional_operands(self) -> tuple[SSAValue, ...]:
        """The operands printed before the keywords, in order."""
        values: list[SSAValue] = []
        for name in self.POSITIONAL:
            v = getattr(self, name)
            values.extend([v] if isinstance(v, SSAValue) else v)
        return tuple(values)

    def with_options(self, **changes) -> GraphOp:
        """A new, detached op of the same kind on the same positional operands with
        the same options except ``changes`` (result type inferred again)."""
        unknown = set(changes) - set(self.options())
        if unknown:
            raise TypeError(f"{self.name} has no option(s) {sorted(unknown)}")
        pos = self.positional_operands()
        args = (list(pos),) if self.VARIADIC else pos
        return type(self)(*args, **{**self.options(), **changes})

    # --- printing ---------------------------------------------------------------------

    def print(self, printer: Printer) -> None:
        printed: list[SSAValue] = list(self.positional_operands())
        if printed:
            printer.print_string(" ")
            printer.print_list(printed, printer.print_operand)
        for name in self.KEYWORD_OPERANDS:
            value = getattr(self, name)
            if value is not None:
                printer.print_string(f" {name} ")
                printer.print_operand(value)
                printed.append(value)
        for f in self.FIELDS:
            attr = self.properties.get(f.name)
            if attr is not None:
                printer.print_string(f" {f.name}")
                _print_value(printer, f.kind, attr)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_function_type([v.type for v in printed], self.result_types)

    # --- parsing ----------------------------------------------------------------------

    @classmethod
    def parse(cls, parser: Parser) -> GraphOp:
        start = parser.pos
        positional = (
            parser.parse_optional_undelimited_comma_separated_list(
                parser.parse_optional_unresolved_operand, parser.parse_unresolved_operand
            )
            or []
        )
        if not cls.VARIADIC and len(positional) != len(cls.POSITIONAL):
            parser.raise_error(
                f"{cls.name} expects {len(cls.POSITIONAL)} operand(s) "
                f"({', '.join(cls.POSITIONAL)}), got {len(positional)}",
                start,
                parser.pos,
            )
        keyword_operands, props = cls._parse_keywords(parser)
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        type_pos = parser.pos
        ftype = parser.parse_function_type()
        inputs, outputs = ftype.inputs.data, ftype.outputs.data
        unresolved = positional + list(keyword_operands.values())
        if len(inputs) != len(unresolved) or len(outputs) != 1:
            parser.raise_error(
                f"{cls.name} needs {len(unresolved)} operand type(s) and 1 result type, "
                f"got {len(inputs)} and {len(outputs)}",
                type_pos,
                parser.pos,
            )
        values = [parser.resolve_operand(u, t) for u, t in zip(unresolved, inputs)]
        by_name: dict[str, object] = dict(zip(keyword_operands, values[len(positional) :]))
        if cls.VARIADIC:
            by_name[cls.POSITIONAL[0]] = values[: len(positional)]
        else:
            by_name.update(zip(cls.POSITIONAL, values))
        operand_defs = cls.get_irdl_definition().operands
        return cls.build(
            operands=[by_name.get(name) for name, _ in operand_defs],
            result_types=[outputs[0]],
            properties=props,
            attributes=attrs,
        )

    @classmethod
    def _parse_keywords(cls, parser: Parser) -> tuple[dict, dict[str, Attribute]]:
        """Parse ``keyword %operand`` and ``field value`` pairs in any order."""
        fields = {f.name: f for f in cls.FIELDS}
        operands: dict[str, object] = {}
        props: dict[str, Attribute] = {}
        while True:
            start = parser.pos
            word = parser.parse_optional_identifier()
            if word is None:
                return {n: operands[n] for n in cls.KEYWORD_OPERANDS if n in operands}, props
            if word in operands or word in props:
                parser.raise_error(f"{cls.name}: '{word}' given twice", start, parser.pos)
            if word in cls.KEYWORD_OPERANDS:
                operands[word] = parser.parse_unresolved_operand()
            elif word in fields:
                props[word] = _parse_value(parser, fields[word].kind, f" for '{word}' of {cls.name}")
            else:
                known = ", ".join([*cls.KEYWORD_OPERANDS, *fields]) or "none"
                parser.raise_error(
                    f"{cls.name}: unknown keyword '{word}' (known: {known})", start, parser.pos
                )


def _print_value(printer: Printer, kind: str, attr: Attribute) -> None:
    match kind:
        case "ints":
            printer.print_string(" [")
            printer.print_list(read_ints(attr) or (), lambda v: printer.print_string(str(v)))
            printer.print_string("]")
        case "int":
            printer.print_string(f" {read_int(attr)}")
        case "scale":
            assert isinstance(attr, FloatAttr)
            printer.print_string(" ")
            printer.print_float(attr.value.data, f32)
        case "word":
            printer.print_string(f" {read_word(attr)}")
        case _:
            pass


def _parse_value(parser: Parser, kind: str, where: str) -> Attribute:
    """Parse one field value; ``where`` (" for 'stride' of graph.conv2d") ends errors."""

    def integer() -> int:
        return parser.parse_integer(allow_boolean=False, context_msg=where)

    match kind:
        case "ints":
            return ints_attr(parser.parse_comma_separated_list(parser.Delimiter.SQUARE, integer, where))
        case "int":
            return IntegerAttr(integer(), 64)
        case "scale":
            return FloatAttr(float(parser.parse_number(context_msg=where)), f32)
        case "word":
            return StringAttr(parser.parse_identifier(where))
        case _:
            return UnitAttr()


def field_property(name: str, doc: str = "") -> property:
    """A read-only Python property returning field ``name`` as a Python value."""
    return property(lambda self: self.field(name), doc=doc or f"The {name} property as a Python value.")
