"""The cost model's closed-form sums against an explicit walk of the loop nest.

The walker below executes a schedule step by step in its loop order, reloads a tile
only when its index changes, tracks output-tile visits (partial-sum spill and reload,
final store), reloads the fine form's resident bias block whenever a loop up to the
innermost column loop moves, clips conv input spans row by row, and enumerates every DIM
block of every computed tile (the first reduction block of an output tile reads the
bias as D: DIM cycles per pair). Its totals must equal the model's product-of-sums terms;
it also checks the docstring's claim that the three canonical loop orders move no more
data than any other order.
"""

import dataclasses
import itertools
import random
from math import ceil

from hypothesis import given, settings
from hypothesis import strategies as st

from gemforge.layers import ConvLayer, MatmulLayer
from gemforge.passes.schedule.cost import QUANTITIES, _effective, _point_model, estimate
from gemforge.passes.schedule.space import Config, candidates, make_schedule, order_for, problem_of
from gemforge.passes.schedule.terms import DmaRates
from gemforge.target import default

SMALL = dataclasses.replace(default(), dim=4, spad_capacity_bytes=4 * 256, acc_capacity_bytes=16 * 64,
                            dma_bus_bytes=4, dma_max_request_bytes=8, mem_latency_cycles=20, lat_mesh_drain=9)

RELEVANT = {  # dims each tensor depends on
    "matmul": {"A": {"m", "k"}, "B": {"k", "n"}, "C": {"m", "n"}},
    "conv": {"A": {"g", "b", "oh", "ow", "ic", "kh", "kw"}, "B": {"g", "oc", "ic", "kh", "kw"},
             "C": {"g", "b", "oh", "ow", "oc"}},
    "depthwise": {"A": {"b", "oh", "ow", "c", "kh", "kw"}, "B": {"c", "kh", "kw"}, "C": {"b", "oh", "ow", "c"}},
}


def _clip(o0, so, k0, sk, p, in_len):
    lo = o0 * p.stride + k0 * p.dilation - p.pad
    hi = (o0 + so - 1) * p.stride + (k0 + sk - 1) * p.dilation - p.pad
    return max(0, min(hi, in_len - 1) - max(lo, 0) + 1)


