"""The target description: one object that says everything about the accelerator.

The scheduler, the scratchpad allocator, the backend and the simulator all read a
:class:`Target`; nothing about the hardware is hard-coded anywhere else. A target is
loaded from a TOML file (see ``gemforge/targets/*.toml``) whose tables and keys are
listed in :data:`SCHEMA`, each with its unit. Loading validates everything and raises
:class:`TargetError` with a one-line message naming the file, the key and the reason.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from gemforge.errors import GemforgeError


class TargetError(GemforgeError):
    """An invalid target description (message: ``file: [table] key: reason``)."""


@dataclass(frozen=True)
class Field:
    """One key of the TOML schema: where it lives, its type, unit and meaning."""

    table: str
    key: str
    type: type
    unit: str
    doc: str
    minimum: float | None = 0
    power_of_two: bool = False

    @property
    def attr(self) -> str:
        return f"{_PREFIX[self.table]}{self.key}"


# Attribute name = table prefix + key, e.g. [scratchpad] banks -> spad_banks.
_PREFIX = {
    "target": "",
    "array": "",
    "scratchpad": "spad_",
    "accumulator": "acc_",
    "dma": "dma_",
    "memory": "mem_",
    "queues": "queue_",
    "reservation_station": "rs_",
    "latency": "lat_",
    "host": "host_",
}

SCHEMA: tuple[Field, ...] = (
    Field("target", "name", str, "", "short name of the configuration", None),
    Field("target", "description", str, "", "one line for people", None),
    # The systolic array.
    Field("array", "dim", int, "PEs", "rows = columns of the square PE array (DIM)", 1, True),
    Field("array", "input_bits", int, "bits", "width of inputs and weights (signed)", 1),
    Field("array", "acc_bits", int, "bits", "width of the accumulator (signed)", 1),
    Field("array", "weight_stationary", bool, "", "the array supports the WS dataflow", None),
    Field("array", "output_stationary", bool, "", "the array supports the OS dataflow", None),
    Field("array", "mesh_tags", int, "matmuls", "matmuls the mesh tracks at once (its tag queue)", 3),
    # Local memories.
    Field("scratchpad", "capacity_bytes", int, "bytes", "scratchpad size; a row is DIM inputs", 1),
    Field("scratchpad", "banks", int, "banks", "single-ported scratchpad banks", 1, True),
    Field("accumulator", "capacity_bytes", int, "bytes", "accumulator size; a row is DIM accumulators", 1),
    Field("accumulator", "banks", int, "banks", "accumulator banks", 1, True),
    # DMA engine.
    Field("dma", "bus_bytes", int, "bytes/beat", "width of the system bus", 1, True),
    Field("dma", "max_request_bytes", int, "bytes", "largest single memory request", 1, True),
    Field("dma", "max_inflight", int, "requests", "outstanding memory requests", 1),
    Field("dma", "max_spad_mvin_blocks", int, "DIM-column blocks", "widest mvin into the scratchpad", 1),
    Field("dma", "max_acc_mvin_blocks", int, "DIM-column blocks", "widest mvin into the accumulator", 1),
    Field("dma", "max_mvout_blocks", int, "DIM-column blocks", "widest mvout", 1),
    # The SoC memory system (calibrated against FireSim).
    Field("memory", "latency_cycles", int, "cycles", "request to first data beat", 0),
    Field("memory", "bytes_per_cycle", float, "bytes/cycle", "sustained DRAM bandwidth shared by all requests", 0.001),
    Field("memory", "l2_bytes", int, "bytes", "SoC last-level cache in front of DRAM (0 = none)", 0),
    Field("memory", "l2_line_bytes", int, "bytes", "cache line size", 1, True),
    Field("memory", "l2_latency_cycles", int, "cycles", "request to first data beat on a cache hit", 0),
    Field("memory", "l2_bytes_per_cycle", float, "bytes/cycle", "bandwidth of cache hits", 0.001),
    # Controller command queues and the reservation station.
    Field("queues", "load", int, "entries", "load controller command queue", 1),
    Field("queues", "execute", int, "entries", "execute controller command queue", 1),
    Field("queues", "store", int, "entries", "store controller command queue", 1),
    Field("reservation_station", "load", int, "entries", "reservation-station entries for loads", 1),
    Field("reservation_station", "execute", int, "entries", "reservation-station entries for execute", 1),
    Field("reservation_station", "store", int, "entries", "reservation-station entries for stores", 1),
    # Unit latencies.
    Field("latency", "spad_read", int, "cycles", "scratchpad read latency", 0),
    Field("latency", "acc_read", int, "cycles", "accumulator read latency", 0),
    Field("latency", "acc_scale", int, "cycles", "accumulator scale unit (mvout scaling) latency", 0),
    Field("latency", "mvin_scale", int, "cycles", "mvin scale unit latency", 0),
    Field("latency", "mesh_fill", int, "cycles", "first A row entering the mesh to first output row", 0),
    Field("latency", "mesh_drain", int, "cycles", "first A row to the last accumulator commit", 0),
    Field("latency", "compute_min_cycles", int, "cycles", "floor of a fused preload+compute in WS", 1),
    Field("latency", "acc_write_gap", int, "cycles", "minimum spacing of two writes to one accumulator row", 0),
    Field("latency", "config", int, "cycles", "an execute config occupies the execute unit", 0),
    Field("latency", "loop_unroll_issue", int, "cycles", "per instruction generated by loop_ws/loop_conv_ws", 0),
    # The host CPU that issues RoCC instructions and runs host kernels.
    Field("host", "issue_cycles", int, "cycles", "to issue one RoCC instruction (at most one per cycle)", 1),
    Field("host", "loop_overhead_cycles", int, "cycles", "per iteration of a software loop around instructions", 0),
    Field("host", "fence_cycles", int, "cycles", "extra cost of a fence once the accelerator is idle", 0),
    Field("host", "element_cycles", float, "cycles/element", "host kernel cost per output element", 0),
    Field("host", "mac_cycles", float, "cycles/MAC", "host kernel cost per multiply-accumulate", 0),
    Field("host", "autotile_eval_cycles", float, "cycles/candidate",
          "the vendor library's run-time conv tile search: one candidate tile checked", 0),
)

_BY_TABLE: dict[str, dict[str, Field]] = {}
for _f in SCHEMA:
    _BY_TABLE.setdefault(_f.table, {})[_f.key] = _f


@dataclass(frozen=True)
class Target:
    """A Gemmini-class accelerator. Field names are ``<table prefix><key>``; see SCHEMA."""

    name: str
    description: str
    dim: int
    input_bits: int
    acc_bits: int
    weight_stationary: bool
    output_stationary: bool
    mesh_tags: int
    spad_capacity_bytes: int
    spad_banks: int
    acc_capacity_bytes: int
    acc_banks: int
    dma_bus_bytes: int
    dma_max_request_bytes: int
    dma_max_inflight: int
    dma_max_spad_mvin_blocks: int
    dma_max_acc_mvin_blocks: int
    dma_max_mvout_blocks: int
    mem_latency_cycles: int
    mem_bytes_per_cycle: float
    mem_l2_bytes: int
    mem_l2_line_bytes: int
    mem_l2_latency_cycles: int
    mem_l2_bytes_per_cycle: float
    queue_load: int
    queue_execute: int
    queue_store: int
    rs_load: int
    rs_execute: int
    rs_store: int
    lat_spad_read: int
    lat_acc_read: int
    lat_acc_scale: int
    lat_mvin_scale: int
    lat_mesh_fill: int
    lat_mesh_drain: int
    lat_compute_min_cycles: int
    lat_acc_write_gap: int
    lat_config: int
    lat_loop_unroll_issue: int
    host_issue_cycles: int
    host_loop_overhead_cycles: int
    host_fence_cycles: int
    host_element_cycles: float
    host_mac_cycles: float
    host_autotile_eval_cycles: float
    source: str = field(default="<built-in>", compare=False)

    # Derived quantities: every consumer uses these rather than recomputing them.
    @property
    def input_bytes(self) -> int:
        return self.input_bits // 8

    @property
    def acc_bytes(self) -> int:
        return self.acc_bits // 8

    @property
    def spad_row_bytes(self) -> int:
        return self.dim * self.input_bytes

    @property
    def acc_row_bytes(self) -> int:
        return self.dim * self.acc_bytes

    @property
    def spad_rows(self) -> int:
        return self.spad_capacity_bytes // self.spad_row_bytes

    @property
    def acc_rows(self) -> int:
        return self.acc_capacity_bytes // self.acc_row_bytes

    @property
    def spad_bank_rows(self) -> int:
        return self.spad_rows // self.spad_banks

    @property
    def acc_bank_rows(self) -> int:
        return self.acc_rows // self.acc_banks

    def describe(self) -> str:
        """A human-readable table of every field with its unit."""
        lines = [f"target {self.name}: {self.description} ({self.source})"]
        for f in SCHEMA:
            if f.table == "target":
                continue
            lines.append(f"  [{f.table}] {f.key:<22} = {getattr(self, f.attr)!s:<10} {f.unit}")
        return "\n".join(lines)


def _fail(source: str, table: str, key: str | None, reason: str) -> TargetError:
    where = f"[{table}] {key}" if key else f"[{table}]"
    return TargetError(f"{source}: {where}: {reason}")


def from_dict(data: dict[str, Any], source: str = "<dict>") -> Target:
    """Validate a parsed TOML document and build the Target."""
    values: dict[str, Any] = {}
    for table, entries in data.items():
        if table not in _BY_TABLE:
            raise _fail(source, table, None, f"unknown table (expected one of {', '.join(_BY_TABLE)})")
        if not isinstance(entries, dict):
            raise _fail(source, table, None, "must be a table")
        for key, value in entries.items():
            spec = _BY_TABLE[table].get(key)
            if spec is None:
                raise _fail(source, table, key, "unknown key")
            values[spec.attr] = _check_value(source, spec, value)
    for spec in SCHEMA:
        if spec.attr not in values:
            raise _fail(source, spec.table, spec.key, f"missing key ({spec.doc}, {spec.unit or 'string'})")
    target = Target(**values, source=source)
    _check_consistency(target)
    return target


def _check_value(source: str, spec: Field, value: Any) -> Any:
    if spec.type is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if spec.type is int and isinstance(value, bool) or not isinstance(value, spec.type):
        raise _fail(source, spec.table, spec.key, f"expected {spec.type.__name__}, got {value!r}")
    if spec.minimum is not None and value < spec.minimum:
        what = "negative" if spec.minimum == 0 else f"less than {spec.minimum}"
        raise _fail(source, spec.table, spec.key, f"{value} is {what}")
    if spec.power_of_two and (value & (value - 1)) != 0:
        raise _fail(source, spec.table, spec.key, f"{value} is not a power of two")
    return value


def _check_consistency(t: Target) -> None:
    s = t.source
    for table, bits in (("array", t.input_bits), ("array", t.acc_bits)):
        if bits % 8:
            raise _fail(s, table, "input_bits" if bits == t.input_bits else "acc_bits", f"{bits} is not whole bytes")
    if not (t.weight_stationary or t.output_stationary):
        raise _fail(s, "array", "weight_stationary", "the array must support at least one dataflow")
    for table, cap, row, banks in (
        ("scratchpad", t.spad_capacity_bytes, t.spad_row_bytes, t.spad_banks),
        ("accumulator", t.acc_capacity_bytes, t.acc_row_bytes, t.acc_banks),
    ):
        if cap % row:
            raise _fail(s, table, "capacity_bytes", f"{cap} is not a whole number of {row}-byte rows")
        if (cap // row) % banks:
            raise _fail(s, table, "banks", f"{cap // row} rows do not split into {banks} equal banks")
    if t.dma_max_request_bytes < t.dma_bus_bytes:
        raise _fail(s, "dma", "max_request_bytes", "smaller than one bus beat")
    if t.lat_mesh_drain < t.lat_mesh_fill:
        raise _fail(s, "latency", "mesh_drain", "shorter than mesh_fill")


def load(path: str | Path) -> Target:
    """Load a target from a TOML file path, or a built-in target by name."""
    p = Path(path)
    if not p.suffix and not p.exists():
        return builtin(str(path))
    try:
        text = p.read_text()
    except OSError as e:
        raise TargetError(f"{p}: cannot read target file: {e.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise TargetError(f"{p}: invalid TOML: {e}") from None
    return from_dict(data, str(p))


def builtin_names() -> list[str]:
    """Names of the targets shipped in gemforge/targets."""
    files = resources.files("gemforge.targets")
    return sorted(f.name[:-5] for f in files.iterdir() if f.name.endswith(".toml"))


def builtin(name: str) -> Target:
    """A target shipped with gemforge, by name (e.g. ``gemmini-default``)."""
    res = resources.files("gemforge.targets") / f"{name}.toml"
    if not res.is_file():
        raise TargetError(f"{name}: no such target file or built-in target (built-ins: {', '.join(builtin_names())})")
    return from_dict(tomllib.loads(res.read_text()), f"gemforge/targets/{name}.toml")


def default() -> Target:
    """The default Gemmini configuration (16x16, 256 KiB scratchpad, 64 KiB accumulator)."""
    return builtin("gemmini-default")


def resolve(target: "Target | str | Path | None") -> Target:
    """What the Python API accepts as a target: a Target, a TOML path or built-in name,
    or None for the default."""
    if target is None:
        return default()
    return load(target) if isinstance(target, str | Path) else target


def field_names() -> list[str]:
    return [f.name for f in fields(Target) if f.name != "source"]
