"""C versions of the data-movement host kernels of whole networks
(:mod:`gemforge.sim.host_graph`): ``slice_channels``, ``graph.concat``,
``graph.transpose``, ``graph.pad``, ``graph.clip``, and the pools ``graph.maxpool`` and
``graph.avgpool`` (any window, stride and padding). Integer or float data, element for element what the numpy
kernels compute; registered into :data:`gemforge.backends.gemmini.c_host.WRITERS`.
"""

from __future__ import annotations

import numpy as np

from gemforge.backends.gemmini.c_host import _f32, _in_out, _need, _store, _tensor, _writer, max_pool_loops
from gemforge.backends.gemmini.c_image import CBackendError, ImageLayout
from gemforge.backends.gemmini.program import HostOp, Program
from gemforge.graph_eval_ops import window_counts


def _strides(shape) -> list[int]:
    """Row-major element strides of ``shape``."""
    out, step = [], 1
    for d in reversed(shape):
        out.append(step)
        step *= d
    return out[::-1]


def _fail(op: HostOp, why: str) -> CBackendError:
    return CBackendError(f"host kernel {op.kind}({', '.join(op.inputs)}): {why}")


@_writer("slice_channels")
def _slice_channels(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    (src, _, size, shape), (dst, dt, out_size, _) = _in_out(op, lay, program)
    start, stop, c = op.attrs["start"], op.attrs["stop"], shape[-1]
    width = stop - start
    if not 0 <= start < stop <= c or out_size * c != size * width:
        raise _fail(op, f"channels [{start}, {stop}) of {shape} do not give {out_size} elements")
    return [f"for (size_t i = 0; i < {size // c}; i++)",
            f"for (size_t ch = 0; ch < {width}; ch++) {dst}[i * {width} + ch] = ({dt}){src}[i * {c} + {start} + ch];"]


@_writer("graph.concat")
def _concat(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    dst, dt, size, out_shape = _tensor(program, lay, op.outputs[0])
    axis = op.attrs["axis"]
    outer = int(np.prod(out_shape[:axis], dtype=np.int64))
    row = int(np.prod(out_shape[axis:], dtype=np.int64))  # output elements per outer index
    lines, offset = [], 0
    for name in op.inputs:
        src, _, n, shape = _tensor(program, lay, name)
        chunk = int(np.prod(shape[axis:], dtype=np.int64))
        lines += [f"for (size_t o = 0; o < {outer}; o++)",
                  f"for (size_t i = 0; i < {chunk}; i++) {dst}[o * {row} + {offset} + i] = ({dt}){src}[o * {chunk} + i];"]
        offset += chunk
    if offset != row or outer * row != size:
        raise _fail(op, f"inputs do not fill the output {out_shape} along axis {axis}")
    return lines


def _loops(shape, body: list[str]) -> list[str]:
    """Nested loops over every index ``i0, i1, ...`` of ``shape`` around ``body``."""
    heads = [f"for (size_t i{d} = 0; i{d} < {n}; i{d}++)" for d, n in enumerate(shape)]
    return [*heads, "{", *("  " + line for line in body), "}"]


def _index(strides, names) -> str:
    return " + ".join(f"{n} * {s}" for n, s in zip(names, strides)) or "0"


@_writer("graph.transpose")
def _transpose(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    (src, _, _, shape), (dst, dt, _, out_shape) = _in_out(op, lay, program)
    perm = op.attrs["perm"]
    if tuple(shape[p] for p in perm) != tuple(out_shape):
        raise _fail(op, f"perm {perm} of {shape} is not {out_shape}")
    in_strides = _strides(shape)
    # output index d walks input axis perm[d]
    src_index = _index([in_strides[p] for p in perm], [f"i{d}" for d in range(len(perm))])
    dst_index = _index(_strides(out_shape), [f"i{d}" for d in range(len(perm))])
    return _loops(out_shape, [f"{dst}[{dst_index}] = ({dt}){src}[{src_index}];"])


@_writer("graph.pad")
def _pad(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    (src, _, _, shape), (dst, dt, _, out_shape) = _in_out(op, lay, program)
    pads, rank = op.attrs["pads"], len(shape)
    if any(shape[d] + pads[d] + pads[d + rank] != out_shape[d] for d in range(rank)):
        raise _fail(op, f"pads {pads} of {shape} do not give {out_shape}")
    inside = " && ".join(f"i{d} >= {pads[d]} && i{d} < {pads[d] + shape[d]}" for d in range(rank)) or "1"
    src_index = _index(_strides(shape), [f"(i{d} - {pads[d]})" for d in range(rank)])
    dst_index = _index(_strides(out_shape), [f"i{d}" for d in range(rank)])
    value = op.attrs["value"]
    return _loops(out_shape, [f"{dst}[{dst_index}] = ({inside}) ? ({dt}){src}[{src_index}] : ({dt})({value});"])


@_writer("graph.clip")
def _clip(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    (src, _, n, _), (dst, dt, _, _) = _in_out(op, lay, program)
    lo, hi = op.attrs["min"], op.attrs["max"]
    return [f"for (size_t i = 0; i < {n}; i++) {{",
            f"  {dt} v = ({dt}){src}[i];",
            f"  {dst}[i] = v < ({dt})({lo}) ? ({dt})({lo}) : v > ({dt})({hi}) ? ({dt})({hi}) : v;",
            "}"]


def _pool_geometry(op: HostOp, shape, size: int):
    """NHWC pool window geometry, checked against the output's element count."""
    if len(shape) != 4:
        raise _fail(op, f"input must be NHWC, shape {shape}")
    n, h, w, c = shape
    (kh, kw), (sh, sw), pads = op.attrs["kernel"], op.attrs["stride"], op.attrs["padding"]
    top, left, bottom, right = pads
    oh, ow = (h + top + bottom - kh) // sh + 1, (w + left + right - kw) // sw + 1
    if n * oh * ow * c != size:
        raise _fail(op, f"output has {size} elements, expected {n * oh * ow * c}")
    return n, h, w, c, oh, ow, (kh, kw), (sh, sw), pads


@_writer("graph.maxpool")
def _maxpool(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    (src, st, _, shape), (dst, dt, size, _) = _in_out(op, lay, program)
    _need(op, 1)
    n, h, w, c, oh, ow, (kh, kw), (sh, sw), (top, left, _, _) = _pool_geometry(op, shape, size)
    return max_pool_loops(src, st, dst, dt, (n, h, w, c), (oh, ow), (kh, kw), (sh, sw), (top, left))


@_writer("graph.avgpool")
def _avgpool(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    """Exact integer window sums times a per-position float32 multiplier
    ``f32(scale) / f32(count)``, computed here with numpy (as the kernel does) and
    emitted as exact literals, so no C compiler's float division rules come in."""
    (src, _, _, shape), (dst, dt, size, _) = _in_out(op, lay, program)
    n, h, w, c, oh, ow, (kh, kw), (sh, sw), (top, left, _, _) = _pool_geometry(op, shape, size)
    inside = window_counts(h, w, (kh, kw), (sh, sw), op.attrs["padding"])
    counts = np.full((oh, ow), kh * kw) if op.attrs["count_include_pad"] else inside
    mult = np.float32(op.attrs["scale"]) / counts.astype(np.float32)
    table = ", ".join(_f32(float(m)) for m in mult.reshape(-1))
    # partial_only: the outputs whose window reaches into the padding (network_avgpool.py)
    skip, counted = [], []
    if op.attrs.get("partial_only"):
        skip = [f"  if ({kh * kw} == window[oy * {ow} + ox]) continue;"]
        counted = [f"static const int window[{oh * ow}] = {{{', '.join(str(int(v)) for v in inside.reshape(-1))}}};"]
    return [f"static const float mult[{oh * ow}] = {{{table}}};", *counted,
            f"for (size_t b = 0; b < {n}; b++)",
            f"for (size_t oy = 0; oy < {oh}; oy++)",
            f"for (size_t ox = 0; ox < {ow}; ox++)",
            f"for (size_t ch = 0; ch < {c}; ch++) {{", *skip,
            "  int64_t total = 0;  /* the window clipped to the image: padding adds 0 */",
            f"  long y0 = (long)(oy * {sh}) - {top}, x0 = (long)(ox * {sw}) - {left};",
            f"  long y1 = y0 + {kh} < {h} ? y0 + {kh} : {h}, x1 = x0 + {kw} < {w} ? x0 + {kw} : {w};",
            "  for (long y = y0 < 0 ? 0 : y0; y < y1; y++)",
            "  for (long x = x0 < 0 ? 0 : x0; x < x1; x++)",
            f"    total += {src}[((b * {h} + (size_t)y) * {w} + (size_t)x) * {c} + ch];",
            f"  {dst}[((b * {oh} + oy) * {ow} + ox) * {c} + ch] = {_store(dt, f'gf_rne((float)total * mult[oy * {ow} + ox])')};",
            "}"]
