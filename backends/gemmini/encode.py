"""Encode a gemmini-dialect function into the :class:`Program` the simulator runs.

The function (as ``convert-tile-to-gemmini`` leaves it) takes DRAM memrefs: the first
arguments are the inputs, the last ``gemforge.outputs`` are the outputs. The DRAM image
gets one tensor per argument (named after the argument), one ``constant`` tensor per
``memref.global`` read with ``memref.get_global`` (its data), and one ``scratch``
tensor per DRAM ``memref.alloc``; ``memref.collapse_shape`` / ``expand_shape`` /
``reinterpret_cast`` alias their source (a cast's layout offset is part of the lowered addresses).

Instructions: every gemmini op becomes its RoCC words (``encode_insn``). ``scf.for``
with constant bounds becomes a Program software loop whose variable enters operands as
an :class:`Affine`; ``arith`` index math is evaluated by ``encode_values``. When the
body needs more than an affine view of the induction variable (the parity of a
double-buffered loop, the guard of its last prefetch) the loop is retried unrolled by
two, then with its first and last iterations peeled, then fully unrolled (up to
``MAX_UNROLL`` iterations). ``scf.if`` must be decidable where it stands.

    program = encode(module, target)             # the only function, or name=...
"""

from __future__ import annotations

from xdsl.dialects import arith, func, memref, scf
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Operation, SSAValue

from gemforge.backends.gemmini.affine import Affine, Operand
from gemforge.backends.gemmini.encode_insn import ENCODERS, prepare
from gemforge.backends.gemmini.encode_values import EncodeError, Undecidable, evaluate
from gemforge.backends.gemmini.program import Program
from gemforge.dialects.graph_constant import NUMPY_DTYPES
from gemforge.target import Target

OUTPUTS_ATTR = "gemforge.outputs"
MAX_UNROLL = 1024
_NP = {8: "int8", 32: "int32"}


def _dtype(typ) -> str:
    return _NP[typ.element_type.width.data]


