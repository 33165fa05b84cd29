"""``GemminiOp``: the base of every gemmini op.

An op declares ``FIELDS`` (keyword fields, ``gemmini_fields.Field``), ``SLOTS``
(local addresses, ``gemmini_local.Slot``), its operands with ``operand_def`` /
``opt_operand_def``, ``ARGS`` (what its constructor takes positionally) and
``FUNCT`` (the RoCC funct it encodes to). From that the base class gives it:

- one IRDL property per field and a Python read-back property per field
  (``op.rows`` -> int) and per slot (``op.dst`` -> ``Local``);
- a keyword constructor (``MvinOp(dram, row, space="spad", rows=16, cols=64)``) that
  fills defaults and accepts a ``Local`` for a slot (``PreloadOp(bd=..., c=...)``);
- a verifier that range-checks every field against its ISA width and checks every
  slot (garbage only where legal, flags only on accumulator addresses ...);
- the default custom syntax ``gemmini.op name value flag ...`` (ops with operands
  override ``print`` / ``parse``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from typing_extensions import Self

from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import IRDLOperation, OptOperandDef, prop_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from gemforge.dialects.gemmini_fields import (
    REQUIRED,
    Field,
    parse_keyword_fields,
    print_keyword_fields,
)
from gemforge.dialects.gemmini_local import Local, Slot


def _field_property(f: Field) -> property:
    def get(op: GemminiOp) -> Any:
        return f.from_attr(op.properties[f.name])

    return property(get, doc=f.doc or f"The value of the '{f.name}' field.")


def _slot_property(slot: Slot) -> property:
    def get(op: GemminiOp) -> Local:
        return slot.local_of(op)

    return property(get, doc=f"The {slot.label} local address (a Local).")


class GemminiOp(IRDLOperation):
    """Base of every gemmini op: typed fields with read-back, builders, checks, syntax."""

    FIELDS: ClassVar[tuple[Field, ...]] = ()
    SLOTS: ClassVar[tuple[Slot, ...]] = ()
    ARGS: ClassVar[tuple[str, ...]] = ()
    FUNCT: ClassVar[int | None] = None
    """RoCC funct of the instruction (None for ``fence``, a plain RISC-V fence)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__
        if "FIELDS" not in own and "SLOTS" not in own:
            return
        for f in cls.all_fields():
            if f.name in own or hasattr(IRDLOperation, f.name):
                raise TypeError(f"{cls.__name__}: field '{f.name}' clashes with a class member")
            default = None if f.required else f.to_attr(f.default)
            setattr(cls, f"{f.name}_attr", prop_def(f.constraint(), default, prop_name=f.name))
            setattr(cls, f.name, _field_property(f))
        for slot in cls.SLOTS:
            setattr(cls, slot.name, _slot_property(slot))

    # ---- fields -----------------------------------------------------------------

    @classmethod
    def all_fields(cls) -> tuple[Field, ...]:
        """Slot fields first (in slot order), then the keyword fields."""
        return tuple(f for s in cls.SLOTS for f in s.fields()) + cls.FIELDS

    @classmethod
    def field_maxima(cls) -> dict[str, int]:
        """The largest value each unsigned field's encoding holds, by name (a pass checks
        what it emits against these instead of restating the instruction's bit widths)."""
        return {f.name: f.maximum for f in cls.all_fields() if f.kind == "uint"}

    def field_values(self) -> dict[str, Any]:
        """Every field as a plain Python value (int, bool, float, enum), by name."""
        return {f.name: f.from_attr(self.properties[f.name]) for f in self.all_fields()}

    @classmethod
    def fill_fields(cls, given: Mapping[str, Any]) -> dict[str, Attribute]:
        """Properties for ``given`` field values with defaults filled in."""
        fields = {f.name: f for f in cls.all_fields()}
        unknown = set(given) - set(fields)
        if unknown:
            raise TypeError(f"{cls.name}: unknown field(s) {', '.join(sorted(unknown))}")
        props: dict[str, Attribute] = {}
        for name, f in fields.items():
            value = given.get(name, f.default)
            if value is REQUIRED:
                raise TypeError(f"{cls.name}: missing field '{name}'")
            props[name] = f.to_attr(value)
        return props

    # ---- construction -----------------------------------------------------------

    def __init__(
        self,
        *args: Any,
        attributes: Mapping[str, Attribute] | None = None,
        **kwargs: Any,
    ) -> None:
        if len(args) > len(self.ARGS):
            raise TypeError(f"{self.name}: takes at most {len(self.ARGS)} positional arguments")
        for key, value in zip(self.ARGS, args):
            if key in kwargs:
                raise TypeError(f"{self.name}: '{key}' given twice")
            kwargs[key] = value
        slots = {s.name: s for s in self.SLOTS}
        operand_names = {n for n, _ in self.get_irdl_definition().operands}
        operands: dict[str, Any] = {}
        values: dict[str, Any] = {}
        for key, value in kwargs.items():
            if key in operand_names:
                operands[key] = value
            elif key in slots:
                if not isinstance(value, Local):
                    raise TypeError(f"{self.name}: '{key}' wants a Local, got {value!r}")
                operands[slots[key].row_name] = value.row
                values.update(slots[key].values(value))
            else:
                values[key] = value
        self._setup(operands, values, attributes)

    def _setup(
        self,
        operands: Mapping[str, SSAValue | Operation | None],
        values: Mapping[str, Any],
        attributes: Mapping[str, Attribute] | None,
    ) -> None:
        groups: list[Any] = []
        for name, definition in self.get_irdl_definition().operands:
            value = operands.get(name)
            if isinstance(definition, OptOperandDef):
                groups.append([] if value is None else [value])
            elif value is None:
                raise TypeError(f"{self.name}: missing operand '{name}'")
            else:
                groups.append(value)
        IRDLOperation.__init__(
            self, operands=groups, properties=self.fill_fields(values), attributes=attributes
        )

    @classmethod
    def make(
        cls,
        operands: Mapping[str, SSAValue | Operation | None],
        values: Mapping[str, Any],
        attributes: Mapping[str, Attribute] | None = None,
    ) -> Self:
        """Build from operands by name and field values by name (used by parsers)."""
        op = cls.__new__(cls)
        GemminiOp._setup(op, operands, values, attributes)
        return op

    # ---- verification -----------------------------------------------------------

    def fail(self, message: str) -> VerifyException:
        """A verifier error that names the op."""
        return VerifyException(f"{self.name}: {message}")

    def verify_(self) -> None:
        for f in self.all_fields():
            if (msg := f.problem(f.from_attr(self.properties[f.name]))) is not None:
                raise self.fail(msg)
        for slot in self.SLOTS:
            slot.verify(self)

    # ---- syntax -----------------------------------------------------------------

    def print_fields(self, printer: Printer) -> None:
        """The keyword fields, then an ``attributes {...}`` dict if any."""
        print_keyword_fields(printer, self.FIELDS, self.field_values())
        printer.print_op_attributes(self.attributes, print_keyword=True)

    @classmethod
    def parse_fields(cls, parser: Parser) -> tuple[dict[str, Any], dict[str, Attribute]]:
        values = parse_keyword_fields(parser, cls.FIELDS)
        attrs = parser.parse_optional_attr_dict_with_keyword()
        return values, ({} if attrs is None else dict(attrs.data))

    def print(self, printer: Printer) -> None:
        self.print_fields(printer)

    @classmethod
    def parse(cls, parser: Parser) -> Self:
        values, attrs = cls.parse_fields(parser)
        return cls.make({}, values, attrs)
