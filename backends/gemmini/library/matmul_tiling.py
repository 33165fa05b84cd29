"""Tile selection of the vendor library's matmul (``tiled_matmul_auto`` in gemmini.h).

The library pads every dimension to a multiple of DIM and counts tiles in DIM-sized
blocks. In the weight-stationary (double-buffered) mode it budgets half the scratchpad
and half the accumulator, starts from a square-ish tile bounded by the accumulator and
then greedily grows J, I, K (one block each, in that order) while the A and B tiles fit
the scratchpad half, the C tile fits the accumulator half and no tile exceeds its padded
dimension. Every size comes from the :class:`~gemforge.target.Target`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gemforge.errors import GemforgeError
from gemforge.layers import MatmulLayer
from gemforge.target import Target


class TilingError(GemforgeError):
    """Explicit tile sizes the library would reject (names the layer and the reason)."""


@dataclass(frozen=True)
class MatmulTiling:
    """Tile sizes of a weight-stationary matmul, in DIM-sized blocks (as the library counts)."""

    tile_i: int
    tile_j: int
    tile_k: int

    def auto_tiling_string(self, dim: int) -> str:
        """The FireSim CSV's ``dse.auto_tiling`` form R_S_Q_P_C_K_N for a matmul."""
        return f"1_1_{self.tile_i * dim}_1_{self.tile_k * dim}_{self.tile_j * dim}_1"


def padded_blocks(n: int, dim: int) -> int:
    """Number of DIM-sized blocks covering n elements."""
    return -(-n // dim)


def spad_rows_needed(tile_i: int, tile_j: int, tile_k: int, dim: int) -> int:
    """Scratchpad rows for one tile's A (I x K blocks) and B (K x J blocks)."""
    return (tile_i * tile_k + tile_k * tile_j) * dim


def acc_rows_needed(tile_i: int, tile_j: int, dim: int) -> int:
    """Accumulator rows for one tile's C (I x J blocks)."""
    return tile_i * tile_j * dim


def budgets(target: Target, double_buffered: bool = True) -> tuple[int, int]:
    """(scratchpad rows, accumulator rows) one tile may use."""
    if double_buffered:
        return target.spad_rows // 2, target.acc_rows // 2
    return target.spad_rows, target.acc_rows


def matmul_auto_tiling(layer: MatmulLayer, target: Target, double_buffered: bool = True) -> MatmulTiling:
    """The tiling ``tiled_matmul_auto`` picks for ``layer`` (WS when double_buffered)."""
    dim = target.dim
    blocks_i = padded_blocks(layer.m, dim)
    blocks_j = padded_blocks(layer.n, dim)
    blocks_k = padded_blocks(layer.k, dim)
    max_spad, max_acc = budgets(target, double_buffered)

    # The starting square: as many C blocks as the accumulator budget holds (isqrt),
    # and the K depth that the scratchpad budget then allows (the library's macros).
    acc_mats = max_acc // dim
    max_ij = math.isqrt(acc_mats)
    spad_mats = (max_spad // 2) // dim
    max_k = spad_mats // max_ij if max_ij else 0
    tile_i = min(blocks_i, max_ij)
    tile_j = min(blocks_j, max_ij)
    tile_k = min(blocks_k, max_k)

    def fits(i: int, j: int, k: int) -> bool:
        return spad_rows_needed(i, j, k, dim) <= max_spad and acc_rows_needed(i, j, dim) <= max_acc

    while True:
        grew = False
        if tile_j + 1 <= blocks_j and fits(tile_i, tile_j + 1, tile_k):
            tile_j += 1
            grew = True
        if tile_i + 1 <= blocks_i and fits(tile_i + 1, tile_j, tile_k):
            tile_i += 1
            grew = True
        # K does not touch the accumulator, so only the scratchpad bounds it.
        if tile_k + 1 <= blocks_k and spad_rows_needed(tile_i, tile_j, tile_k + 1, dim) <= max_spad:
            tile_k += 1
            grew = True
        if not grew:
            break
    if min(tile_i, tile_j, tile_k) < 1:
        raise TilingError(
            f"layer {layer.name}: target {target.name} has no room for even one {dim}x{dim} block per operand"
        )
    return MatmulTiling(tile_i, tile_j, tile_k)


def check_matmul_tiling(layer: MatmulLayer, tiling: MatmulTiling, target: Target, double_buffered: bool = True) -> None:
    """Reject explicit tile sizes the library's ``tiled_matmul`` would reject."""
    dim = target.dim
    max_spad, max_acc = budgets(target, double_buffered)
    where = f"layer {layer.name}: tiling {tiling}"
    for name, tile, n in (("tile_i", tiling.tile_i, layer.m), ("tile_j", tiling.tile_j, layer.n), ("tile_k", tiling.tile_k, layer.k)):
        if tile < 1:
            raise TilingError(f"{where}: {name} must be positive")
        if tile > padded_blocks(n, dim):
            raise TilingError(f"{where}: {name} = {tile} blocks exceeds the padded dimension ({padded_blocks(n, dim)} blocks)")
        if tile > 0xFFFF:
            raise TilingError(f"{where}: {name} = {tile} does not fit LOOP_WS's 16-bit bound")
    if spad_rows_needed(tiling.tile_i, tiling.tile_j, tiling.tile_k, dim) > max_spad:
        raise TilingError(f"{where}: A and B need {spad_rows_needed(tiling.tile_i, tiling.tile_j, tiling.tile_k, dim)} scratchpad rows, budget {max_spad}")
    if acc_rows_needed(tiling.tile_i, tiling.tile_j, dim) > max_acc:
        raise TilingError(f"{where}: C needs {acc_rows_needed(tiling.tile_i, tiling.tile_j, dim)} accumulator rows, budget {max_acc}")
