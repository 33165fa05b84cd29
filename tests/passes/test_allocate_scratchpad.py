"""allocate-scratchpad: live buffers never overlap, capacity holds, A and B sit in different banks."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xdsl.utils.exceptions import PassFailedException

from gemforge.dialects.tile import AllocOp
from gemforge.errors import GemforgeError
from gemforge.passes._liveness import Span, live_span, number_ops
from gemforge.passes._placement import DoesNotFit, Memory, Request, place
from gemforge.passes.allocate_scratchpad import AllocateScratchpad, ScratchpadOverflowError, allocate
from gemforge.target import default
from gemforge.testing import context, parse

# ----------------------------------------------------------------------------------------
# The placement core on random requests.


@st.composite
def memories(draw) -> Memory:
    banks = draw(st.sampled_from([1, 2, 4]))
    bank_rows = draw(st.integers(4, 64))
    return Memory(banks * bank_rows, bank_rows)


@st.composite
def request_lists(draw, max_rows: int = 80) -> list[Request]:
    n = draw(st.integers(1, 12))
    out = []
    for _ in range(n):
        first = draw(st.integers(0, 30))
        last = first + draw(st.integers(0, 15))
        out.append(Request(draw(st.integers(1, max_rows)), Span(first, last)))
    # random A/B operand pairs and ping-pong pairs
    links = []
    for _ in range(2):
        pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=4))
        linked: dict[int, set[int]] = {}
        for a, b in pairs:
            if a != b:
                linked.setdefault(a, set()).add(b)
                linked.setdefault(b, set()).add(a)
        links.append(linked)
    partners, siblings = links
    return [
        Request(r.rows, r.span, frozenset(partners.get(i, ())), frozenset(siblings.get(i, ())))
        for i, r in enumerate(out)
    ]


def _peak(requests: list[Request]) -> int:
    return max(sum(r.rows for r in requests if r.span.first <= t <= r.span.last) for t in range(0, 50))


@settings(max_examples=300, deadline=None)
@given(memory=memories(), requests=request_lists())
def test_placement_is_sound(memory, requests):
    try:
        addresses = place(requests, memory)
    except DoesNotFit as e:
        # Failing is only allowed when not everything fits side by side ...
        assert sum(r.rows for r in requests) > memory.capacity
        assert 0 <= e.index < len(requests)
        return
    # ... and success is impossible when more rows are live at once than exist.
    assert _peak(requests) <= memory.capacity
    for i, (r, a) in enumerate(zip(requests, addresses)):
        assert 0 <= a and a + r.rows <= memory.capacity
        for j in range(i):
            if r.span.overlaps(requests[j].span):
                b, rows = addresses[j], requests[j].rows
                assert a + r.rows <= b or b + rows <= a, f"requests {i} and {j} overlap"


@settings(max_examples=200, deadline=None)
@given(memory=memories(), requests=request_lists())
def test_peak_over_capacity_fails(memory, requests):
    # (The converse does not hold for any fast allocator: placing buffers with live
    # ranges is NP-hard, a heuristic can fragment. Side by side always works, see above.)
    if _peak(requests) > memory.capacity:
        with pytest.raises(DoesNotFit):
            place(requests, memory)


@settings(max_examples=50, deadline=None)
@given(memory=memories(), requests=request_lists())
def test_deterministic(memory, requests):
    try:
        first = place(requests, memory)
    except DoesNotFit as e:
        with pytest.raises(DoesNotFit) as again:
            place(requests, memory)
        assert again.value.index == e.index
        return
    assert place(list(requests), memory) == first


def test_long_lived_first_avoids_fragmentation():
    # Program order and largest-first both strand rows here; long-lived-first fits.
    memory = Memory(20, 5)
    reqs = [Request(3, Span(1, 1)), Request(2, Span(0, 1)), Request(8, Span(0, 0)), Request(8, Span(0, 1)), Request(6, Span(1, 1))]
    addresses = place(reqs, memory)
    assert all(a + r.rows <= 20 for a, r in zip(addresses, reqs))


@settings(max_examples=200, deadline=None)
@given(banks=st.sampled_from([2, 4, 8]), bank=st.integers(4, 64), a=st.integers(1, 200), b=st.integers(1, 200))
def test_operands_in_different_banks_when_possible(banks, bank, a, b):
    memory = Memory(banks * bank, bank)
    both = Span(0, 5)
    reqs = [Request(a, both, frozenset({1})), Request(b, both, frozenset({0}))]
    if memory.fewest_banks(a) + memory.fewest_banks(b) > banks:
        return
    addr = place(reqs, memory)
    assert not set(memory.banks(addr[0], a)) & set(memory.banks(addr[1], b))


def test_ping_pong_pairs_in_different_banks():
    memory = Memory(4 * 64, 64)
    both = Span(0, 9)
    # A ping/pong (0, 1) and B ping/pong (2, 3), all read by one matmul through selects.
    reqs = [
        Request(20, both, frozenset({2, 3}), frozenset({1})),
        Request(20, both, frozenset({2, 3}), frozenset({0})),
        Request(30, both, frozenset({0, 1}), frozenset({3})),
        Request(30, both, frozenset({0, 1}), frozenset({2})),
    ]
    addresses = place(reqs, memory)
    assert sorted(a // 64 for a in addresses) == [0, 1, 2, 3]
    # With two banks, operand separation wins over ping-pong separation.
    memory = Memory(2 * 64, 64)
    a0, a1, b0, b1 = (a // 64 for a in place(reqs, memory))
    assert a0 == a1 != b0 == b1


def test_bank_spanning_only_when_needed():
    memory = Memory(4 * 16, 16)
    # 10 rows live, then 10 rows: the second must not straddle banks 0/1 (rows 10..19).
    reqs = [Request(10, Span(0, 5)), Request(10, Span(0, 5))]
    a, b = place(reqs, memory)
    assert len(memory.banks(b, 10)) == 1 and len(memory.banks(a, 10)) == 1


# ----------------------------------------------------------------------------------------
# The pass on IR.

SPAD = "memref<{r}x16xi8, #tile.space<spad>>"
DRAM = "memref<4096x16xi8, #tile.space<dram>>"


@st.composite
def straight_line(draw):
    """Allocs at random points, each stored out at random later points (live ranges)."""
    n = draw(st.integers(1, 10))
    rows = [draw(st.integers(1, 3000)) for _ in range(n)]
    events: list[tuple[int, str]] = []
    for k in range(n):
        start = draw(st.integers(0, 20))
        events.append((2 * start, f"alloc {k}"))
        for _ in range(draw(st.integers(0, 2))):
            events.append((2 * (start + draw(st.integers(0, 10))) + 1, f"use {k}"))
    events.sort()
    lines, last = [], {}
    for pos, (_, what) in enumerate(events):
        kind, k = what.split()
        t = SPAD.format(r=rows[int(k)])
        if kind == "alloc":
            lines.append(f"  %b{k} = tile.alloc : {t}")
        else:
            lines.append(f"  tile.store %b{k}[0, 0] [1, 16] into %out[0, 0] raw : {t} -> {DRAM}")
        last[int(k)] = pos
    text = f"func.func @f(%out: {DRAM}) {{\n" + "\n".join(lines) + "\n  func.return\n}\n"
    first = {int(w.split()[1]): p for p, (_, w) in enumerate(events) if w.startswith("alloc")}
    return text, rows, first, last


@settings(max_examples=60, deadline=None)
@given(program=straight_line())
def test_pass_never_overlaps_live_buffers(program):
    text, rows, first, last = program
    module = parse(text)
    target = default()
    try:
        allocate(module, target)
    except ScratchpadOverflowError as e:
        assert "needs" in str(e) and "\n" not in str(e)
        return
    allocs = {op.buffer.name_hint: op for op in module.walk() if isinstance(op, AllocOp)}
    placed = {int(name[1:]): (op.address_value, op.bank_value) for name, op in allocs.items()}
    for k, (addr, bank) in placed.items():
        assert addr is not None and addr + rows[k] <= target.spad_rows
        assert bank == addr // target.spad_bank_rows
        for j in range(k):
            live_together = first[k] <= last[j] and first[j] <= last[k]  # independent liveness
            if live_together:
                a, b = placed[j][0], addr
                assert a + rows[j] <= b or b + rows[k] <= a


def test_live_span_of_loop_use_covers_loop():
    module = parse(
        f"""
