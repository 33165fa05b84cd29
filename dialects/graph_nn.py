"""``graph.conv2d`` and ``graph.matmul``: the int8 x int8 -> int32 ops the accelerator
runs, with their fused epilogue (see :mod:`gemforge.dialects.graph_epilogue`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from xdsl.dialects.builtin import StringAttr, TensorType, i8, i32
from xdsl.ir import Attribute, SSAValue
from xdsl.irdl import (
    AttrSizedOperandSegments,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
)
from xdsl.traits import Pure

from gemforge.dialects.graph_common import (
    IntProp,
    IntsProp,
    ScaleProp,
    check_len,
    check_non_negative,
    check_positive,
    expect_element,
    expect_rank,
    fail,
    pooled_hw,
    tensor_of,
    window_out,
)
from gemforge.dialects.graph_epilogue import EPILOGUE_FIELDS, ActivationOp, epilogue_props, verify_epilogue
from gemforge.dialects.graph_syntax import Field, field_property, to_attr

POOL_FIELDS = (Field("pool_kernel", "ints"), Field("pool_stride", "ints"), Field("pool_padding", "ints"))


def _expand_padding(padding: Sequence[int]) -> tuple[int, ...]:
    """(ph, pw) -> (ph, pw, ph, pw); four values pass through."""
    padding = tuple(int(p) for p in padding)
    return padding * 2 if len(padding) == 2 else padding


def _bias_check(op_name: str, bias: SSAValue | None, channels: int) -> None:
    if bias is not None:
        btype = tensor_of(op_name, "bias", bias)
        expected = TensorType(i32, [channels])
        if btype != expected:
            raise fail(op_name, f"bias must be {expected}, got {btype}")


def _dense_groups_check(op_name: str, dense_groups: int | None, groups: int, c: int, co: int) -> None:
    """``dense_groups`` marks a densified grouped conv: >= 2 blocks that split C and CO."""
    if dense_groups is None:
        return
    if dense_groups < 2:
        raise fail(op_name, f"dense_groups must be at least 2, got {dense_groups}")
    if groups != 1:
        raise fail(op_name, f"dense_groups {dense_groups} needs groups 1, got groups {groups}")
    if c % dense_groups or co % dense_groups:
        raise fail(op_name, f"dense_groups {dense_groups} must divide input channels {c} and output channels {co}")


class _EpilogueOp(ActivationOp):
    """Read-back properties shared by the ops with the fused epilogue."""

    output_scale = field_property("output_scale", "f32 requantization scale, or None (int32 result).")
    residual_scale = field_property("residual_scale", "Scale of the residual into accumulator units, or None.")

    @classmethod
    def epilogue_element_type(cls, acc_shape: Sequence[int], operands: dict[str, Any], values: dict) -> Attribute:
        """Check the epilogue of ``acc_shape`` accumulators; the result's element type."""
        return verify_epilogue(
            cls.name,
            acc_shape,
            operands["residual"],
            values["output_scale"],
            values["residual_scale"],
            values["activation"],
            values["clip"],
        )


