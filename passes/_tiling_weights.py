"""Weight constants with request-aligned DRAM rows (the tiling pass's constant images).

Gemmini's DMA cuts a DRAM row into naturally aligned requests of at most
``dma_max_request_bytes``; a row that starts mid-request costs extra requests (each
paying its share of the memory latency) and over-fetched beats. Weights are constants,
so the compiler lays them out with padded rows: each row of a matmul's B (or of a
convolution's HWIO weights) starts on a request boundary. The lowerings read the row
stride from the memref type, and the tiles only ever read the first ``n`` columns.
"""

from __future__ import annotations

import numpy as np
from xdsl.ir import SSAValue

from gemforge.dialects import graph
from gemforge.target import Target


def aligned_width(n: int, elem_bytes: int, target: Target) -> int:
    """Elements per DRAM row for a row of ``n`` elements such that every row of a
    row-major matrix starts on a DMA request boundary: rows longer than a request
    are padded to whole requests, shorter ones to the next power of two. The DMA cuts
    a row into naturally aligned requests (``terms.DmaRates``), so a row that starts
    mid-request costs extra requests (each paying its share of the memory latency) and
    over-fetched beats; padded rows move in the fewest, fullest requests."""
    row, req = n * elem_bytes, target.dma_max_request_bytes
    if row % req == 0:
        return n
    align = req if row > req else 1 << (row - 1).bit_length()
    return -(-row // align) * align // elem_bytes


def pad_rows(data: np.ndarray, target: Target) -> np.ndarray:
    """``data`` with its last dim zero-padded to :func:`aligned_width` (a constant's DRAM image;
    the tiles only ever read the first ``data.shape[-1]`` columns)."""
    if data.ndim < 2:
        return data
    n = data.shape[-1]
    width = aligned_width(n, data.dtype.itemsize, target)
    if width == n:
        return data
    out = np.zeros((*data.shape[:-1], width), data.dtype)
    out[..., :n] = data
    return out


def only_dense_weights(value: SSAValue) -> bool:
    """Whether every use of a constant is the weight operand of a matmul or an ungrouped conv2d
    (whose lowerings read the weight memref's row stride, so its rows may be padded)."""
    uses = list(value.uses)
    for use in uses:
        user = use.operation
        if isinstance(user, graph.MatmulOp) and user.rhs is value:
            continue
        if isinstance(user, graph.Conv2DOp) and user.weight is value and user.groups == 1:
            continue
        return False
    return bool(uses)
