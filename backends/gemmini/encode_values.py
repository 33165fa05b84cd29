"""Index arithmetic of gemmini-dialect IR evaluated as Program operands.

Inside a Program loop an instruction operand is an :class:`Affine` of loop variables.
``arith`` ops on index values are evaluated here: ``addi``/``subi``/``muli`` by a
constant stay affine; ``divui``/``remui``/``divsi``/``remsi`` by a constant are exact
when every coefficient is a multiple of the divisor; ``cmpi``, ``minsi``/``maxsi`` and
``select`` are decided from the ranges of the loop variables (var id -> trip count).
What cannot be decided raises :class:`Undecidable`, and the encoder then retries the
enclosing loop in a more concrete form (unrolled by two, peeled, or fully unrolled).
"""

from __future__ import annotations

from xdsl.dialects import arith

from gemforge.backends.gemmini.affine import Affine, Operand
from gemforge.errors import GemforgeError


class Undecidable(Exception):
    """A value depends on loop variables in a way an affine operand cannot express."""


class EncodeError(GemforgeError):
    """IR the encoder cannot turn into a Program (one line, names the op)."""


def _terms(x: Operand) -> tuple[int, dict[int, int]]:
    return (x, {}) if isinstance(x, int) else (x.const, x.terms)


def bounds(x: Operand, ranges: dict[int, int]) -> tuple[int, int]:
    """(min, max) of ``x`` over loop variables ``v`` in ``[0, ranges[v] - 1]``."""
    const, terms = _terms(x)
    lo = hi = const
    for v, c in terms.items():
        top = c * (ranges[v] - 1)
        lo, hi = lo + min(0, top), hi + max(0, top)
    return lo, hi


def _divisible(x: Operand, d: int) -> bool:
    _, terms = _terms(x)
    return all(c % d == 0 for c in terms.values())


def _cmp(pred: str, lhs: Operand, rhs: Operand, ranges) -> bool:
    lo, hi = bounds(lhs - rhs, ranges)  # type: ignore[operator]
    decide = {
        "eq": (lo == hi == 0, hi < 0 or lo > 0), "ne": (hi < 0 or lo > 0, lo == hi == 0),
        "slt": (hi < 0, lo >= 0), "sle": (hi <= 0, lo > 0), "sgt": (lo > 0, hi <= 0), "sge": (lo >= 0, hi < 0),
        "ult": (hi < 0, lo >= 0), "ule": (hi <= 0, lo > 0), "ugt": (lo > 0, hi <= 0), "uge": (lo >= 0, hi < 0),
    }
    if pred not in decide:
        raise EncodeError(f"arith.cmpi: unsupported predicate {pred}")
    yes, no = decide[pred]
    if yes:
        return True
    if no:
        return False
    raise Undecidable(f"arith.cmpi {pred}")


PREDICATES = ["eq", "ne", "slt", "sle", "sgt", "sge", "ult", "ule", "ugt", "uge"]


def evaluate(op, get, ranges: dict[int, int]):
    """The value of an arith op's result given ``get(ssa)`` for its operands."""
    if isinstance(op, arith.ConstantOp):
        return op.value.value.data
    if isinstance(op, arith.IndexCastOp):
        return get(op.input)
    if isinstance(op, arith.SelectOp):
        cond = get(op.cond)
        if not isinstance(cond, bool):
            raise Undecidable("arith.select")
        return get(op.lhs) if cond else get(op.rhs)
    if isinstance(op, arith.CmpiOp):
        return _cmp(PREDICATES[op.predicate.value.data], get(op.lhs), get(op.rhs), ranges)
    a, b = get(op.lhs), get(op.rhs)
    if isinstance(op, arith.AddiOp):
        return a + b
    if isinstance(op, arith.SubiOp):
        return a - b
    if isinstance(op, arith.MuliOp):
        if isinstance(a, Affine) and isinstance(b, Affine):
            raise EncodeError("arith.muli of two loop-dependent values is not affine")
        return a * b
    if isinstance(op, arith.MinSIOp | arith.MaxSIOp):
        less = _cmp("sle", a, b, ranges)
        return (a if less else b) if isinstance(op, arith.MinSIOp) else (b if less else a)
    if isinstance(op, arith.DivUIOp | arith.DivSIOp | arith.RemUIOp | arith.RemSIOp):
        if not isinstance(b, int) or b == 0:
            raise EncodeError(f"{op.name}: divisor must be a non-zero constant")
        if isinstance(a, int):
            q, r = (a // b, a % b) if a >= 0 else (-(-a // b), -((-a) % b))
            return q if isinstance(op, arith.DivUIOp | arith.DivSIOp) else r
        if not _divisible(a, b) or bounds(a, ranges)[0] < 0:
            raise Undecidable(op.name)
        const, terms = _terms(a)
        if isinstance(op, arith.RemUIOp | arith.RemSIOp):
            return const % b
        if const % b:
            raise Undecidable(op.name)
        return Affine(const // b, {v: c // b for v, c in terms.items()}) + 0
    raise EncodeError(f"{op.name} is not supported in index arithmetic")
