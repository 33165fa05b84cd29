"""Host kernels for graph ops that do not run on the accelerator (the network's host fallback).

Each kind is named after the graph op it runs (``graph.add``, ``graph.maxpool``, ...) and
computes exactly what :mod:`gemforge.graph_eval` computes for that op, by calling the
same kernels (:mod:`gemforge.graph_eval_ops`), so a network whose host part runs here is
bit-exact against the numpy reference by construction. Attributes are the op's
properties as JSON values (lists for tuples); optional operands are announced by
``has_bias`` / ``has_residual`` and then follow the required inputs in that order.

CPU cost model (what each kernel returns as ``(elements, macs)``; the simulator charges
``elements * target.host_element_cycles + macs * target.host_mac_cycles``):

* ``elements`` counts element visits: one per output element for element-wise ops,
  copies and layout changes (reshape, transpose, concat, pad, requantize, relu, clip,
  add, and the generic ``lut`` table lookup of :mod:`gemforge.sim.host`); one per window element read for pools (``out * kh * kw``; the global average
  pool reads every input element; ``graph.avgpool`` with ``partial_only`` computes and
  writes only the outputs whose window reaches into the padding, see
  :mod:`gemforge.network_avgpool`); four per element for softmax (max, exp, sum, divide);
  one per output element for the epilogue of a host conv / matmul; for the float
  islands, one per float32 step: six per element for LRN (dequantize and square, add
  head, subtract tail, pow, multiply, quantize), four for ``channel_affine``
  (dequantize, multiply-add, multiply, quantize).
* ``macs`` counts multiply-accumulates of a host conv / matmul (groups included).

Kinds: ``graph.conv2d``, ``graph.matmul``, ``graph.add``, ``graph.relu``, ``graph.clip``,
``graph.requantize``, ``graph.softmax``, ``graph.maxpool``, ``graph.avgpool``,
``graph.global_avgpool``, ``graph.reshape``, ``graph.transpose``, ``graph.concat``,
``graph.pad``, ``graph.lrn``, ``graph.channel_affine``; and ``slice_channels``
[start, stop] (``out = in[..., start:stop]``: one group's input channels when a grouped
convolution runs group by group).
"""

from __future__ import annotations

import numpy as np

from gemforge import graph_eval_ops as K
from gemforge.sim.host import register

SOFTMAX_VISITS = 4  # max, subtract + exp, sum, divide: element visits per softmax element
LRN_VISITS = 6  # dequantize + square, add head, subtract tail, pow, multiply, quantize
AFFINE_VISITS = 4  # dequantize, multiply-add, multiply, quantize


def _t(v):
    """A JSON list back to the tuple the kernels take (None stays None)."""
    return None if v is None else tuple(v)


def _epilogue_opts(a: dict) -> dict:
    return {"output_scale": a.get("output_scale"), "activation": a.get("activation"), "clip": _t(a.get("clip")),
            "residual_scale": a.get("residual_scale")}


def _optional(ins, attrs, start: int):
    """(bias, residual) from the inputs after the ``start`` required ones."""
    rest = list(ins[start:])
    bias = rest.pop(0) if attrs.get("has_bias") else None
    residual = rest.pop(0) if attrs.get("has_residual") else None
    return bias, residual


def _store(outs, y: np.ndarray) -> None:
    outs[0][...] = y.reshape(outs[0].shape)


def _conv2d(ins, outs, a):
    x, w = ins[0], ins[1]
    bias, residual = _optional(ins, a, 2)
    acc = K.conv2d(x, w, bias, _t(a["stride"]), _t(a["padding"]), _t(a["dilation"]), a["groups"])
    y = K.epilogue(acc, _epilogue_opts(a), residual)
    if a.get("pool_kernel") is not None:
        y = K.maxpool(y, _t(a["pool_kernel"]), _t(a["pool_stride"]), _t(a["pool_padding"]))
    _store(outs, y)
    kh, kw, cg, co = w.shape
    return int(y.size), int(acc.size) * kh * kw * cg


def _matmul(ins, outs, a):
    lhs, rhs = ins[0], ins[1]
    bias, residual = _optional(ins, a, 2)
    acc = K.exact_matmul(lhs, rhs)
    if bias is not None:
        acc = acc + bias.astype(np.int64)
    y = K.epilogue(acc, _epilogue_opts(a), residual)
    _store(outs, y)
    return int(y.size), int(y.size) * int(lhs.shape[-1])


