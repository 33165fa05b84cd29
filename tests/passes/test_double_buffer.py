"""double-buffer: legal loops become ping-pong + prefetch, results are unchanged.

Semantics are checked by running tile IR before and after the pass on a small reference
interpreter of the tile dialect (below; sequential semantics, numpy arrays for DRAM
tensors and local buffers, garbage in fresh buffers) and comparing every DRAM output,
and by checking against numpy that the interpreter computes the matmul itself.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xdsl.dialects import arith, func, scf
from xdsl.dialects.builtin import IntegerType, MemRefType

from gemforge.dialects.tile import AllocOp, LoadOp, MatmulOp, StoreOp, View
from gemforge.passes.double_buffer import Candidate, analyse, double_buffer
from gemforge.testing import parse

# ----------------------------------------------------------------------------------------
# A reference interpreter of tile IR (sequential semantics).

_CMP = {"eq": np.equal, "ne": np.not_equal, "slt": np.less, "sle": np.less_equal, "sgt": np.greater, "sge": np.greater_equal}
_BIN = {
    "arith.addi": lambda a, b: a + b,
    "arith.subi": lambda a, b: a - b,
    "arith.muli": lambda a, b: a * b,
    "arith.divui": lambda a, b: a // b,
    "arith.remui": lambda a, b: a % b,
    "arith.minsi": min,
    "arith.maxsi": max,
}


class Machine:
    """Runs a ``func.func`` of tile IR; ``trace`` lists (op, buffer ids of A, B, C) per matmul."""

    def __init__(self, seed: int = 0):
        self.env: dict = {}
        self.rng = np.random.default_rng(seed)
        self.trace: list[tuple[int, ...]] = []

    def value(self, v):
        return v if isinstance(v, int) else self.env[v]

    def window(self, view: View) -> tuple[np.ndarray, tuple[slice, ...]]:
        buf = self.env[view.buffer]
        idx = tuple(
            slice(self.value(o), self.value(o) + (self.value(s) - 1) * st + 1, st)
            for o, s, st in zip(view.offsets, view.sizes, view.steps)
        )
        return buf, idx

    def run_block(self, block, args=()) -> list:
        for a, v in zip(block.args, args):
            self.env[a] = v
        for op in block.ops:
            if isinstance(op, scf.YieldOp | func.ReturnOp):
                return [self.env[o] for o in op.operands]
            self.run_op(op)
        return []

    def run_op(self, op) -> None:
        env = self.env
        if isinstance(op, arith.ConstantOp):
            env[op.result] = op.value.value.data
        elif op.name in _BIN:
            env[op.results[0]] = _BIN[op.name](env[op.operands[0]], env[op.operands[1]])
        elif isinstance(op, arith.CmpiOp):
            env[op.result] = bool(_CMP[arith.CMPI_COMPARISON_OPERATIONS[op.predicate.value.data]](env[op.lhs], env[op.rhs]))
        elif isinstance(op, arith.SelectOp):
            env[op.result] = env[op.lhs] if env[op.cond] else env[op.rhs]
        elif isinstance(op, scf.ForOp):
            carried = [env[a] for a in op.iter_args]
            for i in range(env[op.lb], env[op.ub], env[op.step]):
                carried = self.run_block(op.body.block, [i, *carried])
            for r, v in zip(op.results, carried):
                env[r] = v
        elif isinstance(op, scf.IfOp):
            region = op.true_region if env[op.cond] else op.false_region
            if region.blocks:
                self.run_block(region.block)
        elif isinstance(op, AllocOp):
            typ = op.buffer_type
            env[op.buffer] = self.rng.integers(-99, 99, typ.get_shape())  # garbage
        elif isinstance(op, LoadOp):
            self.load(op)
        elif isinstance(op, MatmulOp):
            self.matmul(op)
        elif isinstance(op, StoreOp):
            self.store(op)
        elif op.name != "tile.fence":
            raise NotImplementedError(op.name)

    def load(self, op: LoadOp) -> None:
        src = self.env[op.source]
        sizes = [self.value(s) for s in op.mixed_sizes]
        read = sizes[::-1] if op.transpose else sizes[len(sizes) - src.ndim :]
        index, valid = [], np.ones(read, bool)
        for d, (o, n) in enumerate(zip(op.mixed_offsets, read)):
            i = self.value(o) + np.arange(n)
            ok = (i >= 0) & (i < src.shape[d])
            assert op.zero_pad or ok.all(), "load outside its source"
            index.append(np.clip(i, 0, src.shape[d] - 1))
            valid &= ok.reshape([-1 if k == d else 1 for k in range(len(read))])
        data = np.where(valid, src[np.ix_(*index)], 0)
        if op.transpose:
            data = data.T
        if op.scale is not None:
            data = np.rint(data * np.float32(op.scale)).astype(np.int64)
        buf, idx = self.window(View(op.dest, op.mixed_dest_offsets, op.mixed_sizes))
        buf[idx] = np.broadcast_to(data, sizes)

    def matmul(self, op: MatmulOp) -> None:
        (a, ai), (b, bi), (c, ci) = (self.window(v) for v in (op.a_view, op.b_view, op.c_view))
        am, bm = a[ai], b[bi]
        am, bm = am.reshape(-1, am.shape[-1]), bm.reshape(-1, bm.shape[-1])
        prod = am @ bm
        c[ci] = (c[ci] + prod.reshape(c[ci].shape)) if op.accumulate else prod.reshape(c[ci].shape)
        self.trace.append((id(a), id(b), id(c)))

    def store(self, op: StoreOp) -> None:
        assert op.pool is None, "pooling is not modelled"
        buf, idx = self.window(op.source_view)
        data = buf[idx]
        dest_type = op.dest.type
        assert isinstance(dest_type, MemRefType) and isinstance(dest_type.element_type, IntegerType)
        if not op.raw:
            data = np.rint(data * np.float32(op.scale if op.scale is not None else 1.0)).astype(np.int64)
            bits = dest_type.element_type.width.data
            data = np.clip(data, -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
            if op.activation == "relu":
                data = np.maximum(data, 0)
        out = self.env[op.dest]
        out[tuple(slice(self.value(o), self.value(o) + n) for o, n in zip(op.mixed_dest_offsets, data.shape))] = data


def run(module, inputs: dict[str, np.ndarray], seed: int = 0) -> tuple[dict[str, np.ndarray], Machine]:
    """Run the module's only function on copies of ``inputs`` (by argument name)."""
    fn = next(op for op in module.walk() if isinstance(op, func.FuncOp))
    arrays = {k: v.copy() for k, v in inputs.items()}
    m = Machine(seed)
    m.run_block(fn.body.block, [arrays[a.name_hint] for a in fn.body.block.args])
    return arrays, m


