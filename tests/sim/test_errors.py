"""Every class of bad program ends in a one-line SimError naming the instruction."""

import numpy as np
import pytest

from gemforge import sim
from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.program import Program
from gemforge.errors import GemforgeError
from gemforge.sim.errors import SimError
from gemforge.sim.memory import InputError
from gemforge.target import default

T = default()
D = T.dim


def _program(*insns):
    p = Program(T.name)
    x = p.add_tensor("X", (D, D), "int8", "input")
    p.add_tensor("Y", (D, D), "int8", "output")
    p.emit(isa.config_ld(D, block_stride=D), isa.config_st(D))
    p.emit(*[i(x.addr) if callable(i) else i for i in insns])
    return p


def _fails(p, match, **kw):
    with pytest.raises(SimError, match=match) as e:
        sim.run(p, {"X": np.zeros((D, D), np.int8)}, T, **kw)
    assert "\n" not in str(e.value) and str(e.value).startswith("instruction ")
    return str(e.value)


def test_scratchpad_address_out_of_range():
    msg = _fails(_program(lambda a: isa.mvin(a, isa.spad(T.spad_rows - 4), D, D)), "outside the scratchpad")
    assert msg.startswith("instruction 2: mvin(")


def test_accumulator_address_out_of_range():
    _fails(_program(lambda a: isa.mvin(a, isa.acc(T.acc_rows), 1, D)), "outside the accumulator")


def test_dram_access_outside_tensors():
    _fails(_program(lambda a: isa.mvin(a + 8, isa.spad(0), D, D)), "not inside one tensor")
    _fails(_program(lambda a: isa.mvin(0x10, isa.spad(0), 1, 1)), "not inside one tensor")


def test_uninitialized_reads():
    p = Program(T.name)
    y = p.add_tensor("Y", (D, D), "int8", "output")
    p.emit(isa.config_st(D), isa.mvout(y.addr, isa.spad(100), D, D))
    with pytest.raises(SimError, match="never written"):
        sim.run(p, {}, T)
    assert not sim.run(p, {}, T, allow_uninitialized=True).outputs["Y"].any()
    q = Program(T.name)
    q.emit(isa.preload(isa.spad(0), isa.acc(0), D, D, D, D), isa.compute(isa.spad(D), isa.GARBAGE, D, D, D, D, True))
    with pytest.raises(SimError, match="never written"):
        sim.run(q, {}, T)


def test_malformed_instructions():
    _fails(_program(isa.Insn(99, 0, 0)), "funct=99 .*unknown instruction")
    _fails(_program(lambda a: isa.mvin(a, isa.spad(0), D + 1, D)), "rows = 17")
    _fails(_program(lambda a: isa.mvin(a, isa.spad(0), D, 5 * D)), "cols = 80")
    _fails(_program(isa.Insn(isa.CONFIG, (3 << 3), 0)), "activation 3")
    _fails(_program(isa.compute(0, isa.GARBAGE, D, D, D, D, True)), "without a preceding preload")
    _fails(_program(isa.Insn(isa.LOOP_WS, 0, 0)), "before all of its config words")
    _fails(_program(isa.Insn(isa.MVIN, 0, 1 << 31 | 0x7 << 26)), "norm command|rows = 0")


def test_bad_inputs():
    p = _program()
    with pytest.raises(InputError, match="X: not given"):
        sim.run(p, {}, T)
    with pytest.raises(InputError, match="shape"):
        sim.run(p, {"X": np.zeros((2, 2), np.int8)}, T)
    with pytest.raises(InputError, match="do not fit"):
        sim.run(p, {"X": np.full((D, D), 300)}, T)
    with pytest.raises(InputError, match="no input tensor"):
        sim.run(p, {"X": np.zeros((D, D), np.int8), "Z": 1}, T)
    assert issubclass(InputError, GemforgeError)


def test_unknown_host_kernel():
    p = _program()
    p.host("frobnicate", ["X"], ["Y"])
    with pytest.raises(SimError, match="frobnicate"):
        sim.run(p, {"X": np.zeros((D, D), np.int8)}, T)
