"""The Program's DRAM image as C: one static struct whose members sit at the tensors' offsets.

In the Program every tensor has a byte address ``addr >= image base``; in C the image is a
64-byte-aligned static ``struct`` with one member per tensor at offset ``addr - base``
(explicit padding members fill the gaps; ``_Static_assert(offsetof(...))`` pins every
offset), so ``(uint64_t)&image + (addr - base)`` is the C address of Program address
``addr``.  Constants (and inputs given to :func:`emit_c`) are designated initializers;
the rest is zero (.bss-like).  With ``blob=True`` the initial bytes go to a binary file
that the assembler embeds with ``.incbin`` instead of a C initializer (for large networks).

Tensor data can also be reached by name: ``gf_<tensor>`` is a typed pointer to its first
element (host kernels and ``main`` use these).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from gemforge.backends.gemmini.program import Program, Tensor
from gemforge.errors import GemforgeError

C_TYPES = {
    "int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "uint16": "uint16_t", "int32": "int32_t",
    "uint32": "uint32_t", "int64": "int64_t", "uint64": "uint64_t", "float32": "float", "float64": "double",
}
IMAGE_ALIGN = 64
_VALUES_PER_LINE = 24


class CBackendError(GemforgeError):
    """A Program the C backend cannot express (message names the tensor / instruction / op)."""


def c_identifier(text: str, taken: set[str]) -> str:
    """A C identifier made from ``text``, not in ``taken`` (which it is added to)."""
    base = re.sub(r"\W", "_", text) or "t"
    if base[0].isdigit():
        base = "t_" + base
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


@dataclass
class ImageLayout:
    """Where each tensor lives in the C image."""

    base: int  # Program address of the image's first byte
    size: int  # bytes, a multiple of IMAGE_ALIGN
    struct: str  # C struct tag and variable name of the image
    members: dict[str, str]  # tensor name -> C member name
    tensors: dict[str, Tensor]

    def tensor_at(self, addr: int) -> Tensor | None:
        """The tensor holding Program address ``addr`` (None if in a gap or outside)."""
        for t in self.tensors.values():
            if t.addr <= addr < t.end:
                return t
        return None

    def pointer(self, name: str) -> str:
        """The C macro naming a typed pointer to tensor ``name``."""
        return f"gf_{self.members[name]}"


def layout(program: Program, prefix: str) -> ImageLayout:
    tensors = sorted(program.tensors.values(), key=lambda t: t.addr)
    if not tensors:
        raise CBackendError(f"program {program.name}: no tensors, nothing to put in the DRAM image")
    base = tensors[0].addr
    end = max(t.end for t in tensors)
    size = -(-(end - base) // IMAGE_ALIGN) * IMAGE_ALIGN
    taken = {"gf_pad"}
    members = {}
    for t in tensors:
        if t.dtype not in C_TYPES:
            raise CBackendError(f"tensor {t.name}: dtype {t.dtype} has no C type")
        if (t.addr - base) % t.itemsize:
            raise CBackendError(f"tensor {t.name}: address {t.addr:#x} is not aligned to its {t.itemsize}-byte elements")
        members[t.name] = c_identifier(t.name, taken)
    return ImageLayout(base, size, f"{prefix}_image", members, {t.name: t for t in tensors})


def struct_definition(lay: ImageLayout) -> list[str]:
    """The struct type: tensors as flat arrays at their offsets, padding in between."""
    lines = [f"/* The DRAM image: Program address A is at (uint64_t)&{lay.struct} + (A - {lay.base:#x}). */",
             f"struct {lay.struct} {{"]
    at, pads = lay.base, 0
    for t in lay.tensors.values():
        if t.addr > at:
            lines.append(f"  uint8_t gf_pad{pads}[{t.addr - at}];")
            pads += 1
        lines.append(f"  {C_TYPES[t.dtype]} {lay.members[t.name]}[{t.size}];"
                     f"  /* {t.role} {t.dtype}{list(t.shape)} @ {t.addr:#x} */")
        at = t.end
    if lay.base + lay.size > at:
        lines.append(f"  uint8_t gf_pad{pads}[{lay.base + lay.size - at}];")
    lines.append(f"}} __attribute__((aligned({IMAGE_ALIGN})));")
    for t in lay.tensors.values():
        lines.append(f"_Static_assert(offsetof(struct {lay.struct}, {lay.members[t.name]}) == {t.addr - lay.base}, "
                     f"\"tensor {lay.members[t.name]} offset\");")
    lines.append(f"_Static_assert(sizeof(struct {lay.struct}) == {lay.size}, \"image size\");")
    lines.append("")
    for t in lay.tensors.values():
        lines.append(f"#define {lay.pointer(t.name)} ({lay.struct}.{lay.members[t.name]})")
    return lines


def initial_data(lay: ImageLayout, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Tensor name -> its initial contents (constants, plus given inputs), flat, in its dtype."""
    data = {}
    for name, t in lay.tensors.items():
        arr = inputs.get(name, t.data)
        if arr is None:
            continue
        arr = np.asarray(arr)
        if arr.shape != t.shape:
            raise CBackendError(f"tensor {name}: initial data has shape {arr.shape}, expected {t.shape}")
        data[name] = arr.astype(t.dtype).reshape(-1)
    return data