# ----------------------------------------------------------------------------------------
# Programs.


def tiled_matmul(M: int, N: int, K: int, tm: int, tn: int) -> str:
    """The tile dialect's documented tiled matmul (bias, remainder tiles), raw int32 out."""
    A, B, bias, C = (
        f"memref<{M}x{K}xi8, #tile.space<dram>>",
        f"memref<{K}x{N}xi8, #tile.space<dram>>",
        f"memref<{N}xi32, #tile.space<dram>>",
        f"memref<{M}x{N}xi32, #tile.space<dram>>",
    )
    a, b, acc = (
        f"memref<{tm}x{K}xi8, #tile.space<spad>>",
        f"memref<{K}x{tn}xi8, #tile.space<spad>>",
        f"memref<{tm}x{tn}xi32, #tile.space<acc>>",
    )
    return f"""
func.func @mm(%A: {A}, %B: {B}, %bias: {bias}, %C: {C}) {{
  %c0 = arith.constant 0 : index
  %tm = arith.constant {tm} : index
  %tn = arith.constant {tn} : index
  %M = arith.constant {M} : index
  %N = arith.constant {N} : index
  %a = tile.alloc : {a}
  %b = tile.alloc : {b}
  %acc = tile.alloc : {acc}
  scf.for %i = %c0 to %M step %tm {{
    %rest = arith.subi %M, %i : index
    %m = arith.minsi %rest, %tm : index
    tile.load %A[%i, 0] [%m, {K}] into %a[0, 0] : {A} -> {a}
    scf.for %j = %c0 to %N step %tn {{
      %nrest = arith.subi %N, %j : index
      %n = arith.minsi %nrest, %tn : index
      tile.load %B[0, %j] [{K}, %n] into %b[0, 0] : {B} -> {b}
      tile.load %bias[%j] [%m, %n] into %acc[0, 0] : {bias} -> {acc}
      tile.matmul %acc[0, 0] [%m, %n] += %a[0, 0] [%m, {K}] * %b[0, 0] [{K}, %n] : {acc}, {a}, {b}
      tile.store %acc[0, 0] [%m, %n] into %C[%i, %j] raw : {acc} -> {C}
    }}
  }}
  tile.fence
  func.return
}}
"""


