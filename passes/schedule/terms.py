"""The cost model's product terms: every count the model needs is a product of per-dim factors.

Because a tile grid is a Cartesian product of per-dim tile lists, a sum over all
tiles of a per-tile quantity that is a product of per-dim parts (rows, blocks, DMA
cost of one DRAM row, ...) is the product of per-dim sums. Each *term* below (bytes
of A, mvouts of C, fused preload+compute cycles, ...) is therefore a product of
*features*, each depending on one dim's tile or on a pair of dims' tiles (conv input
spans: (oh, kh) and (ow, kw); the first-block weight-preload surcharge: reduction x
A rows). ``FeatureTable`` evaluates every feature for lists of candidate tiles, so
the branch-and-bound can multiply them in as dims get assigned and bound the rest by
per-feature minima. ``cost.py`` turns terms into cycles.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import cycle, islice
from math import ceil, gcd

import numpy as np

from gemforge.passes.schedule.line_chain import chain_floor, chain_length, dma_slots
from gemforge.passes.schedule.space import Problem, span, trips
from gemforge.passes.schedule.store_terms import add_store_features, store_specs
from gemforge.target import Target


class DmaRates:
    """Per-row DMA cost in cycles, from the target's DMA and memory fields.

    A DRAM row of ``W`` elements moved by mvins/mvouts of at most ``blocks*DIM``
    columns is split per instruction into requests of at most ``dma_max_request_bytes``;
    requests never cross a ``dma_max_request_bytes``-aligned boundary (a tile that starts
    mid-way in a DRAM row costs an extra request per row; the row base is taken as
    aligned); a request of ``b`` bytes costs ``max(ceil(b/bus), b/mem_bytes_per_cycle,
    (latency + ceil(b/bus))/max_inflight)``: bus beats, DRAM bandwidth, or its share
    of the latency when only ``max_inflight`` requests may be outstanding.
    """

    def __init__(self, target: Target, hit: bool = False):
        self.t = target
        # ``hit``: the requests hit the SoC's L2 (data re-read while still cached): L2
        # latency and bandwidth instead of DRAM's (the same as DRAM when there is no L2).
        self.hit = hit and target.mem_l2_bytes > 0
        self.row = lru_cache(maxsize=None)(self._row)

    def rows_over_tiles(self, size: int, tile: int, elem_bytes: int, blocks: int) -> float:
        """Sum of ``row`` over the tiles of a contiguous dim (tile i starts ``i*tile``
        elements into a request-aligned DRAM row; the offsets repeat with a short period)."""
        m = self.t.dma_max_request_bytes
        n, last = trips(size, tile)
        period = m // gcd(tile * elem_bytes, m)
        full = sum(((n - 2 - i) // period + 1) * self.row(tile, elem_bytes, blocks, (i * tile * elem_bytes) % m)
                   for i in range(min(n - 1, period)))
        return full + self.row(last, elem_bytes, blocks, ((n - 1) * tile * elem_bytes) % m)

    def request(self, nbytes: int) -> float:
        t = self.t
        beats = ceil(nbytes / t.dma_bus_bytes)
        if self.hit:
            return max(beats, nbytes / t.mem_l2_bytes_per_cycle, (t.mem_l2_latency_cycles + beats) / t.dma_max_inflight)
        return max(beats, nbytes / t.mem_bytes_per_cycle, (t.mem_latency_cycles + beats) / t.dma_max_inflight)

    def chunk(self, nbytes: int, offset: int = 0) -> float:
        """One mvin/mvout's row piece of ``nbytes`` starting ``offset`` bytes past a
        request-aligned address: requests never cross a ``dma_max_request_bytes`` boundary."""
        m = self.t.dma_max_request_bytes
        head = min(nbytes, (m - offset % m) % m)
        q, r = divmod(nbytes - head, m)
        return (self.request(head) if head else 0.0) + q * self.request(m) + (self.request(r) if r else 0.0)

    def _row(self, width: int, elem_bytes: int, blocks: int, offset: int = 0) -> float:
        cols = blocks * self.t.dim
        q, r = divmod(width, cols)
        step = cols * elem_bytes
        # a piece's time depends on its offset modulo the request size only, so the pieces
        # repeat with a short period: price one period, then add them up in the original
        # order (the same float sum as pricing every piece; FC rows have hundreds)
        period = self.t.dma_max_request_bytes // gcd(step, self.t.dma_max_request_bytes)
        one = [self.chunk(step, offset + i * step) for i in range(min(q, period))]
        return (sum(islice(cycle(one), q)) + (self.chunk(r * elem_bytes, offset + q * step) if r else 0.0))


def chain_time(target: Target, size: int, tile: int, elem_bytes: int, blocks: int) -> float:
    """Sum over the tiles of a contiguous dim of ``size`` elements (the DRAM row: rows are
    ``size * elem_bytes`` apart) and over each tile's mvin/mvout pieces of ``blocks*DIM``
    columns, of the least time a DIM-row transfer of that piece holds one of its DMA
    controller's slots under the L2 line chain (``line_chain``; zero when no two of its
    rows share a line: such transfers are priced by their requests alone). Consecutive
    pixel blocks of one input row share a line, so they chain one after another."""
    dim, stride, step = target.dim, size * elem_bytes, blocks * target.dim

    def piece(v):
        nbytes = v * elem_bytes
        if chain_length(target, dim, nbytes, stride) <= 1:
            return 0.0
        # whole rows back to back (the piece is the full DRAM row): the next DIM rows start on
        # the line these end on unless DIM rows fill whole lines, so each transfer waits for the last
        serial = nbytes == stride and (dim * stride) % target.mem_l2_line_bytes != 0
        return chain_floor(target, dim, nbytes, stride) / (1 if serial else dma_slots(target))

    def per_tile(v):
        q, r = divmod(v, step)
        return q * piece(step) + (piece(r) if r else 0.0)

    return _over_tiles(size, tile, per_tile)


def _over_tiles(size: int, tile: int, f) -> float:
    n, r = trips(size, tile)
    return (n - 1) * f(tile) + f(r)


def _single_features(size: int, tile: int, target: Target, dma: DmaRates, depthwise_c: bool,
                     dma_hit: DmaRates | None = None) -> dict[str, float]:
    """Every one-dim feature of a tile size (sums run over the dim's tiles)."""
    D, t, dim = size, tile, target.dim
    cmin = target.lat_compute_min_cycles
    e_in, e_acc = target.input_bytes, target.acc_bytes
    sb, ab, ob = target.dma_max_spad_mvin_blocks, target.dma_max_acc_mvin_blocks, target.dma_max_mvout_blocks
    n, _ = trips(D, t)

    def ws_rows(v):  # fused preload+compute cycles of the A-row blocks of v rows
        q, r = divmod(v, dim)
        return q * max(dim, cmin) + (max(r, cmin) if r else 0)

    def diag(v, g):  # sum over the DIM channel blocks of v channels of g(block size)
        q, r = divmod(v, dim)
        return q * g(dim) + (g(r) if r else 0)

    f = {
        "one": 1.0, "n": float(n), "sum": float(D), "first": float(t),
        "blk": _over_tiles(D, t, lambda v: ceil(v / dim)),
        "first_blk": float(ceil(t / dim)),
        "first_pad": float(ceil(t / dim) * dim),
        "rows_ws": _over_tiles(D, t, ws_rows),
        "blkdim": _over_tiles(D, t, lambda v: ceil(v / dim) * dim),
        "rc_in": dma.rows_over_tiles(D, t, e_in, sb),
        "ch_in": _over_tiles(D, t, lambda v: ceil(v / (sb * dim))),
        "rc_out": dma.rows_over_tiles(D, t, e_in, ob),
        "rc_out1": dma.rows_over_tiles(D, t, e_in, 1),  # one-block mvouts (store_terms.py)
        "rc_full_out": dma.rows_over_tiles(D, t, e_acc, 1),  # raw (int32) mvouts are one block wide
        "ch_out": _over_tiles(D, t, lambda v: ceil(v / (ob * dim))),
        "rc_acc": dma.rows_over_tiles(D, t, e_acc, ab),
        "rc_acc_hit": (dma_hit or dma).rows_over_tiles(D, t, e_acc, ab),
        # split by whether the dim is a loop (more than one tile) or not
        "rc_acc_hit_loop": (dma_hit or dma).rows_over_tiles(D, t, e_acc, ab) if n > 1 else 0.0,
        "rc_acc_hit_one": (dma_hit or dma).rows_over_tiles(D, t, e_acc, ab) if n == 1 else 0.0,
        "rc_res": dma.rows_over_tiles(D, t, e_in, ab),
        "ch_acc": _over_tiles(D, t, lambda v: ceil(v / (ab * dim))),
        "ch_acc_loop": _over_tiles(D, t, lambda v: ceil(v / (ab * dim))) if n > 1 else 0.0,
        "ch_acc_one": _over_tiles(D, t, lambda v: ceil(v / (ab * dim))) if n == 1 else 0.0,
        # the L2 line chain of narrow rows (input / weight mvins, int8 output mvouts)
        "chx_in": chain_time(target, D, t, e_in, sb),
        "chx_out": chain_time(target, D, t, e_in, ob),
        "chx_out1": chain_time(target, D, t, e_in, 1),
        "sum_t1": float(D) * (t == 1), "sum_tn1": float(D) * (t != 1),
        "first_rc_in": dma.row(t, e_in, sb),
        "first_rc_out": dma.row(t, e_in, ob),
        "first_rc_acc": dma.row(t, e_acc, ab),
        "first_rc_acc_hit": (dma_hit or dma).row(t, e_acc, ab),
        "first_rc_res": dma.row(t, e_in, ab),
    }
    if depthwise_c:  # block-diagonal weights: a block of bs channels is bs rows of bs int8
        w_rows = lambda b: b * dma.row(b, e_in, sb)  # noqa: E731
        f["diag_rc"] = _over_tiles(D, t, lambda v: diag(v, w_rows))
        f["diag_elems"] = _over_tiles(D, t, lambda v: diag(v, lambda b: b * b))
        f["first_diag_rc"] = diag(t, w_rows)
    return f


def _span_features(problem: Problem, axis: str, t_o: int, t_k: int, dim: int) -> dict[str, float]:
    """Features of a conv input axis ('h' or 'w') for output tile t_o and kernel tile t_k.

    Sums run over all (output tile, kernel tile) pairs of the clipped input span
    (rows outside the input are padding: zero-filled, not read).
    """
    o_dim, k_dim = ("oh", "kh") if axis == "h" else ("ow", "kw")
    D_o, D_k = problem.dim(o_dim).size, problem.dim(k_dim).size
    in_len = problem.in_h if axis == "h" else problem.in_w
    s, d, pad = problem.stride, problem.dilation, problem.pad
    n_o, r_o = trips(D_o, t_o)
    n_k, r_k = trips(D_k, t_k)
    k_tiles = [(j * t_k, t_k if j < n_k - 1 else r_k) for j in range(n_k)]

    def clipped(o0, so, k0, sk):
        start = o0 * s + k0 * d - pad
        end = start + span(so, sk, s, d) - 1
        return max(0, min(end, in_len - 1) - max(start, 0) + 1)

    def border(i):  # may this output tile's span leave the input for some kernel tile?
        o0, so = i * t_o, (t_o if i < n_o - 1 else r_o)
        return o0 * s - pad < 0 or (o0 + so - 1) * s + (D_k - 1) * d - pad > in_len - 1

    tot = tot_blk = 0.0
    # Interior output tiles are unclipped: group them by size; border tiles exactly.
    interior = {}
    border_set = set()
    i = 0
    while i < n_o and border(i):
        border_set.add(i)
        i += 1
    i = n_o - 1
    while i >= 0 and i not in border_set and border(i):
        border_set.add(i)
        i -= 1
    n_border_full = sum(1 for i in border_set if i < n_o - 1)
    interior[t_o] = (n_o - 1) - n_border_full
    if (n_o - 1) not in border_set:
        interior[r_o] = interior.get(r_o, 0) + 1
    for so, cnt in interior.items():
        if cnt:
            for _, sk in k_tiles:
                v = span(so, sk, s, d)
                tot += cnt * v
                tot_blk += cnt * ceil(v / dim)
    for i in border_set:
        o0, so = i * t_o, (t_o if i < n_o - 1 else r_o)
        for k0, sk in k_tiles:
            v = clipped(o0, so, k0, sk)
            tot += v
            tot_blk += ceil(v / dim)
    return {"span_sum": tot, "span_blk": tot_blk, "span_first": float(clipped(0, t_o, 0, t_k)),
            "span_fp": float(span(t_o, t_k, s, d))}


def _extra_table(o_size: int, o_cands: list[int], r_size: int, r_cands: list[int], target: Target) -> np.ndarray:
    """(reduction candidates, A-row candidates): sum over A-row tiles x reduction tiles x
    reduction blocks of the weight-preload surcharge.

    The first fused preload+compute of each (column block, reduction block) in a tile
    reads new weights, and the ExecuteController then feeds DIM rows whatever the weight
    block's rows: it costs DIM instead of max(rows0, cmin), rows0 = min(DIM, A rows of the
    tile's first block).
    """
    dim, cmin = target.dim, target.lat_compute_min_cycles

    def per(r0, kr):
        return max(r0, kr, cmin) - max(r0, cmin)

    # G[r0 - 1, i]: surcharge summed over the reduction tiles and blocks of candidate i.
    G = np.zeros((dim, len(r_cands)))
    for i, tr in enumerate(r_cands):
        for r0 in range(1, dim + 1):
            G[r0 - 1, i] = _over_tiles(r_size, tr, lambda v: -(-v // dim) * per(r0, dim))
    out = np.zeros((len(r_cands), len(o_cands)))
    for j, to in enumerate(o_cands):
        n_o, rem = trips(o_size, to)
        out[:, j] = (n_o - 1) * G[min(dim, to) - 1] + G[min(dim, rem) - 1]
    return out


def pairs_of(problem: Problem) -> dict[tuple[str, str], str]:
    """Pair features of a view: (dim1, dim2) -> kind ('h', 'w' spans, or 'extra')."""
    if problem.kind == "matmul":
        return {("k", "m"): "extra"}
    red = "c" if problem.kind == "depthwise" else "ic"
    return {("oh", "kh"): "h", ("ow", "kw"): "w", (red, "ow"): "extra"}


@lru_cache(maxsize=8)
def _dma_rates(target: Target) -> tuple[DmaRates, DmaRates]:
    """The target's DRAM and L2-hit rates, shared by every table (their row costs are cached)."""
    return DmaRates(target), DmaRates(target, hit=True)


@lru_cache(maxsize=65536)
def _cached_single_features(size: int, tile: int, target: Target, depthwise_c: bool) -> dict[str, float]:
    """:func:`_single_features`, shared across layers and scheduler calls (a network repeats
    its dim sizes; the features depend only on them and the target)."""
    dma, hit = _dma_rates(target)
    return _single_features(size, tile, target, dma, depthwise_c, hit)


class FeatureTable:
    """Feature values for candidate tile lists: single[dim][feature] -> array over the
    dim's candidates; pair[(d1, d2)][feature] -> 2-D array over both candidate lists."""

    def __init__(self, problem: Problem, target: Target, cands: dict[str, list[int]]):
        self.problem, self.cands = problem, cands
        self.single: dict[str, dict[str, np.ndarray]] = {}
        for d in problem.dims:
            rows = [_cached_single_features(d.size, t, target, problem.kind == "depthwise" and d.name == "c")
                    for t in cands[d.name]]
            self.single[d.name] = {k: np.array([r[k] for r in rows]) for k in rows[0]}
        self.pair: dict[tuple[str, str], dict[str, np.ndarray]] = {}
        for (d1, d2), kind in pairs_of(problem).items():
            c1, c2 = cands[d1], cands[d2]
            if kind == "extra":
                s1, s2 = problem.dim(d1).size, problem.dim(d2).size
                self.pair[(d1, d2)] = {"extra": _extra_table(s2, c2, s1, c1, target)}
            else:
                rows = [[_span_features(problem, kind, t1, t2, target.dim) for t2 in c2] for t1 in c1]
                self.pair[(d1, d2)] = {k: np.array([[r[k] for r in row] for row in rows]) for k in rows[0][0]}
        add_store_features(self.single, self.pair, problem, cands, target.dim)


def term_specs(problem: Problem) -> dict[str, dict]:
    """Term name -> {dim or (dim1, dim2): feature}; unlisted dims contribute 1."""
    kind = problem.kind
    dims = problem.names
    of_cls = lambda c: [d.name for d in problem.dims if d.cls == c]  # noqa: E731
    trip = lambda names: {n: "n" for n in names}  # noqa: E731
    if kind == "matmul":
        pix_rows, pix_first, pix_blk = {"m": "sum"}, {"m": "first"}, {"m": "blk"}
        a_rows, a_rowblk, a_first = {"m": "sum"}, {"m": "blk"}, {"m": "first"}
        b_rows, b_rowblk, b_first = {"k": "sum"}, {"k": "blk"}, {"k": "first"}
        red_w, col = "k", "n"
        cmp_pix = {"m": "rows_ws"}
        pix_n, kpos, kpos_n = {}, {}, {}
    else:
        pix_rows = {"b": "sum", "oh": "sum", "ow": "sum"}
        pix_first = {"b": "first", "oh": "first", "ow": "first"}
        pix_blk = {"b": "sum", "oh": "sum", "ow": "blk"}
        a_rows = {"b": "sum", ("oh", "kh"): "span_sum", ("ow", "kw"): "span_sum"}
        a_rowblk = {"b": "sum", ("oh", "kh"): "span_sum", ("ow", "kw"): "span_blk"}
        a_first = {"b": "first", ("oh", "kh"): "span_first", ("ow", "kw"): "span_first"}
        kpos, kpos_n = {"kh": "sum", "kw": "sum"}, {"kh": "n", "kw": "n"}
        red_w = "c" if kind == "depthwise" else "ic"
        col = "c" if kind == "depthwise" else "oc"
        b_rows = dict(kpos) if kind == "depthwise" else {**kpos, "ic": "sum"}
        b_rowblk = dict(kpos) if kind == "depthwise" else {**kpos, "ic": "blk"}
        b_first = {"kh": "first", "kw": "first"} if kind == "depthwise" else {"kh": "first", "kw": "first", "ic": "first"}
        cmp_pix = {"b": "sum", "oh": "sum", "ow": "rows_ws"}
        pix_n = {"b": "n", "oh": "n"}
    a_pixdim = "m" if kind == "matmul" else "ow"
    blk_k = {} if kind == "depthwise" else {red_w: "blk"}  # depthwise: one k block per c block
    ij_k = {} if kind == "depthwise" else {red_w: "n"}
    specs = {
        "const": {},
        "steps": trip(dims), "R_pix": trip(of_cls("pix")), "R_col": trip(of_cls("col")),
        "R_red": trip(of_cls("red")), "R_cls": trip(of_cls("pix") + of_cls("col") + of_cls("red")),
        "nC": trip(of_cls("pix") + of_cls("col") + of_cls("all")),
        "A_cost": {**a_rows, red_w: "rc_in"}, "A_elems": {**a_rows, red_w: "sum"}, "A_mvin": {**a_rowblk, red_w: "ch_in"},
        "A_chain": {**a_rowblk, red_w: "chx_in"},
        **store_specs(problem),  # the int8 result's mvouts (width per form)
        "C_elems": {**pix_rows, col: "sum"}, "Cf_mvout": {**pix_blk, col: "blk"},
        "Cf_cost": {**pix_rows, col: "rc_full_out"}, "Z_cost": {**pix_rows, col: "rc_acc_hit"},
        "Z_mvin": {**pix_blk, col: "ch_acc"}, "Q_cost": {**pix_rows, col: "rc_res"},
        "P_A": {**a_first, red_w: "first_rc_in"}, "P_Z": {**pix_first, col: "first_rc_acc_hit"},
        "P_Q": {**pix_first, col: "first_rc_res"}, "E_C": {**pix_first, col: "first_rc_out"},
        "cmp_main": {**cmp_pix, col: "blk", **blk_k, **kpos},
        # depthwise: the column block is the reduction block, so c lives only in the pair
        "cmp_extra": {**pix_n, **({} if kind == "depthwise" else {col: "blk"}), **kpos, (red_w, a_pixdim): "extra"},
        "cmp_os": {**pix_rows, a_pixdim: "blkdim", col: "blk", **blk_k, **kpos},
        "triples": {**pix_blk, col: "blk", **blk_k, **kpos},
        "ij": {**pix_blk, col: "blk", **ij_k, **kpos_n},
        "fp_acc": {**pix_first, col: "first_blk"},
        # the fine form's resident bias block (DIM broadcast rows per column block of the tile),
        # refilled per column tile: once per (pix, col) tile, or per col tile when pix is innermost
        "fp_bias": {col: "first_blk"},
        # (loop order pix, col, red: per (pix, col) tile; col innermost: also per red tile; a
        # column dim of one tile is no loop: its block is loaded once)
        "Zd_cost": {**trip(of_cls("pix")), col: "rc_acc_hit_loop"}, "Zd_cost_W": {col: "rc_acc_hit"},
        "Zd_cost_I": {**trip(of_cls("pix") + of_cls("red")), col: "rc_acc_hit_loop"},
        "Zd_cost_1": {col: "rc_acc_hit_one"},
        "Zd_mvin": {**trip(of_cls("pix")), col: "ch_acc_loop"}, "Zd_mvin_W": {col: "ch_acc"},
        "Zd_mvin_I": {**trip(of_cls("pix") + of_cls("red")), col: "ch_acc_loop"},
        "Zd_mvin_1": {col: "ch_acc_one"},
        "P_Zd": {col: "first_rc_acc_hit"},
        # D pairs (first reduction block and kernel position of an output tile) cost DIM
        "dwblk": {col: "first_blk"} if kind == "depthwise" else {},
    }
    # elements of the first reduction tile of each visit (a loop that follows a storing loop)
    first_red = {} if kind == "depthwise" else {red_w: "first"}
    specs["A_elems1"] = {**a_rows, red_w: "sum", **first_red}
    if kind == "depthwise":
        specs.update({"B_cost": {**b_rows, "c": "diag_rc"}, "B_elems": {**b_rows, "c": "diag_elems"},
                      "B_mvin": {**b_rowblk, "c": "blk"}, "B_chain": {}, "P_B": {**b_first, "c": "first_diag_rc"},
                      "fp_A": {"b": "first", ("oh", "kh"): "span_fp", ("ow", "kw"): "span_fp", "c": "first_blk"},
                      "fp_B": {"kh": "first", "kw": "first", "c": "first"}})
    else:
        fp_a = {"m": "first", "k": "first_blk"} if kind == "matmul" else \
            {"b": "first", ("oh", "kh"): "span_fp", ("ow", "kw"): "span_fp", "ic": "first_blk"}
        specs.update({"B_cost": {**b_rows, col: "rc_in"}, "B_elems": {**b_rows, col: "sum"},
                      "B_elems1": {**b_rows, **first_red, col: "sum"},
                      "B_mvin": {**b_rowblk, col: "ch_in"}, "B_chain": {**b_rowblk, col: "chx_in"}, "P_B": {**b_first, col: "first_rc_in"},
                      "fp_A": fp_a, "fp_B": {**b_first, col: "first_blk"}})
    # The loop form's buffers: LOOP_WS pads every tile to whole DIM blocks (matmuls only).
    if kind == "matmul":
        specs.update({"fpl_A": {"m": "first_pad", "k": "first_blk"}, "fpl_B": {"k": "first_pad", "n": "first_blk"},
                      "fpl_acc": {"m": "first_pad", "n": "first_blk"}})
    else:
        specs.update({"fpl_A": dict(specs["fp_A"]), "fpl_B": dict(specs["fp_B"]), "fpl_acc": dict(specs["fp_acc"])})
    # Reloaded versions: A is reloaded once per col tile, B once per pix tile, unless stationary.
    if kind == "depthwise":
        specs["B_elems1"] = dict(specs["B_elems"])
    # load events: the times a tile of A (B) is moved in, each a burst of its mvins
    specs["A_ev"] = trip(of_cls("pix") + of_cls("red") + of_cls("all"))
    specs["B_ev"] = trip(of_cls("col") + of_cls("red") + of_cls("all"))
    for name, extra in (("A", "R_col"), ("B", "R_pix")):
        for q in ("cost", "elems", "mvin", "elems1", "chain", "ev"):
            base, rel = specs[f"{name}_{q}"], specs[extra]
            assert not set(base) & set(rel)
            specs[f"{name}_{q}_R"] = {**base, **rel}
    if "g" in dims:  # one group per tile: sums run over G groups, first tiles hold one
        first_terms = {"P_A", "P_B", "P_Z", "P_Q", "E_C", "fp_A", "fp_B", "fp_acc", "fpl_A", "fpl_B", "fpl_acc",
                       "dwblk", "fp_bias", "P_Zd"}
        for name, spec in specs.items():
            if name in ("steps", "nC") or name.startswith(("A_ev", "B_ev")):
                spec["g"] = "n"
            elif name not in first_terms and not name.startswith("R_") and name != "const":
                spec["g"] = "sum"
    return specs
