"""Numpy kernels of the graph dialect, one per op, with the exact integer semantics
stated in each op's docstring (notation of :mod:`gemforge.dialects.graph_epilogue`).

All float steps are float32 numpy operations evaluated in the documented order, so
each kernel is a bit-exact reference. Integer products are summed in float64 BLAS:
every int8 x int8 product and every partial sum below 2**53 is an exact float64, so
the sums equal the int64 ones (and run at BLAS speed instead of numpy's integer loop).
"""

from __future__ import annotations

import numpy as np

I8_MIN, I8_MAX = -128, 127
I32_MIN, I32_MAX = -(2**31), 2**31 - 1
_EXACT_F64 = 2**53


def wrap_i32(x: np.ndarray) -> np.ndarray:
    """Two's-complement wrap-around of an int64 array into int32."""
    return ((x.astype(np.int64) - I32_MIN) % 2**32 + I32_MIN).astype(np.int32)


def sat_i8(x: np.ndarray) -> np.ndarray:
    return np.clip(x, I8_MIN, I8_MAX).astype(np.int8)


def scale_to_i8(x: np.ndarray, scale: float) -> np.ndarray:
    """``sat_i8(rne(f32(x) * f32(scale)))``: requantize / the epilogue's output scaling."""
    return sat_i8(np.rint(x.astype(np.float32) * np.float32(scale)))


def exact_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """int8/int32 ``a @ b`` as exact int64, computed with float64 BLAS when that is exact."""
    k = a.shape[-1]
    bound = float(np.abs(a).max(initial=0)) * float(np.abs(b).max(initial=0)) * k
    if bound < _EXACT_F64:
        return np.matmul(a.astype(np.float64), b.astype(np.float64)).astype(np.int64)
    return np.matmul(a.astype(np.int64), b.astype(np.int64))


def activation(y: np.ndarray, act: str | None, clip) -> np.ndarray:
    """The optional ReLU or clip of an epilogue, in the result's units."""
    if clip is not None:
        return np.clip(y, clip[0], clip[1]).astype(y.dtype)
    if act == "relu":
        return np.maximum(y, 0).astype(y.dtype)
    return y


def epilogue(acc: np.ndarray, opts: dict, residual: np.ndarray | None) -> np.ndarray:
    """Residual, output scaling and activation applied to int32 accumulators."""
    acc = acc.astype(np.int64)
    if residual is not None:
        scaled = np.rint(residual.astype(np.float32) * np.float32(opts["residual_scale"]))
        acc = wrap_i32(acc + np.clip(scaled, I32_MIN, I32_MAX).astype(np.int64))
    y = scale_to_i8(acc, opts["output_scale"]) if opts["output_scale"] is not None else wrap_i32(acc)
    return activation(y, opts["activation"], opts["clip"])


def conv2d(x, w, bias, stride, padding, dilation, groups) -> np.ndarray:
    """Exact int32 accumulators of ``graph.conv2d`` (NHWC x HWIO, [top, left, bottom, right])."""
    n, h, wd, c = x.shape
    kh, kw, cg, co = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    top, left, bottom, right = padding
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    oh = (h + top + bottom - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + left + right - dw * (kw - 1) - 1) // sw + 1
    og = co // groups
    out = np.zeros((n, oh, ow, co), dtype=np.int64)
    for g in range(groups):
        # im2col for this group: [N*OH*OW, KH*KW*Cg] against [KH*KW*Cg, OG].
        cols = [
            xp[:, r * dh : r * dh + sh * (oh - 1) + 1 : sh, s * dw : s * dw + sw * (ow - 1) + 1 : sw, g * cg : (g + 1) * cg]
            for r in range(kh)
            for s in range(kw)
        ]
        patches = np.concatenate(cols, axis=-1).reshape(n * oh * ow, kh * kw * cg)
        weights = w[:, :, :, g * og : (g + 1) * og].reshape(kh * kw * cg, og)
        out[..., g * og : (g + 1) * og] = exact_matmul(patches, weights).reshape(n, oh, ow, og)
    if bias is not None:
        out += bias.astype(np.int64)
    return out


def _windows(x: np.ndarray, kernel, stride, padding, fill):
    """Yield every window offset's strided view of the padded NHWC input."""
    (kh, kw), (sh, sw) = kernel, stride
    top, left, bottom, right = padding
    n, h, w, c = x.shape
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=fill)
    oh = (h + top + bottom - kh) // sh + 1
    ow = (w + left + right - kw) // sw + 1
    for r in range(kh):
        for s in range(kw):
            yield xp[:, r : r + sh * (oh - 1) + 1 : sh, s : s + sw * (ow - 1) + 1 : sw, :]


def maxpool(x, kernel, stride, padding) -> np.ndarray:
    """Max over windows; padded positions take no part (they hold the type's minimum)."""
    low = np.iinfo(x.dtype).min
    out = None
    for view in _windows(x, kernel, stride, padding, low):
        out = view.copy() if out is None else np.maximum(out, view)
    return out


