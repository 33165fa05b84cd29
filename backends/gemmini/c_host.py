"""Host kernels (Program ``HostOp``) as plain C functions over the DRAM image.

Each supported kind has a writer returning the function body; the semantics are those
of the simulator's numpy kernels (``gemforge.sim.host``), element for element.
A kind without a writer is a CBackendError naming the op. Writers of the whole-network
``graph.*`` kinds live in c_host_graph (data movement), c_host_graph_math (add, relu, requantize,
reshape, global_avgpool, matmul), c_host_conv, c_host_float (lrn, channel_affine) and c_host_softmax;
every kind of ``gemforge.sim.host.KERNELS`` has one.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from gemforge.backends.gemmini.c_expr import c_float
from gemforge.backends.gemmini.c_image import C_TYPES, CBackendError, ImageLayout
from gemforge.backends.gemmini.program import HostOp, Program

KernelWriter = Callable[[HostOp, ImageLayout, Program], list[str]]
WRITERS: dict[str, KernelWriter] = {}
KIND_HELPERS: dict[str, list[str]] = {}  # C functions a kind's kernels call, emitted once when the kind is used


def supported_kinds() -> list[str]:
    """Host-kernel kinds the C backend can emit."""
    return sorted(WRITERS)


def host_kernel(op: HostOp, fn: str, lay: ImageLayout, program: Program) -> list[str]:
    """``static void fn(void) { ... }`` computing ``op`` on the image."""
    writer = WRITERS.get(op.kind)
    if writer is None:
        raise CBackendError(f"program {program.name}: host kernel {op.kind}({', '.join(op.inputs)}) has no C "
                            f"implementation (supported: {', '.join(supported_kinds()) or 'none'})")
    return [f"static void {fn}(void) {{", *("  " + line for line in writer(op, lay, program)), "}"]


def ctype(program: Program, name: str) -> str:
    return C_TYPES[program.tensor(name).dtype]


# ----------------------------------------------------------------------------- helpers
def _f32(x: float) -> str:
    """An exact C float literal for ``np.float32(x)``."""
    v = float(np.float32(x))
    if not math.isfinite(v):
        raise CBackendError(f"host kernel scale {x!r} is not a finite float32")
    return c_float(v)


# (pointer macro, C element type, element count, shape) of a tensor
_TensorInfo = tuple[str, str, int, tuple[int, ...]]


def _tensor(program: Program, lay: ImageLayout, name: str) -> _TensorInfo:
    """(pointer macro, C element type, element count, shape) of a tensor."""
    t = program.tensor(name)
    return lay.pointer(name), C_TYPES[t.dtype], t.size, t.shape


def _store(ctype_: str, expr: str) -> str:
    """C expression converting a float ``expr`` (already rounded) to ``ctype_`` like numpy's
    clip-then-cast; floats are just cast."""
    if ctype_ in ("float", "double"):
        return f"({ctype_})({expr})"
    return f"gf_sat_{ctype_}({expr})"


def _relu(op: HostOp, expr: str) -> str:
    return f"({expr} > 0 ? {expr} : 0)" if op.attrs.get("relu") else expr


def _need(op: HostOp, n_in: int, n_out: int = 1) -> None:
    if len(op.inputs) not in ((n_in,) if isinstance(n_in, int) else n_in) or len(op.outputs) != n_out:
        raise CBackendError(f"host kernel {op.kind}({', '.join(op.inputs)}): expected {n_in} input(s) and "
                            f"{n_out} output(s)")


def _same_size(program: Program, op: HostOp, *names: str) -> int:
    sizes = {program.tensor(n).size for n in names}
    if len(sizes) != 1:
        raise CBackendError(f"host kernel {op.kind}({', '.join(op.inputs)}): tensors {', '.join(names)} differ in size")
    return sizes.pop()


def _in_out(op: HostOp, lay: ImageLayout, program: Program) -> tuple[_TensorInfo, _TensorInfo]:
    """Checks a one-input kernel; returns the ``_tensor`` facts of its input and output."""
    _need(op, 1)
    return _tensor(program, lay, op.inputs[0]), _tensor(program, lay, op.outputs[0])


def _unary(op: HostOp, lay: ImageLayout, program: Program) -> tuple[str, str, str, int]:
    """Checks an element-wise one-input kernel; returns (source, destination, destination C type, size)."""
    (src, _, _, _), (dst, dt, _, _) = _in_out(op, lay, program)
    return src, dst, dt, _same_size(program, op, op.inputs[0], op.outputs[0])


def _writer(kind: str):
    def deco(fn: KernelWriter) -> KernelWriter:
        WRITERS[kind] = fn
        return fn

    return deco


# ----------------------------------------------------------------------------- kernels
@_writer("autotile")
def _autotile(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    # The vendor library searches a conv's tile sizes on every tiled_conv_auto call; this
    # program's tiles were chosen when it was compiled, so it has nothing to search. (The
    # simulator still charges the search: it times the library as the library runs.)
    return [f"/* tiled_conv_auto's run-time tile search ({int(op.attrs['candidates'])} candidates): "
            "precomputed */"]


@_writer("copy")
def _copy(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    src, dst, dt, n = _unary(op, lay, program)
    return [f"for (size_t i = 0; i < {n}; i++) {dst}[i] = ({dt}){src}[i];"]


@_writer("relu")
def _relu_kernel(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    src, dst, dt, n = _unary(op, lay, program)
    if "float" in (dt, _in_out(op, lay, program)[0][1]):  # np.maximum keeps NaN: graph.relu's float path
        return WRITERS["graph.relu"](op, lay, program)
    return [f"for (size_t i = 0; i < {n}; i++) {dst}[i] = ({dt})({src}[i] > 0 ? {src}[i] : 0);"]


@_writer("requantize")
def _requantize(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    src, dst, dt, n = _unary(op, lay, program)
    scaled = f"gf_rne((float){src}[i] * {_f32(op.attrs['scale'])})"
    return [f"for (size_t i = 0; i < {n}; i++) {{",
            f"  {dt} y = {_store(dt, scaled)};",
            f"  {dst}[i] = {_relu(op, 'y')};",
            "}"]


@_writer("add")
def _add(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    _need(op, 2)
    a, b, out = (_tensor(program, lay, n) for n in (*op.inputs, op.outputs[0]))
    n = _same_size(program, op, *op.inputs, op.outputs[0])
    sa, sb = _f32(op.attrs.get("scale_a", 1.0)), _f32(op.attrs.get("scale_b", 1.0))
    dt = out[1]
    return [f"for (size_t i = 0; i < {n}; i++) {{",
            "  /* two fp32 products then an fp32 sum; volatile keeps them from fusing into an FMA */",
            f"  volatile float pa = (float){a[0]}[i] * {sa}, pb = (float){b[0]}[i] * {sb};",
            "  float s = pa + pb;",
            f"  {dt} y = {_store(dt, 'gf_rne(s)')};",
            f"  {out[0]}[i] = {_relu(op, 'y')};",
            "}"]


@_writer("lut")
def _lut(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    """Inputs x0..x_{n-1} then the table: one loop per input writes its channel range of
    the output (the inputs' channel concatenation is never built)."""
    if len(op.inputs) < 2 or len(op.outputs) != 1:
        raise CBackendError(f"host kernel lut({', '.join(op.inputs)}): expected inputs x0.. and a table, "
                            f"and 1 output")
    xs = [_tensor(program, lay, n) for n in op.inputs[:-1]]
    table, tt, _, tshape = _tensor(program, lay, op.inputs[-1])
    dst, dt, size, _ = _tensor(program, lay, op.outputs[0])
    channels = [shape[-1] if shape else 0 for _, _, _, shape in xs]
    c = sum(channels)
    pixels = {n // ci if ci else -1 for (_, _, n, _), ci in zip(xs, channels)}
    if len(pixels) != 1 or size != sum(n for _, _, n, _ in xs) or {tt, dt, *(x[1] for x in xs)} != {"int8_t"} or \
            len(tshape) != 2 or tshape[1] != 256 or tshape[0] not in (1, c):
        raise CBackendError(f"host kernel lut({', '.join(op.inputs)}): needs int8 inputs (..., C_i) with equal "
                            f"leading extents, an int8 table (C or 1, 256) and an int8 output of their summed "
                            f"size; got {', '.join(str(x[3]) for x in xs)}, table {tshape}")
    lines, start, n_px = [], 0, size // c if c else 0
    for (src, _, _, _), ci in zip(xs, channels):
        row = "" if tshape[0] == 1 else f"({start} + ch) * 256 + "
        lines += [f"for (size_t px = 0; px < {n_px}; px++)",
                  f"for (size_t ch = 0; ch < {ci}; ch++)",
                  f"  {dst}[px * {c} + {start} + ch] = {table}[{row}(size_t)({src}[px * {ci} + ch] + 128)];"]
        start += ci
    return lines


@_writer("max_pool2d")
def _max_pool(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    (src, st, _, shape), (dst, dt, size, _) = _in_out(op, lay, program)
    if len(shape) != 4:
        raise CBackendError(f"host kernel max_pool2d({op.inputs[0]}): input must be NHWC, shape {shape}")
    n, h, w, c = shape
    k, s, p = op.attrs["kernel"], op.attrs["stride"], op.attrs.get("padding", 0)
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    if n * oh * ow * c != size:
        raise CBackendError(f"host kernel max_pool2d({op.inputs[0]}): output {op.outputs[0]} has {size} elements, "
                            f"expected {n * oh * ow * c}")
    return max_pool_loops(src, st, dst, dt, (n, h, w, c), (oh, ow), (k, k), (s, s), (p, p))


def max_pool_loops(src: str, st: str, dst: str, dt: str, nhwc, out_hw, kernel, stride, top_left) -> list[str]:
    """C loops of an NHWC max pool; positions outside the input take no part."""
    (n, h, w, c), (oh, ow), (kh, kw), (sh, sw), (top, left) = nhwc, out_hw, kernel, stride, top_left
    lowest = "-INFINITY" if st in ("float", "double") else f"gf_lowest_{st}"
    return [f"for (size_t b = 0; b < {n}; b++)",
            f"for (size_t oy = 0; oy < {oh}; oy++)",
            f"for (size_t ox = 0; ox < {ow}; ox++)",
            f"for (size_t ch = 0; ch < {c}; ch++) {{",
            f"  {st} m = {lowest};  /* padding never wins */",
            f"  for (size_t ky = 0; ky < {kh}; ky++)",
            f"  for (size_t kx = 0; kx < {kw}; kx++) {{",
            f"    long y = (long)(oy * {sh} + ky) - {top}, x = (long)(ox * {sw} + kx) - {left};",
            f"    if (y < 0 || y >= {h} || x < 0 || x >= {w}) continue;",
            f"    {st} v = {src}[((b * {h} + (size_t)y) * {w} + (size_t)x) * {c} + ch];",
            "    if (v > m) m = v;",
            "  }",
            f"  {dst}[((b * {oh} + oy) * {ow} + ox) * {c} + ch] = ({dt})m;",
            "}"]


@_writer("global_avg_pool")
def _global_avg_pool(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    (src, _, _, shape), (dst, dt, size, _) = _in_out(op, lay, program)
    if len(shape) != 4 or size != shape[0] * shape[3]:
        raise CBackendError(f"host kernel global_avg_pool({op.inputs[0]}): needs NHWC input and (N, C) output")
    n, h, w, c = shape
    scale = _f32(op.attrs.get("scale", 1.0 / (h * w)))
    return [f"for (size_t b = 0; b < {n}; b++)",
            f"for (size_t ch = 0; ch < {c}; ch++) {{",
            "  int64_t total = 0;",
            f"  for (size_t i = 0; i < {h * w}; i++) total += {src}[(b * {h * w} + i) * {c} + ch];",
            f"  {dst}[b * {c} + ch] = {_store(dt, f'gf_rne((float)total * {scale})')};",
            "}"]


@_writer("matmul")
def _matmul(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    _need(op, (2, 3))
    a, b = (_tensor(program, lay, x) for x in op.inputs[:2])
    out = _tensor(program, lay, op.outputs[0])
    if len(a[3]) != 2 or len(b[3]) != 2 or a[3][1] != b[3][0] or out[2] != a[3][0] * b[3][1]:
        raise CBackendError(f"host kernel matmul({', '.join(op.inputs)}): shapes {a[3]} x {b[3]} -> "
                            f"{program.tensor(op.outputs[0]).shape} do not match")
    m, k, n = a[3][0], a[3][1], b[3][1]
    dt = out[1]
    bias = f" + (int64_t){_tensor(program, lay, op.inputs[2])[0]}[j]" if len(op.inputs) > 2 else ""
    scale = op.attrs.get("scale")
    value = _store(dt, f"gf_rne((float)acc * {_f32(scale)})") if scale is not None else _store(dt, "acc")
    return [f"for (size_t i = 0; i < {m}; i++)",
            f"for (size_t j = 0; j < {n}; j++) {{",
            "  int64_t sum = 0;",
            f"  for (size_t x = 0; x < {k}; x++) sum += (int64_t){a[0]}[i * {k} + x] * (int64_t){b[0]}[x * {n} + j];",
            f"  int32_t acc = (int32_t)(uint32_t)(uint64_t)(sum{bias});  /* int32 accumulation wraps */",
            f"  {dt} y = {value};",
            f"  {out[0]}[i * {n} + j] = {_relu(op, 'y')};",
            "}"]


def runtime_helpers(kinds: set[str]) -> list[str]:
    """Rounding and saturation helpers the kernels use (emitted once per file)."""
    if not kinds:
        return []
    lines = [
        "/* Round half to even in fp32 without libm (exact for |v| < 2^23; larger fp32 values are integers). */",
        "/* volatile: the argument is rounded to fp32 first (no FMA with a caller's product) and",
        " * the adds are not folded away, even under -ffast-math as gemmini-rocc-tests builds. */",
        "static inline float gf_rne(float x) {",
        "  volatile float v = x;",
        "  const float big = 0x1.0p23f;",
        "  float w = v;",
        "  if (w >= big || w <= -big || w != w) return w;",
        "  volatile float t = w >= 0 ? w + big : w - big;",
        "  return w >= 0 ? t - big : t + big;",
        "}",
    ]
    for ct, lo, hi in (("int8_t", "INT8_MIN", "INT8_MAX"), ("uint8_t", "0", "UINT8_MAX"),
                       ("int16_t", "INT16_MIN", "INT16_MAX"), ("uint16_t", "0", "UINT16_MAX"),
                       ("int32_t", "INT32_MIN", "INT32_MAX"), ("uint32_t", "0", "UINT32_MAX"),
                       ("int64_t", "INT64_MIN", "INT64_MAX"), ("uint64_t", "0", "UINT64_MAX")):
        lines += [f"static inline {ct} gf_sat_{ct}(double v) {{  /* clip, then truncate like numpy */",
                  f"  return v <= (double){lo} ? {lo} : v >= (double){hi} ? {hi} : ({ct})v;",
                  "}",
                  f"#define gf_lowest_{ct} {lo}"]
    for kind in sorted(set(kinds) & set(KIND_HELPERS)):
        lines += KIND_HELPERS[kind]
    return lines


from gemforge.backends.gemmini import c_host_graph as _c_host_graph  # noqa: E402,F401  (graph-op kernels)
from gemforge.backends.gemmini import c_host_float as _c_host_float  # noqa: E402,F401  (lrn, channel_affine)
from gemforge.backends.gemmini import c_host_conv as _c_host_conv  # noqa: E402,F401  (host graph.conv2d)
from gemforge.backends.gemmini import c_host_graph_math as _c_host_graph_math  # noqa: E402,F401  (add, matmul, ...)
from gemforge.backends.gemmini import c_host_softmax as _c_host_softmax  # noqa: E402,F401  (graph.softmax)
