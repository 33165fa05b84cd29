"""The cost of the im2col form (:mod:`~gemforge.passes._tiling_im2col`) and its choice of
pixel phases ``P``.

The cost model has no im2col term of its own: the variant is priced as the matmul it
computes, with a floor on the load time that replays the form's real mvin sequence under
the L2's one-request-per-line rule (:mod:`~gemforge.passes.schedule.line_chain`). Each
candidate ``P`` (a divisor of the output width) is priced; the cheapest is kept.
"""

from __future__ import annotations

from collections import deque

from gemforge.passes._tiling_im2col import border_pixels, im2col_schedule, kx_range
from gemforge.passes._tiling_layers import ConvGeometry


def _fits(g: ConvGeometry, target, oc_tile: int, variants: int) -> bool:
    """Whether two buffers of each site (double buffering) fit the scratchpad and accumulator."""
    dim, j = target.dim, g.kw * g.c
    blocks = -(-oc_tile // dim)
    spad = 2 * (variants * g.kh * j * blocks + g.kh * dim * -(-j // dim))
    acc = 2 * dim * blocks + dim * blocks  # output tiles + the bias block
    return spad <= target.spad_rows and acc <= target.acc_rows


def phase_candidates(g: ConvGeometry, dim: int) -> list[int]:
    """Pixel phase counts ``P`` worth pricing: divisors of the output width that leave a
    phase at least half a full tile of pixels (fewer rows per matmul cost more than
    the shorter line chains save). ``1`` (consecutive pixels) is always one."""
    full = min(dim, g.ow)
    return [p for p in range(1, g.ow + 1) if g.ow % p == 0 and (p == 1 or 2 * (g.ow // p) >= full)]


def im2col_price(g: ConvGeometry, target, bias: bool, scheduler=None):
    """(schedule, Cost, the priced matmul schedule) of the variant's cheapest phase count
    (Cost and matmul schedule None if the cost model cannot price it), or None if no
    channel tile fits. ``scheduler``: the ``passes.schedule.schedule`` to call (default:
    that one).

    Priced as the matmul ``M`` = output pixels rounded up to whole tiles per phase, ``K`` = ``kh`` x the per-kernel-row
    reduction padded to whole DIM blocks (the array's work per pixel block), ``N`` =
    output channels, with the tiles the variant uses (a phase's pixels up to DIM, the
    whole reduction, the channel tile) and :func:`im2col_load_floor` as its load floor."""
    from gemforge.layers import MatmulLayer
    from gemforge.passes.schedule import schedule as default_scheduler
    from gemforge.passes.schedule.space import ScheduleError

    dim = target.dim
    left, right = border_pixels(g)
    variants = 1 + left + g.ow - right  # the full window + one per border pixel
    oc_tile = g.oc
    while not _fits(g, target, oc_tile, variants):
        if oc_tile <= dim:
            return None
        oc_tile = max(dim, (oc_tile // 2) // dim * dim)
    k = g.kh * -(-(g.kw * g.c) // dim) * dim
    best = None
    for phases in phase_candidates(g, dim):
        q = g.ow // phases
        tile = min(dim, q)
        m = g.n * g.oh * phases * -(-q // tile) * tile  # every pixel tile a whole block of the array
        force = {"tiles": {"m": tile, "k": k, "n": oc_tile}, "dataflow": "WS", "form": "fine",
                 "double_buffer": True, "stationary": "weight"}
        try:
            priced, cost, _ = (scheduler or default_scheduler)(MatmulLayer(m, k, g.oc, name="im2col"), target,
                                                               force=force, bias=bias,
                                                               load_floor=im2col_load_floor(g, target, phases))
        except ScheduleError:  # unpriceable: lowerable when forced, never chosen unforced
            priced = cost = None
        plan = (im2col_schedule(g, dim, oc_tile, phases), cost, priced)
        if best is None or (cost is not None and (best[1] is None or cost.cycles < best[1].cycles)):
            best = plan
    return best


def im2col_load_floor(g: ConvGeometry, target, phases: int = 1) -> float:
    """Least cycles of the variant's move-ins (``phases`` = P) under the L2's
    one-request-per-line rule (:mod:`~gemforge.passes.schedule.line_chain`): a window
    mvin's rows are ``kw*C`` bytes ``P*stride*C`` apart, so up to a line's worth of them
    chain one L2 latency apart; the controller dispatches transfers in issue order and holds
    ``dma_slots`` at once (a transfer waits for the one ``dma_slots`` before it); a
    transfer starting on the line the previous one ended on starts after it; a transfer
    that touches a line no earlier one touched misses the L2 (its first request waits
    for DRAM). Played in the tiler's issue
    order (per-request costs left to the matmul the variant is priced as)."""
    from gemforge.passes.schedule.line_chain import chain_floor, dma_slots

    line, P = target.mem_l2_line_bytes, phases
    Q = g.ow // P
    T = min(target.dim, Q)
    left, right = border_pixels(g)
    slots = dma_slots(target)
    done = deque([0.0] * slots, maxlen=slots)  # completion of the latest transfers
    prev_line, last_start = -1, 0.0
    for n in range(g.n):
        seen: set[int] = set()  # L2 lines of this image touched so far
        for oy in range(g.oh):
            start = oy * g.stride - g.pad_top
            ky0, ky1 = max(0, -start), min(g.kh, g.h - start)
            for r in range(P):
                for lo in range(0, Q, T):
                    pixels = [q * P + r for q in range(lo, min(Q, lo + T))]
                    inner = [ox for ox in pixels if left <= ox < right]
                    for ky in range(ky0, ky1):
                        base = (n * g.h + start + ky) * g.w * g.c
                        moves = []
                        if inner:
                            moves.append((base + (inner[0] * g.stride - g.pad_left) * g.c, len(inner),
                                          g.kw * g.c, P * g.stride * g.c))
                        for ox in pixels:
                            if not left <= ox < right:
                                kx0, kx1 = kx_range(g, ox)
                                moves.append((base + (ox * g.stride - g.pad_left + kx0) * g.c, 1, (kx1 - kx0) * g.c, 0))
                        for addr, rows, nbytes, stride in moves:
                            lines = range(addr // line, (addr + (rows - 1) * stride + nbytes - 1) // line + 1)
                            miss = not seen.issuperset(lines)
                            t0 = max(done[0], done[-1]) if lines[0] == prev_line else done[0]
                            t0 = last_start = max(t0, last_start)  # dispatched in issue order
                            done.append(t0 + chain_floor(target, rows, nbytes, stride, miss=miss))
                            seen.update(lines)
                            prev_line = lines[-1]
    return max(done)
