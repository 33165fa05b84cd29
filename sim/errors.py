"""The simulator's user-facing error."""

from gemforge.errors import GemforgeError


class SimError(GemforgeError):
    """A program the simulated hardware cannot run: the message names the instruction
    index (in the expanded stream), its kind and fields, and the reason."""


def insn_error(index: int, funct: int, rs1: int, rs2: int, reason: str) -> SimError:
    """One-line error for instruction ``index`` with its decoded fields when decodable."""
    from gemforge.backends.gemmini.decode import decode
    from gemforge.backends.gemmini.isa import IsaError

    try:
        what = str(decode(int(funct), int(rs1), int(rs2)))
    except IsaError:
        what = f"funct={int(funct)} rs1={int(rs1):#x} rs2={int(rs2):#x}"
    return SimError(f"instruction {index}: {what}: {reason}")
