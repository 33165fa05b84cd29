"""``gemforge-pipeline``: the whole optimizing path from graph ops to gemmini instructions.

Runs, in order: ``fuse-epilogues`` (when registered), ``convert-graph-to-tile``,
``double-buffer`` (when the schedule is double-buffered), ``allocate-scratchpad`` and
``convert-tile-to-gemmini``. The result is what :func:`gemforge.backends.gemmini.encode.encode`
turns into a Program. Options: ``target`` and the schedule-forcing options of
``convert-graph-to-tile`` (``tiles``, ``stationary``, ``double-buffer``, ``form``).

    gemforge-opt net.mlir -p 'gemforge-pipeline{target=gemmini-default}'
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from gemforge.passes import get_all_passes


def pipeline_passes(target: str = "gemmini-default", tiles: str = "", stationary: str = "",
                    double_buffer: str = "true", form: str = "") -> list[ModulePass]:
    """The passes of the pipeline, configured."""
    from gemforge.passes.allocate_scratchpad import AllocateScratchpad
    from gemforge.passes._tiling_options import flag
    from gemforge.passes.convert_graph_to_tile import ConvertGraphToTile
    from gemforge.passes.convert_tile_to_gemmini import ConvertTileToGemmini
    from gemforge.passes.double_buffer import DoubleBuffer

    passes: list[ModulePass] = []
    registry = get_all_passes()
    if "fuse-epilogues" in registry:
        passes.append(registry["fuse-epilogues"]()())
    passes.append(ConvertGraphToTile(target=target, tiles=tiles, stationary=stationary, double_buffer=double_buffer,
                                     form=form))
    if flag(double_buffer, "double-buffer"):
        passes.append(DoubleBuffer(target=target))
    passes += [AllocateScratchpad(target=target), ConvertTileToGemmini(target=target)]
    return passes


@dataclass(frozen=True)
class GemforgePipeline(ModulePass):
    """graph -> tile -> gemmini with the scheduler's tilings (see the module docstring)."""

    name = "gemforge-pipeline"

    target: str = "gemmini-default"
    tiles: str = ""
    stationary: str = ""
    double_buffer: bool | str = "true"  # xDSL parses true/false as a bool, the Python API may pass text
    form: str = ""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for p in pipeline_passes(self.target, self.tiles, self.stationary, self.double_buffer, self.form):
            p.apply(ctx, op)