CONV = """
func.func @conv(%X: memref<1x9x9x16xi8, #tile.space<dram>>, %W: memref<3x3x16x32xi8, #tile.space<dram>>, %bias: memref<32xi32, #tile.space<dram>>, %Y: memref<1x5x5x32xi8, #tile.space<dram>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c5 = arith.constant 5 : index
  %in = tile.alloc : memref<1x5x5x16xi8, #tile.space<spad>>
  %w = tile.alloc : memref<3x3x16x32xi8, #tile.space<spad>>
  %acc = tile.alloc : memref<1x2x2x32xi32, #tile.space<acc>>
  tile.load %W[0, 0, 0, 0] [3, 3, 16, 32] into %w[0, 0, 0, 0] : memref<3x3x16x32xi8, #tile.space<dram>> -> memref<3x3x16x32xi8, #tile.space<spad>>
  scf.for %oh0 = %c0 to %c5 step %c2 {
    %hrest = arith.subi %c5, %oh0 : index
    %th = arith.minsi %hrest, %c2 : index
    %h2 = arith.muli %oh0, %c2 : index
    %h0 = arith.subi %h2, %c1 : index
    %th2 = arith.muli %th, %c2 : index
    %ih = arith.addi %th2, %c1 : index
    scf.for %ow0 = %c0 to %c5 step %c2 {
      %wrest = arith.subi %c5, %ow0 : index
      %tw = arith.minsi %wrest, %c2 : index
      %w2 = arith.muli %ow0, %c2 : index
      %w0 = arith.subi %w2, %c1 : index
      %tw2 = arith.muli %tw, %c2 : index
      %iw = arith.addi %tw2, %c1 : index
      tile.load %X[0, %h0, %w0, 0] [1, %ih, %iw, 16] into %in[0, 0, 0, 0] zero_pad : memref<1x9x9x16xi8, #tile.space<dram>> -> memref<1x5x5x16xi8, #tile.space<spad>>
      tile.load %bias[0] [1, %th, %tw, 32] into %acc[0, 0, 0, 0] : memref<32xi32, #tile.space<dram>> -> memref<1x2x2x32xi32, #tile.space<acc>>
      scf.for %kh = %c0 to %c3 step %c1 {
        scf.for %kw = %c0 to %c3 step %c1 {
          tile.matmul %acc[0, 0, 0, 0] [1, %th, %tw, 32] += %in[0, %kh, %kw, 0] [1, %th, %tw, 16] strides [1, 2, 2, 1] * %w[%kh, %kw, 0, 0] [1, 1, 16, 32] : memref<1x2x2x32xi32, #tile.space<acc>>, memref<1x5x5x16xi8, #tile.space<spad>>, memref<3x3x16x32xi8, #tile.space<spad>>
        }
      }
      tile.store %acc[0, 0, 0, 0] [1, %th, %tw, 32] into %Y[0, %oh0, %ow0, 0] scale 0.05 relu : memref<1x2x2x32xi32, #tile.space<acc>> -> memref<1x5x5x32xi8, #tile.space<dram>>
    }
  }
  func.return
}
"""


def transformed(text: str, **options) -> tuple[object, int]:
    module = parse(text)
    count = double_buffer(module, **options)
    module.verify()
    return module, count


# ----------------------------------------------------------------------------------------
# Tests.