@irdl_op_definition
class Conv2DOp(_EpilogueOp):
    """2-D convolution of an NHWC int8 input with an HWIO int8 weight.

    Operands: ``input`` [N, H, W, C] i8; ``weight`` [KH, KW, C / groups, CO] i8;
    optional ``bias`` [CO] i32; optional ``residual`` i8 shaped like the accumulators
    [N, OH, OW, CO] (see the epilogue). Depthwise convolution is ``groups == C`` with
    weight [KH, KW, 1, CO] (CO a multiple of C).

    Properties: ``stride`` [sh, sw] >= 1; ``padding`` [top, left, bottom, right] >= 0
    (zeros; zero is the zero point); ``dilation`` [dh, dw] >= 1; ``groups`` >= 1 dividing
    C and CO; the epilogue (``output_scale``, ``residual_scale``, ``activation``,
    ``clip``); optional max pooling ``pool_kernel`` [kh, kw], ``pool_stride`` [sh, sw],
    ``pool_padding`` [top, left, bottom, right] (all three or none); optional
    ``dense_groups`` >= 2, only with ``groups`` 1 and dividing C and CO: the op is the
    dense (groups 1) form of a convolution that had this many groups, its weight
    block-diagonal with that many blocks (up to permutations of its output and input
    channels), so the model's multiply-accumulates are the dense count /
    ``dense_groups``. It changes no value, only what the op is counted as.

    Accumulators, exact in int32 (two's-complement wrap-around)::

        OH = (H + top + bottom - dh * (KH - 1) - 1) // sh + 1   (OW likewise)
        g = o // (CO / groups)
        acc[n, y, x, o] = bias[o] + sum over ky, kx, c < C / groups of
            x_padded[n, y*sh + ky*dh - top, x*sw + kx*dw - left, g * C / groups + c]
            * weight[ky, kx, c, o]

    Then the epilogue (residual, output_scale, activation) and, with pooling, a max
    pool over the activated values: windows [kh, kw] at stride [sh, sw] with
    ``pool_padding``; padded positions take no part in the max (every pad is smaller
    than the window, so each window holds a value). The result is [N, PH, PW, CO] with
    PH = (OH + top + bottom - kh) // sh + 1 (PW likewise), or [N, OH, OW, CO] without
    pooling; its element type is i8 with ``output_scale`` and i32 without.
    """

    name = "graph.conv2d"

    input = operand_def(TensorType)
    weight = operand_def(TensorType)
    bias = opt_operand_def(TensorType)
    residual = opt_operand_def(TensorType)
    result = result_def(TensorType)

    stride_prop = prop_def(IntsProp, prop_name="stride")
    padding_prop = prop_def(IntsProp, prop_name="padding")
    dilation_prop = prop_def(IntsProp, prop_name="dilation")
    groups_prop = prop_def(IntProp, prop_name="groups")
    dense_groups_prop = opt_prop_def(IntProp, prop_name="dense_groups")
    output_scale_prop = opt_prop_def(ScaleProp, prop_name="output_scale")
    residual_scale_prop = opt_prop_def(ScaleProp, prop_name="residual_scale")
    activation_prop = opt_prop_def(StringAttr, prop_name="activation")
    clip_prop = opt_prop_def(IntsProp, prop_name="clip")
    pool_kernel_prop = opt_prop_def(IntsProp, prop_name="pool_kernel")
    pool_stride_prop = opt_prop_def(IntsProp, prop_name="pool_stride")
    pool_padding_prop = opt_prop_def(IntsProp, prop_name="pool_padding")

    irdl_options = (AttrSizedOperandSegments(as_property=True),)
    traits = traits_def(Pure())

    POSITIONAL: ClassVar = ("input", "weight")
    KEYWORD_OPERANDS: ClassVar = ("bias", "residual")
    FIELDS: ClassVar = (
        Field("stride", "ints"),
        Field("padding", "ints"),
        Field("dilation", "ints"),
        Field("groups", "int"),
        Field("dense_groups", "int"),
        *EPILOGUE_FIELDS,
        *POOL_FIELDS,
    )

    stride = field_property("stride", "(sh, sw)")
    padding = field_property("padding", "(top, left, bottom, right)")
    dilation = field_property("dilation", "(dh, dw)")
    groups = field_property("groups", "Number of groups (C for depthwise).")
    dense_groups = field_property(
        "dense_groups", "Groups of the grouped conv this dense (groups 1) op was made from, or None.")
    pool_kernel = field_property("pool_kernel", "(kh, kw) of the fused max pool, or None.")
    pool_stride = field_property("pool_stride", "(sh, sw) of the fused max pool, or None.")
    pool_padding = field_property("pool_padding", "(top, left, bottom, right) of the fused max pool, or None.")

    def __init__(
        self,
        input: SSAValue,
        weight: SSAValue,
        bias: SSAValue | None = None,
        *,
        stride: Sequence[int] = (1, 1),
        padding: Sequence[int] = (0, 0, 0, 0),
        dilation: Sequence[int] = (1, 1),
        groups: int = 1,
        dense_groups: int | None = None,
        output_scale: float | None = None,
        activation: str | None = "none",
        clip: Sequence[int] | None = None,
        residual: SSAValue | None = None,
        residual_scale: float | None = None,
        pool_kernel: Sequence[int] | None = None,
        pool_stride: Sequence[int] | None = None,
        pool_padding: Sequence[int] | None = None,
    ):
        """Build with the result type inferred. ``padding`` may be (ph, pw) for
        symmetric padding; ``pool_stride`` defaults to ``pool_kernel`` and
        ``pool_padding`` to zeros when ``pool_kernel`` is given; ``activation`` may be
        "relu6" (see ``activation_props``)."""
        if pool_kernel is not None:
            pool_stride = pool_kernel if pool_stride is None else pool_stride
            pool_padding = (0, 0, 0, 0) if pool_padding is None else _expand_padding(pool_padding)
        props = {
            "stride": to_attr("ints", stride),
            "padding": to_attr("ints", _expand_padding(padding)),
            "dilation": to_attr("ints", dilation),
            "groups": to_attr("int", groups),
            "dense_groups": to_attr("int", dense_groups),
            **epilogue_props(self.name, output_scale, residual_scale, activation, clip),
            "pool_kernel": to_attr("ints", pool_kernel),
            "pool_stride": to_attr("ints", pool_stride),
            "pool_padding": to_attr("ints", pool_padding),
        }
        operands = {"input": input, "weight": weight, "bias": bias, "residual": residual}
        self._init(operands, props)

    @classmethod
    def infer_type(cls, operands: dict[str, Any], props) -> TensorType:
        n, v = cls.name, cls.values_of(props)
        x = tensor_of(n, "input", operands["input"])
        w = tensor_of(n, "weight", operands["weight"])
        for what, t in (("input", x), ("weight", w)):
            expect_rank(n, what, t, 4)
            expect_element(n, what, t, [i8])
        check_len(n, "stride", v["stride"], 2)
        check_len(n, "padding", v["padding"], 4)
        check_len(n, "dilation", v["dilation"], 2)
        check_positive(n, "stride", v["stride"])
        check_non_negative(n, "padding", v["padding"])
        check_positive(n, "dilation", v["dilation"])
        groups = v["groups"]
        if groups < 1:
            raise fail(n, f"groups must be positive, got {groups}")
        batch, h, wd, c = x.get_shape()
        kh, kw, ci, co = w.get_shape()
        if c % groups or co % groups:
            raise fail(n, f"groups {groups} must divide input channels {c} and output channels {co}")
        if ci != c // groups:
            raise fail(n, f"weight (HWIO) has {ci} input channels, expected {c // groups} (channels / groups)")
        _dense_groups_check(n, v["dense_groups"], groups, c, co)
        _bias_check(n, operands["bias"], co)
        (sh, sw), (dh, dw) = v["stride"], v["dilation"]
        top, left, bottom, right = v["padding"]
        oh = window_out(h, kh, sh, top, bottom, dh)
        ow = window_out(wd, kw, sw, left, right, dw)
        if oh < 1 or ow < 1:
            raise fail(n, f"dilated kernel {kh}x{kw} does not fit the padded {h}x{wd} input")
        acc_shape = (batch, oh, ow, co)
        element_type = cls.epilogue_element_type(acc_shape, operands, v)
        pool = (v["pool_kernel"], v["pool_stride"], v["pool_padding"])
        if any(p is not None for p in pool):
            oh, ow = pooled_hw(n, "pool_", (oh, ow), *pool)
        return TensorType(element_type, [batch, oh, ow, co])


