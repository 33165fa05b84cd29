"""Shared helpers of the ONNX frontend tests: import, run both references, compare.
(``onnx_net.py`` beside it builds small float models; this folder goes on sys.path
because pytest runs with --import-mode=importlib.)"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from gemforge.frontends.onnx import quantize_inputs, run, to_onnx_layout
from gemforge.frontends.onnx_check import diff, onnxruntime_outputs
from gemforge.frontends.onnx_quantize import random_inputs
from gemforge.graph_eval import evaluate

sys.path.insert(0, str(Path(__file__).parent))


def compare_with_onnxruntime(module, info, *, seed: int = 1, max_lsb: int = 0, max_fraction: float = 0.0):
    """Evaluate the imported network and onnxruntime on one seeded input; assert the
    int8 results agree (bit-exact by default) and the final float outputs too."""
    feeds = random_inputs(info.quantized, seed=seed, count=1)[0]
    ours = to_onnx_layout(info, evaluate(module, quantize_inputs(info, feeds)))
    theirs, final = onnxruntime_outputs(info, feeds)
    diffs = {}
    for t in info.outputs:
        d = diff(ours[t.name], theirs[t.name])
        diffs[t.name] = d
        assert d.within(max_lsb, max_fraction), f"{t.name}: {d}"
        # A degenerate network (all zeros) would make the comparison meaningless.
        assert np.count_nonzero(theirs[t.name]) > d.size // 10, f"{t.name} is almost all zeros"
    if max_lsb == 0:
        outputs = run(module, info, feeds)
        for name, value in final.items():
            np.testing.assert_array_equal(outputs[name], value, err_msg=name)
    return diffs


@pytest.fixture
def compare():
    return compare_with_onnxruntime
