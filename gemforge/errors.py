"""The one exception family that gemforge's commands turn into one-line errors.

Anything raised as a :class:`GemforgeError` is a problem with the user's input (a
file, an op, a layer, an instruction) and its message names the thing at fault; the
command-line drivers print ``error: <message>`` and exit with status 1 instead of a
traceback. Any other exception escaping a driver is a bug in gemforge.
"""


class GemforgeError(Exception):
    """Base class of all user-facing gemforge errors."""


def reader_gone() -> int:
    """What a driver returns when its output pipe closed early (``gemforge target | head``):
    no traceback; stdout is pointed at /dev/null so the interpreter's final flush cannot
    fail again. Exit status 1, as Python's own recipe has it (the shell reports the pipe's
    last command anyway)."""
    import os
    import sys

    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 1
