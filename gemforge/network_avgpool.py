"""Average pools on the accelerator: a depthwise convolution with all-one weights.

``graph.avgpool`` is, per window, ``sat_i8(rne(f32(sum) * (f32(scale) / f32(count))))``
with an exact integer ``sum``. A depthwise convolution with weights 1 accumulates
exactly that sum (padding adds 0, as in the pool), and its move-out computes
``sat_i8(rne(f32(acc) * f32(output_scale)))``; with ``output_scale = f32(scale) /
f32(kh * kw)`` every window that lies wholly inside the input comes out bit-exact.

A window that reaches into the padding divides by fewer elements unless the pool has
``count_include_pad``. Those outputs (the border ring: at most ``pad`` rows and columns
on each side) are then recomputed by a host ``graph.avgpool`` kernel with
``partial_only`` set, which overwrites just them. At 28 x 28 with a 3 x 3 window that is
14% of the outputs; the other 86% no longer cost the host nine element visits each.

Only under the ``bnb`` schedule: the vendor library has no average pool (its users run
pools on the CPU), so ``library`` keeps it on the host, as it does for max pools.
A pool whose window is the whole input stays the host's ``global_avg_pool`` (one visit
per input element, cheaper than moving the data through the array), and so does a pool
where most windows reach into the padding (the host would recompute most outputs anyway).
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import i8

from gemforge.dialects import graph as G
from gemforge.graph_eval_ops import window_counts
from gemforge.network_groups import detached_conv


def avgpool_refusal(op: G.AvgPoolOp, schedule: str) -> str | None:
    """Why ``op`` stays on the host (None: it runs as a depthwise convolution)."""
    if schedule != "bnb":
        return "the vendor library has no average pool"
    if op.input.type.element_type != i8:
        return "not an int8 pool"
    _, h, w, _ = op.input.type.get_shape()
    if tuple(op.kernel) == (h, w) and not any(op.padding):
        return "a whole-input average is cheaper on the host (global_avg_pool)"
    if has_partial_windows(op):
        counts = window_counts(h, w, op.kernel, op.stride, op.padding)
        full = int((counts == op.kernel[0] * op.kernel[1]).sum())
        if full < counts.size - full:
            return "most windows reach into the padding (the host recomputes those)"
    return None


def avgpool_conv(op: G.AvgPoolOp) -> G.Conv2DOp:
    """The depthwise all-ones convolution of ``op``, detached (a fresh input argument)."""
    kh, kw = op.kernel
    shape = op.input.type.get_shape()
    scale = float(np.float32(op.scale) / np.float32(kh * kw))
    return detached_conv(shape, np.ones((kh, kw, 1, shape[3]), dtype=np.int8), stride=op.stride,
                         padding=op.padding, groups=shape[3], output_scale=scale)


def has_partial_windows(op: G.AvgPoolOp) -> bool:
    """Whether some window reaches into the padding and divides by fewer elements."""
    return not op.count_include_pad and any(op.padding)
