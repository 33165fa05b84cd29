"""How wide the int8 result's mvouts are, per code form, as product terms of the cost model.

An mvout reads ``dma_max_mvout_blocks`` column blocks at once only where those blocks sit
DIM accumulator rows apart:

* fine form (``_lowering_tile``): only when the output tile's buffer has exactly DIM rows
  (matmul ``m_t == DIM``; conv ``b_t * oh_t * ow_t == DIM``), else one DIM-column block
  per mvout;
* LOOP_WS: always up to ``dma_max_mvout_blocks`` blocks;
* LOOP_CONV_WS: one block per (pixel block, channel block).

Raw (int32) stores -- partial-sum spills -- are always one block wide.

The fine form's choice depends on the pixel tiles: a matmul's ``m`` tile alone (single
features split by ``m_t == DIM``), a conv's ``oh_t * ow_t == DIM`` (a feature of the pair
(oh, ow)) with ``b_t == 1``; a conv tile with ``b_t > 1`` is priced with narrow mvouts (the
batch is one in the suites). Every term is a positive product, so the branch-and-bound's
products and minima stay exact.
"""

from __future__ import annotations

import numpy as np

from gemforge.passes.schedule.space import Problem

# quantity -> (pixel-dim row feature, column feature for wide mvouts, for one-block mvouts)
QUANTITY_FEATURES = {"cost": ("sum", "rc_out", "rc_out1"), "mvout": ("blk", "ch_out", "blk"),
                     "chain": ("blk", "chx_out", "chx_out1")}


def add_store_features(single: dict[str, dict[str, np.ndarray]], pair: dict[tuple[str, str], dict],
                       problem: Problem, cands: dict[str, list[int]], dim: int) -> None:
    """The fine form's pixel-row features split by mvout width: ``{row}_w`` (buffer of DIM
    rows: wide mvouts) and ``{row}_n`` (narrow), ``row`` in ``sum`` (rows) / ``blk`` (row
    blocks); on ``m`` for a matmul, on the pair (oh, ow) otherwise."""
    rows = sorted({r for r, _, _ in QUANTITY_FEATURES.values()})
    if problem.kind == "matmul":
        flag = np.array([float(t == dim) for t in cands["m"]])
        for r in rows:
            single["m"][f"{r}_w"] = single["m"][r] * flag
            single["m"][f"{r}_n"] = single["m"][r] * (1.0 - flag)
        return
    flag = np.array([[float(th * tw == dim) for tw in cands["ow"]] for th in cands["oh"]])
    feats = pair.setdefault(("oh", "ow"), {})
    for r in rows:
        full = np.outer(single["oh"]["sum"], single["ow"][r])
        feats[f"{r}_w"] = full * flag
        feats[f"{r}_n"] = full * (1.0 - flag)


def store_specs(problem: Problem) -> dict[str, dict]:
    """Term specs of the result's stores per form: ``Cs_{q}_{i}`` (fine form, summed over
    i), ``Cl_{q}`` (the loop form: wide for LOOP_WS, one block for LOOP_CONV_WS)."""
    specs: dict[str, dict] = {}
    for q, (row, wide, narrow) in QUANTITY_FEATURES.items():
        if problem.kind == "matmul":
            specs[f"Cs_{q}_0"] = {"m": f"{row}_w", "n": wide}
            specs[f"Cs_{q}_1"] = {"m": f"{row}_n", "n": narrow}
            specs[f"Cl_{q}"] = {"m": row, "n": wide}
        else:
            col = "c" if problem.kind == "depthwise" else "oc"
            specs[f"Cs_{q}_0"] = {"b": "sum_t1", ("oh", "ow"): f"{row}_w", col: wide}
            specs[f"Cs_{q}_1"] = {"b": "sum_t1", ("oh", "ow"): f"{row}_n", col: narrow}
            specs[f"Cs_{q}_2"] = {"b": "sum_tn1", "oh": "sum", "ow": row, col: narrow}
            specs[f"Cl_{q}"] = {"b": "sum", "oh": "sum", "ow": row, col: narrow}
    return specs


def store_terms(specs: dict[str, dict], q: str, form: str) -> list[str]:
    """Names of the terms that sum to quantity ``q`` of the result's stores in ``form``."""
    prefix = "Cs_" if form == "fine" else "Cl_"
    return [n for n in specs if n.startswith(f"{prefix}{q}")]
