"""Turning exceptions from xDSL and gemforge into one-line messages for people.

xDSL reports parse errors with a source excerpt and verifier errors with the whole
module printed around the failing op. Drivers use :func:`one_line` so a user sees
``file:line:col: error: message`` or ``error: op 'graph.conv2d': message`` instead.
"""

from __future__ import annotations

import re

from xdsl.utils.exceptions import DiagnosticException, ParseError

from gemforge.errors import GemforgeError

_OP_IN_MESSAGE = re.compile(r"Operation does not verify: (.*)")


def one_line(exc: BaseException, source: str | None = None) -> str:
    """A single line that names what is wrong and where."""
    if isinstance(exc, ParseError):
        loc = exc.span.get_location()
        return f"{loc}: error: {_first_line(exc.msg)}"
    if isinstance(exc, DiagnosticException):
        text = str(exc)
        match = _OP_IN_MESSAGE.search(text)
        msg = match.group(1) if match else _first_line(text)
        prefix = f"{source}: " if source else ""
        return f"{prefix}error: {msg.strip()}"
    if isinstance(exc, GemforgeError):
        return f"error: {_first_line(str(exc))}"
    return f"error: {type(exc).__name__}: {_first_line(str(exc))}"


def pipeline_error(exc: BaseException, spec: str) -> str:
    """One line for a malformed ``-p`` pipeline: the position and xDSL's reason."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    if len(lines) >= 4 and lines[1].startswith("pass-pipeline:"):
        col = lines[1].rsplit(":", 1)[-1]
        return f"pass pipeline '{spec}': column {col}: {lines[-1]}"
    return f"pass pipeline '{spec}': {lines[0] if lines else type(exc).__name__}"


def _first_line(text: str) -> str:
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return "(no message)"
