"""C versions of the data-movement host kernels (backends/gemmini/c_host_graph.py): a
network of host-only graph ops (pad, non-square max and average pools, transpose, concat,
clip) and a
channel slice, emitted as C, built, run, and compared with the simulator bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gemforge import sim
from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.c_host import supported_kinds
from gemforge.backends.gemmini.program import HostOp, Program
from gemforge.dialects import graph as G
from gemforge.graph_eval_ops import window_counts
from gemforge.network import compile_network
from gemforge.network_testing import build_module
from gemforge.target import load

from c_host_case import one_op_program, run_c, run_sim
from c_roundtrip import assert_same_stream, needs_cc


def _data_movement_module(dtype_clip=(-20, 90)):
    def body(args):
        x, y, z = args
        pad = G.PadOp(x, (0, 1, 2, 0, 0, 2, 0, 0), -7)  # [1, 8, 8, 3]
        pool = G.MaxPoolOp(pad.result, (3, 2), (2, 1), (1, 0, 0, 1))
        t = G.TransposeOp(y, (0, 2, 1, 3))
        cat = G.ConcatOp([pool.result, t.result], axis=3)
        clip = G.ClipOp(cat.result, *dtype_clip)
        avg = G.AvgPoolOp(x, (3, 2), (2, 1), (1, 1, 1, 0), count_include_pad=False, scale=0.7)
        avg_incl = G.AvgPoolOp(y, (2, 3), (1, 2), (0, 1, 1, 1), count_include_pad=True, scale=1.3)
        # on Gemmini (bnb) as a depthwise conv, the host recomputing the border windows (partial_only)
        avg_gemmini = G.AvgPoolOp(z, (3, 3), (1, 1), (1, 1, 1, 1), count_include_pad=False, scale=0.9)
        return ([pad, pool, t, cat, clip, avg, avg_incl, avg_gemmini],
                [clip.result, pad.result, avg.result, avg_incl.result, avg_gemmini.result])

    return build_module([(1, 5, 6, 3), (1, 8, 4, 5), (1, 8, 8, 4)], body)


def _host_ops(program: Program) -> list[HostOp]:
    return [x for x in program.items if isinstance(x, HostOp)]


def _run_c(program: Program, inputs, tmp_path) -> dict[str, np.ndarray]:
    stdout = assert_same_stream(program, tmp_path, inputs=inputs, defines=["GEMFORGE_DUMP_OUTPUTS"])
    return {line.split()[1]: np.array([float(v) for v in line.split()[2:]])
            for line in stdout.splitlines() if line.startswith("dump ")}


@needs_cc
def test_graph_host_kernels_in_c_match_simulator(tmp_path):
    net = compile_network(_data_movement_module())
    kinds = {op.kind for op in _host_ops(net.program)}
    assert {"graph.pad", "graph.maxpool", "graph.transpose", "graph.concat", "graph.clip", "graph.avgpool"} <= kinds
    assert kinds <= set(supported_kinds())
    assert any(op.attrs.get("partial_only") for op in _host_ops(net.program))
    net.program.emit(isa.fence())  # one instruction, so the run records a stream
    rng = np.random.default_rng(5)
    inputs = {t.name: rng.integers(-128, 128, t.shape) for t in net.program.tensors_with_role("input")}
    dumps = _run_c(net.program, inputs, tmp_path)
    want = sim.run(net.program, {k: v.astype(np.int8) for k, v in inputs.items()}).outputs
    assert want
    # out4's interior comes from the accelerator, which the C run only issues instructions to:
    # compare the windows that reach into the padding, which the partial_only host kernel writes
    border = np.broadcast_to((window_counts(8, 8, (3, 3), (1, 1), (1, 1, 1, 1)) < 9)[None, :, :, None], (1, 8, 8, 4))
    for name, value in want.items():
        keep = border.reshape(-1) if name == "out4" else slice(None)
        np.testing.assert_array_equal(dumps[name][keep], value.reshape(-1)[keep], err_msg=name)


@needs_cc
@pytest.mark.parametrize("start, stop", [(0, 3), (2, 7), (5, 8)])
def test_slice_channels_in_c(tmp_path, start, stop):
    p = Program("gemmini-default", name="slice")
    p.add_tensor("x", (1, 3, 4, 8), "int8", "input")
    p.add_tensor("y", (1, 3, 4, stop - start), "int8", "output")
    p.host("slice_channels", ["x"], ["y"], start=start, stop=stop)
    p.emit(isa.fence())
    x = np.random.default_rng(start).integers(-128, 128, (1, 3, 4, 8))
    dumps = _run_c(p, {"x": x}, tmp_path)
    np.testing.assert_array_equal(dumps["y"], x[..., start:stop].reshape(-1))


@needs_cc
@settings(max_examples=12, deadline=None)
@given(st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.booleans(), st.integers(0, 2**32 - 1))
def test_avgpool_in_c_any_window(k, s, pad, include_pad, seed):
    """The C average pool (windows clipped to the image) against the simulator's numpy
    kernel, on windows of 1-4, strides 1-3 and padding up to 2 on each side."""
    pad = min(pad, k - 1)
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (1, 7, 6, 5)).astype(np.int8)
    oh, ow = (7 + 2 * pad - k) // s + 1, (6 + 2 * pad - k) // s + 1
    attrs = dict(kernel=[k, k], stride=[s, s], padding=[pad] * 4, count_include_pad=include_pad, scale=0.8)
    p = one_op_program("graph.avgpool", [("x", x, "input")], (1, oh, ow, 5), "int8", **attrs)
    np.testing.assert_array_equal(run_c(p, {"x": x}), run_sim(p, {"x": x}))


def test_avgpool_host_cost_counts_the_covered_elements():
    # 4x4 input, 3x3 windows, stride 1, padding 1: corners cover 4, edges 6, the inside 9
    p = Program("gemmini-default", name="avg_cost")
    p.add_tensor("x", (1, 4, 4, 2), "int8", "input")
    p.add_tensor("y", (1, 4, 4, 2), "int8", "output")
    p.host("graph.avgpool", ["x"], ["y"], kernel=[3, 3], stride=[1, 1], padding=[1, 1, 1, 1],
           count_include_pad=False, scale=1.0)
    r = sim.run(p, {"x": np.ones((1, 4, 4, 2), np.int8)})
    visits = (4 * 4 + 8 * 6 + 4 * 9) * 2
    assert r.busy["host"] == visits * load("gemmini-default").host_element_cycles
