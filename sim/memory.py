"""The simulated memories: the DRAM image (named tensors) and the local scratchpad and
accumulator, plus the decoding of Gemmini local addresses.

DRAM is one byte array spanning every tensor of the Program; an access must fall inside
one tensor (else :class:`SimError`).  The scratchpad holds ``spad_rows`` rows of DIM
int8, the accumulator ``acc_rows`` rows of DIM int32; a per-row "written" flag catches
reads of rows never written (unless ``allow_uninitialized``).
"""

from __future__ import annotations

import bisect
from typing import NamedTuple

import numpy as np

from gemforge.backends.gemmini.program import Program, Tensor
from gemforge.errors import GemforgeError
from gemforge.target import Target

ROW_MASK = (1 << 26) - 1


def row_view(a: np.ndarray) -> np.ndarray:
    """A 1-D view of C-contiguous 2-D ``a`` with one opaque element per row: fancy
    indexing whole rows through it is several times faster than on ``a`` (one copy of
    the row's bytes per index instead of an element loop).  ``take_rows`` reads it."""
    return a.view(np.dtype((np.void, a.shape[1] * a.itemsize))).reshape(-1)


def take_rows(view: np.ndarray, idx: np.ndarray, dtype, width: int) -> np.ndarray:
    """Rows ``idx`` (any shape) of a :func:`row_view` as an array of shape idx.shape + (width,)."""
    idx = np.ascontiguousarray(idx)  # a transposed index would give a transposed result
    return view[idx].view(dtype).reshape(*idx.shape, width)


class Local(NamedTuple):
    """A decoded local address."""

    garbage: bool
    is_acc: bool
    accumulate: bool
    read_full: bool
    norm: int
    row: int


class LocalDecoder:
    """Decodes 32-bit local addresses for one target (garbage = the hardware's is_garbage)."""

    def __init__(self, target: Target):
        max_rows = max(target.spad_rows, target.acc_rows)
        self.data_mask = (1 << max(1, (max_rows - 1).bit_length())) - 1

    def __call__(self, addr: int) -> Local:
        garbage = (addr >> 29) == 7 and (addr & self.data_mask) == self.data_mask
        return Local(garbage, bool(addr >> 31 & 1), bool(addr >> 30 & 1), bool(addr >> 29 & 1), self.norm(addr),
                     addr & ROW_MASK)

    @staticmethod
    def norm(addr):
        """The normalization-command field (bits 26-28; 0: none) of an address or an int64 array of them."""
        return (addr >> 26) & 7

    def garbage(self, addr: np.ndarray) -> np.ndarray:
        """The garbage test of :meth:`__call__` for an int64 array of 32-bit addresses."""
        return ((addr >> 29) == 7) & ((addr & self.data_mask) == self.data_mask)


class InputError(GemforgeError):
    """Bad ``inputs`` given to ``sim.run``."""


class Dram:
    """The DRAM image: every tensor of the program in one byte array."""

    def __init__(self, program: Program):
        ts = sorted(program.tensors.values(), key=lambda t: t.addr)
        self.tensors = ts
        self.base = ts[0].addr if ts else 0
        end = max((t.end for t in ts), default=self.base)
        self.mem = np.zeros(end - self.base, np.uint8)
        self._starts = [t.addr for t in ts]
        self._ends = [t.end for t in ts]
        self.starts_arr = np.array(self._starts, np.int64)
        self.ends_arr = np.array(self._ends, np.int64)
        self._windows: dict[int, np.ndarray] = {}
        for t in ts:
            if t.data is not None:
                self.view(t)[...] = t.data

    def view(self, t: Tensor) -> np.ndarray:
        """A writable numpy view of tensor ``t`` with its shape and dtype."""
        off = t.addr - self.base
        return self.mem[off:off + t.nbytes].view(t.dtype).reshape(t.shape)

    def find(self, lo: int, hi: int) -> Tensor | None:
        """The tensor containing the byte range [lo, hi), if any."""
        k = bisect.bisect_right(self._starts, lo) - 1
        if k < 0:
            return None
        return self.tensors[k] if hi <= self._ends[k] else None

    def rows(self, addr: int, rows: int, stride: int, nbytes: int) -> np.ndarray:
        """A (rows, nbytes) uint8 view of DRAM rows ``addr + r * stride`` (caller checked bounds)."""
        off = addr - self.base
        if stride == nbytes or rows == 1:
            return self.mem[off:off + rows * nbytes].reshape(rows, nbytes)
        return np.ndarray((rows, nbytes), np.uint8, buffer=self.mem, offset=off, strides=(stride, 1))

    def windows(self, width: int) -> np.ndarray:
        """A 1-D view with one opaque ``width``-byte element starting at every byte of the
        image (they overlap): ``take_rows(windows(w), offsets, np.uint8, w)`` reads
        ``w`` bytes at each offset (from ``base``) with one fast gather."""
        win = self._windows.get(width)
        if win is None:
            n = max(0, len(self.mem) - width + 1)
            win = np.ndarray((n,), np.dtype((np.void, width)), buffer=self.mem, strides=(1,))
            self._windows[width] = win
        return win

    def set_inputs(self, program: Program, inputs: dict[str, np.ndarray]) -> None:
        inputs = dict(inputs or {})
        for t in program.tensors.values():
            if t.role == "output" and t.name in inputs:
                pass  # an output's initial contents (a kernel that updates part of it)
            elif t.role != "input":
                continue
            elif t.name not in inputs:
                raise InputError(f"input tensor {t.name}: not given to run()")
            x = np.asarray(inputs.pop(t.name))
            if x.shape != t.shape:
                raise InputError(f"input tensor {t.name}: shape {x.shape} != {t.shape}")
            if x.dtype != np.dtype(t.dtype):
                if not np.array_equal(x.astype(t.dtype).astype(x.dtype), x):
                    raise InputError(f"input tensor {t.name}: values do not fit {t.dtype} (got {x.dtype})")
                x = x.astype(t.dtype)
            self.view(t)[...] = x
        if inputs:
            raise InputError(f"inputs {', '.join(sorted(inputs))}: no input tensor of that name")
