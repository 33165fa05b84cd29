"""The C backend on one whole network: a small residual ONNX model (conv -> relu -> maxpool
-> conv -> add residual -> relu -> average pool -> reshape -> gemm) imported and compiled
with compile_network into one Program of accelerator layers and host kernels.  The emitted
C must issue exactly the simulator's instruction stream, and its host kernels, run at the
network's own shapes and parameters, must compute the simulator's results bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper, numpy_helper

from gemforge import sim
from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.c import output_checksum
from gemforge.backends.gemmini.c_host import supported_kinds
from gemforge.backends.gemmini.program import HostOp, Program
from gemforge.frontends.onnx import load_model
from gemforge.network import compile_network
from gemforge.network_build import ACCELERATOR, HOST
from gemforge.network_testing import save_float_model

from c_roundtrip import assert_same_stream, needs_cc


def residual_model(path) -> None:
    """A float ONNX model with a residual add; the importer quantizes it to int8."""
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "p1"], ["s"]),
        helper.make_node("Relu", ["s"], ["r2"]),
        helper.make_node("AveragePool", ["r2"], ["g"], kernel_shape=[8, 8]),  # global over 8x8
        helper.make_node("Reshape", ["g", "shape"], ["f"]),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["logits"], transB=1),
    ]
    weights = {"w1": ((16, 3, 3, 3), 0.3), "b1": ((16,), 0.05), "w2": ((16, 16, 3, 3), 0.1), "b2": ((16,), 0.05),
               "wf": ((10, 16), 0.25), "bf": ((10,), 0.05)}
    save_float_model(path, nodes, weights, input_shape=(1, 3, 16, 16), output="logits", output_shape=(1, 10),
                     extra_inits=[numpy_helper.from_array(np.array([1, 16], np.int64), "shape")], name="residual")


@pytest.fixture(scope="module")
def module_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "residual.onnx"
    residual_model(path)
    return path


def _network(path, schedule):
    module, _ = load_model(path)
    return compile_network(module, schedule=schedule)


def _host_ops(program: Program) -> list[HostOp]:
    return [x for x in program.items if isinstance(x, HostOp)]


@needs_cc
@pytest.mark.parametrize("schedule", ["bnb", "library"])
def test_whole_network_round_trip(module_path, tmp_path, schedule):
    net = _network(module_path, schedule)
    where = {n.op: n.where for n in net.nodes}
    # bnb splits the fused pool off the conv and runs it on Gemmini's pooled move-out (its
    # input is the ReLU conv's); the library's network path runs it as a host kernel
    pooled = schedule == "bnb"
    assert [n.op for n in net.nodes if n.where == ACCELERATOR] == \
        ["graph.conv2d", *(["graph.maxpool"] if pooled else []), "graph.conv2d", "graph.matmul"]
    assert where["graph.add"] == HOST and where["graph.maxpool"] == (ACCELERATOR if pooled else HOST)
    program = net.program
    kinds = {op.kind for op in _host_ops(program)}
    # the library also searches its conv tiles on the host at run time (autotile)
    assert kinds == {"add", "global_avg_pool", "copy"} | (set() if pooled else {"max_pool2d", "autotile"})
    assert kinds <= set(supported_kinds())
    x = np.random.default_rng(3).integers(-128, 128, program.tensor("x").shape)
    stdout = assert_same_stream(program, tmp_path, blob=True, inputs={"x": x}, opt="-O1")
    # Every accelerator layer's work is in the stream, between host kernels.
    functs = [int(line.split()[0]) for line in (tmp_path / "expected.txt").read_text().splitlines()]
    assert functs.count(isa.LOOP_CONV_WS) + functs.count(isa.COMPUTE_PRELOADED) >= 2
    # the C writes the pooled config_st's fields (rs1[5:4] pool stride) as the stream has them
    configs = [int(line.split()[1]) for line in (tmp_path / "expected.txt").read_text().splitlines()
               if int(line.split()[0]) == isa.CONFIG]
    assert any(rs1 & 3 == 2 and (rs1 >> 4) & 3 for rs1 in configs) == pooled
    assert "output logits: checksum" in stdout


def host_only(program: Program) -> Program:
    """The network's host kernels alone, with the network's tensors: what an accelerator
    layer writes becomes an input, every kernel's result an output."""
    p = Program(program.target_name, name="net_host")
    for op in _host_ops(program):
        for name in op.inputs:
            if name not in p.tensors:
                t = program.tensor(name)
                role = "constant" if t.data is not None else "input"
                p.add_tensor(name, t.shape, t.dtype, role, t.data)
        for name in op.outputs:
            if name not in p.tensors:
                t = program.tensor(name)
                p.add_tensor(name, t.shape, t.dtype, "output")
        p.host(op.kind, op.inputs, op.outputs, **op.attrs)
    p.emit(isa.fence())
    return p


@needs_cc
def test_network_host_kernels_match_simulator(module_path, tmp_path):
    p = host_only(_network(module_path, "library").program)  # the library's path keeps the max pool on the host
    rng = np.random.default_rng(11)
    inputs = {}
    for t in p.tensors_with_role("input"):
        info = np.iinfo(t.dtype)
        inputs[t.name] = rng.integers(info.min, info.max, t.shape, endpoint=True)
    assert inputs, "the network's host kernels read no accelerator result"
    stdout = assert_same_stream(p, tmp_path, inputs=inputs, defines=["GEMFORGE_DUMP_OUTPUTS"])
    dumps = {line.split()[1]: np.array([float(v) for v in line.split()[2:]])
             for line in stdout.splitlines() if line.startswith("dump ")}
    want = sim.run(p, inputs).outputs
    assert set(want) == {t.name for t in p.tensors_with_role("output")} and len(want) == 4
    for name, value in want.items():
        np.testing.assert_array_equal(dumps[name], value.reshape(-1), err_msg=f"host output {name}")
        assert f"output {name}: checksum {output_checksum(value):016x}" in stdout
