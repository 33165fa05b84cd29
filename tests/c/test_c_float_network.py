"""The C backend on networks with float islands and a host convolution: a small ONNX model
(conv -> relu -> LRN -> grouped conv -> relu -> max pool with one-sided padding -> batch
norm -> relu -> conv with unequal strides) puts ``graph.lrn``, ``graph.conv2d`` (the last conv:
no generator lowers unequal strides; the grouped one runs group by group) and the batch norm
with its ReLU, folded by ``fold-lut`` into a ``lut`` (``graph.channel_affine`` alone is tested in
test_c_host_float.py), on the host. Its emitted C issues the simulator's stream and its host kernels compute the
simulator's results (numpy's float32 ``power`` replaced by the libm ``powf`` the C calls, see
backends/gemmini/c_host_float.py). With GEMFORGE_SLOW_TESTS=1: the light models that need
these kernels emit C."""

from __future__ import annotations

import os
import unittest.mock

import numpy as np
import pytest
from onnx import helper, numpy_helper

from gemforge import graph_eval_ops as K
from gemforge import sim
from gemforge.backends.gemmini.c import emit_c
from gemforge.backends.gemmini.c_host import supported_kinds
from gemforge.backends.gemmini.program import HostOp
from gemforge.frontends.onnx import load_model
from gemforge.network import compile_network
from gemforge.network_testing import save_float_model

from c_roundtrip import assert_same_stream, needs_cc
from test_c_host_float import _LIBM, _NumpyWithLibmPow
from test_c_network import host_only

NEW_KINDS = {"graph.lrn", "graph.conv2d", "lut"}


def float_island_model(path) -> None:
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("LRN", ["r1"], ["l1"], size=5, alpha=1e-4, beta=0.75, bias=1.0),
        helper.make_node("Conv", ["l1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], group=2),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("MaxPool", ["r2"], ["p2"], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1]),
        helper.make_node("BatchNormalization", ["p2", "g", "be", "mu", "var"], ["bn"]),
        helper.make_node("Relu", ["bn"], ["r3"]),
        helper.make_node("Conv", ["r3", "w3", "b3"], ["y"], strides=[1, 2]),
    ]
    rng = np.random.default_rng(1)
    bn = {"g": 1 + 0.3 * rng.standard_normal(16), "be": 0.2 * rng.standard_normal(16),
          "mu": 0.2 * rng.standard_normal(16), "var": 0.5 + rng.random(16)}
    weights = {"w1": ((16, 3, 3, 3), 0.3), "b1": ((16,), 0.05), "w2": ((16, 8, 3, 3), 0.1), "b2": ((16,), 0.05),
               "w3": ((8, 16, 1, 1), 0.2), "b3": ((8,), 0.05)}
    save_float_model(path, nodes, weights, input_shape=(1, 3, 8, 8), output="y", output_shape=(1, 8, 4, 2),
                     extra_inits=[numpy_helper.from_array(v.astype(np.float32), k) for k, v in bn.items()],
                     name="float_islands")


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "float_islands.onnx"
    float_island_model(path)
    module, _ = load_model(path)
    return compile_network(module).program


def _kinds(program) -> set[str]:
    return {x.kind for x in program.items if isinstance(x, HostOp)}


@needs_cc
def test_float_island_network_round_trip(program, tmp_path):
    assert NEW_KINDS <= _kinds(program) <= set(supported_kinds())
    x = np.random.default_rng(3).integers(-128, 128, program.tensor("x").shape)
    stdout = assert_same_stream(program, tmp_path, blob=True, inputs={"x": x}, opt="-O1")
    assert "output y: checksum" in stdout


@needs_cc
@pytest.mark.skipif(_LIBM is None, reason="no libm to load powf from")
def test_float_island_host_kernels_match_simulator(program, tmp_path):
    p = host_only(program)
    assert NEW_KINDS <= _kinds(p)
    rng = np.random.default_rng(11)
    inputs = {t.name: rng.integers(-128, 128, t.shape) for t in p.tensors_with_role("input")}
    assert inputs, "the host kernels read no accelerator result"
    stdout = assert_same_stream(p, tmp_path, inputs=inputs, defines=["GEMFORGE_DUMP_OUTPUTS"])
    dumps = {line.split()[1]: np.array([float(v) for v in line.split()[2:]])
             for line in stdout.splitlines() if line.startswith("dump ")}
    with unittest.mock.patch.object(K, "np", _NumpyWithLibmPow()):
        want = sim.run(p, inputs, timing=False).outputs
    assert len(want) == len(p.tensors_with_role("output")) >= 3  # lrn, lut (batch norm + relu), conv
    for name, value in want.items():
        np.testing.assert_array_equal(dumps[name], value.reshape(-1), err_msg=f"host output {name}")


HEAVY = pytest.mark.skipif(not os.environ.get("GEMFORGE_SLOW_TESTS"), reason="set GEMFORGE_SLOW_TESTS=1")


@pytest.mark.slow
@HEAVY
@pytest.mark.parametrize("name, kinds", [("bvlc_alexnet", {"graph.lrn", "graph.conv2d"}), ("zfnet512", {"graph.lrn"}),
                                         ("inception_v1", {"graph.lrn"}), ("densenet121", {"lut"})])
def test_light_model_emits_c(tmp_path, name, kinds):
    from gemforge.network_model import load, value_names

    module, info, _ = load(name)
    net = compile_network(module, names=value_names(info))
    assert kinds <= _kinds(net.program)
    path = emit_c(net.program, tmp_path / "program.c", name=name, blob=True)
    text = path.read_text()
    for kind in kinds:
        assert f"/* host {kind}(" in text
