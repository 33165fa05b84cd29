"""Reuse of generated instruction streams between loops that differ only in DRAM addresses.

A tiled layer issues hundreds of LOOP_WS / LOOP_CONV_WS whose configuration words are
identical except for the operand base addresses.  The unrollers' output is then the same
up to those bases, so it is generated once per distinct configuration (with each base
replaced by a tag in the bits above any real address) and later loops only add their
bases: ``rs1 = base[selector] + offset`` for the move-ins / move-outs.  Exactly the same
instructions as generating afresh; a base at or above the tag bits disables the cache.
"""

from __future__ import annotations

import numpy as np

from gemforge.backends.gemmini import isa
from gemforge.sim.errors import insn_error

_TAG_SHIFT = 56
_LOW = np.uint64((1 << _TAG_SHIFT) - 1)
_DRAM_FUNCTS = (isa.MVIN, isa.MVIN2, isa.MVIN3, isa.MVOUT)
_MAX_ENTRIES = 512


class TemplateCache:
    """Generated (funct, rs1, rs2) per configuration, with DRAM bases factored out."""

    def __init__(self, addr_fields: tuple[str, ...]):
        self.addr_fields = addr_fields
        self.cache: dict = {}

    def generate(self, regs: dict[str, int], state: tuple, gen_fn):
        """``gen_fn(regs)`` -> (funct, rs1, rs2) arrays, or the cached equivalent."""
        bases = [regs[k] for k in self.addr_fields]
        if any(b >= 1 << _TAG_SHIFT for b in bases):
            return gen_fn(regs)
        key = (tuple(sorted((k, v) for k, v in regs.items() if k not in self.addr_fields)),
               tuple(b != 0 for b in bases), state)
        hit = self.cache.get(key)
        if hit is None:
            tagged = dict(regs)
            for n, k in enumerate(self.addr_fields):
                if regs[k]:
                    tagged[k] = (n + 1) << _TAG_SHIFT
            f, r1, r2 = gen_fn(tagged)
            sel = np.where(np.isin(f, _DRAM_FUNCTS), r1 >> np.uint64(_TAG_SHIFT), np.uint64(0)).astype(np.int64)
            off = np.where(sel > 0, r1 & _LOW, r1)
            hit = (f, off, r2, sel, bool(sel.any()))
            if len(self.cache) >= _MAX_ENTRIES:
                self.cache.clear()
            self.cache[key] = hit
        f, off, r2, sel, any_sel = hit
        if not any_sel:
            return f.copy(), off.copy(), r2.copy()
        table = np.array([0, *bases], np.uint64)
        return f.copy(), off + table[sel], r2.copy()


class LoopUnroller:
    """What the LOOP_WS and LOOP_CONV_WS unrollers share: the config-word registers.

    ``record`` decodes one host-issued word into the registers and returns the decoded
    record when it is the unroller's own loop command (then ``self.regs`` holds every
    field of the loop), else None.
    """

    LOOP_FUNCT: int
    OPERANDS: tuple[str, ...]

    def __init__(self, target):
        self.t = target
        self.regs: dict[str, int] = {}
        self.loops_started = 0
        self.acc_half = 0  # current accumulator half for D/C (toggles after loops with C != 0)
        self.templates = TemplateCache(self.OPERANDS)
        self._decoded: dict[tuple[int, int, int], object] = {}  # (funct, rs1, rs2) -> decoded record

    def record(self, index: int, funct: int, rs1: int, rs2: int):
        key = (funct, rs1, rs2)
        rec = self._decoded.get(key)  # tiled layers repeat most config words loop after loop
        if rec is None:
            try:
                rec = isa.decode(funct, rs1, rs2)
            except isa.IsaError as e:
                raise insn_error(index, funct, rs1, rs2, str(e)) from None
            if len(self._decoded) >= _MAX_ENTRIES * 8:
                self._decoded.clear()
            self._decoded[key] = rec
        self.regs.update(rec.fields)
        return rec if funct == self.LOOP_FUNCT else None
