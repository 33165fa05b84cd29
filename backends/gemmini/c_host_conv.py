"""C version of ``graph.conv2d`` run on the host (:mod:`gemforge.sim.host_graph`): a grouped,
strided, dilated, padded NHWC x HWIO integer convolution with optional bias, the graph
epilogue (residual, output scaling or int32 wrap, ReLU or clip) and the optional fused max
pool. Bit-exact against ``gemforge.graph_eval_ops.conv2d`` / ``epilogue`` / ``maxpool``:
products and sums are exact int64, the only float steps are the epilogue's
``rne(f32(.) * f32(scale))`` (through ``gf_rne``, safe under ``-ffast-math``).
Registered into :data:`gemforge.backends.gemmini.c_host.WRITERS`.
"""

from __future__ import annotations

from gemforge.backends.gemmini.c_host import _f32, _tensor, _writer, max_pool_loops
from gemforge.backends.gemmini.c_image import CBackendError, ImageLayout
from gemforge.backends.gemmini.program import HostOp, Program


def _fail(op: HostOp, why: str) -> CBackendError:
    return CBackendError(f"host kernel {op.kind}({', '.join(op.inputs)}): {why}")


def _operands(op: HostOp) -> tuple[str, str, str | None, str | None]:
    """(input, weights, bias, residual) tensor names; the optional ones follow in that order."""
    rest = list(op.inputs[2:])
    bias = rest.pop(0) if op.attrs.get("has_bias") and rest else None
    residual = rest.pop(0) if op.attrs.get("has_residual") and rest else None
    if len(op.inputs) < 2 or rest or (op.attrs.get("has_bias") and bias is None) or \
            (op.attrs.get("has_residual") and residual is None) or len(op.outputs) != 1:
        raise _fail(op, "expected input, weights, then the announced bias / residual, and one output")
    return op.inputs[0], op.inputs[1], bias, residual


def epilogue_lines(op: HostOp, program: Program, lay: ImageLayout, residual: str | None, out_ct: str) -> list[str]:
    """Statements turning the int64 ``acc`` (at flat index ``i`` of the epilogue's shape) into
    ``out_ct y``: residual, output scale or int32 wrap, then clip or ReLU (graph_eval_ops.epilogue)."""
    a = op.attrs
    lines = []
    if residual is not None:
        rs = _f32(a["residual_scale"])
        lines += [f"float r = gf_rne((float){lay.pointer(residual)}[i] * {rs});",
                  "if (r < -0x1p31f) r = -0x1p31f;  /* numpy clips in float32: int32 max rounds to 2^31 */",
                  "if (r > 0x1p31f) r = 0x1p31f;",
                  "acc = (int64_t)(int32_t)(uint32_t)(uint64_t)(acc + (int64_t)r);  /* int32 wrap */"]
    if a.get("output_scale") is not None:
        lines.append(f"{out_ct} y = ({out_ct})gf_sat_int8_t(gf_rne((float)acc * {_f32(a['output_scale'])}));")
    else:
        lines.append(f"{out_ct} y = ({out_ct})(int32_t)(uint32_t)(uint64_t)acc;  /* int32 wrap */")
    if a.get("clip") is not None:
        lo, hi = (repr(float(v)) if isinstance(v, float) else str(int(v)) for v in a["clip"])
        lines.append(f"y = ({out_ct})(y < {lo} ? {lo} : y > {hi} ? {hi} : y);")
    elif a.get("activation") == "relu":
        lines.append("y = y > 0 ? y : 0;")
    elif a.get("activation") is not None:
        raise _fail(op, f"activation {a['activation']!r} is not relu")
    return lines


@_writer("graph.conv2d")
def _conv2d(op: HostOp, lay: ImageLayout, program: Program) -> list[str]:
    x_name, w_name, bias, residual = _operands(op)
    src, _, _, shape = _tensor(program, lay, x_name)
    wp, _, _, wshape = _tensor(program, lay, w_name)
    dst, dt, size, _ = _tensor(program, lay, op.outputs[0])
    a = op.attrs
    if len(shape) != 4 or len(wshape) != 4:
        raise _fail(op, f"needs NHWC input and HWIO weights, shapes {shape} and {wshape}")
    n, h, w, c = shape
    kh, kw, cg, co = wshape
    groups = int(a["groups"])
    (sh, sw), (dh, dw), (top, left, bottom, right) = a["stride"], a["dilation"], a["padding"]
    if groups < 1 or c != cg * groups or co % groups:
        raise _fail(op, f"{groups} groups do not split input channels {c} / weights {wshape}")
    oh, ow = (h + top + bottom - dh * (kh - 1) - 1) // sh + 1, (w + left + right - dw * (kw - 1) - 1) // sw + 1
    og = co // groups
    ct = "int8_t" if a.get("output_scale") is not None else "int32_t"  # the epilogue's result type
    pooled = a.get("pool_kernel") is not None
    conv_size = n * oh * ow * co
    if residual is not None and program.tensor(residual).size != conv_size:
        raise _fail(op, f"residual {residual} has {program.tensor(residual).size} elements, expected {conv_size}")
    target = "buf" if pooled else dst
    lines = [f"static {ct} buf[{conv_size}];"] if pooled else []
    if not pooled and size != conv_size:
        raise _fail(op, f"output {op.outputs[0]} has {size} elements, expected {conv_size}")
    bias_init = f"(int64_t){lay.pointer(bias)}[o]" if bias is not None else "0"
    lines += [f"for (size_t b = 0; b < {n}; b++)",
              f"for (size_t oy = 0; oy < {oh}; oy++)",
              f"for (size_t ox = 0; ox < {ow}; ox++)",
              f"for (size_t o = 0; o < {co}; o++) {{",
              f"  size_t i = ((b * {oh} + oy) * {ow} + ox) * {co} + o, g = o / {og};",
              f"  int64_t acc = {bias_init};",
              f"  for (size_t r = 0; r < {kh}; r++) {{",
              f"    long iy = (long)(oy * {sh} + r * {dh}) - {top};",
              f"    if (iy < 0 || iy >= {h}) continue;  /* zero padding adds nothing */",
              f"    for (size_t s = 0; s < {kw}; s++) {{",
              f"      long ix = (long)(ox * {sw} + s * {dw}) - {left};",
              f"      if (ix < 0 || ix >= {w}) continue;",
              f"      size_t xi = ((b * {h} + (size_t)iy) * {w} + (size_t)ix) * {c} + g * {cg};",
              f"      size_t wi = (r * {kw} + s) * {cg * co} + o;",
              f"      for (size_t ci = 0; ci < {cg}; ci++)",
              f"        acc += (int64_t){src}[xi + ci] * (int64_t){wp}[wi + ci * {co}];",
              "    }",
              "  }",
              *("  " + line for line in epilogue_lines(op, program, lay, residual, ct)),
              f"  {target}[i] = ({dt if not pooled else ct})y;",
              "}"]
    if pooled:
        (pkh, pkw), (psh, psw), (pt, pl, pb, pr) = a["pool_kernel"], a["pool_stride"], a["pool_padding"]
        poh, pow_ = (oh + pt + pb - pkh) // psh + 1, (ow + pl + pr - pkw) // psw + 1
        if n * poh * pow_ * co != size:
            raise _fail(op, f"output {op.outputs[0]} has {size} elements, {n * poh * pow_ * co} after the pool")
        lines += max_pool_loops("buf", ct, dst, dt, (n, oh, ow, co), (poh, pow_), (pkh, pkw), (psh, psw), (pt, pl))
    return lines

