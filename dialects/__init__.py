"""Dialects of gemforge, one per file, each exporting one ``Dialect`` object.

- ``graph``: tensor-level ops with value semantics (NHWC, int8 with scales).
- ``tile``: loops over tiles, buffers in the dram / spad / acc memory spaces.
- ``gemmini``: the accelerator ISA, one op per instruction.
"""

from collections.abc import Callable

from xdsl.ir import Dialect


def get_all_dialects() -> dict[str, Callable[[], Dialect]]:
    """Lazy registry: dialect name -> factory (imports the module on first use)."""

    def get_graph() -> Dialect:
        from gemforge.dialects.graph import Graph

        return Graph

    def get_tile() -> Dialect:
        from gemforge.dialects.tile import Tile

        return Tile

    def get_gemmini() -> Dialect:
        from gemforge.dialects.gemmini import Gemmini

        return Gemmini

    return {"graph": get_graph, "tile": get_tile, "gemmini": get_gemmini}
