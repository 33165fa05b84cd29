"""A grouped convolution's weights as one ungrouped convolution's (block-diagonal).

Grouped weights are HWIO ``[kh, kw, C / G, K]``: output channel ``k`` belongs to group
``k // (K / G)`` and reads input channels ``[g * C / G, (g + 1) * C / G)`` only. The dense
form ``[kh, kw, C, K]`` holds each group's block on the diagonal and zeros elsewhere, so
the ungrouped convolution computes the same int32 accumulators exactly (the zeros add
nothing) at G times the multiply-accumulates. Used where the dense form is cheaper than
running the groups one by one (``gemforge/network_groups.py``) or where a permutation of
the output channels must cross group boundaries (``fold-channel-shuffle``).
"""

from __future__ import annotations

import numpy as np


def block_diagonal(w: np.ndarray, groups: int) -> np.ndarray:
    """HWIO grouped weights ``[kh, kw, C / groups, K]`` -> dense ``[kh, kw, C, K]``."""
    kh, kw, cg, k = w.shape
    if groups < 1 or k % groups:
        raise ValueError(f"{k} output channels do not split into {groups} groups")
    og = k // groups
    dense = np.zeros((kh, kw, cg * groups, k), dtype=w.dtype)
    for g in range(groups):
        dense[:, :, g * cg:(g + 1) * cg, g * og:(g + 1) * og] = w[:, :, :, g * og:(g + 1) * og]
    return dense
