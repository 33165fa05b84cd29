"""Placing buffers with live ranges in a banked local memory (the allocator's core).

Pure Python, no IR: :func:`place` takes requests (rows + live span) and returns the
first row of each, such that buffers live at the same time never share a row and every
buffer lies inside the memory. It is best-fit over the free intervals left by the
buffers already placed that interfere, with candidate starts at each free interval's
ends and at every bank boundary inside it, ranked by

1. banks shared with its *partners* (buffers it should not share a bank with: the A
   and B operands of a matmul, which serialise when they sit in one bank),
2. banks shared with its *siblings* (the other buffer of a ping-pong pair: the DMA
   fills one while the array reads the other, and DMA writes win a bank over reads),
3. banks spanned beyond the fewest it could span,
4. the size of the free interval (best fit, to keep large holes for large buffers),
5. the address (determinism),

in program order, once with and once without criterion 2 (greedy placement can spend
banks on ping-pong pairs that operand separation needs later; the result with fewer
operands sharing a bank wins). If that fails, plainer strategies follow, with no bank
preference (candidate starts only at free intervals' starts): program order;
longest-lived first (they fragment memory most); largest first; and no reuse at all,
which stacks the buffers and so succeeds whenever they all fit side by side. When a
buffer cannot fit, :class:`DoesNotFit` says which one and how much room there was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gemforge.passes._liveness import Span


@dataclass(frozen=True)
class Memory:
    """A local memory: ``capacity`` rows in banks of ``bank_rows`` rows."""

    capacity: int
    bank_rows: int

    def banks(self, start: int, rows: int) -> range:
        """The banks rows ``start .. start + rows - 1`` touch."""
        return range(start // self.bank_rows, (start + max(rows, 1) - 1) // self.bank_rows + 1)

    def fewest_banks(self, rows: int) -> int:
        return max(1, -(-rows // self.bank_rows))


@dataclass(frozen=True)
class Request:
    """A buffer to place: its size in rows and the span over which it is live."""

    rows: int
    span: Span
    partners: frozenset[int] = field(default_factory=frozenset)
    siblings: frozenset[int] = field(default_factory=frozenset)


class DoesNotFit(Exception):
    """Request ``index`` found no room: ``free`` rows (``contiguous`` or in total) left."""

    def __init__(self, index: int, free: int, live_rows: int, live_count: int, contiguous: bool):
        super().__init__(f"request {index} does not fit ({free} rows free)")
        self.index = index
        self.free = free
        self.live_rows = live_rows
        self.live_count = live_count
        self.contiguous = contiguous


def _interferes(a: Request, b: Request, reuse: bool) -> bool:
    return not reuse or a.span.overlaps(b.span)


def _gaps(busy: list[tuple[int, int]], capacity: int) -> list[tuple[int, int]]:
    """Free half-open intervals of ``[0, capacity)`` around the busy ones."""
    gaps, cursor = [], 0
    for lo, hi in sorted(busy):
        if lo > cursor:
            gaps.append((cursor, lo))
        cursor = max(cursor, hi)
    if cursor < capacity:
        gaps.append((cursor, capacity))
    return gaps


def _try(
    requests: Sequence[Request],
    memory: Memory,
    order: Sequence[int],
    *,
    banks: bool,
    reuse: bool,
    siblings: bool = True,
) -> list[int]:
    address: dict[int, int] = {}
    for i in order:
        req = requests[i]
        if req.rows == 0:  # an empty buffer touches no row
            address[i] = 0
            continue
        others = [j for j in address if _interferes(req, requests[j], reuse)]
        gaps = _gaps([(address[j], address[j] + requests[j].rows) for j in others], memory.capacity)
        avoid: set[int] = set()
        avoid_weakly: set[int] = set()
        if banks:
            for j in req.partners & address.keys():
                avoid.update(memory.banks(address[j], requests[j].rows))
            for j in (req.siblings if siblings else frozenset()) & address.keys():
                avoid_weakly.update(memory.banks(address[j], requests[j].rows))
        best: tuple[int, int, int, int, int] | None = None
        for lo, hi in gaps:
            if hi - lo < req.rows:
                continue
            starts = {lo}
            if banks:
                last = hi - req.rows
                first_boundary = -(-lo // memory.bank_rows) * memory.bank_rows
                starts |= {last, *range(first_boundary, last + 1, memory.bank_rows)}
            for start in starts:
                touched = memory.banks(start, req.rows)
                score = (
                    len(avoid.intersection(touched)) if banks else 0,
                    len(avoid_weakly.intersection(touched)) if banks else 0,
                    len(touched) - memory.fewest_banks(req.rows) if banks else 0,
                    hi - lo,
                    start,
                )
                if best is None or score < best:
                    best = score
        if best is None:
            live = [requests[j].rows for j in others]
            largest = max((hi - lo for lo, hi in gaps), default=0)
            raise DoesNotFit(i, largest, sum(live), len(live), contiguous=True)
        address[i] = best[-1]
    return [address[i] for i in range(len(requests))]


def check_peak(requests: Sequence[Request], capacity: int) -> None:
    """Raise :class:`DoesNotFit` for the first buffer whose start exceeds ``capacity``.

    The most rows live at once is reached at some buffer's start (live spans are
    intervals); no placement can succeed if that exceeds the capacity.
    """
    for i in sorted(range(len(requests)), key=lambda k: (requests[k].span.first, k)):
        req = requests[i]
        point = Span(req.span.first, req.span.first)
        live = [j for j, r in enumerate(requests) if j != i and r.span.overlaps(point)]
        live_rows = sum(requests[j].rows for j in live)
        if live_rows + req.rows > capacity:
            raise DoesNotFit(i, max(capacity - live_rows, 0), live_rows, len(live), contiguous=False)


def shared_banks(requests: Sequence[Request], memory: Memory, addresses: Sequence[int], kind: str) -> int:
    """How many ``partners`` / ``siblings`` pairs share a bank at ``addresses``."""
    count = 0
    for i, req in enumerate(requests):
        mine = set(memory.banks(addresses[i], req.rows))
        for j in getattr(req, kind):
            if j > i and mine.intersection(memory.banks(addresses[j], requests[j].rows)):
                count += 1
    return count


def _bank_aware(requests: Sequence[Request], memory: Memory, order: list[int]) -> list[int] | None:
    """Placement with bank preferences, or None if it does not fit.

    Greedy placement can spend banks on ping-pong pairs that operand separation needed
    later (two banks, A and B both double-buffered): it is tried with and without the
    sibling preference, and operand separation decides.
    """
    results = []
    for siblings in (True, False):
        try:
            addresses = _try(requests, memory, order, banks=True, reuse=True, siblings=siblings)
        except DoesNotFit:
            continue
        cost = (
            shared_banks(requests, memory, addresses, "partners"),
            shared_banks(requests, memory, addresses, "siblings"),
        )
        results.append((cost, addresses))
    return min(results, key=lambda r: r[0])[1] if results else None


def place(requests: Sequence[Request], memory: Memory, *, bank_aware: bool = True) -> list[int]:
    """First row of every request; raise :class:`DoesNotFit` if some cannot be placed.

    ``bank_aware=False`` skips the bank-aware attempt (plain best fit).

    Deterministic: the same requests give the same addresses.
    """
    check_peak(requests, memory.capacity)
    n = range(len(requests))
    by_start = sorted(n, key=lambda i: (requests[i].span.first, -requests[i].rows, i))
    by_size = sorted(n, key=lambda i: (-requests[i].rows, requests[i].span.first, i))
    by_lifetime = sorted(n, key=lambda i: (requests[i].span.first - requests[i].span.last, -requests[i].rows, i))
    attempts: list[tuple[list[int], bool, bool]] = [
        (by_start, False, True),
        (by_lifetime, False, True),
        (by_size, False, True),
        (list(n), False, False),
    ]
    if bank_aware:
        best = _bank_aware(requests, memory, by_start)
        if best is not None:
            return best
    failure: DoesNotFit | None = None
    for order, banks, reuse in attempts:
        try:
            return _try(requests, memory, order, banks=banks, reuse=reuse)
        except DoesNotFit as e:
            # Report the plain program-order attempt: its failure is the easiest to read.
            if failure is None and not banks:
                failure = e
    assert failure is not None
    raise failure
