"""C versions of the arithmetic host kernels of whole networks (:mod:`gemforge.sim.host_graph`):
``graph.add`` (int8 with float32 scales, or int32 wrapping), ``graph.relu``,
``graph.requantize``, ``graph.reshape``, ``graph.global_avgpool`` and ``graph.matmul``
(batched or shared right-hand side, bias, the graph epilogue of :mod:`c_host_conv`).

Bit-exact against ``gemforge.graph_eval_ops`` (``add``, ``scale_to_i8``, ``global_avgpool``,
``exact_matmul`` + ``epilogue``): integer sums are exact int64 and wrap into int32 where
numpy wraps; the float32 steps are one C operation per numpy operation, in numpy's order,
with the multipliers numpy divides out (``f32(lhs_scale) / f32(output_scale)``,
``f32(scale) / f32(H * W)``) computed here with numpy and emitted as exact literals; products
that an FMA could swallow go through ``volatile`` floats (the file is built with
``-ffast-math``). Float ``graph.relu`` follows ``np.maximum(x, 0)``: NaN stays NaN (tested on
the bits, which ``-ffast-math`` cannot assume away) and -0 becomes +0.
Registered into :data:`gemforge.backends.gemmini.c_host.WRITERS`.
"""

from __future__ import annotations

import numpy as np

from gemforge.backends.gemmini.c_host import _f32, _in_out, _need, _store, _tensor, _writer
from gemforge.backends.gemmini.c_host_conv import _operands, epilogue_lines
from gemforge.backends.gemmini.c_image import CBackendError, ImageLayout
from gemforge.backends.gemmini.program import HostOp, Program


def _fail(op: HostOp, why: str) -> CBackendError:
    return CBackendError(f"host kernel {op.kind}({', '.join(op.inputs)}): {why}")


def _sizes_match(op: HostOp, program: Program, *names: str) -> int:
    """The common element count of ``names`` (a one-line error naming the counts otherwise)."""
    sizes = [program.tensor(n).size for n in names]
    if len(set(sizes)) != 1:
        counts = ", ".join(f"{n} has {s}" for n, s in zip(names, sizes))
        raise _fail(op, f"element counts differ ({counts})")
    return sizes[0]


def _dtype(program: Program, name: str) -> str:
    return program.tensor(name).dtype


def _expect_dtype(op: HostOp, program: Program, name: str, dtypes: tuple[str, ...]) -> None:
    if _dtype(program, name) not in dtypes:
        raise _fail(op, f"{name} is {_dtype(program, name)}, expected {' or '.join(dtypes)}")


def _activation(op: HostOp, ct: str) -> list[str]:
    """The optional clip (it wins) or ReLU on ``ct y``, as ``graph_eval_ops.activation``."""
    a = op.attrs
    if a.get("clip") is not None:
        lo, hi = (int(v) for v in a["clip"])
        return [f"y = ({ct})(y < {lo} ? {lo} : y > {hi} ? {hi} : y);"]
    if a.get("activation") == "relu":
        return ["y = y > 0 ? y : 0;"]
    if a.get("activation") is not None:
        raise _fail(op, f"activation {a['activation']!r} is not relu")
    return []


