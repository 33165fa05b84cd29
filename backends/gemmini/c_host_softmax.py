"""C version of the host ``graph.softmax`` (:mod:`gemforge.sim.host_graph`), any axis, int8 or
float32 input, int8 (``output_scale``) or float32 (no ``output_scale``) output. Registered
into :data:`gemforge.backends.gemmini.c_host.WRITERS`.

It computes what ``gemforge.graph_eval_ops.softmax`` computes, one float32 operation per
numpy step: ``v = f32(x) * f32(input_scale)``, the row maximum (exact), ``exp(v - max)``,
the row sum in numpy's own order, ``e / sum``, then ``sat_i8(rne(y / f32(output_scale)))``.
numpy's float32 ``add.reduce`` starts from 0 and, along an axis whose trailing dims are all
1 (the contiguous case: the last axis), sums pairwise (blocks of at most 128 elements with
8 interleaved partial sums, halves split at a multiple of 8: ``gf_pairwise_sum`` below);
along any other axis it adds the rows one after the other. Every intermediate goes through
a ``volatile`` float and the divisors are read from ``volatile`` variables, so
``-ffast-math`` can neither reassociate the sum nor divide by a reciprocal.

Exactness: bit-exact except for ``exp``: C calls the host libm's ``expf`` (link with
``-lm``), numpy's float32 ``exp`` uses its own SIMD code. Against numpy with libm's
``expf`` the results are equal (tests/c/test_c_host_softmax.py checks it). Against numpy
itself, measured on BERT attention scores ([1, 12, 128, 128] along the last axis, random
int8 data, input scales 1/8, 1/16, 1/64 and 0.35, output scale 1/128; x86-64, numpy 2.4,
glibc 2.36): numpy's ``exp`` differs from glibc's ``expf`` on ~40 % of the arguments, by at
most 2 ulp, yet 0 of 786,432 int8 results differ (and 0 of 589,824 more at output scales
1/127, 0.0039 and 0.01). An ulp of ``exp`` moves ``e / sum`` by ~1e-7 relative, so an int8
result can move only where that crosses a rounding boundary, by at most 1 LSB: the tests
allow 1 LSB on at most 1 element in 1000. Float32 output (no ``output_scale``): vs numpy,
~46 % of the elements differ by at most 6 ulp (4.4e-7 relative); vs numpy with libm's
``expf``, equal except where numpy's result is subnormal: ``-ffast-math`` on x86 links
``crtfastmath.o``, which flushes subnormals to zero (none on RISC-V, which has no such mode).
Float32 inputs are assumed finite (the ``-ffast-math`` build assumes no NaN or infinity).
"""

from __future__ import annotations

import numpy as np

from gemforge.backends.gemmini.c_host import KIND_HELPERS, _f32, _in_out, _writer
from gemforge.backends.gemmini.c_image import CBackendError, ImageLayout
from gemforge.backends.gemmini.program import HostOp, Program

PAIRWISE_BLOCK = 128  # numpy's PW_BLOCKSIZE: the largest run summed with 8 interleaved partial sums

KIND_HELPERS["graph.softmax"] = [
    "/* numpy's float32 pairwise sum (add.reduce along a contiguous axis), one rounding per numpy add */",
    "static inline float gf_pairwise_sum(const float *a, size_t n) {  /* inline: no unused warning */",
    "  if (n < 8) {",
    "    volatile float res = 0.0f;",
    "    for (size_t i = 0; i < n; i++) res = res + a[i];",
    "    return res;",
    "  }",
    f"  if (n <= {PAIRWISE_BLOCK}) {{",
    "    volatile float r[8];",
    "    size_t i;",
    "    for (i = 0; i < 8; i++) r[i] = a[i];",
    "    for (i = 8; i < n - n % 8; i += 8)",
    "      for (size_t j = 0; j < 8; j++) r[j] = r[j] + a[i + j];",
    "    volatile float s01 = r[0] + r[1], s23 = r[2] + r[3], s45 = r[4] + r[5], s67 = r[6] + r[7];",
    "    volatile float lo = s01 + s23, hi = s45 + s67;",
    "    volatile float res = lo + hi;",
    "    for (; i < n; i++) res = res + a[i];",
    "    return res;",
    "  }",
    "  size_t half = n / 2 - (n / 2) % 8;  /* split at a multiple of the unroll */",
    "  volatile float left = gf_pairwise_sum(a, half), right = gf_pairwise_sum(a + half, n - half);",
    "  return left + right;",
    "}",
]


