"""The DMA engine and the SoC memory, as interval arithmetic (no per-cycle loop).

A transfer of ``rows`` rows of ``row_bytes`` bytes is cut into requests of at most
``dma_max_request_bytes`` (each ``ceil(size / dma_bus_bytes)`` beats).  Requests leave
at most one per beat-time, at most ``dma_max_inflight`` outstanding, and all transfers
(loads and stores) share one memory pipe of ``mem_bytes_per_cycle``; each request's data
(or write acknowledgement) returns ``mem_latency_cycles`` after it is issued.  Hence:

    interval = max(beats, (mem_latency + beats) / max_inflight, size / mem_bytes_per_cycle)
    last request issued = max(start + (n - 1) * interval, memory pipe free + bytes / bw - size / bw)
    done                = last request issued + mem_latency + beats

A longer latency or a lower bandwidth never makes a transfer finish earlier.
"""

from __future__ import annotations

from gemforge.target import Target


class Dma:
    def __init__(self, target: Target):
        self.max_req = target.dma_max_request_bytes
        self.bus = target.dma_bus_bytes
        self.inflight = target.dma_max_inflight
        self.lat = target.mem_latency_cycles
        self.bw = target.mem_bytes_per_cycle
        self.pipe_free = 0.0  # when the shared memory pipe has moved everything so far
        self.busy = 0.0  # union of transfer intervals
        self._busy_end = 0.0
        self.bytes_read = 0
        self.bytes_written = 0

    def transfer(self, start: float, rows: int, row_bytes: int, write: bool) -> tuple[float, float]:
        """Returns (when the controller may issue its next transfer, when this one is done)."""
        per_row = -(-row_bytes // self.max_req)
        n = rows * per_row
        size = row_bytes / per_row
        beats = -(-int(size) // self.bus) if size >= 1 else 1
        total = rows * row_bytes
        interval = max(beats, (self.lat + beats) / self.inflight, size / self.bw)
        pipe_start = max(start, self.pipe_free)
        self.pipe_free = pipe_start + total / self.bw
        last_issue = max(start + (n - 1) * interval, self.pipe_free - size / self.bw)
        done = last_issue + self.lat + beats
        if write:
            self.bytes_written += total
        else:
            self.bytes_read += total
        # busy = union of [start, done) intervals (they arrive roughly in start order)
        s = max(start, self._busy_end)
        if done > s:
            self.busy += done - s
            self._busy_end = done
        return last_issue + 1, done
