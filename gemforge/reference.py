"""Numpy references: the exact integer arithmetic every compiled program must reproduce.

Quantization is symmetric (zero point 0). An int32 accumulator becomes int8 by
``requantize``: multiply by an fp32 scale in float32, round half to even, saturate to
[-128, 127], then apply the activation. This is what Gemmini's mvout scaling does.
"""

from __future__ import annotations

import numpy as np


def matmul(a: np.ndarray, b: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """int8 [M,K] x int8 [K,N] (+ int32 bias [N]) -> int32 [M,N], exact."""
    out = a.astype(np.int64) @ b.astype(np.int64)
    if bias is not None:
        out = out + bias.astype(np.int64)
    return _wrap_int32(out)


def conv2d(
    x: np.ndarray,
    w: np.ndarray,
    bias: np.ndarray | None = None,
    stride: int = 1,
    pad: int = 0,
    dilation: int = 1,
    groups: int = 1,
) -> np.ndarray:
    """NHWC int8 input, HWIO int8 weights ([KH, KW, Cin/groups, Cout]) -> NHWC int32, exact."""
    n, h, wd, c = x.shape
    kh, kw, cg, cout = w.shape
    if c != cg * groups or cout % groups:
        raise ValueError(f"conv2d reference: channels {c} / {cg}x{groups}, out {cout} do not match groups")
    xp = np.pad(x.astype(np.int64), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    oh = (h + 2 * pad - dilation * (kh - 1) - 1) // stride + 1
    ow = (wd + 2 * pad - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((n, oh, ow, cout), dtype=np.int64)
    og = cout // groups
    w64 = w.astype(np.int64)
    for r in range(kh):
        for s in range(kw):
            rows = xp[:, r * dilation : r * dilation + stride * (oh - 1) + 1 : stride,
                      s * dilation : s * dilation + stride * (ow - 1) + 1 : stride, :]
            for g in range(groups):
                out[..., g * og : (g + 1) * og] += rows[..., g * cg : (g + 1) * cg] @ w64[r, s, :, g * og : (g + 1) * og]
    if bias is not None:
        out += bias.astype(np.int64)
    return _wrap_int32(out)


def requantize(acc: np.ndarray, scale: float, activation: str = "none", clip: tuple[int, int] | None = None) -> np.ndarray:
    """int32 -> int8: float32 multiply, round half to even, saturate, then ReLU/clip."""
    y = np.rint(acc.astype(np.float32) * np.float32(scale))
    y = np.clip(y, -128, 127)
    if activation == "relu":
        y = np.maximum(y, 0)
    elif activation != "none":
        raise ValueError(f"unknown activation '{activation}'")
    if clip is not None:
        y = np.clip(y, clip[0], clip[1])
    return y.astype(np.int8)


def maxpool(x: np.ndarray, size: int, stride: int, pad: int = 0) -> np.ndarray:
    """NHWC max pooling; padding never wins (it is -inf)."""
    n, h, w, c = x.shape
    info = np.iinfo(x.dtype) if np.issubdtype(x.dtype, np.integer) else None
    low = info.min if info else -np.inf
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), constant_values=low)
    oh = (h + 2 * pad - size) // stride + 1
    ow = (w + 2 * pad - size) // stride + 1
    out = np.full((n, oh, ow, c), low, dtype=x.dtype)
    for r in range(size):
        for s in range(size):
            out = np.maximum(out, xp[:, r : r + stride * (oh - 1) + 1 : stride, s : s + stride * (ow - 1) + 1 : stride, :])
    return out


def _wrap_int32(x: np.ndarray) -> np.ndarray:
    return x.astype(np.int32)
