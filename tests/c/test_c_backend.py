"""The C backend: emitted C, compiled with the system cc against a recording gemmini.h,
issues exactly the instruction stream the simulator issues for the same Program."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gemforge import sim
from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.c import output_checksum, render_c
from gemforge.backends.gemmini.c_image import CBackendError
from gemforge.backends.gemmini.library import compile_layer
from gemforge.backends.gemmini.program import Program
from gemforge.backends.gemmini.stream import issued, write_instructions
from gemforge.layers import ConvLayer, MatmulLayer
from gemforge.target import default

from c_roundtrip import REAL_HEADER, ROCC_TESTS, assert_same_stream, build_and_record, needs_cc


# ----------------------------------------------------------------------------- programs
def looped_program(m_tiles: int = 3, k_tiles: int = 2) -> Program:
    """Hand-written WS matmul with nested software loops, loop-dependent operands of
    every kind (DRAM addresses, local addresses, rows, cols) and GARBAGE."""
    dim = 16
    p = Program("gemmini-default", name="looped")
    a = p.add_tensor("A", (m_tiles * dim, k_tiles * dim), "int8", "input")
    b = p.add_tensor("B", (k_tiles * dim, dim), "int8", "constant",
                     np.arange(k_tiles * dim * dim).reshape(k_tiles * dim, dim) % 7 - 3)
    c = p.add_tensor("C", (m_tiles * dim, dim), "int8", "output")
    p.emit(isa.config_ex(isa.WEIGHT_STATIONARY, acc_scale=0.5), isa.config_st(c.row_bytes, scale=0.125))
    p.emit(isa.config_ld(a.row_bytes, block_stride=dim), isa.config_ld(b.row_bytes, block_stride=dim, which=1))
    with p.loop(k_tiles, "k") as k:
        p.emit(isa.mvin(b.at(k * dim, 0), isa.spad(8192 + k * dim), rows=dim, cols=dim, which=1))
    with p.loop(m_tiles, "m") as m:
        with p.loop(k_tiles, "k") as k:
            p.emit(isa.mvin(a.at(m * dim, k * dim), isa.spad(m * 64 + k * dim), rows=dim, cols=dim))
            p.emit(isa.preload(isa.spad(8192 + k * dim), isa.acc(m * dim, accumulate=True), dim, dim, dim, dim))
            # A's rows shrink with m: one field moves with the loop variable (named macro)
            p.emit(isa.compute(isa.spad(m * 64 + k * dim), isa.GARBAGE, dim - m, dim, dim, dim, preloaded=True))
        # rows and cols both shrink with m: one term spans two fields, only the raw encoding is exact
        p.emit(isa.mvout(c.at(m * dim, 0), isa.acc(m * dim), rows=dim - m, cols=dim - m))
    p.emit(isa.flush(), isa.fence())
    return p


def test_stream_writer_expands_loops_in_issue_order(tmp_path):
    p = looped_program()
    n = write_instructions(p, tmp_path / "s.txt")
    lines = (tmp_path / "s.txt").read_text().splitlines()
    assert n == len(lines) == p.count_insns()
    rows = [tuple(int(v) for v in line.split()) for line in lines]
    assert rows[-1] == (isa.FENCE, 0, 0)
    mvins = [r for r in rows if r[0] == isa.MVIN]
    a = p.tensor("A")
    # m outer, k inner: A(m, k) tiles in row-major tile order
    assert [r[1] for r in mvins] == [a.at(m * 16, k * 16) for m in range(3) for k in range(2)]
    assert [isa.decode(*r).rows for r in rows if r[0] == isa.MVOUT] == [16, 15, 14]


@needs_cc
def test_handwritten_loops_match_simulator_stream(tmp_path):
    p = looped_program()
    text, _ = render_c(p, name="looped")
    # Loops stay loops; every operand here splits exactly into a named macro's arguments.
    assert text.count("for (uint64_t") == 3
    assert "gemmini_extended_mvin2(GF_ADDR(gf_B) + 256*k0, 0x2000 + 16*k0, 16, 16);" in text
    assert "gemmini_extended_compute_preloaded(64*m1 + 16*k2, GARBAGE_ADDR, 16, 16 - m1, 16, 16);" in text
    assert "ROCC_INSTRUCTION_RS1_RS2" not in text
    assert_same_stream(p, tmp_path)


@needs_cc
def test_unsplittable_operands_use_the_raw_encoding(tmp_path):
    p = Program("gemmini-default", name="raw")
    a = p.add_tensor("A", (64, 16), "int8", "input")
    base = (16 << 48) | (16 << 32)
    with p.loop(3, "m") as m:
        # the local-address field runs past 32 bits and carries into cols: only the packed
        # value is exact; also a config whose sub-kind is not a named macro (norm)
        p.emit(isa.Insn(isa.MVIN, a.at(m * 16, 0), base + 0xFFFFFFF0 + m * 16))
        p.emit(isa.Insn(isa.CONFIG, isa.CONFIG_NORM + m * 256, 7))
    p.emit(isa.fence())
    text, _ = render_c(p)
    assert text.count("ROCC_INSTRUCTION_RS1_RS2(XCUSTOM_ACC, ") == 2
    assert "ROCC_INSTRUCTION_RS1_RS2(XCUSTOM_ACC, GF_ADDR(gf_A) + 256*m0, " in text
    assert_same_stream(p, tmp_path)


@needs_cc
@pytest.mark.parametrize("layer", [MatmulLayer(100, 300, 90), MatmulLayer(256, 32, 32)], ids=str)
def test_library_matmul_matches_simulator_stream(tmp_path, layer):
    program, _ = compile_layer(layer, default())
    assert any(x.funct == isa.LOOP_WS for x in program.items)
    stdout = assert_same_stream(program, tmp_path)
    assert "output output: checksum" in stdout


@needs_cc
def test_library_conv_matches_simulator_stream(tmp_path):
    layer = ConvLayer(1, 17, 17, 20, 40, 3, 3, stride=2, pad=1)
    program, _ = compile_layer(layer, default(), pool=(3, 2, 1))
    assert any(isinstance(x, isa.Insn) and x.funct == isa.LOOP_CONV_WS for x in program.items)
    text, _ = render_c(program)
    assert "gemmini_loop_conv_ws(" in text
    assert_same_stream(program, tmp_path)


@needs_cc
def test_blob_image_embeds_initial_data(tmp_path):
    program, info = compile_layer(MatmulLayer(40, 48, 24), default())
    x = np.arange(40 * 48, dtype=np.int64).reshape(40, 48) % 251 - 125
    stdout = assert_same_stream(program, tmp_path, blob=True, inputs={"input": x},
                                defines=["GEMFORGE_DUMP_INPUTS"])
    assert (tmp_path / "prog.bin").stat().st_size > 0
    # The emitted image holds the weights and the given input bit for bit.
    dumps = _dumps(stdout)
    np.testing.assert_array_equal(dumps["input"], x.reshape(-1))
    np.testing.assert_array_equal(dumps["weights"], info.weights.reshape(-1))


@needs_cc
def test_static_image_matches_blob_image(tmp_path):
    program, info = compile_layer(MatmulLayer(40, 48, 24), default())
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    out_a = _dumps(build_and_record(program, a, defines=["GEMFORGE_DUMP_INPUTS"])[1])
    out_b = _dumps(build_and_record(program, b, blob=True, defines=["GEMFORGE_DUMP_INPUTS"])[1])
    assert out_a.keys() == out_b.keys() and "bias" in out_a
    for k in out_a:
        np.testing.assert_array_equal(out_a[k], out_b[k])
    np.testing.assert_array_equal(out_a["bias"], info.bias)


def _dumps(stdout: str) -> dict[str, np.ndarray]:
    return {line.split()[1]: np.array([float(v) for v in line.split()[2:]])
            for line in stdout.splitlines() if line.startswith("dump ")}


# ----------------------------------------------------------------------------- properties
@needs_cc
@settings(max_examples=6, deadline=None)
@given(m=st.integers(1, 4), k=st.integers(1, 3), acc_scale=st.floats(-8.0, 8.0, width=32))
def test_property_looped_streams_match(tmp_path_factory, m, k, acc_scale):
    p = looped_program(m, k)
    p.items[0] = isa.config_ex(isa.WEIGHT_STATIONARY, acc_scale=acc_scale)
    assert_same_stream(p, tmp_path_factory.mktemp("prop"))


# ----------------------------------------------------------------------------- errors and checksums
def test_address_outside_the_image_is_a_clear_error(tmp_path):
    p = Program("gemmini-default", name="bad")
    a = p.add_tensor("A", (16, 16), "int8", "input")
    with p.loop(4) as i:
        p.emit(isa.mvin(a.addr + i * 256, isa.spad(i * 16), rows=16, cols=16))
    with pytest.raises(CBackendError, match=r"instruction #0 \(funct 2\).*outside the program's DRAM image"):
        render_c(p)


def test_output_checksum_is_fnv1a_of_the_bytes():
    assert output_checksum(np.zeros(0, np.int8)) == 0xCBF29CE484222325
    # FNV-1a("a") = 0xaf63dc4c8601ec8c (published test vector)
    assert output_checksum(np.array([ord("a")], np.uint8)) == 0xAF63DC4C8601EC8C


def test_issued_stream_keeps_hardware_loops_as_host_commands():
    program, info = compile_layer(MatmulLayer(64, 64, 64), default())
    functs = [f for f, _, _ in issued(program)]
    assert isa.MVIN not in functs and isa.COMPUTE_PRELOADED not in functs  # generated inside Gemmini
    assert functs.count(isa.LOOP_WS) == info.tiles


# ----------------------------------------------------------------------------- host kernels
def host_program(rng: np.random.Generator, scale: float, relu: bool) -> Program:
    """Every host-kernel kind the C backend supports, chained, all results outputs."""
    p = Program("gemmini-default", name="host")
    x = p.add_tensor("x", (2, 5, 6, 3), "int8", "input")
    acc = p.add_tensor("acc", (60, 3), "int32", "constant", rng.integers(-40000, 40000, (60, 3)))
    w = p.add_tensor("w", (3, 4), "int8", "constant", rng.integers(-128, 128, (3, 4)))
    bias = p.add_tensor("bias", (4,), "int32", "constant", rng.integers(-3000, 3000, (4,)))
    outs = {name: p.add_tensor(name, shape, dtype, "output") for name, shape, dtype in [
        ("q", (60, 3), "int8"), ("r", (2, 5, 6, 3), "int8"), ("s", (2, 5, 6, 3), "int8"),
        ("pool", (2, 3, 3, 3), "int8"), ("gap", (2, 3), "int8"), ("mm", (60, 4), "int8"),
        ("mm32", (60, 4), "int32"), ("cp", (60, 3), "int32")]}
    del outs
    p.host("requantize", ["acc"], ["q"], scale=scale, relu=relu)
    p.host("relu", ["x"], ["r"])
    p.host("add", ["x", "r"], ["s"], scale_a=scale * 50, scale_b=0.75, relu=relu)
    p.host("max_pool2d", ["s"], ["pool"], kernel=3, stride=2, padding=1)
    p.host("global_avg_pool", ["x"], ["gap"])
    p.host("matmul", ["q", "w", "bias"], ["mm"], scale=scale * 3, relu=relu)
    p.host("matmul", ["q", "w"], ["mm32"])
    p.host("copy", ["acc"], ["cp"])
    p.emit(isa.fence())
    return p


@needs_cc
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**31), scale=st.floats(2**-12, 2.0, width=32), relu=st.booleans())
def test_property_host_kernels_match_simulator(tmp_path_factory, seed, scale, relu):
    rng = np.random.default_rng(seed)
    p = host_program(rng, scale, relu)
    x = rng.integers(-128, 128, p.tensor("x").shape)
    stdout = assert_same_stream(p, tmp_path_factory.mktemp("host"), inputs={"x": x},
                                defines=["GEMFORGE_DUMP_OUTPUTS"])
    got = _dumps(stdout)
    want_all = sim.run(p, {"x": x}).outputs
    assert set(want_all) == {t.name for t in p.tensors_with_role("output")}
    for name, want in want_all.items():
        np.testing.assert_array_equal(got[name], want.reshape(-1), err_msg=f"host output {name}")
        assert f"output {name}: checksum {output_checksum(want):016x}" in stdout


def test_unsupported_host_kernel_is_a_clear_error():
    p = Program("gemmini-default", name="h")
    p.add_tensor("a", (4,), "int8", "input")
    p.host("softmax", ["a"], ["a"])
    with pytest.raises(CBackendError, match=r"host kernel softmax\(a\) has no C implementation \(supported: add, "):
        render_c(p)


@needs_cc
@pytest.mark.skipif(not ROCC_TESTS or not (Path(ROCC_TESTS or ".") / "include" / "gemmini.h").is_file(),
                    reason="set GEMMINI_ROCC_TESTS to a gemmini-rocc-tests checkout to build against the real gemmini.h")
@pytest.mark.parametrize("which", ["looped", "matmul", "conv", "host"])
def test_real_gemmini_h_issues_the_same_stream(tmp_path, which):
    programs = {
        "looped": looped_program,
        "matmul": lambda: compile_layer(MatmulLayer(100, 300, 90), default())[0],
        "conv": lambda: compile_layer(ConvLayer(1, 17, 17, 20, 40, 3, 3, stride=2, pad=1), default(),
                                      pool=(3, 2, 1))[0],
        "host": lambda: host_program(np.random.default_rng(1), 0.01, True),
    }
    assert_same_stream(programs[which](), tmp_path, header=REAL_HEADER)