@settings(max_examples=25, deadline=None)
@given(
    M=st.integers(1, 40),
    N=st.integers(1, 40),
    K=st.integers(1, 24),
    tm=st.integers(1, 16),
    tn=st.integers(1, 16),
    seed=st.integers(0, 2**16),
)
def test_tiled_matmul_unchanged(M, N, K, tm, tn, seed):
    rng = np.random.default_rng(seed)
    inputs = {
        "A": rng.integers(-128, 128, (M, K)),
        "B": rng.integers(-128, 128, (K, N)),
        "bias": rng.integers(-1000, 1000, N),
        "C": np.zeros((M, N), np.int64),
    }
    text = tiled_matmul(M, N, K, min(tm, M), min(tn, N))
    before, _ = run(parse(text), inputs, seed)
    assert (before["C"] == inputs["A"] @ inputs["B"] + inputs["bias"]).all()  # the interpreter is right
    module, count = transformed(text)
    assert count == 3  # A (i-loop), B and the bias tile (j-loop)
    after, machine = run(module, inputs, seed + 1)  # different garbage in fresh buffers
    assert (after["C"] == before["C"]).all()
    # Ping-pong: consecutive j-iterations compute on different B (and acc) buffers.
    bs = [b for _, b, _ in machine.trace]
    if N > min(tn, N):
        assert any(x != y for x, y in zip(bs, bs[1:]))


def test_conv_unchanged_and_alternates():
    rng = np.random.default_rng(7)
    inputs = {
        "X": rng.integers(-128, 128, (1, 9, 9, 16)),
        "W": rng.integers(-128, 128, (3, 3, 16, 32)),
        "bias": rng.integers(-5000, 5000, 32),
        "Y": np.zeros((1, 5, 5, 32), np.int64),
    }
    before, _ = run(parse(CONV), inputs)
    # numpy reference: stride 2, padding 1, scale 0.05, saturate, relu
    xp = np.pad(inputs["X"], ((0, 0), (1, 1), (1, 1), (0, 0)))
    ref = np.zeros((5, 5, 32), np.int64) + inputs["bias"]
    for kh in range(3):
        for kw in range(3):
            ref += xp[0, kh : kh + 9 : 2, kw : kw + 9 : 2, :] @ inputs["W"][kh, kw]
    ref = np.maximum(np.clip(np.rint(ref * np.float32(0.05)), -128, 127), 0)
    assert (before["Y"][0] == ref).all()
    module, count = transformed(CONV)
    assert count == 2  # the input window and the bias tile, over the ow0 loop
    after, machine = run(module, inputs, 1)
    assert (after["Y"] == before["Y"]).all()
    a_buffers = [a for a, _, _ in machine.trace[::9]]  # one per output tile (9 kernel positions)
    assert len(set(a_buffers)) == 2


def test_each_iteration_reads_its_own_tile():
    """Structure: matmuls read `cur`, the prefetch writes `next`, both selected by one parity."""
    module, _ = transformed(tiled_matmul(64, 64, 32, 16, 16))
    for op in module.walk():
        if isinstance(op, MatmulOp):
            for operand in (op.a, op.b, op.c):
                sel = operand.owner
                assert isinstance(sel, arith.SelectOp) and sel.result.name_hint.endswith("_cur")
        if isinstance(op, LoadOp) and isinstance(op.parent_op(), scf.IfOp) and op.dest.name_hint.endswith("_next"):
            nxt = op.dest.owner
            assert isinstance(nxt, arith.SelectOp)
            cur = next(u.operation for u in nxt.cond.uses if u.operation is not nxt and isinstance(u.operation, arith.SelectOp) and u.operation.lhs is nxt.rhs)
            # `next` is `cur` with the two buffers swapped.
            assert (cur.lhs, cur.rhs) == (nxt.rhs, nxt.lhs)


def test_only_inputs_leaves_accumulators():
    module, count = transformed(tiled_matmul(40, 40, 16, 16, 16), only_inputs=True)
    assert count == 2
    accs = [op for op in module.walk() if isinstance(op, AllocOp) and op.space == "acc"]
    assert len(accs) == 1


def test_idempotent():
    module, _ = transformed(tiled_matmul(40, 40, 16, 16, 16))
    text = str(module)
    assert double_buffer(module) == 0
    assert str(module) == text


def _load_into(module, name: str) -> LoadOp:
    return next(op for op in module.walk() if isinstance(op, LoadOp) and op.dest.name_hint == name)


