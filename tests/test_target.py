"""Target description: loading, derived sizes and one-line validation errors."""

import tomllib
from pathlib import Path

import pytest

from gemforge import target as tgt
from gemforge.target import SCHEMA, TargetError

DEFAULT = Path(tgt.__file__).parent / "targets" / "gemmini-default.toml"


def test_default_matches_gemmini_defaultconfig():
    t = tgt.default()
    assert (t.dim, t.spad_rows, t.acc_rows) == (16, 16384, 1024)
    assert (t.spad_bank_rows, t.acc_bank_rows) == (4096, 512)
    assert (t.spad_row_bytes, t.acc_row_bytes) == (16, 64)
    assert (t.rs_load, t.rs_execute, t.rs_store) == (8, 16, 4)
    assert (t.queue_load, t.queue_execute, t.queue_store) == (8, 8, 2)
    assert (t.dma_bus_bytes, t.dma_max_request_bytes, t.dma_max_inflight) == (16, 64, 16)


def test_every_builtin_target_loads():
    names = tgt.builtin_names()
    assert {"gemmini-default", "gemmini-32x32"} <= set(names)
    big = tgt.builtin("gemmini-32x32")
    assert big.dim == 32 and big.spad_capacity_bytes == 512 * 1024


def test_every_schema_field_has_unit_and_doc():
    for f in SCHEMA:
        assert f.doc, f.key
        if f.type in (int, float):
            assert f.unit, f.key


def test_target_is_frozen():
    with pytest.raises(AttributeError):
        tgt.default().dim = 32  # type: ignore[misc]


def _write(tmp_path, mutate):
    data = tomllib.loads(DEFAULT.read_text())
    mutate(data)
    lines = []
    for table, entries in data.items():
        lines.append(f"[{table}]")
        for k, v in entries.items():
            lines.append(f"{k} = {_toml(v)}")
    p = tmp_path / "bad.toml"
    p.write_text("\n".join(lines) + "\n")
    return p


def _toml(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    return repr(v)


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda d: d["array"].update(bogus=1), r"\[array\] bogus: unknown key"),
        (lambda d: d.update(extra={"x": 1}), r"\[extra\]: unknown table"),
        (lambda d: d["dma"].pop("bus_bytes"), r"\[dma\] bus_bytes: missing key"),
        (lambda d: d["array"].update(dim=12), r"\[array\] dim: 12 is not a power of two"),
        (lambda d: d["scratchpad"].update(capacity_bytes=1000), r"\[scratchpad\] capacity_bytes: 1000 is not a whole number of 16-byte rows"),
        (lambda d: d["accumulator"].update(capacity_bytes=64 * 3), r"\[accumulator\] banks: 3 rows do not split into 2 equal banks"),
        (lambda d: d["latency"].update(spad_read=-1), r"\[latency\] spad_read: -1 is negative"),
        (lambda d: d["memory"].update(latency_cycles=-5), r"\[memory\] latency_cycles: -5 is negative"),
        (lambda d: d["queues"].update(load="eight"), r"\[queues\] load: expected int"),
        (lambda d: d["array"].update(weight_stationary=False, output_stationary=False), r"at least one dataflow"),
    ],
)
def test_invalid_target_one_line_error(tmp_path, mutate, expected):
    path = _write(tmp_path, mutate)
    with pytest.raises(TargetError, match=expected) as info:
        tgt.load(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(str(path))


def test_malformed_toml(tmp_path):
    p = tmp_path / "broken.toml"
    p.write_text("[array\ndim = 16\n")
    with pytest.raises(TargetError, match="invalid TOML") as info:
        tgt.load(p)
    assert "\n" not in str(info.value)


def test_unknown_builtin_lists_the_known_ones():
    with pytest.raises(TargetError, match="gemmini-default"):
        tgt.load("no-such-target")
