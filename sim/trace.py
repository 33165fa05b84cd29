"""Chrome trace-event JSON: one track (thread) per hardware unit, timestamps in cycles."""

from __future__ import annotations

import json
from pathlib import Path

from gemforge.sim.timing import UNITS


def chrome_trace(events, target_name: str) -> dict:
    """The trace as a dict ("X" complete events; 1 trace microsecond = 1 cycle)."""
    tid = {u: k for k, u in enumerate(UNITS)}
    out = [{"name": "process_name", "ph": "M", "pid": 0, "args": {"name": f"gemmini ({target_name})"}}]
    for u in UNITS:
        out.append({"name": "thread_name", "ph": "M", "pid": 0, "tid": tid[u], "args": {"name": u}})
        out.append({"name": "thread_sort_index", "ph": "M", "pid": 0, "tid": tid[u], "args": {"sort_index": tid[u]}})
    for unit, name, start, end in events:
        out.append({"name": name, "ph": "X", "pid": 0, "tid": tid[unit], "ts": round(float(start), 3),
                    "dur": round(max(float(end) - float(start), 0.0), 3)})
    return {"traceEvents": out, "displayTimeUnit": "ns", "otherData": {"time_unit": "cycles"}}


def write_chrome_trace(events, path: str | Path, target_name: str) -> None:
    Path(path).write_text(json.dumps(chrome_trace(events, target_name)))