@pytest.mark.parametrize(
    "body, reason",
    [
        # read before the load: live across iterations
        ("tile.store %x[0, 0] [16, 16] into %Y[0, 0] raw : {X} -> {D}\n"
         "tile.load %S[%i, 0] [16, 16] into %x[0, 0] : {D} -> {X}", "before a load into it"),
        # the loop writes the load's source
        ("tile.load %S[%i, 0] [16, 16] into %x[0, 0] : {D} -> {X}\n"
         "tile.store %x[0, 0] [16, 16] into %S[0, 0] raw : {X} -> {D}", "may write the DRAM source"),
        # an index computed from a loop-carried value
        ("tile.load %S[%r, 0] [16, 16] into %x[0, 0] : {D} -> {X}", "loop-carried"),
        # two loads into the buffer
        ("tile.load %S[%i, 0] [16, 16] into %x[0, 0] : {D} -> {X}\n"
         "tile.load %S[0, 0] [16, 16] into %x[0, 0] : {D} -> {X}", "filled by several loads"),
    ],
)
def test_rejections(body, reason):
    X, D = "memref<16x16xi8, #tile.space<spad>>", "memref<64x16xi8, #tile.space<dram>>"
    text = f"""
func.func @f(%S: {D}, %Y: {D}) {{
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %x = tile.alloc : {X}
  %end = scf.for %i = %c0 to %c64 step %c16 iter_args(%r = %c0) -> (index) {{
    {body.format(X=X, D=D)}
    scf.yield %i : index
  }}
  func.return
}}
"""
    module = parse(text)
    loads = [op for op in module.walk() if isinstance(op, LoadOp)]
    results = [analyse(op) for op in loads]
    assert not any(isinstance(r, Candidate) for r in results)
    assert any(reason in r for r in results if isinstance(r, str)), results
    before = str(module)
    assert double_buffer(module) == 0 and str(module) == before


def test_used_after_loop_rejected():
    module = parse(tiled_matmul(32, 32, 16, 16, 16).replace(
        "  tile.fence\n",
        "  tile.store %acc[0, 0] [16, 16] into %C[0, 0] raw : memref<16x16xi32, #tile.space<acc>> -> memref<32x32xi32, #tile.space<dram>>\n  tile.fence\n",
    ))
    reason = analyse(_load_into(module, "acc"))
    assert isinstance(reason, str) and "outside the loop" in reason
    assert isinstance(analyse(_load_into(module, "a")), Candidate)



def test_then_allocate_separates_ping_pong():
    """The pipeline order: double-buffer, then allocate-scratchpad places all copies apart."""
    from gemforge.passes.allocate_scratchpad import allocate
    from gemforge.target import default

    module, _ = transformed(tiled_matmul(64, 64, 64, 32, 32))
    target = default()
    allocate(module, target)
    allocs = {op.buffer.name_hint: op for op in module.walk() if isinstance(op, AllocOp)}
    for space in ("spad", "acc"):
        group = sorted((op.address_value, op.rows(target.dim)) for op in allocs.values() if op.space == space)
        assert all(a + n <= b for (a, n), (b, _) in zip(group, group[1:])), group
    banks = {name: op.bank_value for name, op in allocs.items()}
    # four scratchpad banks: A, A pong, B, B pong each in its own; acc ping/pong apart too
    assert len({banks["a"], banks["a_pong"], banks["b"], banks["b_pong"]}) == 4
    assert banks["acc"] != banks["acc_pong"]