def window_counts(h: int, w: int, kernel, stride, padding) -> np.ndarray:
    """[OH, OW]: how many input elements each pooling window covers (padding excluded)."""
    (kh, kw), (sh, sw) = kernel, stride
    top, left, bottom, right = padding
    ys = np.arange((h + top + bottom - kh) // sh + 1)[:, None] * sh - top
    xs = np.arange((w + left + right - kw) // sw + 1)[None, :] * sw - left
    return (np.minimum(ys + kh, h) - np.maximum(ys, 0)) * (np.minimum(xs + kw, w) - np.maximum(xs, 0))


def avgpool(x, kernel, stride, padding, count_include_pad, scale) -> np.ndarray:
    total = None
    for view in _windows(x.astype(np.int64), kernel, stride, padding, 0):
        total = view.copy() if total is None else total + view
    if count_include_pad:
        count = np.float32(kernel[0] * kernel[1])
    else:
        count = window_counts(x.shape[1], x.shape[2], kernel, stride, padding).astype(np.float32)[None, :, :, None]
    return sat_i8(np.rint(total.astype(np.float32) * (np.float32(scale) / count)))


def global_avgpool(x, scale) -> np.ndarray:
    n, h, w, c = x.shape
    total = x.astype(np.int64).sum(axis=(1, 2), keepdims=True)
    return sat_i8(np.rint(total.astype(np.float32) * (np.float32(scale) / np.float32(h * w))))


def add(a, b, lhs_scale, rhs_scale, output_scale, act, clip) -> np.ndarray:
    if a.dtype == np.int32:
        y = wrap_i32(a.astype(np.int64) + b.astype(np.int64))
    else:
        ma = np.float32(lhs_scale) / np.float32(output_scale)
        mb = np.float32(rhs_scale) / np.float32(output_scale)
        y = sat_i8(np.rint(a.astype(np.float32) * ma + b.astype(np.float32) * mb))
    return activation(y, act, clip)


def softmax(x, axis, input_scale, output_scale) -> np.ndarray:
    v = x.astype(np.float32)
    if input_scale is not None:
        v = v * np.float32(input_scale)
    e = np.exp(v - v.max(axis=axis, keepdims=True))
    y = e / e.sum(axis=axis, keepdims=True, dtype=np.float32)
    if output_scale is None:
        return y.astype(np.float32)
    return sat_i8(np.rint(y / np.float32(output_scale)))


def quantize_f32(t: np.ndarray, output_scale: float) -> np.ndarray:
    """ONNX ``QuantizeLinear`` of a float32 tensor: ``sat_i8(rne(t / f32(scale)))``."""
    return sat_i8(np.rint(t.astype(np.float32) / np.float32(output_scale)))


def lrn(x, size, alpha, beta, bias, input_scale, output_scale) -> np.ndarray:
    """``graph.lrn`` on NHWC int8: onnxruntime's running window sum over channels,
    one float32 operation per step (see the op's docstring)."""
    f = np.float32
    v = x.astype(f) * f(input_scale)
    channels, pre = v.shape[-1], (size - 1) // 2
    squares = np.zeros((*v.shape[:-1], channels + size - 1), f)
    squares[..., pre:pre + channels] = v * v
    a = f(alpha) / f(size)
    s = np.full(v.shape[:-1], f(bias), f)
    for k in range(size):
        s = s + a * squares[..., k]
    d = np.empty_like(v)
    d[..., 0] = s
    for c in range(1, channels):
        s = s + a * squares[..., c + size - 1]
        s = s + (-a) * squares[..., c - 1]
        d[..., c] = s
    return quantize_f32(v * np.power(d, -f(beta)), output_scale)


def channel_affine(x, scale, shift, multiplier, input_scale, output_scale) -> np.ndarray:
    """``graph.channel_affine``: ``((v * scale) + shift) * multiplier``, float32, channels last."""
    f = np.float32
    v = x.astype(f) * f(input_scale)
    t = (v * scale.astype(f) + shift.astype(f)) * multiplier.astype(f)
    return quantize_f32(t, output_scale)


def lut(x, table) -> np.ndarray:
    """``graph.lut``: ``y[..., c] = table[c, v[..., c] + 128]`` with ``v`` = ``x``, or the
    concatenation of the arrays ``x`` along the last axis (row 0 for every channel when the
    table has one row). Leading extents broadcast."""
    parts = [x] if isinstance(x, np.ndarray) else list(x)
    channels = sum(p.shape[-1] for p in parts)
    lead = np.broadcast_shapes(*(p.shape[:-1] for p in parts))
    y = np.empty((*lead, channels), table.dtype)
    start = 0
    for p in parts:
        c, index = p.shape[-1], p.astype(np.intp) + 128
        rows = table[:1] if table.shape[0] == 1 else table[start:start + c]
        # the row index broadcasts along the last axis (one row per channel, or row 0 for all)
        y[..., start:start + c] = rows[np.arange(c) if len(rows) > 1 else 0, index]
        start += c
    return y
