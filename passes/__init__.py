"""Passes of gemforge, one per file, each a ``ModulePass`` with ``name = "kebab-case"``.

:func:`get_all_passes` is the lazy registry (name -> factory) that ``gemforge-opt``,
``xdsl-opt`` (through the ``xdsl.universe`` entry point) and the Python API use.
Add a pass by adding its file and one line to ``_PASSES``.
"""

from collections.abc import Callable
from importlib import import_module

from xdsl.passes import ModulePass

# pass name -> (module under gemforge.passes, class name)
_PASSES: dict[str, tuple[str, str]] = {
    "fold-batchnorm": ("fold_batchnorm", "FoldBatchNorm"),
    "fold-channel-shuffle": ("fold_channel_shuffle", "FoldChannelShuffle"),
    "fold-lut": ("fold_lut", "FoldLut"),
    "fuse-activation": ("fuse_activation", "FuseActivation"),
    "fuse-bias": ("fuse_bias", "FuseBias"),
    "fuse-epilogues": ("fuse_epilogues", "FuseEpilogues"),
    "fuse-pool": ("fuse_pool", "FusePool"),
    "fuse-requantize": ("fuse_requantize", "FuseRequantize"),
    "fuse-residual": ("fuse_residual", "FuseResidual"),
    "allocate-scratchpad": ("allocate_scratchpad", "AllocateScratchpad"),
    "double-buffer": ("double_buffer", "DoubleBuffer"),
    "convert-graph-to-tile": ("convert_graph_to_tile", "ConvertGraphToTile"),
    "convert-tile-to-gemmini": ("convert_tile_to_gemmini", "ConvertTileToGemmini"),
    "gemforge-pipeline": ("gemforge_pipeline", "GemforgePipeline"),
}


def _factory(module: str, cls: str) -> Callable[[], type[ModulePass]]:
    def get() -> type[ModulePass]:
        return getattr(import_module(f"gemforge.passes.{module}"), cls)

    return get


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Lazy registry: pass name -> factory returning the pass class."""
    return {name: _factory(mod, cls) for name, (mod, cls) in _PASSES.items()}