@irdl_op_definition
class MatmulOp(_EpilogueOp):
    """Matrix product of int8 ``lhs`` [B..., M, K] and int8 ``rhs`` [K, N] (shared by
    every batch) or [B..., K, N] (one per batch, same batch dims as ``lhs``).

    Optional ``bias`` [N] i32 and ``residual`` [B..., M, N] i8. Accumulators, exact in
    int32 (two's-complement wrap-around)::

        acc[b..., m, n] = bias[n] + sum over k of lhs[b..., m, k] * rhs[(b...,) k, n]

    then the epilogue (residual, output_scale, activation; no pooling). The result is
    [B..., M, N], i8 with ``output_scale`` and i32 without.
    """

    name = "graph.matmul"

    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    bias = opt_operand_def(TensorType)
    residual = opt_operand_def(TensorType)
    result = result_def(TensorType)

    output_scale_prop = opt_prop_def(ScaleProp, prop_name="output_scale")
    residual_scale_prop = opt_prop_def(ScaleProp, prop_name="residual_scale")
    activation_prop = opt_prop_def(StringAttr, prop_name="activation")
    clip_prop = opt_prop_def(IntsProp, prop_name="clip")

    irdl_options = (AttrSizedOperandSegments(as_property=True),)
    traits = traits_def(Pure())

    POSITIONAL: ClassVar = ("lhs", "rhs")
    KEYWORD_OPERANDS: ClassVar = ("bias", "residual")
    FIELDS: ClassVar = EPILOGUE_FIELDS

    def __init__(
        self,
        lhs: SSAValue,
        rhs: SSAValue,
        bias: SSAValue | None = None,
        *,
        output_scale: float | None = None,
        activation: str | None = "none",
        clip: Sequence[int] | None = None,
        residual: SSAValue | None = None,
        residual_scale: float | None = None,
    ):
        """Build with the result type inferred (see ``Conv2DOp.__init__`` for the epilogue)."""
        props = epilogue_props(self.name, output_scale, residual_scale, activation, clip)
        self._init({"lhs": lhs, "rhs": rhs, "bias": bias, "residual": residual}, props)

    @classmethod
    def infer_type(cls, operands: dict[str, Any], props) -> TensorType:
        n, v = cls.name, cls.values_of(props)
        a = tensor_of(n, "lhs", operands["lhs"])
        b = tensor_of(n, "rhs", operands["rhs"])
        for what, t in (("lhs", a), ("rhs", b)):
            expect_element(n, what, t, [i8])
        ashape, bshape = a.get_shape(), b.get_shape()
        if len(ashape) < 2:
            raise fail(n, f"lhs must have rank >= 2, got {a}")
        if len(bshape) < 2 or (len(bshape) > 2 and bshape[:-2] != ashape[:-2]):
            raise fail(n, f"rhs must be [K, N] or [B..., K, N] with the batch dims {list(ashape[:-2])} of lhs, got {b}")
        if ashape[-1] != bshape[-2]:
            raise fail(n, f"contraction mismatch: lhs has K = {ashape[-1]}, rhs has K = {bshape[-2]}")
        _bias_check(n, operands["bias"], bshape[-1])
        acc_shape = (*ashape[:-1], bshape[-1])
        element_type = cls.epilogue_element_type(acc_shape, operands, v)
        return TensorType(element_type, acc_shape)
