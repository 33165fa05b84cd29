"""A dependency-free progress bar on stderr, over the nodes of a network."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    """``bar = ProgressBar("compile", total)``; ``bar(node, *_)`` once per step; ``bar.close()``.

    Redraws in place on a terminal; elsewhere (pipes, CI logs) prints nothing until
    :meth:`close`, which prints one summary line, so logs stay readable."""

    def __init__(self, label: str, total: int, stream=None, width: int = 30, enabled: bool = True):
        self.label, self.total, self.width, self.enabled = label, max(total, 1), width, enabled
        self.stream = stream or sys.stderr
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.done, self.t0 = 0, time.perf_counter()

    def start(self, total: int) -> None:
        """(Re)start the clock with ``total`` steps to come."""
        self.total, self.done, self.t0 = max(total, 1), 0, time.perf_counter()

    def __call__(self, node=None, *_) -> None:
        self.done += 1
        if self.tty:
            frac = min(self.done / self.total, 1.0)
            fill = int(frac * self.width)
            name = getattr(node, "name", "")[:28]
            self.stream.write(f"\r{self.label:<9}[{'#' * fill}{'.' * (self.width - fill)}] {self.done:>4}/{self.total}"
                              f" {name:<28}")
            self.stream.flush()

    def close(self) -> None:
        if not self.enabled:
            return
        dt = time.perf_counter() - self.t0
        end = "\r" if self.tty else ""
        self.stream.write(f"{end}{self.label:<9}{self.done} nodes in {dt:.1f} s{' ' * (self.width + 30)}\n")
        self.stream.flush()