def _fail(op: HostOp, why: str) -> CBackendError:
    return CBackendError(f"host kernel {op.kind}({', '.join(op.inputs)}): {why}")


def _geometry(op: HostOp, shape) -> tuple[int, int, int]:
    """(outer, length, inner): the input as [outer, length, inner] with ``length`` the axis."""
    rank, axis = len(shape), op.attrs["axis"]
    if not isinstance(axis, int) or not -rank <= axis < rank:
        raise _fail(op, f"axis {axis!r} is not an axis of shape {shape}")
    axis %= rank
    outer, inner = (int(np.prod(shape[:axis], dtype=np.int64)), int(np.prod(shape[axis + 1:], dtype=np.int64)))
    if shape[axis] < 1:
        raise _fail(op, f"axis {axis} of shape {shape} is empty")
    return outer, shape[axis], inner


@_writer("graph.softmax")
def _softmax(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    (src, st, size, shape), (dst, dt, out_size, _) = _in_out(op, lay, program)
    if out_size != size:
        raise _fail(op, f"output {op.outputs[0]} has {out_size} elements, the input {shape} has {size}")
    if st not in ("int8_t", "float"):
        raise _fail(op, f"input {op.inputs[0]} is {program.tensor(op.inputs[0]).dtype}, expected int8 or float32")
    out_scale, in_scale = op.attrs.get("output_scale"), op.attrs.get("input_scale")
    want = "float" if out_scale is None else "int8_t"
    if dt != want:
        raise _fail(op, f"output {op.outputs[0]} is {program.tensor(op.outputs[0]).dtype}, expected "
                        f"{'float32 (no output_scale)' if out_scale is None else 'int8 (output_scale given)'}")
    outer, n, inner = _geometry(op, shape)
    value = f"(float){src}[at + k * {inner}]" + (f" * {_f32(in_scale)}" if in_scale is not None else "")
    if inner == 1:
        total = ["total = total + gf_pairwise_sum(e, " + str(n) + ");"]
    else:
        total = [f"for (size_t k = 0; k < {n}; k++) total = total + e[k];  /* numpy: row after row */"]
    if out_scale is None:
        store = [f"{dst}[at + k * {inner}] = y;"]
    else:
        store = ["volatile float q = y / gf_os;  /* a true division, as numpy does */",
                 f"{dst}[at + k * {inner}] = ({dt})gf_sat_int8_t(gf_rne(q));"]
    head = [f"volatile float gf_os = {_f32(out_scale)};"] if out_scale is not None else []
    return [*head,
            f"static float v[{n}], e[{n}];",
            f"for (size_t o = 0; o < {outer}; o++)",
            f"for (size_t j = 0; j < {inner}; j++) {{",
            f"  const size_t at = o * {n * inner} + j;",
            f"  for (size_t k = 0; k < {n}; k++) {{ volatile float t = {value}; v[k] = t; }}",
            "  float m = v[0];",
            f"  for (size_t k = 1; k < {n}; k++) if (v[k] > m) m = v[k];",
            f"  for (size_t k = 0; k < {n}; k++) {{",
            "    volatile float d = v[k] - m;",
            "    volatile float x = expf(d);  /* the host libm's expf: see the module docstring */",
            "    e[k] = x;",
            "  }",
            "  volatile float total = 0.0f;  /* numpy's reduction starts from 0 */",
            *("  " + line for line in total),
            f"  for (size_t k = 0; k < {n}; k++) {{",
            "    volatile float y = e[k] / total;",
            *("    " + line for line in store),
            "  }",
            "}"]
