"""``fuse-pool``: fold a ``graph.maxpool`` of a conv result into the conv's pool fields
(Gemmini max-pools on move-out).

Patterns (the ``graph.pad`` form is how some importers spell a padded max pool)::

    %y = graph.conv2d ...                %y = graph.conv2d ...
    %p = graph.maxpool %y kernel K       %q = graph.pad %y pads [0, t, l, 0, 0, b, r, 0] value V
         stride S padding P              %p = graph.maxpool %q kernel K stride S padding P
  =>                                   =>
    %p = graph.conv2d ... pool_kernel K pool_stride S pool_padding P (+ [t, l, b, r])

Exact, bit for bit: the conv's fused pool is defined exactly as ``graph.maxpool`` (max
over the activated results; padded positions take no part; every window holds a
result). An explicit ``graph.pad`` of spatial dims only joins the pool padding when
its value V can never win a window: V <= the least value the conv can produce (the
lower end of its activation clamp, e.g. 0 after relu, -128 for a plain int8 result),
and the total padding stays below the kernel (so each window still holds a result).

Option ``hardware-pool`` (default true) fuses only pools that Gemmini's move-out
pooling computes unchanged: square windows, one stride for both axes, window, stride
and pads within the widths of ``config_st``'s pool fields (read from
:class:`gemforge.dialects.gemmini_config.ConfigStOp`), and, with any padding, a conv
whose results are >= 0 (Gemmini pads with zeros, which must never win). With
``hardware-pool=false`` every exact pattern fuses.

Not fused: matmul producers, a conv that already pools, results with other uses, a
pad value that could win, pads on the batch or channel dims.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from gemforge.dialects import graph as G
from gemforge.dialects.gemmini_config import ConfigStOp
from gemforge.dialects.graph_common import GraphVerifyError
from gemforge.passes._fusion import activation_interval, fuse, run_patterns, sole_producer


_LIMITS = ConfigStOp.field_maxima()


def gemmini_can_pool(kernel, stride, padding, least_value: int) -> bool:
    """True if Gemmini's move-out max pool computes this pool of results that are
    never below ``least_value``."""
    pad_max = min(_LIMITS["upad"], _LIMITS["lpad"])
    return (
        kernel[0] == kernel[1]
        and stride[0] == stride[1]
        and kernel[0] <= _LIMITS["pool_size"]
        and stride[0] <= _LIMITS["pool_stride"]
        and max(padding) <= pad_max
        and (max(padding) == 0 or least_value >= 0)
    )


def _spatial_pads(pad: G.PadOp) -> tuple[int, int, int, int] | None:
    """[top, left, bottom, right] of a rank-4 NHWC pad that pads H and W only."""
    pads = pad.pads
    if len(pads) != 8 or pads[0] or pads[3] or pads[4] or pads[7]:
        return None
    return pads[1], pads[2], pads[5], pads[6]


@dataclass
class FusePoolPattern(RewritePattern):
    """conv2d -> [pad ->] maxpool  =>  conv2d with pool fields."""

    hardware_pool: bool = True

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: G.MaxPoolOp, rewriter: PatternRewriter) -> None:
        padding = list(op.padding)
        producers = []
        pad = sole_producer(op.input, (G.PadOp,), op)
        source = op.input
        if pad is not None:
            extra = _spatial_pads(pad)
            if extra is None:
                return
            padding = [p + e for p, e in zip(padding, extra)]
            producers.append(pad)
            source = pad.input
        conv = sole_producer(source, (G.Conv2DOp,), op if pad is None else pad)
        if conv is None or conv.pool_kernel is not None:
            return
        least = activation_interval(conv)[0]
        if pad is not None and pad.value > least:
            return
        if self.hardware_pool and not gemmini_can_pool(op.kernel, op.stride, padding, least):
            return
        try:
            fused = conv.with_options(pool_kernel=op.kernel, pool_stride=op.stride, pool_padding=padding)
        except GraphVerifyError:  # the joined padding reaches the kernel size
            return
        fuse(rewriter, op, [*producers, conv], fused)


@dataclass(frozen=True)
class FusePool(ModulePass):
    """Fold max pooling into the producing conv2d's move-out pooling."""

    name = "fuse-pool"

    hardware_pool: bool = True

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        run_patterns(ctx, op, FusePoolPattern(self.hardware_pool))