# A row loop whose body holds two peeled column tiles, each in its own buffers allocated at
# the top of the body (as convert-graph-to-tile emits border tiles), each window filled by
# two loads: the image part and its zero halo column.
PEELED = """
func.func @rows(%X: memref<6x9x4xi8, #tile.space<dram>>, %Z: memref<6x9x4xi8, #tile.space<dram>>, %W: memref<4x8xi8, #tile.space<dram>>, %Y: memref<6x8x8xi32, #tile.space<dram>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c6 = arith.constant 6 : index
  %w = tile.alloc : memref<4x8xi8, #tile.space<spad>>
  tile.load %W[0, 0] [4, 8] into %w[0, 0] : memref<4x8xi8, #tile.space<dram>> -> memref<4x8xi8, #tile.space<spad>>
  scf.for %r = %c0 to %c6 step %c1 {
    %a0 = tile.alloc : memref<1x5x4xi8, #tile.space<spad>>
    %acc0 = tile.alloc : memref<1x4x8xi32, #tile.space<acc>>
    tile.load %X[%r, 0, 0] [1, 4, 4] into %a0[0, 1, 0] : memref<6x9x4xi8, #tile.space<dram>> -> memref<1x5x4xi8, #tile.space<spad>>
    tile.load %Z[0, 0, 0] [1, 1, 4] into %a0[0, 0, 0] : memref<6x9x4xi8, #tile.space<dram>> -> memref<1x5x4xi8, #tile.space<spad>>
    tile.matmul %acc0[0, 0, 0] [1, 4, 8] = %a0[0, 0, 0] [1, 4, 4] * %w[0, 0] [4, 8] : memref<1x4x8xi32, #tile.space<acc>>, memref<1x5x4xi8, #tile.space<spad>>, memref<4x8xi8, #tile.space<spad>>
    tile.matmul %acc0[0, 0, 0] [1, 4, 8] += %a0[0, 1, 0] [1, 4, 4] * %w[0, 0] [4, 8] : memref<1x4x8xi32, #tile.space<acc>>, memref<1x5x4xi8, #tile.space<spad>>, memref<4x8xi8, #tile.space<spad>>
    tile.store %acc0[0, 0, 0] [1, 4, 8] into %Y[%r, 0, 0] raw : memref<1x4x8xi32, #tile.space<acc>> -> memref<6x8x8xi32, #tile.space<dram>>
    %a1 = tile.alloc : memref<1x5x4xi8, #tile.space<spad>>
    %acc1 = tile.alloc : memref<1x4x8xi32, #tile.space<acc>>
    tile.load %X[%r, 4, 0] [1, 5, 4] into %a1[0, 0, 0] : memref<6x9x4xi8, #tile.space<dram>> -> memref<1x5x4xi8, #tile.space<spad>>
    tile.matmul %acc1[0, 0, 0] [1, 4, 8] = %a1[0, 0, 0] [1, 4, 4] * %w[0, 0] [4, 8] : memref<1x4x8xi32, #tile.space<acc>>, memref<1x5x4xi8, #tile.space<spad>>, memref<4x8xi8, #tile.space<spad>>
    tile.matmul %acc1[0, 0, 0] [1, 4, 8] += %a1[0, 1, 0] [1, 4, 4] * %w[0, 0] [4, 8] : memref<1x4x8xi32, #tile.space<acc>>, memref<1x5x4xi8, #tile.space<spad>>, memref<4x8xi8, #tile.space<spad>>
    tile.store %acc1[0, 0, 0] [1, 4, 8] into %Y[%r, 4, 0] raw : memref<1x4x8xi32, #tile.space<acc>> -> memref<6x8x8xi32, #tile.space<dram>>
  }
  tile.fence
  func.return
}
"""


@pytest.mark.parametrize("options, count", [
    ({}, 0),  # one load per buffer, allocs outside loops only: nothing qualifies
    ({"multi": True}, 0),
    ({"multi": True, "hoist": True}, 2),  # both windows: hoisted, the halo load rides along
    ({"multi": True, "hoist": True, "hoist_acc": True}, 4),  # and both accumulators ping-pong
])
def test_peeled_tiles_with_halo_loads(options, count):
    rng = np.random.default_rng(3)
    inputs = {"X": rng.integers(-128, 128, (6, 9, 4)), "Z": np.zeros((6, 9, 4), np.int64),
              "W": rng.integers(-128, 128, (4, 8)), "Y": np.zeros((6, 8, 8), np.int64)}
    before, _ = run(parse(PEELED), inputs)
    xp = np.concatenate([np.zeros((6, 1, 4), np.int64), inputs["X"]], axis=1)  # the zero halo column
    ref = np.concatenate([xp[:, 0:4] @ inputs["W"] + xp[:, 1:5] @ inputs["W"],
                          inputs["X"][:, 4:8] @ inputs["W"] + inputs["X"][:, 5:9] @ inputs["W"]], axis=1)
    assert (before["Y"] == ref).all()
    module, got = transformed(PEELED, **options)
    assert got == count
    after, machine = run(module, inputs, 5)
    assert (after["Y"] == before["Y"]).all()
    if options.get("hoist"):
        loop = next(op for op in module.walk() if isinstance(op, scf.ForOp))
        left = [op for op in loop.body.block.ops if isinstance(op, AllocOp)]  # the rest is hoisted in front
        assert [op.space for op in left] == ([] if options.get("hoist_acc") else ["acc", "acc"])
        firsts = [a for a, _, _ in machine.trace[::4]]  # the first window of each row
        assert len(set(firsts)) == 2  # alternates between ping and pong
