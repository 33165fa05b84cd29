"""The Program builder: tensors, loops with affine operands, host ops, save/load."""

import numpy as np
import pytest

from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.program import Loop, Program, ProgramError
from gemforge.sim.expand import HOST, flatten
from gemforge.target import default


def _program():
    p = Program("gemmini-default", "demo")
    a = p.add_tensor("A", (64, 16), "int8", "input")
    p.add_tensor("W", (16, 16), "int8", "constant", data=np.arange(256).reshape(16, 16) % 7)
    p.add_tensor("C", (64, 16), "int32", "output")
    p.emit(isa.config_ld(16, block_stride=16, scale=0.5))
    with p.loop(4, "i") as i:
        with p.loop(2, "j") as j:
            p.emit(isa.mvin(a.addr + i * 256 + j * 128, isa.spad(i * 16 + j * 8), 8, 16))
    p.host("relu", ["A"], ["A"], note="x")
    p.emit(isa.loop_ws(1, 1, 1, 0, 0, 0, a.addr, a.addr, 0, 0, 16, 16, 0, 16, 0, 0, 0, 0, 0))
    return p


def test_allocator_aligns_and_rejects_overlap():
    p = Program()
    a = p.add_tensor("a", (3,), "int8", "input")
    b = p.add_tensor("b", (5,), "int32", "output")
    assert b.addr % 64 == 0 and b.addr >= a.end
    with pytest.raises(ProgramError, match="overlaps"):
        p.add_tensor("c", (4,), "int8", "scratch", addr=b.addr + 4)
    with pytest.raises(ProgramError, match="defined twice"):
        p.add_tensor("a", (1,), "int8", "input")
    with pytest.raises(ProgramError, match="needs data"):
        p.add_tensor("k", (1,), "int8", "constant")
    assert b.at(2) == b.addr + 8


def test_loops_flatten_with_affine_operands():
    p = _program()
    s = flatten(p, default())
    mvins = s.rs1[s.funct == isa.MVIN]
    a = p.tensor("A").addr
    expect = [a + i * 256 + j * 128 for i in range(4) for j in range(2)]
    assert mvins.tolist() == expect
    locals_ = (s.rs2[s.funct == isa.MVIN] & np.uint64(0xFFFFFFFF)).tolist()
    assert locals_ == [i * 16 + j * 8 for i in range(4) for j in range(2)]
    # one host op, overhead charged at each iteration start (inner and outer loop)
    assert (s.funct == HOST).sum() == 1
    overhead = default().host_loop_overhead_cycles
    assert s.pre[1:9].tolist() == [2 * overhead, overhead] * 4
    assert p.count_insns() == 1 + 8 + 6


def test_save_load_round_trip(tmp_path):
    p = _program()
    path = tmp_path / "p.npz"
    p.save(path)
    q = Program.load(path)
    assert q.to_json() == p.to_json()
    assert np.array_equal(q.tensor("W").data, p.tensor("W").data) and q.tensor("W").data.dtype == np.int8
    assert isinstance(q.items[1], Loop) and q.items[1].body[0].body[0] == p.items[1].body[0].body[0]
    # the loaded program can be extended without clashing with existing tensors
    t = q.add_tensor("extra", (4,), "int8", "scratch")
    assert all(t.addr >= o.end or t.end <= o.addr for o in p.tensors.values())


def test_load_rejects_other_files(tmp_path):
    bad = tmp_path / "x.npz"
    np.savez(bad, a=np.zeros(3))
    with pytest.raises(ProgramError, match="not a gemforge program"):
        Program.load(bad)


def test_emit_rejects_non_instructions():
    with pytest.raises(ProgramError, match="not an instruction"):
        Program().emit((1, 2, 3))
