"""A Gemmini program: a structured instruction stream plus a DRAM image.

This is what code generators (the compiler backend, the vendor-library baseline) build and
what ``gemforge.sim.run`` executes.  It has three parts:

* **Instruction stream** (``program.items``): a list whose items are
  :class:`~gemforge.backends.gemmini.isa.Insn` (``funct, rs1, rs2``; operands are ints or
  :class:`~gemforge.backends.gemmini.affine.Affine` expressions of enclosing loop
  variables), :class:`Loop` (``var, count, body``: a *software* loop on the host CPU, kept
  as a loop so a ResNet-50 program stays small; the simulator expands it and charges
  ``target.host_loop_overhead_cycles`` per iteration) and :class:`HostOp` (a kernel run
  on the CPU with numpy; it starts when all previously issued accelerator work is done,
  like a fence, and costs ``elements * host_element_cycles + macs * host_mac_cycles``
  (plus ``host_autotile_eval_cycles`` per candidate of the vendor library's run-time tile
  search, kind ``autotile``); the kinds are in ``gemforge.sim.host``).
* **DRAM image** (``program.tensors``): named tensors at byte addresses with a shape,
  a numpy dtype name, a role (``input`` given to ``run``, ``output`` returned by it,
  ``constant`` with data stored in the program, ``scratch`` for intermediates) and
  row-major layout.  A bump allocator places them from :data:`DRAM_BASE`, aligned.
* **save/load**: one ``.npz`` file (JSON for the structure, arrays for constants);
  the round trip is exact.

Builder example::

    from gemforge.backends.gemmini import isa
    from gemforge.backends.gemmini.program import Program

    p = Program("gemmini-default")
    a = p.add_tensor("A", (64, 16), "int8", "input")
    c = p.add_tensor("C", (64, 16), "int8", "output")
    p.emit(isa.config_ld(16, block_stride=16), isa.config_st(16))
    p.emit(isa.config_ex(isa.WEIGHT_STATIONARY))
    with p.loop(4) as i:                       # i is an Affine loop variable
        p.emit(isa.mvin(a.addr + i * 256, isa.spad(i * 16), rows=16, cols=16))
    p.emit(isa.fence())
    p.host("relu", inputs=["C"], outputs=["C"])
    p.save("prog.npz"); q = Program.load("prog.npz")
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Union

import numpy as np

from gemforge.backends.gemmini.affine import Affine, Operand, operand_from_json, operand_to_json
from gemforge.backends.gemmini.isa import Insn
from gemforge.errors import GemforgeError

DRAM_BASE = 0x1000_0000  # first byte the allocator hands out (0 stays "no address" for loop_ws)
DEFAULT_ALIGN = 64  # bytes; one cache line, so no tensor shares a DMA request with another
ROLES = ("input", "output", "constant", "scratch")
FORMAT_VERSION = 1


class ProgramError(GemforgeError):
    """A malformed program (bad tensor, overlapping tensors, misuse of the builder, bad file)."""


@dataclass
class Tensor:
    """A named row-major array in DRAM at byte address ``addr``."""

    name: str
    addr: int
    shape: tuple[int, ...]
    dtype: str
    role: str
    data: np.ndarray | None = None

    @property
    def itemsize(self) -> int:
        return np.dtype(self.dtype).itemsize

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.itemsize

    @property
    def end(self) -> int:
        """One past the last byte."""
        return self.addr + self.nbytes

    @property
    def row_bytes(self) -> int:
        """Bytes between consecutive rows of the 2-D view ``(-1, shape[-1])`` (a DRAM stride)."""
        return self.shape[-1] * self.itemsize if self.shape else self.itemsize

    def at(self, *index: Operand) -> Operand:
        """Byte address of element ``index`` (ints or loop variables)."""
        if len(index) != len(self.shape):
            raise ProgramError(f"tensor {self.name}: index {index} has {len(index)} axes, shape {self.shape}")
        offset: Operand = 0
        stride = self.itemsize
        for i, n in zip(reversed(index), reversed(self.shape)):
            offset = offset + i * stride
            stride *= n
        return self.addr + offset


@dataclass
class Loop:
    """A software loop: ``body`` runs ``count`` times with loop variable ``var`` (an id)."""

    var: int
    count: int
    body: list = field(default_factory=list)
    name: str = "i"


@dataclass
class HostOp:
    """A kernel on the host CPU (numpy), reading and writing named tensors."""

    kind: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)


Item = Union[Insn, Loop, HostOp]


class Program:
    """A Gemmini program under construction or loaded from a file (see module docstring)."""

    def __init__(self, target_name: str = "gemmini-default", name: str = "program", *, dram_base: int = DRAM_BASE,
                 align: int = DEFAULT_ALIGN):
        self.target_name = target_name
        self.name = name
        self.items: list[Item] = []
        self.tensors: dict[str, Tensor] = {}
        self.align = align
        self._next_addr = dram_base
        self._stack: list[list[Item]] = [self.items]
        self._num_vars = 0

    # -- DRAM image -------------------------------------------------------------------
    def add_tensor(self, name: str, shape: Iterable[int], dtype: str = "int8", role: str = "scratch",
                   data: np.ndarray | None = None, *, addr: int | None = None, align: int | None = None) -> Tensor:
        """Place a tensor in DRAM (at ``addr`` or the next free aligned address)."""
        shape = tuple(int(s) for s in shape)
        if name in self.tensors:
            raise ProgramError(f"tensor {name}: defined twice")
        if role not in ROLES:
            raise ProgramError(f"tensor {name}: role {role!r} is not one of {', '.join(ROLES)}")
        try:
            dt = np.dtype(dtype)
        except TypeError:
            raise ProgramError(f"tensor {name}: unknown dtype {dtype!r}") from None
        if any(s <= 0 for s in shape):
            raise ProgramError(f"tensor {name}: shape {shape} has a non-positive extent")
        if data is not None:
            data = np.asarray(data)
            if data.shape != shape:
                raise ProgramError(f"tensor {name}: data shape {data.shape} != {shape}")
            data = data.astype(dt, copy=True)
        elif role == "constant":
            raise ProgramError(f"tensor {name}: a constant needs data")
        align = align or self.align
        if addr is None:
            addr = -(-self._next_addr // align) * align
        t = Tensor(name, int(addr), shape, dt.name, role, data)
        for other in self.tensors.values():
            if t.addr < other.end and other.addr < t.end:
                raise ProgramError(f"tensor {name}: [{t.addr:#x}, {t.end:#x}) overlaps tensor {other.name}")
        self.tensors[name] = t
        self._next_addr = max(self._next_addr, t.end)
        return t

    def tensor(self, name: str) -> Tensor:
        try:
            return self.tensors[name]
        except KeyError:
            raise ProgramError(f"no tensor named {name!r}") from None

    def tensors_with_role(self, role: str) -> list[Tensor]:
        return [t for t in self.tensors.values() if t.role == role]

    # -- instruction stream -------------------------------------------------------------
    def emit(self, *insns: Insn | Iterable[Insn]) -> None:
        """Append instructions (or lists of them, e.g. ``isa.loop_ws(...)``) at the current nesting."""
        body = self._stack[-1]
        for x in insns:
            if isinstance(x, Insn):
                body.append(x)
            elif isinstance(x, (list, tuple)) and all(isinstance(y, Insn) for y in x):
                body.extend(x)
            else:
                raise ProgramError(f"emit: {x!r} is not an instruction")

    @contextlib.contextmanager
    def loop(self, count: int, name: str = "i") -> Iterator[Affine]:
        """``with p.loop(n) as i:`` emits into a software loop; ``i`` is its variable."""
        if not isinstance(count, int) or count < 0:
            raise ProgramError(f"loop {name}: trip count {count!r} is not a non-negative integer")
        lp = Loop(self._num_vars, count, [], name)
        self._num_vars += 1
        self._stack[-1].append(lp)
        self._stack.append(lp.body)
        try:
            yield Affine.var(lp.var)
        finally:
            self._stack.pop()

    def host(self, kind: str, inputs: list[str], outputs: list[str], **attrs: Any) -> HostOp:
        """Append a host kernel reading ``inputs`` and writing ``outputs`` (tensor names)."""
        for n in [*inputs, *outputs]:
            self.tensor(n)
        op = HostOp(kind, list(inputs), list(outputs), dict(attrs))
        self._stack[-1].append(op)
        return op

    def count_insns(self) -> int:
        """RoCC instructions the host issues once software loops are expanded (loop_ws and
        loop_conv_ws count as their 6/7 words, not the instructions they generate)."""

        def count(items: list[Item]) -> int:
            return sum(1 if isinstance(x, Insn) else count(x.body) * x.count if isinstance(x, Loop) else 0
                       for x in items)

        return count(self.items)

    # -- save / load --------------------------------------------------------------------
    def to_json(self) -> dict:
        return {
            "format": "gemforge-program", "version": FORMAT_VERSION, "name": self.name,
            "target": self.target_name, "align": self.align, "next_addr": self._next_addr,
            "num_vars": self._num_vars,
            "tensors": [{"name": t.name, "addr": t.addr, "shape": list(t.shape), "dtype": t.dtype, "role": t.role,
                         "has_data": t.data is not None} for t in self.tensors.values()],
            "items": [_item_to_json(x) for x in self.items],
        }

    def save(self, path: str | Path) -> None:
        """Write the program to one ``.npz`` file."""
        arrays = {f"data/{t.name}": t.data for t in self.tensors.values() if t.data is not None}
        meta = np.frombuffer(json.dumps(self.to_json()).encode(), dtype=np.uint8)
        with open(path, "wb") as f:
            np.savez_compressed(f, __program__=meta, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "Program":
        """Read a program written by :meth:`save`."""
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(z["__program__"].tobytes().decode())
                arrays = {k[5:]: z[k] for k in z.files if k.startswith("data/")}
        except (OSError, ValueError, KeyError) as e:
            raise ProgramError(f"{path}: not a gemforge program file ({e})") from None
        if meta.get("format") != "gemforge-program":
            raise ProgramError(f"{path}: not a gemforge program file")
        p = cls(meta["target"], meta["name"], align=meta["align"])
        for t in meta["tensors"]:
            p.tensors[t["name"]] = Tensor(t["name"], t["addr"], tuple(t["shape"]), t["dtype"], t["role"],
                                          arrays[t["name"]] if t["has_data"] else None)
        p._next_addr = meta["next_addr"]
        p._num_vars = meta["num_vars"]
        p.items = [_item_from_json(x) for x in meta["items"]]
        p._stack = [p.items]
        return p

    def __str__(self) -> str:
        lines = [f"program {self.name} for {self.target_name}"]
        for t in self.tensors.values():
            lines.append(f"  tensor {t.name} {t.role} {t.dtype}{list(t.shape)} @ {t.addr:#x}")
        _dump(self.items, lines, "  ")
        return "\n".join(lines)


def _dump(items: list[Item], lines: list[str], indent: str) -> None:
    for x in items:
        if isinstance(x, Loop):
            lines.append(f"{indent}loop {x.name}=v{x.var} x{x.count}:")
            _dump(x.body, lines, indent + "  ")
        elif isinstance(x, HostOp):
            lines.append(f"{indent}host {x.kind}({', '.join(x.inputs)}) -> {', '.join(x.outputs)} {x.attrs}")
        else:
            lines.append(f"{indent}{x}")


def _item_to_json(x: Item):
    if isinstance(x, Insn):
        return [x.funct, operand_to_json(x.rs1), operand_to_json(x.rs2)]
    if isinstance(x, Loop):
        return {"loop": x.var, "count": x.count, "name": x.name, "body": [_item_to_json(y) for y in x.body]}
    return {"host": x.kind, "inputs": x.inputs, "outputs": x.outputs, "attrs": x.attrs}


def _item_from_json(x) -> Item:
    if isinstance(x, list):
        return Insn(int(x[0]), operand_from_json(x[1]), operand_from_json(x[2]))
    if "loop" in x:
        return Loop(x["loop"], x["count"], [_item_from_json(y) for y in x["body"]], x["name"])
    return HostOp(x["host"], x["inputs"], x["outputs"], x["attrs"])
