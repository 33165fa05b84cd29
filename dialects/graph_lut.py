"""``graph.lut``: a per-channel int8 table lookup, optionally over several inputs joined
along the channel axis.

Any chain of int8 -> int8 element-wise ops whose only computed operand is one tensor and
whose other operands are per-channel (or scalar) constants is a function of one int8
value per channel, hence exactly a table of 256 entries per channel. The ``fold-lut``
pass (:mod:`gemforge.passes.fold_lut`) builds such tables by running the ops' own
reference kernels on all 256 inputs, so the lookup is bit-exact by construction; int8
runtimes do the same for unary ops on scalar CPUs. Reading several inputs lets a lookup
absorb the channel concatenation in front of it (DenseNet's dense blocks) instead of
copying it first. A host op (no accelerator lowering).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from xdsl.dialects.builtin import TensorType, i8
from xdsl.ir import SSAValue
from xdsl.irdl import irdl_op_definition, operand_def, result_def, traits_def, var_operand_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import Pure

from gemforge.dialects.graph_common import expect_element, fail, tensor_of
from gemforge.dialects.graph_syntax import GraphOp

LUT_ENTRIES = 256  # one entry per int8 value, indexed by x + 128


@irdl_op_definition
class LutOp(GraphOp):
    """Per-channel table lookup on the channel concatenation of int8 tensors (channels
    last; ``x = concat(inputs, axis=-1)``, ``C`` = its last extent)::

        y[..., c] = table[c, x[..., c] + 128]      (table: tensor<C x 256 x i8>)
        y[..., c] = table[0, x[..., c] + 128]      (table: tensor<1 x 256 x i8>, shared)

    The inputs share every extent but the last; all are i8, like the table and the
    result. Syntax: ``graph.lut %x, %table`` for one input, ``graph.lut %a, %b table
    %table`` for several (both forms parse for any count); the table is the last operand.
    """

    name = "graph.lut"

    inputs = var_operand_def(TensorType)
    table = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    POSITIONAL: ClassVar = ("inputs",)
    VARIADIC: ClassVar = True
    KEYWORD_OPERANDS: ClassVar = ("table",)

    def __init__(self, inputs: SSAValue | Sequence[SSAValue], table: SSAValue):
        inputs = [inputs] if isinstance(inputs, SSAValue) else list(inputs)
        self._init({"inputs": inputs, "table": table}, {})

    @classmethod
    def infer_type(cls, operands: dict[str, Any], props) -> TensorType:
        n, values = cls.name, list(operands["inputs"])
        if not values:
            raise fail(n, "needs at least one input")
        what = ["input"] if len(values) == 1 else [f"input {i}" for i in range(len(values))]
        types = [tensor_of(n, w, v) for w, v in zip(what, values)]
        for w, x in zip(what, types):
            expect_element(n, w, x, [i8])
            if x.get_num_dims() < 1:
                raise fail(n, f"{w} must have rank >= 1 (channels last), got {x}")
        lead = list(types[0].get_shape()[:-1])
        for w, x in zip(what[1:], types[1:]):
            if list(x.get_shape()[:-1]) != lead:
                raise fail(n, f"{w} {x} does not match input 0 {types[0]} outside the last axis")
        t = tensor_of(n, "table", operands["table"])
        expect_element(n, "table", t, [i8])
        channels = sum(x.get_shape()[-1] for x in types)
        shape = tuple(t.get_shape())
        if len(shape) != 2 or shape[1] != LUT_ENTRIES:
            raise fail(n, f"table must be tensor<{channels}x{LUT_ENTRIES}xi8> or tensor<1x{LUT_ENTRIES}xi8>, got {t}")
        if shape[0] not in (1, channels):
            raise fail(n, f"table has {shape[0]} rows, expected 1 (shared) or {channels} (one per channel)")
        return TensorType(i8, [*lead, channels])

    def print(self, printer: Printer) -> None:
        if len(self.inputs) != 1:
            return super().print(printer)
        printer.print_string(" ")
        printer.print_list([self.inputs[0], self.table], printer.print_operand)
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_function_type([self.inputs[0].type, self.table.type], self.result_types)

    @classmethod
    def parse(cls, parser: Parser) -> LutOp:
        start = parser.pos
        operands = parser.parse_optional_undelimited_comma_separated_list(
            parser.parse_optional_unresolved_operand, parser.parse_unresolved_operand) or []
        if parser.parse_optional_keyword("table"):
            operands.append(parser.parse_unresolved_operand())
        if len(operands) < 2:
            parser.raise_error(f"{cls.name} expects inputs and a table (%x, %table or %a, %b table %table), "
                               f"got {len(operands)} operand(s)", start, parser.pos)
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        type_pos = parser.pos
        ftype = parser.parse_function_type()
        inputs, outputs = ftype.inputs.data, ftype.outputs.data
        if len(inputs) != len(operands) or len(outputs) != 1:
            parser.raise_error(f"{cls.name} needs {len(operands)} operand type(s) and 1 result type, "
                               f"got {len(inputs)} and {len(outputs)}", type_pos, parser.pos)
        values = [parser.resolve_operand(u, t) for u, t in zip(operands, inputs)]
        return cls.build(operands=[values[:-1], values[-1]], result_types=[outputs[0]], attributes=attrs)


__all__ = ["LutOp", "LUT_ENTRIES"]
