"""C versions of the float-island host kernels of whole networks (:mod:`gemforge.sim.host_graph`):
``graph.lrn`` (onnxruntime's CPU LRN) and ``graph.channel_affine`` (inference batch norm
and scale). Registered into :data:`gemforge.backends.gemmini.c_host.WRITERS`.

Both compute what the numpy kernels (``gemforge.graph_eval_ops.lrn`` / ``channel_affine``)
compute: one float32 operation per numpy step, in the same order, then
``sat_i8(rne(t / f32(output_scale)))``. The generated file is built with
``-ffast-math`` (gemmini-rocc-tests' flags), which would let the compiler fuse a product
into an add (FMA), reassociate the running sum, turn the division by the output scale into
a multiplication by its reciprocal, or expand ``powf(d, -0.75f)`` into square roots; so every
intermediate goes through a ``volatile`` float, and the divisor and the exponent are read
from ``volatile`` variables (not constants the compiler could fold).

Exactness: ``graph.channel_affine`` is bit-exact. ``graph.lrn`` is bit-exact except for
``pow``: C calls the host libm's ``powf`` (link with ``-lm``), numpy's float32 ``power`` may
use its own SIMD code (numpy 2.4 on AVX-512 x86: 1 ulp from glibc's ``powf`` on 9 % of
arguments d in [1, 1.1], 25 % in [2, 2.5], never more). A 1-ulp change of ``pow`` moves
``t / output_scale`` by ~1e-7 relative, so an int8 result differs only where that crosses a
rounding boundary: at most 1 LSB, on rare elements. Measured at the six LRN layers of
AlexNet, ZFNet-512 and Inception-v1 (their shapes and parameters, random int8 data, two
seeds): 1 of 3,178,944 elements differs, by 1 LSB. Against numpy with the same libm ``powf``
the results are equal (tests/c/test_c_host_float.py checks both). On the RISC-V host the
libm decides (glibc under Linux, newlib bare-metal): any ``powf`` within a few ulps keeps
the 1-LSB bound (|q| < 128 needs ~1e5 ulps to move two steps); only the frequency grows.
"""

from __future__ import annotations

import numpy as np

from gemforge.backends.gemmini.c_host import _f32, _in_out, _need, _tensor, _writer
from gemforge.backends.gemmini.c_image import CBackendError, ImageLayout
from gemforge.backends.gemmini.program import HostOp, Program


def _fail(op: HostOp, why: str) -> CBackendError:
    return CBackendError(f"host kernel {op.kind}({', '.join(op.inputs)}): {why}")


def _quantize(dst: str, dt: str, index: str, value: str) -> list[str]:
    """Statements storing ``sat_i8(rne(value / output_scale))`` (the divisor in ``gf_os``)."""
    return [f"volatile float q = {value} / gf_os;  /* a true division, as numpy does */",
            f"{dst}[{index}] = ({dt})gf_sat_int8_t(gf_rne(q));"]


def _channels(op: HostOp, shape, size: int, out_size: int) -> tuple[int, int]:
    """(pixels, channels) of a channels-last tensor whose output has as many elements."""
    if not shape or size != out_size:
        raise _fail(op, f"output {op.outputs[0]} has {out_size} elements, input {shape} has {size}")
    c = shape[-1]
    return size // c, c


@_writer("graph.lrn")
def _lrn(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    (src, _, size, shape), (dst, dt, out_size, _) = _in_out(op, lay, program)
    pixels, c = _channels(op, shape, size, out_size)
    n = int(op.attrs["size"])
    if n < 1:
        raise _fail(op, f"window size {n} must be positive")
    pre = (n - 1) // 2
    f = np.float32
    a = f(op.attrs["alpha"]) / f(n)  # the kernel's float32 division, done here exactly as numpy does
    exponent = -f(op.attrs["beta"])
    width = c + n - 1  # squares padded with `pre` zeros before and n-1-pre after
    return [f"volatile float gf_os = {_f32(op.attrs['output_scale'])};",
            f"volatile float gf_exp = {_f32(exponent)};  /* opaque: no pow expansion under -ffast-math */",
            f"static float v[{c}], sq[{width}];",
            f"for (size_t px = 0; px < {pixels}; px++) {{",
            f"  for (size_t k = 0; k < {width}; k++) sq[k] = 0.0f;",
            f"  for (size_t ch = 0; ch < {c}; ch++) {{",
            f"    volatile float x = (float){src}[px * {c} + ch] * {_f32(op.attrs['input_scale'])};",
            "    volatile float x2 = x * x;",
            "    v[ch] = x;",
            f"    sq[{pre} + ch] = x2;",
            "  }",
            f"  volatile float s = {_f32(op.attrs['bias'])};",
            f"  for (size_t k = 0; k < {n}; k++) {{",
            f"    volatile float p = {_f32(a)} * sq[k];",
            "    s = s + p;",
            "  }",
            f"  for (size_t ch = 0; ch < {c}; ch++) {{",
            "    if (ch > 0) {  /* the running window: add the head, then subtract the tail */",
            f"      volatile float head = {_f32(a)} * sq[ch + {n - 1}];",
            "      s = s + head;",
            f"      volatile float tail = {_f32(-a)} * sq[ch - 1];",
            "      s = s + tail;",
            "    }",
            "    volatile float w = powf(s, gf_exp);",
            "    volatile float t = v[ch] * w;",
            *("    " + line for line in _quantize(dst, dt, f"px * {c} + ch", "t")),
            "  }",
            "}"]


def _vector(op: HostOp, lay: ImageLayout, program: Program, name: str, c: int) -> str:
    """C expression of a per-channel float vector's element at ``ch`` (one value broadcasts)."""
    ptr, _, size, _ = _tensor(program, lay, name)
    if size == c:
        return f"(float){ptr}[ch]"
    if size == 1:
        return f"(float){ptr}[0]"
    raise _fail(op, f"{name} has {size} elements, expected {c} (one per channel)")


@_writer("graph.channel_affine")
def _channel_affine(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    _need(op, 4)
    src, _, size, shape = _tensor(program, lay, op.inputs[0])
    dst, dt, out_size, _ = _tensor(program, lay, op.outputs[0])
    pixels, c = _channels(op, shape, size, out_size)
    scale, shift, mult = (_vector(op, lay, program, name, c) for name in op.inputs[1:])
    return [f"volatile float gf_os = {_f32(op.attrs['output_scale'])};",
            f"for (size_t px = 0; px < {pixels}; px++)",
            f"for (size_t ch = 0; ch < {c}; ch++) {{",
            f"  volatile float v = (float){src}[px * {c} + ch] * {_f32(op.attrs['input_scale'])};",
            f"  volatile float m = v * {scale};",
            f"  volatile float u = m + {shift};",
            f"  volatile float t = u * {mult};",
            *("  " + line for line in _quantize(dst, dt, f"px * {c} + ch", "t")),
            "}"]
