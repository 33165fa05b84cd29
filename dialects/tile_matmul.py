"""``tile.matmul``: C[acc] (+)= A[spad] x B[spad] over views of local buffers."""

from __future__ import annotations

from math import prod

from xdsl.dialects.builtin import DenseArrayBase, IndexType, MemRefType, UnitAttr, i64
from xdsl.ir import Attribute, SSAValue
from xdsl.irdl import (
    AttrSizedOperandSegments,
    IRDLOperation,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    var_operand_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from gemforge.dialects.tile_attrs import MemorySpace, check_buffer_type, type_text
from gemforge.dialects.tile_load import int_width
from gemforge.dialects.tile_view import View, check_mixed, check_view, join_mixed, parse_view, print_view, split_mixed

_ROLES = ("a", "b", "c")


def _product(values: tuple[int | None, ...]) -> int | None:
    return None if None in values else prod(values)  # type: ignore[arg-type]


@irdl_op_definition
class MatmulOp(IRDLOperation):
    """``C (+)= A x B`` on the array, each operand a view of a local buffer.

    A view ``buf[offsets][sizes] strides [..]`` is read as a matrix whose rows run
    row-major over the leading dimensions of ``sizes`` and whose columns are the last
    dimension (see :class:`~gemforge.dialects.tile_view.View`). With A an ``M x K`` view
    of a spad buffer, B ``K x N`` (spad) and C ``M x N`` (acc)::

        C[m, n] = (C[m, n] if accumulate else 0) + sum_k A[m, k] * B[k, n]

    in the accumulator's integer width. ``accumulate`` is false on the first reduction
    step of an output tile without bias; with a bias, ``tile.load`` the bias (broadcast)
    into C first and accumulate every step.

    Strides on the leading dimensions read rows at a fixed distance (Gemmini's A stride;
    the lowering splits a view into DIM-row pieces and loops over the rest). A
    convolution tile is therefore a loop over the kernel positions ``(kh, kw)`` of one
    matmul each: with an input buffer ``[1, TH, TW, TC]`` (zero-padded window), weights
    ``[KH, KW, TC, TO]`` and an acc tile ``[1, OH, OW, TO]``, stride ``s``::

        A = in[0, kh, kw, 0] [1, OH, OW, TC] strides [1, s, s, 1]
        B = w[kh, kw, 0, 0]  [1, 1, TC, TO]
        C = acc[0, 0, 0, 0]  [1, OH, OW, TO]

    Static sizes must agree (A rows = C rows, A cols = B rows, B cols = C cols); dynamic
    ones are the program's responsibility.

    Optional bias operand D (Gemmini's weight-stationary D input): a ``R x N`` view of an
    accumulator buffer whose R rows are all equal (a bias broadcast by ``tile.load``),
    with R >= min(DIM, rows of C); every row of C also gets it added::

        C[m, n] = (C[m, n] if accumulate else 0) + sum_k A[m, k] * B[k, n] + D[0, n]

    (the lowering adds D's first r rows to each r-row piece of C, which is the same
    because D's rows are equal). A resident bias block so replaces a broadcast bias
    load per output tile.

    Syntax: ``tile.matmul %c[0, 0] [%m, %n] += %a[0, 0] [%m, %k] * %b[0, 0] [%k, %n]
    : memref<..acc>, memref<..spad>, memref<..spad>`` (``=`` instead of ``+=`` overwrites);
    with D: ``... * %b[..] [..] + %d[0, 0] [16, %n] : <C type>, <A type>, <B type>, <D type>``.
    """

    name = "tile.matmul"

    a = operand_def(MemRefType)
    a_offsets = var_operand_def(IndexType)
    a_sizes = var_operand_def(IndexType)
    b = operand_def(MemRefType)
    b_offsets = var_operand_def(IndexType)
    b_sizes = var_operand_def(IndexType)
    c = operand_def(MemRefType)
    c_offsets = var_operand_def(IndexType)
    c_sizes = var_operand_def(IndexType)
    d = opt_operand_def(MemRefType)
    d_offsets = var_operand_def(IndexType)
    d_sizes = var_operand_def(IndexType)

    static_a_offsets = prop_def(DenseArrayBase.constr(i64))
    static_a_sizes = prop_def(DenseArrayBase.constr(i64))
    a_strides = opt_prop_def(DenseArrayBase.constr(i64))
    static_b_offsets = prop_def(DenseArrayBase.constr(i64))
    static_b_sizes = prop_def(DenseArrayBase.constr(i64))
    b_strides = opt_prop_def(DenseArrayBase.constr(i64))
    static_c_offsets = prop_def(DenseArrayBase.constr(i64))
    static_c_sizes = prop_def(DenseArrayBase.constr(i64))
    c_strides = opt_prop_def(DenseArrayBase.constr(i64))
    static_d_offsets = opt_prop_def(DenseArrayBase.constr(i64))
    static_d_sizes = opt_prop_def(DenseArrayBase.constr(i64))
    accumulate_attr = opt_prop_def(UnitAttr, prop_name="accumulate")

    irdl_options = (AttrSizedOperandSegments(as_property=True),)

    def __init__(
        self,
        c: View,
        a: View,
        b: View,
        *,
        accumulate: bool,
        d: View | None = None,
        attributes: dict[str, Attribute] | None = None,
    ):
        operands: list[SSAValue | list[SSAValue]] = []
        props: dict[str, Attribute] = {}
        for role, view in zip(_ROLES, (a, b, c)):
            s_off, d_off = split_mixed(view.offsets)
            s_size, d_size = split_mixed(view.sizes)
            operands += [view.buffer, d_off, d_size]
            props[f"static_{role}_offsets"] = s_off
            props[f"static_{role}_sizes"] = s_size
            if any(s != 1 for s in view.strides):
                props[f"{role}_strides"] = DenseArrayBase.from_list(i64, view.strides)
        if d is not None:
            s_off, d_off = split_mixed(d.offsets)
            s_size, d_size = split_mixed(d.sizes)
            operands += [[d.buffer], d_off, d_size]
            props["static_d_offsets"], props["static_d_sizes"] = s_off, s_size
        else:
            operands += [[], [], []]
        if accumulate:
            props["accumulate"] = UnitAttr()
        super().__init__(operands=operands, properties=props, attributes=attributes)

    # Read-back ---------------------------------------------------------------------------

    def _view(self, role: str) -> View:
        strides = getattr(self, f"{role}_strides")
        return View(
            getattr(self, role),
            join_mixed(getattr(self, f"static_{role}_offsets"), getattr(self, f"{role}_offsets")),
            join_mixed(getattr(self, f"static_{role}_sizes"), getattr(self, f"{role}_sizes")),
            tuple(strides.get_values()) if strides is not None else (),
        )

    @property
    def a_view(self) -> View:
        return self._view("a")

    @property
    def b_view(self) -> View:
        return self._view("b")

    @property
    def c_view(self) -> View:
        return self._view("c")

    @property
    def d_view(self) -> View | None:
        """The bias view D, or None."""
        if self.d is None:
            return None
        return View(self.d, join_mixed(self.static_d_offsets, self.d_offsets),
                    join_mixed(self.static_d_sizes, self.d_sizes))

    @property
    def accumulate(self) -> bool:
        return self.accumulate_attr is not None

    @property
    def static_mnk(self) -> tuple[int | None, int | None, int | None]:
        """(M, N, K) where known statically (from C rows, C cols, A cols; else A/B)."""
        a, b, c = self.a_view, self.b_view, self.c_view
        m = c.rows if c.rows is not None else a.rows
        n = c.cols if c.cols is not None else b.cols
        k = a.cols if a.cols is not None else b.rows
        return m, n, k

    # Verification --------------------------------------------------------------------------

    def verify_(self) -> None:
        op = self.name
        for role in _ROLES:
            check_mixed(op, f"{role} offsets", getattr(self, f"static_{role}_offsets"), getattr(self, f"{role}_offsets"))
            check_mixed(op, f"{role} sizes", getattr(self, f"static_{role}_sizes"), getattr(self, f"{role}_sizes"))
        at = check_buffer_type(op, "operand A", self.a.type, (MemorySpace.SPAD,))
        bt = check_buffer_type(op, "operand B", self.b.type, (MemorySpace.SPAD,))
        ct = check_buffer_type(op, "operand C", self.c.type, (MemorySpace.ACC,))
        if at.element_type != bt.element_type:
            raise VerifyException(
                f"{op}: element type mismatch: A is {type_text(at.element_type)}, B is {type_text(bt.element_type)}"
            )
        if int_width(ct) < int_width(at):
            raise VerifyException(
                f"{op}: element type mismatch: accumulator {type_text(ct.element_type)} is narrower "
                f"than inputs {type_text(at.element_type)}"
            )
        a, b, c = self.a_view, self.b_view, self.c_view
        for role, view in zip("ABC", (a, b, c)):
            check_view(op, f"operand {role}", view)
        if self.d is not None:
            if self.static_d_offsets is None or self.static_d_sizes is None:
                raise VerifyException(f"{op}: operand D needs static_d_offsets and static_d_sizes")
            check_mixed(op, "d offsets", self.static_d_offsets, self.d_offsets)
            check_mixed(op, "d sizes", self.static_d_sizes, self.d_sizes)
            dt = check_buffer_type(op, "operand D", self.d.type, (MemorySpace.ACC,))
            if dt.element_type != ct.element_type:
                raise VerifyException(f"{op}: element type mismatch: D is {type_text(dt.element_type)}, "
                                      f"C is {type_text(ct.element_type)}")
            d = self.d_view
            check_view(op, "operand D", d)
            if d.cols is not None and c.cols is not None and d.cols != c.cols:
                raise VerifyException(f"{op}: shape mismatch: D columns ({d.cols}) != C columns ({c.cols})")
        for what, x, y in (("A rows", a.rows, c.rows), ("A columns", a.cols, b.rows), ("B columns", b.cols, c.cols)):
            other = {"A rows": "C rows", "A columns": "B rows", "B columns": "C columns"}[what]
            if x is not None and y is not None and x != y:
                raise VerifyException(
                    f"{op}: shape mismatch: {what} ({x}) != {other} ({y}); A is "
                    f"{a.rows}x{a.cols}, B is {b.rows}x{b.cols}, C is {c.rows}x{c.cols}"
                )

    # Custom syntax -------------------------------------------------------------------------

    @classmethod
    def parse(cls, parser: Parser) -> MatmulOp:
        c = parse_view(parser, with_strides=True)
        accumulate = parser.parse_optional_punctuation("+") is not None
        parser.parse_punctuation("=", " ('+=' accumulates into C, '=' overwrites it)")
        a = parse_view(parser, with_strides=True)
        parser.parse_punctuation("*")
        b = parse_view(parser, with_strides=True)
        d = parse_view(parser) if parser.parse_optional_punctuation("+") is not None else None
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        types = []
        for i in range(3 if d is None else 4):
            if i:
                parser.parse_punctuation(",")
            pos = parser.pos
            typ = parser.parse_type()
            if not isinstance(typ, MemRefType):
                parser.raise_error(f"tile.matmul: expected a memref type, got {type_text(typ)}", pos, parser.pos)
            types.append(typ)
        return cls(
            c.resolve(parser, types[0]),
            a.resolve(parser, types[1]),
            b.resolve(parser, types[2]),
            accumulate=accumulate,
            d=d.resolve(parser, types[3]) if d is not None else None,
            attributes=attributes,
        )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        print_view(printer, self.c_view)
        printer.print_string(" += " if self.accumulate else " = ")
        print_view(printer, self.a_view)
        printer.print_string(" * ")
        print_view(printer, self.b_view)
        d = self.d_view
        if d is not None:
            printer.print_string(" + ")
            print_view(printer, d)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        types = (self.c.type, self.a.type, self.b.type) + ((d.buffer.type,) if d is not None else ())
        printer.print_list(types, printer.print_attribute)
