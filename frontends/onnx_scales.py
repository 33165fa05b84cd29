"""The f32 scales of imported ops, computed so the graph ops' arithmetic reproduces
onnxruntime's CPU kernels.

- ``QLinearConv`` / ``QLinearMatMul`` / ``QGemm`` requantize with
  ``f32(acc) * (x_scale * w_scale / y_scale)``, the factor evaluated in float32 left
  to right, then round half to even and saturate (MLAS ``MlasRequantizeOutput``). The
  graph epilogue does the same with ``output_scale`` set to that very float32 number,
  so these ops match bit for bit.
- ``QLinearAdd`` (x86): ``rne(f32(a) * (sa / sc) + f32(b) * (sb / sc))`` in float32,
  which is ``graph.add``'s documented arithmetic on the same three scales.
- A change of scale outside a matmul (``QuantizeLinear(DequantizeLinear(x))``, the
  inputs of ``QLinearConcat``) is ``rne(f32(x * s_in) / s_out)`` in onnxruntime and
  ``rne(f32(x) * m)`` in ``graph.requantize``: :func:`requant_scale` searches the f32
  ``m`` next to ``s_in / s_out`` that agrees on all 256 int8 inputs.
- ``QLinearGlobalAveragePool`` divides an exact integer sum; :func:`pool_scale` picks
  the ``scale`` whose ``f32(scale) / f32(count)`` is the factor onnxruntime uses.

Known residual differences (measured in tests/onnx/test_onnxruntime_rounding.py):

- ``QLinearAdd``: onnxruntime's AVX2 kernel evaluates ``fma(a, ma, f32(b * mb))``
  (one rounding fewer); on all 65536 int8 pairs x 8 random scale triples about 1 in
  10**6 results differ, by 1.
- ``QLinearAveragePool`` sums dequantized floats and divides in float; ``graph.avgpool``
  divides the exact integer sum. When the exact average is a tie (x.5, e.g. windows of
  4 or 6 elements with equal input and output scales, as in QDQ models), onnxruntime's
  float noise picks the side and the result may differ by 1.
- The ``graph.softmax`` int8 form uses numpy's exp; onnxruntime's QLinearSoftmax uses
  a lookup table: 1 step apart at worst.
"""

from __future__ import annotations

import numpy as np

F32 = np.float32
_INT8 = np.arange(-128, 128, dtype=np.int32)


def f32(x: float) -> F32:
    return F32(x)


def matmul_output_scale(x_scale: float, w_scale: float, y_scale: float) -> float:
    """``x_scale * w_scale / y_scale`` as onnxruntime evaluates it (float32, left to right)."""
    return float(F32(F32(x_scale) * F32(w_scale)) / F32(y_scale))


def _neighbours(value: F32, radius: int):
    """``value`` and the f32 numbers up to ``radius`` ulps away, nearest first."""
    yield value
    up = down = value
    for _ in range(radius):
        up, down = np.nextafter(up, F32(np.inf)), np.nextafter(down, F32(0))
        yield up
        yield down


def requant_scale(s_in: float, s_out: float) -> tuple[float, int]:
    """(m, mismatches): the f32 ``m`` for which ``sat_i8(rne(f32(x) * m))`` equals
    onnxruntime's ``sat_i8(rne(f32(x * s_in) / s_out))`` on the most int8 ``x``
    (normally all 256; ``mismatches`` counts the others)."""
    x = _INT8.astype(F32)
    target = np.clip(np.rint((x * F32(s_in)) / F32(s_out)), -128, 127)
    best, best_bad = None, None
    for m in _neighbours(F32(F32(s_in) / F32(s_out)), 8):
        bad = int(np.count_nonzero(np.clip(np.rint(x * m), -128, 127) != target))
        if best_bad is None or bad < best_bad:
            best, best_bad = m, bad
        if bad == 0:
            break
    return float(best), best_bad


def pool_scale(factor: F32, count: int) -> float:
    """The f32 ``scale`` with ``f32(scale) / f32(count) == factor`` if one exists (else the
    nearest), so ``graph.avgpool`` / ``graph.global_avgpool`` multiply by ``factor``."""
    start = F32(F32(factor) * F32(count))
    for s in _neighbours(start, 8):
        if F32(s / F32(count)) == F32(factor):
            return float(s)
    return float(start)


def global_pool_factor(x_scale: float, y_scale: float, count: int) -> F32:
    """MLAS's global-average-pool requantization factor ``x_scale / (y_scale * count)``."""
    return F32(F32(x_scale) / F32(F32(y_scale) * F32(count)))


def quantize_input(x: np.ndarray, scale: float) -> np.ndarray:
    """``QuantizeLinear`` as MLAS computes it: ``sat_i8(rne(f32(x) / f32(scale)))``."""
    return np.clip(np.rint(np.asarray(x, dtype=F32) / F32(scale)), -128, 127).astype(np.int8)


def dequantize(q: np.ndarray, scale: float) -> np.ndarray:
    """``DequantizeLinear`` with zero point 0: ``f32(q) * f32(scale)``."""
    return q.astype(F32) * F32(scale)