def _add(ins, outs, a):
    y = K.add(ins[0], ins[1], a.get("lhs_scale"), a.get("rhs_scale"), a.get("output_scale"), a.get("activation"),
              _t(a.get("clip")))
    _store(outs, y)
    return int(y.size), 0


def _relu(ins, outs, a):
    _store(outs, np.maximum(ins[0], 0).astype(ins[0].dtype))
    return int(ins[0].size), 0


def _clip(ins, outs, a):
    _store(outs, np.clip(ins[0], a["min"], a["max"]).astype(ins[0].dtype))
    return int(ins[0].size), 0


def _requantize(ins, outs, a):
    _store(outs, K.scale_to_i8(ins[0], a["scale"]))
    return int(ins[0].size), 0


def _softmax(ins, outs, a):
    _store(outs, K.softmax(ins[0], a["axis"], a.get("input_scale"), a.get("output_scale")))
    return SOFTMAX_VISITS * int(ins[0].size), 0


def _maxpool(ins, outs, a):
    y = K.maxpool(ins[0], _t(a["kernel"]), _t(a["stride"]), _t(a["padding"]))
    _store(outs, y)
    return int(y.size) * int(np.prod(a["kernel"])), 0


def _avgpool(ins, outs, a):
    kernel, stride, padding = _t(a["kernel"]), _t(a["stride"]), _t(a["padding"])
    y = K.avgpool(ins[0], kernel, stride, padding, a["count_include_pad"], a["scale"])
    # one visit per input element a window covers (the kernel clips windows to the image)
    n, h, w, c = ins[0].shape
    covered = K.window_counts(h, w, kernel, stride, padding)
    if not a.get("partial_only"):
        _store(outs, y)
        return n * int(covered.sum()) * c, 0
    # only the windows that reach into the padding (the rest came from the accelerator)
    partial = covered < int(np.prod(kernel))
    out = outs[0].reshape(y.shape)
    out[:, partial, :] = y[:, partial, :]
    return n * int(covered[partial].sum()) * c, 0


def _global_avgpool(ins, outs, a):
    _store(outs, K.global_avgpool(ins[0], a["scale"]))
    return int(ins[0].size), 0


def _reshape(ins, outs, a):
    _store(outs, ins[0])
    return int(ins[0].size), 0


def _transpose(ins, outs, a):
    _store(outs, np.transpose(ins[0], a["perm"]))
    return int(ins[0].size), 0


def _concat(ins, outs, a):
    y = np.concatenate(list(ins), axis=a["axis"])
    _store(outs, y)
    return int(y.size), 0


def _pad(ins, outs, a):
    x, pads = ins[0], a["pads"]
    rank = x.ndim
    y = np.pad(x, [(pads[i], pads[i + rank]) for i in range(rank)], constant_values=a["value"])
    _store(outs, y)
    return int(y.size), 0


def _lrn(ins, outs, a):
    _store(outs, K.lrn(ins[0], a["size"], a["alpha"], a["beta"], a["bias"], a["input_scale"], a["output_scale"]))
    return LRN_VISITS * int(ins[0].size), 0


def _channel_affine(ins, outs, a):
    _store(outs, K.channel_affine(ins[0], ins[1], ins[2], ins[3], a["input_scale"], a["output_scale"]))
    return AFFINE_VISITS * int(ins[0].size), 0


def _slice_channels(ins, outs, a):
    _store(outs, ins[0][..., a["start"]:a["stop"]])
    return int(outs[0].size), 0


KINDS = {
    "slice_channels": _slice_channels,
    "graph.conv2d": _conv2d, "graph.matmul": _matmul, "graph.add": _add, "graph.relu": _relu, "graph.clip": _clip,
    "graph.requantize": _requantize, "graph.softmax": _softmax, "graph.maxpool": _maxpool,
    "graph.avgpool": _avgpool, "graph.global_avgpool": _global_avgpool, "graph.reshape": _reshape,
    "graph.transpose": _transpose, "graph.concat": _concat, "graph.pad": _pad,
    "graph.lrn": _lrn, "graph.channel_affine": _channel_affine,
}

for _kind, _fn in KINDS.items():
    register(_kind, _fn)
