"""Affine integer expressions of loop variables, used for instruction operands.

A :class:`Program` keeps its software loops as loops; an instruction inside a loop may
have ``rs1``/``rs2`` operands that depend on the loop variables.  Such an operand is an
:class:`Affine`: ``const + sum(coef * var)``.  Loop variables are themselves ``Affine``
values (one term, coefficient 1), so ordinary Python arithmetic builds them::

    with p.loop(4) as i:
        p.emit(isa.mvin(a.addr + i * 256, isa.spad(i * 16), rows=16, cols=16))

Only ``+``, ``-``, ``*`` by an integer and ``<<`` by an integer are supported: every
encoder in :mod:`gemforge.backends.gemmini.isa` packs fields with these, so an operand
stays affine.  Values are taken modulo 2**64 when an instruction is expanded.
"""

from __future__ import annotations

from typing import Union


class Affine:
    """``const + sum(coef * var)`` over loop variables identified by integer ids."""

    __slots__ = ("const", "terms")

    def __init__(self, const: int = 0, terms: dict[int, int] | None = None):
        self.const = int(const)
        # Drop zero coefficients so equal expressions compare equal.
        self.terms: dict[int, int] = {v: c for v, c in (terms or {}).items() if c}

    @staticmethod
    def var(var_id: int) -> "Affine":
        return Affine(0, {var_id: 1})

    # Arithmetic -----------------------------------------------------------------
    def __add__(self, other: "Operand") -> "Operand":
        if isinstance(other, Affine):
            terms = dict(self.terms)
            for v, c in other.terms.items():
                terms[v] = terms.get(v, 0) + c
            return _simplify(Affine(self.const + other.const, terms))
        if isinstance(other, int):
            return _simplify(Affine(self.const + other, self.terms))
        return NotImplemented

    __radd__ = __add__

    def __neg__(self) -> "Affine":
        return Affine(-self.const, {v: -c for v, c in self.terms.items()})

    def __sub__(self, other: "Operand") -> "Operand":
        if isinstance(other, (Affine, int)):
            return self + (-other)
        return NotImplemented

    def __rsub__(self, other: "Operand") -> "Operand":
        return (-self) + other

    def __mul__(self, other: int) -> "Operand":
        if isinstance(other, bool) or not isinstance(other, int):
            return NotImplemented
        return _simplify(Affine(self.const * other, {v: c * other for v, c in self.terms.items()}))

    __rmul__ = __mul__

    def __lshift__(self, shift: int) -> "Operand":
        return self * (1 << shift)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Affine):
            return self.const == other.const and self.terms == other.terms
        return False

    def __hash__(self) -> int:
        return hash((self.const, tuple(sorted(self.terms.items()))))

    def __repr__(self) -> str:
        parts = [f"{c}*v{v}" for v, c in sorted(self.terms.items())]
        return " + ".join([*parts, str(self.const)]) if parts else str(self.const)

    def evaluate(self, env: dict[int, int]) -> int:
        """Value for the loop variables in ``env`` (var id -> value)."""
        return self.const + sum(c * env[v] for v, c in self.terms.items())

    def to_json(self) -> list:
        return [self.const, [[v, c] for v, c in sorted(self.terms.items())]]

    @staticmethod
    def from_json(data: list) -> "Operand":
        return _simplify(Affine(data[0], {int(v): int(c) for v, c in data[1]}))


Operand = Union[int, Affine]


def _simplify(a: Affine) -> Operand:
    """A term-free expression is just an int."""
    return a.const if not a.terms else a


def operand_to_json(x: Operand):
    return x if isinstance(x, int) else {"affine": x.to_json()}


def operand_from_json(x) -> Operand:
    return Affine.from_json(x["affine"]) if isinstance(x, dict) else int(x)
