"""The ``graph`` dialect: whole-tensor ops with value semantics, the level at which
networks enter gemforge.

Conventions
-----------
- Types are builtin static ``tensor<...>`` of ``i8``, ``i32`` or ``f32``. ``i8`` and
  ``i32`` are signless in the IR and read as two's-complement signed integers.
- Activations are NHWC. Convolution weights are HWIO, ``[KH, KW, C / groups, CO]``
  (depthwise: ``groups == C``, ``[KH, KW, 1, CO]``); matmul weights are ``[K, N]``;
  biases are i32 ``[CO]`` / ``[N]`` in accumulator units (``s_input * s_weight``).
- Quantization is symmetric (zero point 0): a real value is ``scale * q``. Scales are
  finite positive f32 op properties, never part of the type. Every op that produces
  int8 from other values carries the scales that make its result exactly defined;
  each docstring states the arithmetic, in the notation of
  :mod:`gemforge.dialects.graph_epilogue` (``f32``, ``rne``, ``sat_i8``), precisely
  enough to write a bit-exact numpy reference.
- Padding lists are ``[top, left, bottom, right]`` for 2-D windows (ONNX's order) and
  ``[begin..., end...]`` for ``graph.pad``; builders accept ``(ph, pw)`` for
  symmetric 2-D padding.
- Every op has custom syntax (see :mod:`gemforge.dialects.graph_syntax`), a verifier
  that raises :class:`GraphVerifyError` (a ``VerifyException`` and a
  ``GemforgeError``) with a one-line message naming the op, and a builder whose result
  type is inferred: ``Conv2DOp(x, w, b, stride=(2, 2), padding=(1, 1),
  output_scale=0.02, activation="relu")``. Read-back properties (``op.stride``,
  ``op.output_scale`` ...) return Python values, ``op.options()`` all of them, and
  ``op.with_options(**changes)`` builds a modified copy (for fusion passes).

Who consumes which op
---------------------
- ONNX import (issue "Whole networks") produces every op here.
- The optimizing path (issue "The optimizing path": epilogue fusion, partitioning,
  tiling) folds ``requantize`` / ``relu`` / ``clip`` / ``maxpool`` / ``add`` into the
  epilogue of ``conv2d`` and ``matmul`` (``output_scale``, ``activation``, ``clip``,
  ``pool_*``, ``residual``) and tiles those two onto the accelerator.
- The host fallback runs what the accelerator cannot: ``softmax``, ``avgpool``,
  ``global_avgpool``, the float islands ``lrn`` and ``channel_affine``, the per-channel
  table lookups ``lut`` (``fold-lut`` builds them from chains of element-wise ops), and any
  ``add`` / ``pad`` / ``concat`` / ``transpose`` / ``reshape`` left unfused.
"""

from xdsl.ir import Dialect

from gemforge.dialects.graph_common import GraphVerifyError
from gemforge.dialects.graph_constant import ConstantOp
from gemforge.dialects.graph_elementwise import AddOp, ClipOp, ReluOp, RequantizeOp, SoftmaxOp
from gemforge.dialects.graph_float import ChannelAffineOp, LRNOp
from gemforge.dialects.graph_lut import LutOp
from gemforge.dialects.graph_nn import Conv2DOp, MatmulOp
from gemforge.dialects.graph_norm import BatchNormOp
from gemforge.dialects.graph_pool import AvgPoolOp, GlobalAvgPoolOp, MaxPoolOp
from gemforge.dialects.graph_shape import ConcatOp, PadOp, ReshapeOp, TransposeOp
from gemforge.dialects.graph_syntax import GraphOp

Graph = Dialect(
    "graph",
    [
        ConstantOp,
        Conv2DOp,
        MatmulOp,
        AddOp,
        ReluOp,
        ClipOp,
        RequantizeOp,
        SoftmaxOp,
        MaxPoolOp,
        AvgPoolOp,
        GlobalAvgPoolOp,
        ReshapeOp,
        TransposeOp,
        ConcatOp,
        PadOp,
        BatchNormOp,
        LRNOp,
        ChannelAffineOp,
        LutOp,
    ],
    [],
)

__all__ = [
    "Graph",
    "GraphOp",
    "GraphVerifyError",
    "ConstantOp",
    "Conv2DOp",
    "MatmulOp",
    "AddOp",
    "ReluOp",
    "ClipOp",
    "RequantizeOp",
    "SoftmaxOp",
    "MaxPoolOp",
    "AvgPoolOp",
    "GlobalAvgPoolOp",
    "ReshapeOp",
    "TransposeOp",
    "ConcatOp",
    "PadOp",
    "BatchNormOp",
    "LRNOp",
    "ChannelAffineOp",
    "LutOp",
]
