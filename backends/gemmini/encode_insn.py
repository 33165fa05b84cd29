"""One gemmini-dialect op -> its RoCC instruction(s), through the exact encoders of ``isa.py``.

Reading an op's fields back from its IRDL properties is slow (tens of microseconds per
field), and the encoder visits an op once per iteration of every unrolled loop around
it, so :func:`prepare` reads the fields once and returns a closure that only evaluates
the op's SSA operands (the loop-dependent part).
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.ir import SSAValue

from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.affine import Operand
from gemforge.dialects import gemmini as gm
from gemforge.dialects.gemmini_fields import ACTIVATION_BITS, DATAFLOW_BITS

Get = Callable[[SSAValue], Operand]
Prepared = Callable[[Get], list]


def local(slot: gm.Local, get: Get) -> Operand:
    """The 32-bit local address of a slot (row from the SSA operand)."""
    if slot.is_garbage:
        return isa.GARBAGE
    assert slot.row is not None
    row = get(slot.row)
    if slot.space == gm.Space.ACC:
        return isa.acc(row, accumulate=slot.accumulate, read_full=slot.read_full)
    return isa.spad(row)


def _mvin(op, get: Get) -> list[isa.Insn]:
    return _prep_mvin(op)(get)


def _prep_mvin(op) -> Prepared:
    d, which, addr = op.dst, op.STATE_ID, op.dram_addr
    return lambda get: [isa.mvin(get(addr), local(d, get), d.rows, d.cols, which=which)]


def _mvout(op: gm.MvoutOp, get: Get) -> list[isa.Insn]:
    return _prep_mvout(op)(get)


def _prep_mvout(op: gm.MvoutOp) -> Prepared:
    s, addr = op.src, op.dram_addr
    return lambda get: [isa.mvout(get(addr), local(s, get), s.rows, s.cols)]


def _preload(op: gm.PreloadOp, get: Get) -> list[isa.Insn]:
    return _prep_preload(op)(get)


def _prep_preload(op: gm.PreloadOp) -> Prepared:
    bd, c = op.bd, op.c
    return lambda get: [isa.preload(local(bd, get), local(c, get), bd.rows, bd.cols, c.rows, c.cols)]


def _compute(op, get: Get) -> list[isa.Insn]:
    return _prep_compute(op)(get)


def _prep_compute(op) -> Prepared:
    a, bd, pre = op.a, op.bd, isinstance(op, gm.ComputePreloadedOp)
    return lambda get: [isa.compute(local(a, get), local(bd, get), a.rows, a.cols, bd.rows, bd.cols, preloaded=pre)]


def _config_ex(op: gm.ConfigExOp, get: Get) -> list[isa.Insn]:
    return [isa.config_ex(DATAFLOW_BITS[op.dataflow], ACTIVATION_BITS[op.activation], op.a_stride, op.acc_scale,
                          op.transpose_a, op.transpose_b, op.c_stride, op.in_shift,
                          set_only_strides=op.set_only_strides)]


def _config_ld(op: gm.ConfigLdOp, get: Get) -> list[isa.Insn]:
    return [isa.config_ld(op.stride, op.scale, op.shrunk, op.block_stride, op.pixel_repeats, which=op.id)]


def _config_st(op: gm.ConfigStOp, get: Get) -> list[isa.Insn]:
    return [isa.config_st(op.stride, ACTIVATION_BITS[op.activation], op.scale, op.pool_stride, op.pool_size,
                          op.pool_out_dim, op.porows, op.pocols, op.orows, op.ocols, op.upad, op.lpad)]


def _loop_ws(op: gm.LoopWsOp, get: Get) -> list[isa.Insn]:
    opt = lambda v: 0 if v is None else get(v)  # noqa: E731
    return isa.loop_ws(op.i, op.j, op.k, op.pad_i, op.pad_j, op.pad_k, get(op.a), get(op.b), opt(op.d), opt(op.c),
                       op.a_stride, op.b_stride, op.d_stride, op.c_stride, op.transpose_a, op.transpose_b,
                       op.full_c, op.low_d, op.ex_accumulate, ACTIVATION_BITS[op.activation], op.a_spad_id,
                       op.b_spad_id, op.is_resadd)


def _loop_conv_ws(op: gm.LoopConvWsOp, get: Get) -> list[isa.Insn]:
    fields = op.field_values()
    fields["activation"] = ACTIVATION_BITS[fields["activation"]]
    return isa.loop_conv_ws(**fields, weights=get(op.weights), output=get(op.output),
                            bias=0 if op.bias is None else get(op.bias), input=get(op.input))


ENCODERS: dict[type, Callable] = {
    gm.MvinOp: _mvin, gm.Mvin2Op: _mvin, gm.Mvin3Op: _mvin, gm.MvoutOp: _mvout, gm.PreloadOp: _preload,
    gm.ComputePreloadedOp: _compute, gm.ComputeAccumulatedOp: _compute, gm.ConfigExOp: _config_ex,
    gm.ConfigLdOp: _config_ld, gm.ConfigStOp: _config_st, gm.LoopWsOp: _loop_ws, gm.LoopConvWsOp: _loop_conv_ws,
    gm.FenceOp: lambda op, get: [isa.fence()], gm.FlushOp: lambda op, get: [isa.flush(int(op.skip))],
}


def encode_op(op, get: Get) -> list[isa.Insn]:
    """The instructions of one gemmini op (operands read through ``get``)."""
    return ENCODERS[type(op)](op, get)


_PREPARE: dict[type, Callable] = {
    gm.MvinOp: _prep_mvin, gm.Mvin2Op: _prep_mvin, gm.Mvin3Op: _prep_mvin, gm.MvoutOp: _prep_mvout,
    gm.PreloadOp: _prep_preload, gm.ComputePreloadedOp: _prep_compute, gm.ComputeAccumulatedOp: _prep_compute,
}


def prepare(op) -> Prepared:
    """``get -> instructions`` for ``op`` with its static fields read once (see the module docstring)."""
    prep = _PREPARE.get(type(op))
    if prep is not None:
        return prep(op)
    insns: list | None = None if op.operands else ENCODERS[type(op)](op, lambda v: 0)
    if insns is not None:  # no operands: the instructions never change
        return lambda get: insns
    return lambda get: ENCODERS[type(op)](op, get)
