"""What ``sim.run`` returns: outputs, cycles, per-unit utilisation, counts, trace."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Result:
    """Outcome of one simulation.

    ``outputs``: output tensor name -> array; ``cycles``: total cycles (0 when run with
    ``timing=False``); ``busy``: unit -> busy cycles (host, load, execute, store, dma);
    ``counts``: instruction kind -> number executed (after loop and unroller expansion);
    ``host_issued`` / ``generated``: instructions issued by the host (RoCC instructions and
    fences; host kernels are counted in ``counts["host"]`` only) / by the loop unrollers.
    """

    outputs: dict[str, np.ndarray]
    cycles: int
    busy: dict[str, float]
    counts: dict[str, int]
    dma_bytes_read: int
    dma_bytes_written: int
    host_issued: int
    generated: int
    target_name: str
    events: list = field(default_factory=list, repr=False)

    @property
    def instructions(self) -> int:
        return self.host_issued + self.generated

    @property
    def utilization(self) -> dict[str, float]:
        """Busy cycles / total cycles, per unit."""
        return {u: (b / self.cycles if self.cycles else 0.0) for u, b in self.busy.items()}

    def summary(self) -> str:
        """A table for people."""
        lines = [f"target {self.target_name}: {self.cycles:,} cycles, {self.instructions:,} instructions "
                 f"({self.host_issued:,} issued by the host, {self.generated:,} by loop unrollers)",
                 f"DMA: {self.dma_bytes_read:,} bytes read, {self.dma_bytes_written:,} bytes written",
                 f"{'unit':<10}{'busy cycles':>14}{'utilisation':>13}"]
        for u, b in self.busy.items():
            lines.append(f"{u:<10}{int(round(b)):>14,}{self.utilization[u]:>12.1%}")
        lines.append(f"{'kind':<22}{'count':>12}")
        for k, v in sorted(self.counts.items(), key=lambda kv: -kv[1]):
            lines.append(f"{k:<22}{v:>12,}")
        return "\n".join(lines)

    def write_trace(self, path: str | Path) -> None:
        """Write a Chrome trace-event JSON file (open it in Perfetto or chrome://tracing).
        Needs ``sim.run(..., trace=...)`` or ``trace=True`` to have recorded events."""
        from gemforge.sim.trace import write_chrome_trace

        write_chrome_trace(self.events, path, self.target_name)