func.func @f(%out: {DRAM}, %n: index) {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %x = tile.alloc : {SPAD.format(r=4)}
  scf.for %i = %c0 to %n step %c1 {{
    %y = tile.alloc : {SPAD.format(r=4)}
    tile.store %x[0, 0] [1, 16] into %out[0, 0] raw : {SPAD.format(r=4)} -> {DRAM}
    tile.store %y[0, 0] [1, 16] into %out[0, 0] raw : {SPAD.format(r=4)} -> {DRAM}
  }}
  func.return
}}
"""
    )
    spans = number_ops(module)
    x, y = (op for op in module.walk() if isinstance(op, AllocOp))
    loop = x.next_op
    assert loop is not None
    assert live_span(x, spans).last == spans[loop].last
    assert spans[loop].first < live_span(y, spans).first <= live_span(y, spans).last < spans[loop].last


def test_overflow_error_is_one_line_and_both_kinds():
    module = parse(f"func.func @f() {{\n  %big = tile.alloc : {SPAD.format(r=20000)}\n  func.return\n}}\n")
    with pytest.raises(ScratchpadOverflowError) as info:
        AllocateScratchpad().apply(context(), module)
    assert isinstance(info.value, GemforgeError) and isinstance(info.value, PassFailedException)
    assert str(info.value) == (
        "tile.alloc %big : memref<20000x16xi8, #tile.space<spad>> in @f: "
        "needs 20000 scratchpad rows, only 16384 free (capacity 16384)"
    )


def test_target_option_reads_sizes(tmp_path: Path):
    toml = (resources.files("gemforge.targets") / "gemmini-default.toml").read_text()
    assert "capacity_bytes = 262144" in toml
    small = tmp_path / "small.toml"
    small.write_text(toml.replace("capacity_bytes = 262144", "capacity_bytes = 8192", 1))
    ir = f"""
func.func @f(%A: memref<64x64xi8, #tile.space<dram>>) {{
  %a = tile.alloc : memref<128x16xi8, #tile.space<spad>>
  %b = tile.alloc : memref<128x16xi8, #tile.space<spad>>
  %c = tile.alloc : memref<128x16xi32, #tile.space<acc>>
  tile.matmul %c[0, 0] [16, 16] = %a[0, 0] [16, 16] * %b[0, 0] [16, 16] : memref<128x16xi32, #tile.space<acc>>, memref<128x16xi8, #tile.space<spad>>, memref<128x16xi8, #tile.space<spad>>
  func.return
}}
"""
    module = parse(ir)
    AllocateScratchpad(target=str(small)).apply(context(), module)
    a, b, _ = (op for op in module.walk() if isinstance(op, AllocOp))
    # 512 rows in 4 banks of 128: A fills bank 0, B goes to bank 1.
    assert (a.address_value, a.bank_value, b.address_value, b.bank_value) == (0, 0, 128, 1)
    module = parse(ir.replace("128x16xi8", "300x16xi8"))
    with pytest.raises(ScratchpadOverflowError, match="needs 300 scratchpad rows, only 212 free"):
        AllocateScratchpad(target=str(small)).apply(context(), module)