@_writer("graph.add")
def _add(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    _need(op, 2)
    (a, b), out = op.inputs, op.outputs[0]
    n = _sizes_match(op, program, a, b, out)
    pa, pb, (dst, dt, _, _) = lay.pointer(a), lay.pointer(b), _tensor(program, lay, out)
    if _dtype(program, a) == "int32":  # numpy's int32 form: wrapping sum, no scales
        _expect_dtype(op, program, out, ("int32",))
        value = [f"int32_t y = (int32_t)(uint32_t)(uint64_t)((int64_t){pa}[i] + (int64_t){pb}[i]);  /* wraps */"]
        ct = "int32_t"
    else:
        _expect_dtype(op, program, a, ("int8",))
        _expect_dtype(op, program, out, ("int8",))
        scales = [op.attrs.get(k) for k in ("lhs_scale", "rhs_scale", "output_scale")]
        if any(s is None for s in scales):
            raise _fail(op, "int8 operands need lhs_scale, rhs_scale and output_scale")
        f = np.float32
        ma, mb = f(scales[0]) / f(scales[2]), f(scales[1]) / f(scales[2])  # numpy's float32 divisions
        value = ["/* two fp32 products then an fp32 sum; volatile keeps them from fusing into an FMA */",
                 f"volatile float xa = (float){pa}[i] * {_f32(ma)}, xb = (float){pb}[i] * {_f32(mb)};",
                 "float s = xa + xb;",
                 "int8_t y = gf_sat_int8_t(gf_rne(s));"]
        ct = "int8_t"
    return [f"for (size_t i = 0; i < {n}; i++) {{",
            *("  " + line for line in value + _activation(op, ct)),
            f"  {dst}[i] = ({dt})y;",
            "}"]


@_writer("graph.relu")
def _relu(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    (src, st, _, _), (dst, dt, _, _) = _in_out(op, lay, program)
    n = _sizes_match(op, program, op.inputs[0], op.outputs[0])
    if _dtype(program, op.inputs[0]) != _dtype(program, op.outputs[0]):
        raise _fail(op, f"output {op.outputs[0]} is {_dtype(program, op.outputs[0])}, the input "
                        f"{_dtype(program, op.inputs[0])}")
    if st != "float":
        _expect_dtype(op, program, op.inputs[0], ("int8", "int32"))
        return [f"for (size_t i = 0; i < {n}; i++) {dst}[i] = ({dt})({src}[i] > 0 ? {src}[i] : 0);"]
    return [f"for (size_t i = 0; i < {n}; i++) {{",
            f"  union {{ float f; uint32_t u; }} x = {{ {src}[i] }};",
            "  /* np.maximum(x, 0): NaN propagates (bit test: -ffast-math assumes no NaN), -0 gives +0 */",
            f"  {dst}[i] = (x.u & 0x7fffffffu) > 0x7f800000u ? x.f : (x.f > 0.0f ? x.f : 0.0f);",
            "}"]


@_writer("graph.requantize")
def _requantize(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    (src, _, _, _), (dst, dt, _, _) = _in_out(op, lay, program)
    n = _sizes_match(op, program, op.inputs[0], op.outputs[0])
    _expect_dtype(op, program, op.inputs[0], ("int8", "int32"))
    _expect_dtype(op, program, op.outputs[0], ("int8",))
    scaled = f"gf_rne((float){src}[i] * {_f32(op.attrs['scale'])})"  # gf_rne's volatile: no FMA, one rounding
    return [f"for (size_t i = 0; i < {n}; i++) {dst}[i] = ({dt})gf_sat_int8_t({scaled});"]


@_writer("graph.reshape")
def _reshape(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    (src, _, _, _), (dst, dt, _, _) = _in_out(op, lay, program)
    n = _sizes_match(op, program, op.inputs[0], op.outputs[0])
    if _dtype(program, op.inputs[0]) != _dtype(program, op.outputs[0]):
        raise _fail(op, f"reshape keeps the element type: {op.inputs[0]} is {_dtype(program, op.inputs[0])}, "
                        f"{op.outputs[0]} {_dtype(program, op.outputs[0])}")
    return [f"for (size_t i = 0; i < {n}; i++) {dst}[i] = {src}[i];  /* row-major order is kept */"]


@_writer("graph.global_avgpool")
def _global_avgpool(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    (src, _, _, shape), (dst, dt, size, _) = _in_out(op, lay, program)
    if len(shape) != 4:
        raise _fail(op, f"input must be NHWC, shape {shape}")
    n, h, w, c = shape
    if size != n * c:
        raise _fail(op, f"output {op.outputs[0]} has {size} elements, expected {n * c} ([N, 1, 1, C])")
    _expect_dtype(op, program, op.outputs[0], ("int8",))
    mult = np.float32(op.attrs["scale"]) / np.float32(h * w)  # numpy's float32 division, done here
    return [f"for (size_t b = 0; b < {n}; b++)",
            f"for (size_t ch = 0; ch < {c}; ch++) {{",
            "  int64_t total = 0;",
            f"  for (size_t i = 0; i < {h * w}; i++) total += {src}[(b * {h * w} + i) * {c} + ch];",
            f"  {dst}[b * {c} + ch] = {_store(dt, f'gf_rne((float)total * {_f32(mult)})')};",
            "}"]


def _matmul_shapes(op: HostOp, lhs_shape, rhs_shape) -> tuple[int, int, int, int, bool]:
    """(batches, M, K, N, rhs shared by every batch) of ``[B..., M, K] x [(B...,) K, N]``."""
    if len(lhs_shape) < 2 or len(rhs_shape) < 2:
        raise _fail(op, f"operands must have rank >= 2, shapes {lhs_shape} and {rhs_shape}")
    *batch, m, k = lhs_shape
    shared = len(rhs_shape) == 2
    if not shared and tuple(rhs_shape[:-2]) != tuple(batch):
        raise _fail(op, f"rhs {rhs_shape} must be [K, N] or carry the batch dims {list(batch)} of lhs")
    if rhs_shape[-2] != k:
        raise _fail(op, f"contraction mismatch: lhs {lhs_shape} has K = {k}, rhs {rhs_shape} has {rhs_shape[-2]}")
    return int(np.prod(batch, dtype=np.int64)), m, k, rhs_shape[-1], shared


@_writer("graph.matmul")
def _matmul(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    lhs, rhs, bias, residual = _operands(op)
    pa, _, _, ashape = _tensor(program, lay, lhs)
    pb, _, _, bshape = _tensor(program, lay, rhs)
    dst, dt, size, _ = _tensor(program, lay, op.outputs[0])
    batches, m, k, n, shared = _matmul_shapes(op, ashape, bshape)
    if size != batches * m * n:
        raise _fail(op, f"output {op.outputs[0]} has {size} elements, expected {batches * m * n}")
    if bias is not None and program.tensor(bias).size != n:
        raise _fail(op, f"bias {bias} has {program.tensor(bias).size} elements, expected {n}")
    if residual is not None and program.tensor(residual).size != size:
        raise _fail(op, f"residual {residual} has {program.tensor(residual).size} elements, expected {size}")
    ct = "int8_t" if op.attrs.get("output_scale") is not None else "int32_t"  # the epilogue's result type
    rhs_base = "0" if shared else f"bt * {k * n}"
    bias_init = f"(int64_t){lay.pointer(bias)}[j]" if bias is not None else "0"
    return [f"for (size_t bt = 0; bt < {batches}; bt++)",
            f"for (size_t r = 0; r < {m}; r++)",
            f"for (size_t j = 0; j < {n}; j++) {{",
            f"  size_t i = (bt * {m} + r) * {n} + j;  /* flat output (and residual) index */",
            f"  const size_t ai = (bt * {m} + r) * {k}, bi = {rhs_base} + j;",
            f"  int64_t acc = {bias_init};  /* exact: numpy sums in int64 (or exact float64) */",
            f"  for (size_t x = 0; x < {k}; x++) acc += (int64_t){pa}[ai + x] * (int64_t){pb}[bi + x * {n}];",
            *("  " + line for line in epilogue_lines(op, program, lay, residual, ct)),
            f"  {dst}[i] = ({dt})y;",
            "}"]
