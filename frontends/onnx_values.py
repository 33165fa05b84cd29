"""What an ONNX tensor name stands for while a quantized model is imported.

- :class:`Quant`: an int8 (or int32) tensor in the IR with its real scale. A 4-D
  activation is kept NHWC in the IR (``nhwc`` True) while ONNX sees it NCHW.
- :class:`Const`: an initializer (numpy data, ONNX layout); weights stay here until an
  op consumes them, so each becomes exactly one ``graph.constant`` in its IR layout.
- :class:`Deq`: the float tensor ``scale * q`` produced by ``DequantizeLinear`` of a
  :class:`Quant` or a :class:`Const` (QDQ weights). Float ops that commute with a
  positive scale (ReLU, max pooling, reshapes) stay on the int8 data.
- :class:`Pending`: the float result of a float op over dequantized inputs (the QDQ
  form); it becomes an int8 op when a ``QuantizeLinear`` names its output scale.
- :class:`HostFloat`: a float tensor computed on the host after the int8 network (the
  float tail, e.g. a final Softmax).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue

NCHW_TO_NHWC = (0, 2, 3, 1)
NHWC_TO_NCHW = (0, 3, 1, 2)


@dataclass
class Quant:
    value: SSAValue
    scale: float
    nhwc: bool = False

    @property
    def ir_shape(self) -> tuple[int, ...]:
        typ = self.value.type
        assert isinstance(typ, TensorType)
        return tuple(typ.get_shape())

    @property
    def onnx_shape(self) -> tuple[int, ...]:
        shape = self.ir_shape
        return tuple(shape[i] for i in NHWC_TO_NCHW) if self.nhwc else shape


@dataclass
class Const:
    array: np.ndarray


@dataclass
class Deq:
    source: Quant | Const
    scale: float


@dataclass
class Pending:
    """``build(output_scale, activation)`` emits the int8 op and returns its Quant."""

    build: Callable[[float, str], Quant]
    what: str
    activation: str = "none"


@dataclass
class HostFloat:
    node_names: list[str] = field(default_factory=list)


Value = Quant | Const | Deq | Pending | HostFloat
