"""The text options of ``convert-graph-to-tile`` (and ``gemforge-pipeline``, which passes
them on) turned into the tiling pass's ``force`` dict, with one-line errors."""

from __future__ import annotations

from xdsl.dialects.builtin import StringAttr

from gemforge.errors import GemforgeError
from gemforge.passes._tiling_im2col import FORM as IM2COL


class TilingError(GemforgeError):
    """A graph op the tiling pass cannot lower (one line, names the op)."""


def op_label(op) -> str:
    """How a TilingError names ``op``: its op name and its ``layer`` attribute, if any."""
    name = op.attributes.get("layer")
    return f"{op.name}{' ' + repr(name.data) if isinstance(name, StringAttr) else ''}"


def parse_tiles(text: str) -> dict[str, int]:
    """``"m=64,n=128"`` -> ``{"m": 64, "n": 128}``."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, eq, value = part.partition("=")
        if not eq or not value.strip().isdigit():
            raise TilingError(f"convert-graph-to-tile: bad tiles entry '{part}' (expected dim=integer)")
        out[name.strip()] = int(value)
    return out


def flag(text: str | bool, what: str) -> bool:
    """A boolean pass option given as text (true/false, 1/0, yes/no)."""
    if isinstance(text, bool):
        return text
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise TilingError(f"convert-graph-to-tile: {what} must be true or false, got '{text}'")


def forced_choices(form: str, tiles: str, stationary: str, double_buffer: str | bool) -> dict:
    """The pass options as the tiling's ``force`` dict (empty text = the scheduler chooses)."""
    force: dict = {}
    if form:
        if form not in ("fine", "loop", IM2COL):
            raise TilingError(f"convert-graph-to-tile: form must be fine, loop or im2col, got '{form}'")
        force["form"] = form
    if tiles:
        force["tiles"] = parse_tiles(tiles)
    if stationary:
        if stationary not in ("input", "weight", "output"):
            raise TilingError(f"convert-graph-to-tile: stationary must be input, weight or output, "
                              f"got '{stationary}'")
        force["stationary"] = stationary
    force["double_buffer"] = flag(double_buffer, "double-buffer")
    return force
