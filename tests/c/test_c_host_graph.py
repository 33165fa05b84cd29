"""C versions of the data-movement host kernels (backends/gemmini/c_host_graph.py): a
network of host-only graph ops (pad, non-square max and average pools, transpose, concat,
clip) and a
channel slice, emitted as C, built, run, and compared with the simulator bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from gemforge import sim
from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.c_host import supported_kinds
from gemforge.backends.gemmini.program import HostOp, Program
from gemforge.dialects import graph as G
from gemforge.graph_eval_ops import window_counts
from gemforge.network import compile_network
from gemforge.network_testing import build_module

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
