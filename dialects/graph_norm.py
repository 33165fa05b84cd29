"""``graph.batch_norm``: an inference-time batch normalization on int32 accumulators,
the form in which a batch norm can sit after ``graph.conv2d`` / ``graph.matmul``
until ``fold-batchnorm`` folds it into their weights and bias.

Quantization tools usually fold batch norms before they quantize, so imported int8
models rarely hold one; this op gives the ones that remain an exact meaning.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from xdsl.dialects.builtin import TensorType, f32, i32
from xdsl.ir import SSAValue
from xdsl.irdl import irdl_op_definition, operand_def, result_def, traits_def
from xdsl.traits import Pure

from gemforge.dialects.graph_common import expect_element, fail, tensor_of
from gemforge.dialects.graph_constant import ConstantOp
from gemforge.dialects.graph_syntax import GraphOp


@irdl_op_definition
class BatchNormOp(GraphOp):
    """Per-channel affine map of int32 accumulators, channels on the last axis (NHWC).

    Operands: ``input`` [..., C] i32 in accumulator units (``s_input * s_weight`` of the
    op that produced it); ``scale`` [C] f32, the batch norm's ``gamma / sqrt(var + eps)``;
    ``shift`` [C] f32, its ``beta - mean * scale`` divided by the accumulator scale (so
    in accumulator units). Both must hold finite values (checked when they are
    ``graph.constant`` results). The result keeps the input's type and units::

        y[..., c] = sat_i32(rne(f32(input[..., c]) * scale[c] + shift[c]))

    (notation of :mod:`gemforge.dialects.graph_epilogue`: one f32 multiply, then one
    f32 add, then round half to even and clamp to the int32 range).
    """

    name = "graph.batch_norm"

    input = operand_def(TensorType)
    scale = operand_def(TensorType)
    shift = operand_def(TensorType)
    result = result_def(TensorType)
    traits = traits_def(Pure())

    POSITIONAL: ClassVar = ("input", "scale", "shift")

    def __init__(self, input: SSAValue, scale: SSAValue, shift: SSAValue):
        self._init({"input": input, "scale": scale, "shift": shift}, {})

    @classmethod
    def infer_type(cls, operands: dict[str, Any], props) -> TensorType:
        n = cls.name
        x = tensor_of(n, "input", operands["input"])
        expect_element(n, "input", x, [i32])
        if x.get_num_dims() < 1:
            raise fail(n, f"input must have rank >= 1 (channels last), got {x}")
        expected = TensorType(f32, [x.get_shape()[-1]])
        for what in ("scale", "shift"):
            t = tensor_of(n, what, operands[what])
            if t != expected:
                raise fail(n, f"{what} must be {expected} (one f32 per channel), got {t}")
        return x

    def verify_(self) -> None:
        super().verify_()
        for what in ("scale", "shift"):
            owner = getattr(self, what).owner
            if isinstance(owner, ConstantOp) and not np.isfinite(owner.to_numpy()).all():
                raise fail(self.name, f"{what} holds a non-finite value")


__all__ = ["BatchNormOp"]