class _Encoder:
    def __init__(self, module: ModuleOp, fn: func.FuncOp, program: Program):
        self.module, self.fn, self.p = module, fn, program
        self.env: dict[SSAValue, object] = {}
        self.ranges: dict[int, int] = {}
        self.globals: dict[str, int] = {}
        self.scratch = 0
        self.prepared: dict[Operation, object] = {}

    def get(self, value: SSAValue):
        try:
            return self.env[value]
        except KeyError:
            owner = value.owner
            what = owner.name if isinstance(owner, Operation) else "a block argument"
            raise EncodeError(f"@{self.fn.sym_name.data}: value defined by {what} has no encodable value") from None

    # -- DRAM image -------------------------------------------------------------------
    def tensors(self) -> None:
        args = self.fn.body.block.args
        attr = self.fn.attributes.get(OUTPUTS_ATTR)
        n_out = attr.value.data if attr is not None else 0
        for i, arg in enumerate(args):
            role = "output" if i >= len(args) - n_out else "input"
            name = arg.name_hint or f"arg{i}"
            self.env[arg] = self.p.add_tensor(name, arg.type.get_shape(), _dtype(arg.type), role).addr

    def global_tensor(self, op: memref.GetGlobalOp) -> int:
        sym = op.name_.root_reference.data
        if sym not in self.globals:
            glob = next((g for g in self.module.walk() if isinstance(g, memref.GlobalOp)
                         and g.sym_name.data == sym), None)
            if glob is None or not hasattr(glob.initial_value, "data"):
                raise EncodeError(f"memref.get_global @{sym}: no memref.global with data")
            import numpy as np

            dense = glob.initial_value
            typ = op.memref.type
            data = np.frombuffer(dense.data.data, dtype=NUMPY_DTYPES[dense.get_element_type()])
            shape = typ.get_shape()
            data = np.broadcast_to(data, shape) if data.size == 1 else data.reshape(shape)
            self.globals[sym] = self.p.add_tensor(sym, shape, _dtype(typ), "constant", data).addr
        return self.globals[sym]

    # -- instructions -----------------------------------------------------------------
    def block(self, block: Block) -> None:
        for op in block.ops:
            self.op(op)

    def op(self, op: Operation) -> None:
        if type(op) in ENCODERS:
            enc = self.prepared.get(op)
            if enc is None:
                enc = self.prepared[op] = prepare(op)
            self.p.emit(*enc(self.get))
        elif isinstance(op, scf.ForOp):
            self.loop(op)
        elif isinstance(op, scf.IfOp):
            cond = self.get(op.cond)
            if not isinstance(cond, bool):
                raise Undecidable("scf.if")
            region = op.true_region if cond else op.false_region
            if region.blocks:
                self.block(region.block)
        elif isinstance(op, scf.YieldOp | func.ReturnOp):
            pass
        elif isinstance(op, memref.ExtractAlignedPointerAsIndexOp):
            self.env[op.results[0]] = self.get(op.source)
        elif isinstance(op, memref.GetGlobalOp):
            self.env[op.memref] = self.global_tensor(op)
        elif isinstance(op, memref.AllocOp):
            typ = op.memref.type
            self.scratch += 1
            t = self.p.add_tensor(f"scratch{self.scratch}", typ.get_shape(), _dtype(typ), "scratch")
            self.env[op.memref] = t.addr
        elif isinstance(op, memref.CollapseShapeOp | memref.ExpandShapeOp):
            self.env[op.result] = self.get(op.src)
        elif isinstance(op, memref.ReinterpretCastOp):  # the layout's offset is added by the lowering
            self.env[op.result] = self.get(op.source)
        elif op.dialect_name() == "arith":
            self.env[op.results[0]] = evaluate(op, self.get, self.ranges)
        else:
            raise EncodeError(f"@{self.fn.sym_name.data}: {op.name} cannot be encoded (lower it to gemmini first)")

    def loop(self, op: scf.ForOp) -> None:
        lb, ub, step = (self.get(v) for v in (op.lb, op.ub, op.step))
        if not all(isinstance(x, int) for x in (lb, ub, step)) or step <= 0:
            raise EncodeError(f"@{self.fn.sym_name.data}: scf.for bounds must be constants with a positive step")
        count = max(0, -(-(ub - lb) // step))
        iv = op.body.block.args[0]

        def body(value: Operand) -> None:
            self.env[iv] = value
            self.block(op.body.block)

        self.iterations(body, lb, step, count, peel=True)

    def attempt(self, emit) -> bool:
        """Run ``emit``; on Undecidable undo what it appended and report failure."""
        target = self.p._stack[-1]
        mark, depth = len(target), len(self.p._stack)
        try:
            emit()
            return True
        except Undecidable:
            del target[mark:]
            del self.p._stack[depth:]
            return False

    def counted(self, count: int, unroll: int, body, lb: int, step: int) -> None:
        pairs = count // unroll
        if pairs > 1:
            with self.p.loop(pairs, "v") as v:
                self.ranges[next(iter(v.terms))] = pairs
                for p in range(unroll):
                    body(lb + step * (unroll * v + p))
        elif pairs == 1:
            for p in range(unroll):
                body(lb + step * p)
        for i in range(pairs * unroll, count):
            body(lb + step * i)

    def iterations(self, body, lb: int, step: int, count: int, peel: bool) -> None:
        if count <= 2:
            for i in range(count):
                body(lb + step * i)
            return
        for unroll in (1, 2):
            if self.attempt(lambda: self.counted(count, unroll, body, lb, step)):
                return
        if peel and self.attempt(lambda: self._peeled(body, lb, step, count)):
            return
        if count > MAX_UNROLL:
            raise EncodeError(f"@{self.fn.sym_name.data}: a loop of {count} iterations needs non-affine index math")
        for i in range(count):
            body(lb + step * i)

    def _peeled(self, body, lb: int, step: int, count: int) -> None:
        body(lb)
        self.iterations(body, lb + step, step, count - 2, peel=False)
        body(lb + step * (count - 1))


def encode(module: ModuleOp, target: Target, name: str | None = None) -> Program:
    """The Program of function ``name`` (default: the module's only function)."""
    fns = [op for op in module.walk() if isinstance(op, func.FuncOp)]
    if name is not None:
        fns = [f for f in fns if f.sym_name.data == name]
    if len(fns) != 1:
        raise EncodeError(f"encode: expected one function{f' named {name}' if name else ''}, found {len(fns)}")
    fn = fns[0]
    program = Program(target.name, name=fn.sym_name.data)
    encode_function(module, fn, program)
    return program


def encode_function(module: ModuleOp, fn: func.FuncOp, program) -> None:
    """Append function ``fn``'s tensors and instructions to ``program`` (a Program, or any
    object with its builder methods, e.g. one that binds the function's arguments to
    tensors a caller already placed)."""
    enc = _Encoder(module, fn, program)
    enc.tensors()
    try:
        enc.block(fn.body.block)
    except Undecidable as e:
        raise EncodeError(f"@{fn.sym_name.data}: {e} depends on a loop variable in a non-affine way") from None
