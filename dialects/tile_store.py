"""``tile.store``: move a window of an accumulator (or scratchpad) buffer out to DRAM."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.dialects.builtin import (
    I64,
    DenseArrayBase,
    Float32Type,
    FloatAttr,
    IndexType,
    IntegerAttr,
    MemRefType,
    UnitAttr,
    i64,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import (
    AttrSizedOperandSegments,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    var_operand_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from gemforge.dialects.tile_attrs import (
    Activation,
    ActivationAttr,
    MemorySpace,
    check_buffer_type,
    memory_space,
    type_text,
)
from gemforge.dialects.tile_load import (
    TransferOp,
    check_scale,
    int_width,
    parse_scale,
    print_scale,
    scale_attr,
)
from gemforge.dialects.tile_view import (
    Mixed,
    View,
    check_mixed,
    check_view,
    join_mixed,
    parse_mixed_list,
    print_mixed_list,
    split_mixed,
    static_int,
)


@dataclass(frozen=True)
class Pool:
    """Max-pooling of a ``tile.store``: ``window`` x ``window`` windows every ``stride``.

    ``pads`` = (top, left): how far the first window starts above/left of the stored view
    (the image border's padding, non-zero only for border tiles). ``sizes``: the pooled
    window written to DRAM, one entry per destination dimension.
    """

    window: int
    stride: int
    pads: tuple[Mixed, Mixed]
    sizes: tuple[Mixed, ...]


def _i64(value: int | None) -> IntegerAttr | None:
    return None if value is None else IntegerAttr(value, i64)


@irdl_op_definition
class StoreOp(TransferOp):
    """Write a window of a local buffer to DRAM through the epilogue (Gemmini ``mvout``).

    The source view ``source[offsets][sizes]`` (acc or spad) is written to
    ``dest[dest_offsets + d]`` for ``d < sizes`` (same rank). From an acc buffer each int32
    value ``x`` becomes, unless ``raw``::

        y = saturate(round_half_even(x * scale))      # x * scale in float32; scale default 1
        y = max(y, 0)              if activation is relu
        y = min(max(y, lo), hi)    if activation is clip(lo, hi)

    saturating to the destination element type (int8). ``raw`` stores the full values
    unchanged (destination element type = source element type, e.g. int32 partial sums);
    a store from spad must be raw.

    Max-pooling (``pool``, needs rank >= 3 with the spatial dimensions at -3, -2, i.e.
    ``[..., H, W, C]`` rows = pixels): the destination window has the pool's ``sizes``
    ``[..., PH, PW, C]`` and::

        dest[o + (..., ph, pw, c)] = max over 0 <= i, j < window of
            v[..., ph * stride + i - pad_top, pw * stride + j - pad_left, c]

    where ``v`` is the epilogue output of the view and positions outside the view's
    ``H x W`` count as 0 (as Gemmini's pooling treats padding). Tiles whose windows cross
    a tile edge must include the overlapping rows in the view. ``convert-tile-to-gemmini``
    lowers it to Gemmini's pooled move-out (``passes/_lowering_pool.py``): from an acc
    buffer, static pads, the view as wide as its buffer, fields within config_st's widths.

    Syntax: ``tile.store %acc[0, 0] [%m, %n] into %out[%i, %j] [raw] [scale 0.5]
    [relu | clip(-5, 100)] [pool 3 stride 2 pads [%t, 0] sizes [1, 4, 4, 64]]
    : memref<..., #tile.space<acc>> -> memref<..., #tile.space<dram>>``
    """

    name = "tile.store"

    source = operand_def(MemRefType)
    offsets = var_operand_def(IndexType)
    sizes = var_operand_def(IndexType)
    dest = operand_def(MemRefType)
    dest_offsets = var_operand_def(IndexType)
    pool_pads = var_operand_def(IndexType)
    pool_sizes = var_operand_def(IndexType)

    static_offsets = prop_def(DenseArrayBase.constr(i64))
    static_sizes = prop_def(DenseArrayBase.constr(i64))
    static_dest_offsets = prop_def(DenseArrayBase.constr(i64))
    static_pool_pads = opt_prop_def(DenseArrayBase.constr(i64))
    static_pool_sizes = opt_prop_def(DenseArrayBase.constr(i64))
    pool_window = opt_prop_def(IntegerAttr[I64])
    pool_stride = opt_prop_def(IntegerAttr[I64])
    scale_attr = opt_prop_def(FloatAttr[Float32Type], prop_name="scale")
    activation_attr = opt_prop_def(ActivationAttr, prop_name="activation")
    clip_min = opt_prop_def(IntegerAttr[I64])
    clip_max = opt_prop_def(IntegerAttr[I64])
    raw_attr = opt_prop_def(UnitAttr, prop_name="raw")

    irdl_options = (AttrSizedOperandSegments(as_property=True),)

    def __init__(
        self,
        source: SSAValue | Operation,
        offsets: Sequence[Mixed | Operation],
        sizes: Sequence[Mixed | Operation],
        dest: SSAValue | Operation,
        dest_offsets: Sequence[Mixed | Operation],
        *,
        scale: float | None = None,
        activation: Activation | str = Activation.NONE,
        clip: tuple[int, int] | None = None,
        pool: Pool | None = None,
        raw: bool = False,
        attributes: dict[str, Attribute] | None = None,
    ):
        activation = Activation(activation)
        if clip is not None and activation is Activation.NONE:
            activation = Activation.CLIP
        s_off, d_off = split_mixed(offsets)
        s_size, d_size = split_mixed(sizes)
        s_doff, d_doff = split_mixed(dest_offsets)
        props: dict[str, Attribute | None] = {
            "static_offsets": s_off,
            "static_sizes": s_size,
            "static_dest_offsets": s_doff,
            "scale": scale_attr(scale),
            "activation": None if activation is Activation.NONE else ActivationAttr(activation),
            "clip_min": _i64(clip[0]) if clip else None,
            "clip_max": _i64(clip[1]) if clip else None,
            "raw": UnitAttr() if raw else None,
        }
        d_pads: list[SSAValue] = []
        d_psizes: list[SSAValue] = []
        if pool is not None:
            props["static_pool_pads"], d_pads = split_mixed(pool.pads)
            props["static_pool_sizes"], d_psizes = split_mixed(pool.sizes)
            props["pool_window"] = _i64(pool.window)
            props["pool_stride"] = _i64(pool.stride)
        super().__init__(
            operands=[source, d_off, d_size, dest, d_doff, d_pads, d_psizes],
            properties={k: v for k, v in props.items() if v is not None},
            attributes=attributes,
        )

    # Read-back ---------------------------------------------------------------------------

    @property
    def activation(self) -> Activation:
        return Activation.NONE if self.activation_attr is None else self.activation_attr.data

    @property
    def clip(self) -> tuple[int, int] | None:
        if self.clip_min is None or self.clip_max is None:
            return None
        return self.clip_min.value.data, self.clip_max.value.data

    @property
    def raw(self) -> bool:
        return self.raw_attr is not None

    @property
    def pool(self) -> Pool | None:
        if self.pool_window is None or self.pool_stride is None:
            return None
        pads = join_mixed(self.static_pool_pads, self.pool_pads)
        return Pool(
            self.pool_window.value.data,
            self.pool_stride.value.data,
            (pads + (0, 0))[:2],  # type: ignore[arg-type]
            join_mixed(self.static_pool_sizes, self.pool_sizes),
        )

    @property
    def source_view(self) -> View:
        return View(self.source, self.mixed_offsets, self.mixed_sizes)

    @property
    def dest_view(self) -> View:
        """The DRAM window written (the pooled sizes when pooling)."""
        pool = self.pool
        return View(self.dest, self.mixed_dest_offsets, pool.sizes if pool else self.mixed_sizes)

    # Verification --------------------------------------------------------------------------

    def verify_(self) -> None:
        op = self.name
        self._verify_mixed_lists()
        check_mixed(op, "pool pads", self.static_pool_pads, self.pool_pads)
        check_mixed(op, "pool sizes", self.static_pool_sizes, self.pool_sizes)
        src = check_buffer_type(op, "source", self.source.type, (MemorySpace.ACC, MemorySpace.SPAD))
        dst = check_buffer_type(op, "destination", self.dest.type, (MemorySpace.DRAM,))
        if src.get_num_dims() != dst.get_num_dims():
            raise VerifyException(
                f"{op}: source rank {src.get_num_dims()} differs from destination rank {dst.get_num_dims()}"
            )
        has_epilogue = (
            self.scale_attr is not None or self.activation is not Activation.NONE or self.pool_window is not None
        )
        if memory_space(src) is MemorySpace.SPAD and not self.raw:
            raise VerifyException(f"{op}: a store from #tile.space<spad> must be raw (no epilogue)")
        if self.raw:
            if has_epilogue:
                raise VerifyException(f"{op}: a raw store takes no scale, activation or pooling")
            if src.element_type != dst.element_type:
                raise VerifyException(
                    f"{op}: element type mismatch: a raw store needs equal element types, got "
                    f"{type_text(src.element_type)} -> {type_text(dst.element_type)}"
                )
        elif int_width(dst) > int_width(src):
            raise VerifyException(
                f"{op}: element type mismatch: destination {type_text(dst.element_type)} is wider "
                f"than source {type_text(src.element_type)}"
            )
        check_scale(op, self.scale_attr)
        self._verify_activation()
        check_view(op, "source window", self.source_view)
        self._verify_pool()
        check_view(op, "destination window", self.dest_view)

    def _verify_activation(self) -> None:
        has_bounds = self.clip_min is not None or self.clip_max is not None
        if self.activation is Activation.CLIP:
            clip = self.clip
            if clip is None:
                raise VerifyException(f"{self.name}: clip activation needs clip_min and clip_max")
            if clip[0] > clip[1]:
                raise VerifyException(f"{self.name}: clip bounds must satisfy lo <= hi, got ({clip[0]}, {clip[1]})")
        elif has_bounds:
            raise VerifyException(f"{self.name}: clip bounds given without the clip activation")

    def _verify_pool(self) -> None:
        op = self.name
        parts = (self.pool_window, self.pool_stride, self.static_pool_pads, self.static_pool_sizes)
        if all(p is None for p in parts):
            return
        pool = self.pool
        if pool is None or self.static_pool_pads is None or self.static_pool_sizes is None:
            raise VerifyException(f"{op}: pooling needs pool_window, pool_stride, pads and sizes together")
        rank = len(self.mixed_sizes)
        if rank < 3:
            raise VerifyException(f"{op}: pooling needs a view of rank >= 3 ([..., H, W, C]), got rank {rank}")
        if pool.window < 1 or pool.stride < 1:
            raise VerifyException(f"{op}: pool window and stride must be positive, got {pool.window}, {pool.stride}")
        npads = len(self.static_pool_pads.get_values())
        if npads != 2:
            raise VerifyException(f"{op}: pooling needs 2 pads (top, left), got {npads}")
        for pad in pool.pads:
            if isinstance(pad, int) and not 0 <= pad < pool.window:
                raise VerifyException(f"{op}: pool pad {pad} must be in 0..{pool.window - 1}")
        if len(pool.sizes) != rank:
            raise VerifyException(f"{op}: pooling gives {len(pool.sizes)} sizes but the view has rank {rank}")
        for d, (before, after) in enumerate(zip(self.mixed_sizes, pool.sizes)):
            if d in (rank - 3, rank - 2):
                continue
            b, a = static_int(before), static_int(after)
            if b is not None and a is not None and a != b:
                raise VerifyException(
                    f"{op}: pooling keeps dimension {d}: pooled size {a} differs from view size {b}"
                )

    # Custom syntax -------------------------------------------------------------------------

    @classmethod
    def parse(cls, parser: Parser) -> StoreOp:
        head = cls._parse_head(parser)
        raw = parser.parse_optional_keyword("raw") is not None
        scale = parse_scale(parser)
        activation, clip = Activation.NONE, None
        if parser.parse_optional_keyword("relu"):
            activation = Activation.RELU
        elif parser.parse_optional_keyword("clip"):
            with parser.in_parens():
                lo = parser.parse_integer(allow_boolean=False)
                parser.parse_punctuation(",")
                hi = parser.parse_integer(allow_boolean=False)
            activation, clip = Activation.CLIP, (lo, hi)
        pool = None
        if parser.parse_optional_keyword("pool"):
            window = parser.parse_integer(allow_boolean=False)
            parser.parse_keyword("stride")
            stride = parser.parse_integer(allow_boolean=False)
            parser.parse_keyword("pads")
            pads = parse_mixed_list(parser)
            parser.parse_keyword("sizes")
            pool = Pool(window, stride, tuple(pads), tuple(parse_mixed_list(parser)))  # type: ignore[arg-type]
        args, attributes = cls._parse_tail(parser, head)
        return cls(
            *args,
            scale=scale,
            activation=activation,
            clip=clip,
            pool=pool,
            raw=raw,
            attributes=attributes,
        )

    def print(self, printer: Printer) -> None:
        self._print_head(printer)
        if self.raw:
            printer.print_string(" raw")
        print_scale(printer, self.scale_attr)
        clip = self.clip
        if self.activation is Activation.RELU:
            printer.print_string(" relu")
        elif self.activation is Activation.CLIP and clip is not None:
            printer.print_string(f" clip({clip[0]}, {clip[1]})")
        pool = self.pool
        if pool is not None:
            printer.print_string(f" pool {pool.window} stride {pool.stride} pads ")
            print_mixed_list(printer, pool.pads)
            printer.print_string(" sizes ")
            print_mixed_list(printer, pool.sizes)
        self._print_tail(printer)
