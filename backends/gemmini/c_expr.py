"""C expressions for instruction operands, and exact splitting of a packed operand into fields.

A Program operand is an int or an :class:`Affine` expression of loop variables; its value
on the hardware is taken modulo 2**64.  In C every loop variable is a ``uint64_t``, so an
expression such as ``4096 + 16*i0`` is evaluated in unsigned 64-bit arithmetic and wraps
exactly like the simulator's ``% 2**64``.

:func:`split_fields` rewrites a packed operand (``rows<<48 | cols<<32 | addr``) as one
expression per field, so the C can call gemmini.h's named macros.  A split is only
returned when it is *provably* exact for every iteration: each field's expression stays in
``[0, 2**width)`` over the loop ranges, so no carry crosses a field boundary; otherwise
the caller falls back to the raw packed value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gemforge.backends.gemmini.affine import Affine, Operand

MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class LoopVar:
    """A loop variable as C sees it: its name and trip count."""

    cname: str
    count: int


Scope = dict[int, LoopVar]  # Affine var id -> enclosing loop


def c_int(value: int) -> str:
    """A non-negative C integer literal; 64-bit ones get ``UINT64_C``; big ones in hex."""
    value &= MASK64
    if value < (1 << 31):
        return str(value) if value < 4096 else hex(value)
    return f"UINT64_C({value:#x})"


def c_operand(op: Operand, scope: Scope) -> str:
    """C expression (``uint64_t`` arithmetic) of an operand."""
    if isinstance(op, int):
        return c_int(op)
    parts = [] if op.const == 0 else [c_int(op.const) if op.const > 0 else f"-{c_int(-op.const)}"]
    for var, coef in sorted(op.terms.items()):
        name = scope[var].cname
        mag = abs(coef)
        term = name if mag == 1 else f"{c_int(mag)}*{name}"
        if not parts:
            # A leading negative term: 0 - x in uint64_t still wraps as the simulator does.
            parts.append(term if coef > 0 else f"(uint64_t)0 - {term}")
        else:
            parts.append(("+ " if coef > 0 else "- ") + term)
    return " ".join(parts)


def value_range(op: Operand, scope: Scope) -> tuple[int, int]:
    """Least and greatest value of ``op`` over all iterations of the enclosing loops."""
    if isinstance(op, int):
        return op, op
    lo = hi = op.const
    for var, coef in op.terms.items():
        top = coef * max(scope[var].count - 1, 0)
        lo += min(0, top)
        hi += max(0, top)
    return lo, hi


def split_fields(op: Operand, fields: list[tuple[str, int, int]], scope: Scope) -> dict[str, Operand] | None:
    """Split ``op`` into ``{name: operand}`` for ``fields`` = ``[(name, shift, width)]`` of one
    register, or None when that is not exact for every iteration (see module docstring)."""
    const = op if isinstance(op, int) else op.const
    if not 0 <= const <= MASK64:
        return None
    covered = 0
    for _, shift, width in fields:
        covered |= ((1 << width) - 1) << shift
    if const & ~covered:
        return None  # bits outside every field: the macro could not produce them
    # Loop terms: first as unsigned field slices, then with borrows (e.g. rows = 16 - m).
    for signed in (False, True):
        parts = _with_terms(op, fields, signed)
        if parts is not None and all(_fits(parts[name], width, scope) for name, _, width in fields):
            return parts
    return None


def _with_terms(op: Operand, fields: list[tuple[str, int, int]], signed: bool) -> dict[str, Operand] | None:
    """Per-field expressions: the constant's slices plus each loop term's pieces."""
    const = op if isinstance(op, int) else op.const
    parts: dict[str, Operand] = {name: (const >> shift) & ((1 << width) - 1) for name, shift, width in fields}
    for var, coef in (op.terms.items() if isinstance(op, Affine) else ()):
        pieces = _decompose(coef, fields, signed)
        if pieces is None:
            return None
        for name, k in pieces.items():
            parts[name] = parts[name] + Affine.var(var) * k
    return parts


def _fits(op: Operand, width: int, scope: Scope) -> bool:
    lo, hi = value_range(op, scope)
    return 0 <= lo and hi < (1 << width)


def _decompose(coef: int, fields: list[tuple[str, int, int]], signed: bool) -> dict[str, int] | None:
    """``coef`` (mod 2**64) as ``sum(k_f << shift_f)``, lowest field first, each ``k_f`` a
    field-sized slice (``signed``: a slice in the upper half is negative and borrows from
    the next field); None when ``coef`` has bits between or above the fields."""
    rest = coef % (1 << 64)
    pieces = {}
    for name, shift, width in sorted(fields, key=lambda f: f[1]):
        if rest % (1 << shift):
            return None
        k = (rest >> shift) & ((1 << width) - 1)
        if signed and k >= 1 << (width - 1):
            k -= 1 << width
        if k:
            pieces[name] = k
        rest -= k << shift
    return pieces if rest % (1 << 64) == 0 else None


def c_float(x: float) -> str:
    """An exact C ``float`` literal for a value representable in fp32 (hex, no trailing zeros)."""
    text = re.sub(r"(\.[0-9a-f]*?)0+p", r"\1p", x.hex()).replace(".p", "p")
    return f"{text}f"