def walk(layer, tiles, order, t, bias=True):
    """Totals of one schedule (WS, fine form) by explicit execution of its loop nest."""
    p = problem_of(layer)
    dma, hit, dim, cmin = DmaRates(t), DmaRates(t, hit=True), t.dim, t.lat_compute_min_cycles
    e_in, e_acc = t.input_bytes, t.acc_bytes
    sb, ab, ob = t.dma_max_spad_mvin_blocks, t.dma_max_acc_mvin_blocks, t.dma_max_mvout_blocks
    rng = {d.name: [(i * tiles[d.name], min(tiles[d.name], d.size - i * tiles[d.name]))
                    for i in range(ceil(d.size / tiles[d.name]))] for d in p.dims}
    steps = [dict(zip(order, ix)) for ix in itertools.product(*(range(len(rng[d])) for d in order))]
    rel = RELEVANT[p.kind]
    key = lambda s, T: tuple(sorted((d, s[d]) for d in rel[T] if d in s))  # noqa: E731
    ckeys = [key(s, "C") for s in steps]
    segments = [k for i, k in enumerate(ckeys) if i == 0 or ckeys[i - 1] != k]
    total_visits = {k: segments.count(k) for k in segments}
    seen = dict.fromkeys(total_visits, 0)
    acc = dict(load=0.0, store=0.0, bytes=0.0, compute=0.0, mvin=0, mvout=0, triples=0, A_ev=0, B_ev=0)
    blocks = lambda v: [dim] * (v // dim) + ([v % dim] if v % dim else [])  # noqa: E731
    prev = {"A": None, "B": None, "bias": None}
    col_dim = {"matmul": "n", "depthwise": "c"}.get(p.kind, "oc")
    upto = order.index(col_dim) + 1  # the bias block is refilled in the column loop
    for si, s in enumerate(steps):
        r = {d: rng[d][s[d]] for d in s}
        size = {d: r[d][1] for d in r}
        if p.kind == "matmul":
            a_rows, a_w, a_mv = size["m"], size["k"], ceil(size["m"] / dim)
            a_d, c_d = "k", "n"
            pix_rows, pix_blk, col = size["m"], ceil(size["m"] / dim), size["n"]
            iblocks = blocks(size["m"])
            kblocks, jblocks = blocks(size["k"]), len(blocks(size["n"]))
        else:
            ch = _clip(*r["oh"], *r["kh"], p, p.in_h)
            cw = _clip(*r["ow"], *r["kw"], p, p.in_w)
            red = "c" if p.kind == "depthwise" else "ic"
            a_rows, a_w, a_mv = size["b"] * ch * cw, size[red], size["b"] * ch * ceil(cw / dim)
            col = size["c" if p.kind == "depthwise" else "oc"]
            a_d, c_d = red, "c" if p.kind == "depthwise" else "oc"
            pix_rows = size["b"] * size["oh"] * size["ow"]
            pix_blk = size["b"] * size["oh"] * ceil(size["ow"] / dim)
            iblocks = blocks(size["ow"]) * (size["b"] * size["oh"])
            kk = size["kh"] * size["kw"]
            kblocks, jblocks = blocks(size[red]) * kk, len(blocks(col))
        # a tile starting mid-way in a (request-aligned) DRAM row starts at this offset
        off = lambda d, e: (r[d][0] * e) % t.dma_max_request_bytes  # noqa: E731
        if key(s, "A") != prev["A"]:
            acc["A_ev"] += 1
            acc["load"] += a_rows * dma.row(a_w, e_in, sb, off(a_d, e_in))
            acc["bytes"] += a_rows * a_w * e_in
            acc["mvin"] += a_mv * ceil(a_w / (sb * dim))
        if key(s, "B") != prev["B"]:
            acc["B_ev"] += 1
            if p.kind == "depthwise":
                for bs in blocks(col):
                    acc["load"] += kk * bs * dma.row(bs, e_in, sb)
                    acc["bytes"] += kk * bs * bs * e_in
                    acc["mvin"] += kk
            else:
                b_rows = size["k"] if p.kind == "matmul" else kk * size["ic"]
                b_blk = ceil(size["k"] / dim) if p.kind == "matmul" else kk * ceil(size["ic"] / dim)
                acc["load"] += b_rows * dma.row(col, e_in, sb, off(c_d, e_in))
                acc["bytes"] += b_rows * col * e_in
                acc["mvin"] += b_blk * ceil(col / (sb * dim))
        bkey = tuple(s[d] for d in order[:upto]) if len(rng[col_dim]) > 1 else ()  # a 1-tile dim is no loop
        if bias and bkey != prev["bias"]:  # DIM broadcast rows per column block, from the L2
            acc["load"] += dim * hit.row(col, e_acc, ab, off(c_d, e_acc))
            acc["mvin"] += ceil(col / (ab * dim))
        prev = {"A": key(s, "A"), "B": key(s, "B"), "bias": bkey}
        ck = ckeys[si]
        with_d = False
        if si == 0 or ckeys[si - 1] != ck:  # visit starts: partial sums back into the accumulator
            seen[ck] += 1
            with_d = bias and seen[ck] == 1
            if seen[ck] > 1:
                acc["load"] += pix_rows * hit.row(col, e_acc, ab, off(c_d, e_acc))
                acc["mvin"] += pix_blk * ceil(col / (ab * dim))
        if si == len(steps) - 1 or ckeys[si + 1] != ck:  # visit ends: final store or spill
            final = seen[ck] == total_visits[ck]
            eb = e_in if final else e_acc
            # multi-block mvouts only of an int8 result whose buffer has exactly DIM rows (the
            # model prices a conv tile of more than one image with one-block mvouts)
            buf_rows = tiles["m"] if p.kind == "matmul" else tiles["b"] * tiles["oh"] * tiles["ow"]
            wide = ob if final and buf_rows == dim and (p.kind == "matmul" or tiles["b"] == 1) else 1
            acc["store"] += pix_rows * dma.row(col, eb, wide, off(c_d, eb))
            acc["bytes"] += pix_rows * col * eb  # a spill's read-back hits the L2: no DRAM bytes
            acc["mvout"] += pix_blk * ceil(col / (wide * dim))
        r0 = iblocks[0]
        if p.kind == "depthwise":  # one j block per channel block; its k blocks are the kernel taps
            pairs = [(bs, bs) for bs in blocks(col) for _ in range(kk)]
        else:
            pairs = [(j, kr) for j in range(jblocks) for kr in kblocks]
        for _, kr in pairs:
            acc["compute"] += sum(max(rb, cmin) for rb in iblocks) + max(r0, kr, cmin) - max(r0, cmin)
            acc["triples"] += len(iblocks)
        if with_d:  # the first reduction block of each column block reads D
            acc["compute"] += jblocks * sum(dim - max(rb, cmin) for rb in iblocks)
    issue = (t.host_issue_cycles * (acc["mvin"] + acc["mvout"] + 2 * acc["triples"] + 5)
             + t.host_loop_overhead_cycles * (len(steps) + acc["mvin"] + acc["mvout"] + acc["triples"]))
    load = acc["load"] + len(steps) * t.mem_latency_cycles  # the load stream drains once per step
    return dict(load=load, store=acc["store"], memory=acc["bytes"] / t.mem_bytes_per_cycle,
                compute=acc["compute"], issue=issue, ldA_ev=acc["A_ev"], ldB_ev=acc["B_ev"])


def quantities(layer, sched, t, bias):
    """The model's quantities (``cost.QUANTITIES``) of one schedule."""
    p = problem_of(layer)
    model = _point_model(p, t, sched.tiles, _effective(p, sched), bias, False)
    row = model.term_row({d.name: 0 for d in p.dims})
    return dict(zip(QUANTITIES, model.quantities(row[None, :])[0, 0]))


def _layers():
    mm = st.builds(MatmulLayer, st.integers(1, 23), st.integers(1, 23), st.integers(1, 23))
    conv = st.builds(lambda b, h, w, ci, co, k, s, pad, dil: ConvLayer(b, h + dil * (k - 1), w + dil * (k - 1), ci, co, k, k, s, pad,
                                                                       1, dil),
                     st.integers(1, 2), st.integers(1, 7), st.integers(3, 9), st.integers(1, 9), st.integers(1, 9),
                     st.integers(1, 3), st.integers(1, 2), st.integers(0, 1), st.integers(1, 2))
    dw = st.builds(lambda h, c, k, s: ConvLayer(1, h, h, c, c, k, k, s, 1, groups=c),
                   st.integers(3, 8), st.integers(2, 10), st.integers(1, 3), st.integers(1, 2))
    return st.one_of(mm, conv, dw)


def _random_tiles(p, rnd):
    return {d.name: rnd.choice(candidates(d, SMALL) + [rnd.randint(1, d.size)]) for d in p.dims}


@settings(max_examples=60, deadline=None)
@given(_layers(), st.integers(0, 10**6))
def test_model_terms_equal_explicit_walk(layer, seed):
    rnd = random.Random(seed)
    p = problem_of(layer)
    tiles = _random_tiles(p, rnd)
    cls = rnd.choice(p.classes())
    bias = rnd.random() < 0.7
    sched = make_schedule(p, tiles, Config("WS", "fine", True, cls))
    got = estimate(layer, sched, SMALL, bias=bias)
    want = walk(layer, tiles, order_for(p, cls), SMALL, bias=bias)
    events = quantities(layer, sched, SMALL, bias)  # the host-stall bursts: loads of A and B tiles
    for q, v in want.items():
        g = events[q] if q.startswith("ld") else getattr(got, q)
        assert abs(g - v) <= 1e-9 * max(1.0, v), (q, g, v)


@settings(max_examples=40, deadline=None)
@given(_layers(), st.integers(0, 10**6))
def test_canonical_orders_move_no_more_data_than_any_order(layer, seed):
    """Any loop order's DMA work is matched or beaten by the canonical order whose
    stationary class is the class of its innermost loop with more than one tile."""
    rnd = random.Random(seed)
    p = problem_of(layer)
    tiles = _random_tiles(p, rnd)
    names = list(p.names)
    rnd.shuffle(names)
    # (A, B and C traffic: the fine form's bias block is refilled per column tile in any order)
    other = walk(layer, tiles, names, SMALL, bias=False)
    cls_of = {d.name: d.cls for d in p.dims}
    active = [d for d in names if ceil(p.dim(d).size / tiles[d]) > 1 and cls_of[d] != "all"]
    cls = cls_of[active[-1]] if active else "red"
    best = walk(layer, tiles, order_for(p, cls), SMALL, bias=False)
    assert cls in p.classes()
    for q in ("load", "store", "memory"):
        assert best[q] <= other[q] * (1 + 1e-12), (q, best[q], other[q], names, cls)