def c_values(arr: np.ndarray) -> list[str]:
    """C initializer lines for a flat array (floats as exact hex literals)."""
    if arr.dtype.kind == "f":
        suffix = "f" if arr.dtype == np.float32 else ""
        items = [_c_float(float(x), suffix) for x in arr.tolist()]
    else:
        items = [str(int(x)) + ("ull" if arr.dtype.kind == "u" and x >= 2**63 else "") for x in arr.tolist()]
        if arr.dtype == np.int64:
            items = [s if int(s) > -(2**63) else "INT64_MIN" for s in items]
    return [", ".join(items[i:i + _VALUES_PER_LINE]) + "," for i in range(0, len(items), _VALUES_PER_LINE)]


def _c_float(x: float, suffix: str) -> str:
    if x != x:
        return "NAN"
    if x in (float("inf"), float("-inf")):
        return "INFINITY" if x > 0 else "-INFINITY"
    return x.hex() + suffix


def static_image(lay: ImageLayout, data: dict[str, np.ndarray]) -> list[str]:
    """The image variable with C initializers."""
    lines = [f"static struct {lay.struct} {lay.struct} = {{"]
    for name, arr in data.items():
        lines.append(f"  .{lay.members[name]} = {{")
        lines.extend("    " + line for line in c_values(arr))
        lines.append("  },")
    lines.append("};")
    return lines


def blob_bytes(lay: ImageLayout, data: dict[str, np.ndarray]) -> bytes:
    """The image's initial bytes, up to the last initialized one."""
    end = max((lay.tensors[n].end for n in data), default=lay.base)
    image = bytearray(end - lay.base)
    for name, arr in data.items():
        t = lay.tensors[name]
        image[t.addr - lay.base:t.end - lay.base] = arr.astype(np.dtype(t.dtype).newbyteorder("<")).tobytes()
    return bytes(image)


def blob_image(lay: ImageLayout, blob_name: str, blob_len: int) -> list[str]:
    """The image as a symbol defined in assembly: ``.incbin`` the blob, then zeros."""
    sym = lay.struct
    return [
        f"/* The initial image is {blob_name} ({blob_len} bytes), embedded by the assembler. */",
        f"extern struct {sym} {sym};",
        "__asm__(",
        '  ".pushsection .data\\n"',
        f'  ".balign {IMAGE_ALIGN}\\n"',
        f'  ".globl {sym}\\n"',
        f'  "{sym}:\\n"',
        f'  ".incbin \\"{blob_name}\\"\\n"',
        f'  ".zero {lay.size - blob_len}\\n"' if lay.size > blob_len else '  ""',
        '  ".popsection\\n");',
    ]
