"""The L2's one-request-per-line rule, as the cost model prices it.

The SoC's L2 serves one request per cache line at a time, so a transfer whose DRAM rows
are narrower than a line and closer than a line apart (a 3-channel pixel row, an im2col
window row at a stride of ``stride * C`` bytes, a 16-channel output row) is a chain of
``chain`` requests one L2 latency apart, ``chain`` = the most rows sharing one line:

    duration >= first latency + (chain - 1) * l2 latency + beats

A DMA controller tracks only ``dma_max_inflight / DIM + 1`` transfers at once (Gemmini's
LoadController / StoreController ``nCmds``), so a stream of such transfers moves at most
that many chains at a time: the stream takes at least the sum of the durations divided by
the slots. Everything comes from the Target (line size, latencies, bus width, request size).
"""

from __future__ import annotations

from math import ceil

from gemforge.target import Target


def dma_slots(target: Target) -> int:
    """Transfers one DMA controller (loads or stores) has in flight at once."""
    return target.dma_max_inflight // target.dim + 1


def chain_length(target: Target, rows: int, row_bytes: int, stride: int) -> int:
    """The most of a transfer's ``rows`` (``row_bytes`` each, ``stride`` bytes apart) that
    share one L2 line (1 when there is no L2 or the rows are a line or more apart)."""
    line = target.mem_l2_line_bytes
    if target.mem_l2_bytes <= 0 or rows <= 1 or not 0 < stride < line:
        return 1
    return min(rows, (line + row_bytes - 1 + stride - 1) // stride)


def chain_floor(target: Target, rows: int, row_bytes: int, stride: int, miss: bool = True) -> float:
    """Least cycles from a transfer's start to its end under the line rule (``miss``: its
    first request goes to DRAM, else it hits the L2)."""
    chain = chain_length(target, rows, row_bytes, stride)
    first = target.mem_latency_cycles if miss or target.mem_l2_bytes <= 0 else target.mem_l2_latency_cycles
    beats = ceil(min(row_bytes, target.dma_max_request_bytes) / target.dma_bus_bytes)
    return first + (chain - 1) * target.mem_l2_latency_cycles + beats

