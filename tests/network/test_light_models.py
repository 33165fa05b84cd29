"""Light models from onnx end to end: imported (quantized by onnxruntime), compiled to one
Program, simulated (functional model: the timed runs are in benchmarks/models.py) and
checked against graph_eval bit for bit and against onnxruntime on every output."""

from __future__ import annotations

import os

import numpy as np
import pytest

from gemforge.frontends.onnx import quantize_inputs, to_onnx_layout
from gemforge.graph_eval import evaluate
from gemforge.network_model import check_against_onnxruntime, final_outputs, load, model_feeds, value_names
from gemforge.network import compile_network


def run_and_check(name: str, schedule: str, exact: bool = True):
    """``exact``: 0 LSB from onnxruntime; else the check's bound (LRN's pow rule)."""
    module, info, _ = load(name)
    net = compile_network(module, schedule=schedule, names=value_names(info))
    feeds = model_feeds(info, None, seed=4)
    args = quantize_inputs(info, feeds)
    result = net.run(args, timing=False)
    for out, want in evaluate(module, args).items():  # the numpy reference, bit for bit
        np.testing.assert_array_equal(result.outputs[out], want, err_msg=out)
    int8 = to_onnx_layout(info, result.outputs)
    check = check_against_onnxruntime(info, feeds, int8, final_outputs(info, int8))
    assert check["passed"] and (check["max_abs_diff_lsb"] == 0 or not exact), check
    if exact:
        assert all(v["equal"] for v in check["final_outputs"].values()), check["final_outputs"]
    return net


@pytest.mark.parametrize("schedule", ["bnb", "library"])
def test_squeezenet(schedule):
    net = run_and_check("squeezenet", schedule)
    pools = [n for n in net.nodes if n.op == "graph.maxpool"]
    # every conv; with bnb also the 3 max pools (each after a ReLU) on Gemmini's pooled move-out
    assert len(pools) == 3 and all(n.where == ("accelerator" if schedule == "bnb" else "host") for n in pools)
    assert len(net.accelerator_nodes) == 26 + (3 if schedule == "bnb" else 0)
    # each fire module's concat and the requantize of one branch are one lookup (fold-lut)
    host = {"graph.lut"} | ({"graph.maxpool"} if schedule == "library" else set())
    assert {n.op for n in net.host_nodes} == host


@pytest.mark.slow
def test_resnet50_builtin_example():
    net = run_and_check("resnet50", "bnb")
    acc = net.accelerator_nodes
    # 54 convs and the classifier; the stem's pool split off onto Gemmini's pooled move-out
    assert len(acc) == 55 and {n.op for n in acc} == {"graph.conv2d", "graph.matmul", "graph.maxpool"}
    assert sum(n.macs for n in acc) > 4e9  # ~4.1 GMACs of ResNet-50 on the accelerator


def test_inception_v1_lrn_on_the_host():
    net = run_and_check("inception_v1", "bnb", exact=False)
    lrn = [n for n in net.nodes if n.op == "graph.lrn"]
    assert len(lrn) == 2 and all(n.where == "host" for n in lrn)
    # every conv and the classifier, and the max pools that follow a ReLU on Gemmini
    pools = [n for n in net.accelerator_nodes if n.op == "graph.maxpool"]
    assert len(net.accelerator_nodes) - len(pools) == 58 and pools


HEAVY = pytest.mark.skipif(not os.environ.get("GEMFORGE_SLOW_TESTS"), reason="set GEMFORGE_SLOW_TESTS=1")


@pytest.mark.slow
@HEAVY
@pytest.mark.parametrize("name, host_op", [("bvlc_alexnet", "graph.lrn"), ("zfnet512", "graph.lrn"),
                                           ("densenet121", "graph.lut")])
def test_float_island_models(name, host_op):
    net = run_and_check(name, "bnb", exact=False)
    assert any(n.op == host_op and n.where == "host" for n in net.nodes)
