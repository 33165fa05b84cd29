"""Host (CPU) kernels: the ``HostOp`` items of a Program, run with numpy.

A kernel gets the input arrays and the output arrays (writable views of the DRAM tensors
named by the HostOp) and its attributes, writes the outputs, and returns
``(elements, macs)`` or ``(elements, macs, candidates)``; the simulator charges
``elements * target.host_element_cycles + macs * target.host_mac_cycles + candidates *
target.host_autotile_eval_cycles`` host cycles, starting once all previously issued
accelerator work is done.

Requantization everywhere is Gemmini's rule: ``sat(round_half_even(fp32(x) * fp32(scale)))``.

Kinds (attributes in brackets):

* ``autotile`` [candidates]: no data; the vendor library's ``tiled_conv_auto`` searching
  its tile sizes at run time, on the host, before it issues the convolution: ``candidates``
  tiles checked against the scratchpad and accumulator (two ``tiled_conv_total_spad_rows``
  calls each, with integer divisions; :func:`gemforge.backends.gemmini.library.conv_auto_search`).
* ``copy``: out = in (same element count; reshapes allowed).
* ``relu``: out = max(in, 0).
* ``requantize`` [scale, relu=False]: out = sat(rne(in * scale)) to out's dtype.
* ``add`` [scale_a=1, scale_b=1, relu=False]: out = sat(rne(a * scale_a + b * scale_b)),
  products and sum in fp32.
* ``max_pool2d`` [kernel, stride, padding=0]: NHWC, padding never wins.
* ``global_avg_pool`` [scale=1/(H*W)]: NHWC -> (N, C): sat(rne(sum_hw(x) * scale)).
* ``matmul`` [scale=None, relu=False]: (M, K) x (K, N) (+ bias (N,) int32 if a third input)
  in int32; requantized to out's dtype when ``scale`` is given.
* ``lut``: inputs [x0, ..., x_{n-1}, table], int8; with ``x`` the concatenation of the
  ``x_i`` along the last axis (equal leading extents), ``out[..., c] = table[c, x + 128]``
  with ``table`` (C, 256), or (1, 256) shared by every channel (``graph.lut``). One
  element visit per output element: each input element is read once and looked up once,
  like relu's or requantize's one visit (the concatenation is never copied).

Other components may add kinds with :func:`register`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from gemforge.graph_eval_ops import lut

Kernel = Callable[[list[np.ndarray], list[np.ndarray], dict], tuple[int, ...]]  # (elements, macs[, candidates])
KERNELS: dict[str, Kernel] = {}


def register(kind: str, fn: Kernel) -> None:
    """Add (or replace) a host kernel kind."""
    KERNELS[kind] = fn


def _kernel(kind: str):
    def deco(fn: Kernel) -> Kernel:
        register(kind, fn)
        return fn

    return deco


def saturate(x: np.ndarray, dtype) -> np.ndarray:
    dt = np.dtype(dtype)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return np.clip(x, info.min, info.max).astype(dt)
    return x.astype(dt)


def requant(x: np.ndarray, scale: float, dtype) -> np.ndarray:
    return saturate(np.rint(x.astype(np.float32) * np.float32(scale)), dtype)


@_kernel("autotile")
def _autotile(ins, outs, attrs):
    if ins or outs:
        raise ValueError("autotile reads and writes no tensors")
    return 0, 0, int(attrs["candidates"])


@_kernel("copy")
def _copy(ins, outs, attrs):
    outs[0][...] = ins[0].reshape(outs[0].shape)
    return outs[0].size, 0


@_kernel("relu")
def _relu(ins, outs, attrs):
    outs[0][...] = np.maximum(ins[0], 0).reshape(outs[0].shape)
    return outs[0].size, 0


@_kernel("requantize")
def _requantize(ins, outs, attrs):
    y = requant(ins[0], attrs["scale"], outs[0].dtype)
    outs[0][...] = (np.maximum(y, 0) if attrs.get("relu") else y).reshape(outs[0].shape)
    return outs[0].size, 0


@_kernel("add")
def _add(ins, outs, attrs):
    f = np.float32
    s = ins[0].astype(f) * f(attrs.get("scale_a", 1.0)) + ins[1].astype(f) * f(attrs.get("scale_b", 1.0))
    y = saturate(np.rint(s), outs[0].dtype)
    outs[0][...] = np.maximum(y, 0) if attrs.get("relu") else y
    return outs[0].size, 0


@_kernel("max_pool2d")
def _max_pool(ins, outs, attrs):
    x = ins[0]
    k, s, p = attrs["kernel"], attrs["stride"], attrs.get("padding", 0)
    n, h, w, c = x.shape
    lowest = np.iinfo(x.dtype).min if x.dtype.kind in "iu" else -np.inf
    xp = np.full((n, h + 2 * p, w + 2 * p, c), lowest, x.dtype)
    xp[:, p:p + h, p:p + w] = x
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    out = np.full((n, oh, ow, c), lowest, x.dtype)
    for i in range(k):
        for j in range(k):
            out = np.maximum(out, xp[:, i:i + s * oh:s, j:j + s * ow:s])
    outs[0][...] = out.reshape(outs[0].shape)
    return out.size * k * k, 0


@_kernel("global_avg_pool")
def _gap(ins, outs, attrs):
    x = ins[0]
    n, h, w, c = x.shape
    total = x.astype(np.int64).sum(axis=(1, 2))
    outs[0][...] = requant(total, attrs.get("scale", 1.0 / (h * w)), outs[0].dtype).reshape(outs[0].shape)
    return x.size, 0


@_kernel("matmul")
def _matmul(ins, outs, attrs):
    a, b = ins[0].astype(np.int64), ins[1].astype(np.int64)
    y = a @ b
    if len(ins) > 2:
        y = y + ins[2].astype(np.int64)
    y = y.astype(np.int64).astype(np.int32)  # int32 accumulation, wrapping
    if attrs.get("scale") is not None:
        y = requant(y, attrs["scale"], outs[0].dtype)
    else:
        y = saturate(y, outs[0].dtype)
    outs[0][...] = np.maximum(y, 0) if attrs.get("relu") else y
    return y.size, a.shape[0] * a.shape[1] * b.shape[1]


@_kernel("lut")
def _lut(ins, outs, attrs):
    outs[0][...] = lut(ins[:-1], ins[-1]).reshape(outs[0].shape)
    return outs[0].size, 0


from gemforge.sim import host_graph as _host_graph  # noqa: E402,F401  (graph-op kinds of whole networks)
