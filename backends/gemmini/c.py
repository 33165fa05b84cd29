"""C backend: a compiled Program as one self-contained C file that drives real Gemmini.

The file includes gemmini-rocc-tests' ``include/gemmini.h`` (overridable with
``-DGEMFORGE_GEMMINI_H='"other.h"'``; the tests use a recording header) and holds:

* the DRAM image: a static struct with one member per tensor at the Program's offsets,
  constants and given inputs as initializers (or an ``.incbin`` blob, ``blob=True``);
* ``<name>_run()``: the instruction stream, software loops kept as C ``for`` loops over
  ``uint64_t`` variables, each instruction one gemmini.h macro (named where its operands
  split exactly, raw ``ROCC_INSTRUCTION_RS1_RS2`` otherwise; see ``c_insn.py``), DRAM
  operands as image addresses; host kernels as plain C functions (``c_host.py``);
* ``main()``: locks memory (Linux), flushes Gemmini's TLB, runs the program, fences,
  prints the cycle count and one FNV-1a checksum per output tensor
  (:func:`output_checksum` computes the same in Python), and with ``-DGEMFORGE_DUMP_OUTPUTS``
  every output element.

Runtime glue that is not part of the Program (the TLB flush at start, the fence before a
host kernel or before reading outputs) goes through the macros ``GEMFORGE_START()`` and
``GEMFORGE_HOST_FENCE()``, so an instruction recorder can tell it apart from the Program's
own stream.  The simulator models a host kernel's wait for the accelerator inside the
kernel, not as an instruction.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

import numpy as np

from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.c_expr import LoopVar, Scope
from gemforge.backends.gemmini.c_host import host_kernel, runtime_helpers
from gemforge.backends.gemmini.c_image import (
    C_TYPES, CBackendError, ImageLayout, blob_bytes, blob_image, c_identifier, initial_data, layout, static_image,
    struct_definition,
)
from gemforge.backends.gemmini.c_insn import LOOP_CONV_GROUP, LOOP_WS_GROUP, Renderer
from gemforge.backends.gemmini.program import HostOp, Loop, Program
from gemforge.target import Target

_FNV_OFFSET, _FNV_PRIME = 0xCBF29CE484222325, 0x100000001B3


def emit_c(program: Program, path: str | Path, *, name: str | None = None, target: Target | None = None,
           inputs: Mapping[str, np.ndarray] | None = None, blob: bool = False) -> Path:
    """Write ``program`` as a C file at ``path`` and return the path.

    ``name`` prefixes the C symbols (default: the program's name); ``target`` (default:
    the builtin target named by the program) only feeds compile-time checks against
    ``gemmini_params.h``; ``inputs`` (tensor name -> array) are baked into the image, other
    input tensors start as zeros; ``blob=True`` writes the initial image to
    ``<path stem>.bin`` next to the C file, embedded with ``.incbin`` (assemble from that
    folder, or pass ``-Wa,-I<folder>``).  Raises CBackendError for what C cannot express."""
    path = Path(path)
    text, image = render_c(program, name=name, target=target, inputs=inputs,
                           blob_name=path.with_suffix(".bin").name if blob else None)
    if image is not None:
        path.with_suffix(".bin").write_bytes(image)
    path.write_text(text)
    return path


def render_c(program: Program, *, name: str | None = None, target: Target | None = None,
             inputs: Mapping[str, np.ndarray] | None = None, blob_name: str | None = None) -> tuple[str, bytes | None]:
    """The C text (and the blob's bytes when ``blob_name`` is given); see :func:`emit_c`."""
    prefix = c_identifier(name or program.name, set())
    for key in inputs or {}:
        if program.tensor(key).role != "input":
            raise CBackendError(f"tensor {key}: given as an input but its role is {program.tensor(key).role}")
    lay = layout(program, prefix)
    data = initial_data(lay, dict(inputs or {}))
    out = _preamble(program, prefix, target)
    out += struct_definition(lay)
    out.append("")
    blob = None
    if blob_name is None:
        out += static_image(lay, data)
    else:
        blob = blob_bytes(lay, data)
        out += blob_image(lay, blob_name, len(blob))
    body = _Body(program, lay, prefix)
    helpers = runtime_helpers(body.host_kinds)
    out += ["", *helpers, *([""] if helpers else []), *body.kernels, f"void {prefix}_run(void) {{", *body.lines, "}", ""]
    out += _main(program, lay, prefix)
    return "\n".join(out) + "\n", blob


class _Body:
    """The run function's statements and the host-kernel functions it calls."""

    def __init__(self, program: Program, lay: ImageLayout, prefix: str):
        self.program = program
        self.render = Renderer(lay)
        self.lay = lay
        self.prefix = prefix
        self.lines: list[str] = []
        self.kernels: list[str] = []
        self.host_kinds: set[str] = set()
        self.host_calls: list[str] = []
        self.count = 0  # static instruction index, for error messages
        self._emit(program.items, {}, "  ")

    def _emit(self, items: list, scope: Scope, indent: str) -> None:
        i = 0
        last_fence = False
        while i < len(items):
            x = items[i]
            if isinstance(x, Loop):
                var = f"{re.sub(r'[^A-Za-z0-9]', '_', x.name) or 'i'}{x.var}"
                inner = {**scope, x.var: LoopVar(var, x.count)}
                self.lines.append(f"{indent}for (uint64_t {var} = 0; {var} < {x.count}; {var}++) {{")
                self._emit(x.body, inner, indent + "  ")
                self.lines.append(f"{indent}}}")
                i, last_fence = i + 1, False
                continue
            if isinstance(x, HostOp):
                if not last_fence:
                    self.lines.append(f"{indent}GEMFORGE_HOST_FENCE();")
                fn = f"{self.prefix}_host{len(self.host_calls)}"
                self.host_calls.append(fn)
                self.host_kinds.add(x.kind)
                self.kernels += host_kernel(x, fn, self.lay, self.program) + [""]
                self.lines.append(f"{indent}{fn}();  /* host {x.kind}({', '.join(x.inputs)}) -> "
                                  f"{', '.join(x.outputs)} */")
                i, last_fence = i + 1, True
                continue
            width = self._group_width(items, i)
            if width:
                text = self.render.group(items[i:i + width], scope, self._where(x))
                if text is not None:
                    self.lines += [indent + line for line in text.split("\n")]
                    self.count += width
                    i, last_fence = i + width, False
                    continue
            self.lines.append(indent + self.render.insn(x, scope, self._where(x)))
            self.count += 1
            last_fence = x.funct == isa.FENCE
            i += 1

    @staticmethod
    def _group_width(items: list, i: int) -> int:
        for group in (LOOP_WS_GROUP, LOOP_CONV_GROUP):
            chunk = items[i:i + len(group)]
            if len(chunk) == len(group) and all(isinstance(y, isa.Insn) and y.funct == f
                                                for y, f in zip(chunk, group)):
                return len(group)
        return 0

    def _where(self, insn: isa.Insn) -> str:
        return f"program {self.program.name}: instruction #{self.count} (funct {insn.funct})"


def _preamble(program: Program, prefix: str, target: Target | None) -> list[str]:
    if target is None:
        target = _target_named(program.target_name)
    lines = [
        f"/* Generated by gemforge: program {program.name!r} for target {program.target_name!r}.",
        " * Build inside gemmini-rocc-tests (include/gemmini.h); see gemforge's README. */",
        "#include <stddef.h>",
        "#include <stdint.h>",
        "#include <stdio.h>",
        "#include <string.h>",
        "#include <math.h>",
        "#ifndef BAREMETAL",
        "#include <sys/mman.h>",
        "#endif",
        "#ifndef GEMFORGE_GEMMINI_H",
        '#define GEMFORGE_GEMMINI_H "include/gemmini.h"',
        "#endif",
        "#include GEMFORGE_GEMMINI_H",
        "",
    ]
    if target is not None:
        checks = [("DIM", str(target.dim)), ("ADDR_LEN", "32"),
                  ("BANK_NUM * BANK_ROWS", str(target.spad_rows)), ("ACC_ROWS", str(target.acc_rows))]
        for expr, value in checks:
            names = " && ".join(f"defined({n})" for n in re.findall(r"[A-Z_]+", expr))
            lines += [f"#if {names} && ({expr}) != {value}",
                      f'#error "generated for target {target.name}: {expr} must be {value} (gemmini_params.h)"',
                      "#endif"]
    lines += [
        "",
        "#define GF_ADDR(p) ((uint64_t)(uintptr_t)(p))",
        "/* Runtime glue outside the Program's instruction stream (a recorder may redefine it). */",
        "#ifndef GEMFORGE_START",
        "#define GEMFORGE_START() gemmini_flush(0)",
        "#endif",
        "#ifndef GEMFORGE_HOST_FENCE",
        "#define GEMFORGE_HOST_FENCE() gemmini_fence()",
        "#endif",
        "",
    ]
    return lines


def _target_named(name: str) -> Target | None:
    from gemforge.target import TargetError, builtin

    try:
        return builtin(name)
    except (TargetError, KeyError, FileNotFoundError):
        return None  # a custom target: skip the gemmini_params.h checks


def _main(program: Program, lay: ImageLayout, prefix: str) -> list[str]:
    outputs = [t for t in lay.tensors.values() if t.role == "output"]
    initial = [t for t in lay.tensors.values() if t.role in ("input", "constant")]
    lines = [
        "static uint64_t gf_cycles(void) {",
        "#if defined(__riscv)",
        "  uint64_t c;",
        '  __asm__ volatile("rdcycle %0" : "=r"(c));',
        "  return c;",
        "#else",
        "  return 0;",
        "#endif",
        "}",
        "",
        "/* FNV-1a over the bytes of a tensor (gemforge.backends.gemmini.c.output_checksum). */",
        "__attribute__((unused)) static uint64_t gf_checksum(const void *p, size_t n) {",
        f"  uint64_t h = UINT64_C({_FNV_OFFSET:#x});",
        "  for (size_t i = 0; i < n; i++) {",
        "    h ^= ((const uint8_t *)p)[i];",
        f"    h *= UINT64_C({_FNV_PRIME:#x});",
        "  }",
        "  return h;",
        "}",
        "",
        "int main(void) {",
        "#ifndef BAREMETAL",
        "  if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {",
        '    perror("mlockall failed");',
        "    return 1;",
        "  }",
        "#endif",
        "#ifdef GEMMINI_RECORD_IMAGE",
        f"  GEMMINI_RECORD_IMAGE(&{lay.struct}, sizeof {lay.struct}, UINT64_C({lay.base:#x}));",
        "#endif",
        "#ifdef GEMFORGE_DUMP_INPUTS",
        *_dump_lines(lay, initial),
        "#endif",
        "  GEMFORGE_START();",
        "  uint64_t start = gf_cycles();",
        f"  {prefix}_run();",
        "  GEMFORGE_HOST_FENCE();",
        "  uint64_t end = gf_cycles();",
        f'  printf("{prefix}: %llu cycles\\n", (unsigned long long)(end - start));',
    ]
    for t in outputs:
        ptr = lay.pointer(t.name)
        lines.append(f'  printf("output {t.name}: checksum %016llx\\n", '
                     f"(unsigned long long)gf_checksum({ptr}, sizeof {ptr}));")
    lines += ["#ifdef GEMFORGE_DUMP_OUTPUTS", *_dump_lines(lay, outputs), "#endif", "  return 0;", "}"]
    return lines


def _dump_lines(lay: ImageLayout, tensors: list) -> list[str]:
    """Print ``dump NAME v0 v1 ...`` per tensor (floats with 17 significant digits)."""
    lines = []
    for t in tensors:
        ptr = lay.pointer(t.name)
        fmt, cast = ("%.17g", "(double)") if C_TYPES[t.dtype] in ("float", "double") else ("%lld", "(long long)")
        lines += [f'  printf("dump {t.name}");',
                  f"  for (size_t i = 0; i < {t.size}; i++) printf(\" {fmt}\", {cast}{ptr}[i]);",
                  '  printf("\\n");']
    return lines


def output_checksum(array: np.ndarray, dtype: str | None = None) -> int:
    """The checksum ``main`` prints for an output tensor with these contents."""
    arr = np.asarray(array, dtype=dtype)
    h = _FNV_OFFSET
    for b in arr.astype(arr.dtype.newbyteorder("<")).tobytes():
        h = ((h ^ b) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h
