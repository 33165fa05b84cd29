"""int8 adds on Gemmini (``adds="gemmini"``): the vendor's tiled_resadd inside a network."""

from __future__ import annotations

import numpy as np
import pytest

from gemforge.backends.gemmini.library.resadd import resadd_reference, resadd_scales
from gemforge.dialects import graph as G
from gemforge.errors import GemforgeError
from gemforge.network import compile_network
from gemforge.network_adds import gemmini_add_refusal
from gemforge.network_build import ACCELERATOR, HOST
from gemforge.network_testing import build_module, random_inputs
from gemforge.sim.host import saturate

SCALES = dict(lhs_scale=0.5, rhs_scale=0.3, output_scale=0.6)


def add_module(activation="relu", shape=(1, 6, 5, 40)):
    def body(args):
        add = G.AddOp(args[0], args[1], activation=activation, **SCALES)
        return [add], [add.result]

    return build_module([shape, shape], body)


def exact_add(a, b, relu):
    f = np.float32
    ma, mb = f(SCALES["lhs_scale"]) / f(SCALES["output_scale"]), f(SCALES["rhs_scale"]) / f(SCALES["output_scale"])
    y = saturate(np.rint(a.astype(f) * ma + b.astype(f) * mb), np.dtype(np.int8))
    return np.maximum(y, 0) if relu else y


@pytest.mark.parametrize("activation", ["relu", "none"])
@pytest.mark.parametrize("schedule", ["bnb", "library"])
def test_gemmini_add_is_the_vendor_resadd(schedule, activation):
    module = add_module(activation)
    inputs = random_inputs(module, 4)
    relu = activation == "relu"
    host = compile_network(module, schedule=schedule)
    assert [n.where for n in host.nodes] == [HOST]
    exact = host.run(inputs, timing=False).outputs["out0"]
    assert np.array_equal(exact, exact_add(inputs["x0"], inputs["x1"], relu))

    net = compile_network(module, schedule=schedule, adds="gemmini")
    assert [(n.op, n.where) for n in net.nodes] == [("graph.add", ACCELERATOR)]
    res = net.run(inputs, timing=True)
    f = np.float32
    sa, sb, sc = resadd_scales(float(f(0.5) / f(0.6)), float(f(0.3) / f(0.6)))
    a, b = (inputs[k].reshape(-1, 40) for k in ("x0", "x1"))
    want = resadd_reference(a, b, sa, sb, sc, relu).reshape(exact.shape)
    assert np.array_equal(res.outputs["out0"], want)
    # lossy by at most one LSB here (no move-in saturation at these scales), and cheaper than the host
    assert np.abs(res.outputs["out0"].astype(int) - exact.astype(int)).max() <= 1
    assert 0 < res.total_cycles < host.run(inputs, timing=True).total_cycles


def test_refusals_fall_back_to_the_host_with_a_reason():
    def body(args):
        clipped = G.AddOp(args[0], args[1], clip=(-10, 10), **SCALES)
        return [clipped], [clipped.result]

    module = build_module([(1, 2, 2, 16), (1, 2, 2, 16)], body)
    net = compile_network(module, adds="gemmini")
    (node,) = net.nodes
    assert node.where == HOST and "clip" in node.reason
    add = next(op for op in module.walk() if isinstance(op, G.AddOp))
    assert gemmini_add_refusal(add) is not None


def test_unknown_adds_value_is_one_line_error():
    with pytest.raises(GemforgeError, match="adds must be one of host, gemmini"):
        compile_network(add_module(), adds="cpu")
