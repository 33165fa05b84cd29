"""graph.batch_norm and fold-batchnorm: the exact fold is bit-identical to the unfolded
graph; the re-quantized fold stays within its documented bound; the pass declines
what it cannot fold. The unfolded graph is evaluated as conv (gemforge.graph_eval)
followed by a numpy batch norm written from the op's docstring."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xdsl.dialects.builtin import FunctionType, ModuleOp, TensorType, f32, i8, i32
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Block, Region

from gemforge import graph_eval_ops as K
from gemforge.dialects import graph as G
from gemforge.dialects.graph_common import GraphVerifyError
from gemforge.graph_eval import evaluate
from gemforge.passes.fold_batchnorm import FoldBatchNorm
from gemforge.testing import applied, graph_op_names

EXAMPLES = settings(max_examples=40, deadline=None)
CO = 4


def batch_norm_ref(x, scale, shift) -> np.ndarray:
    """y = sat_i32(rne(f32(x) * scale + shift)), channels last."""
    y = np.rint(x.astype(np.float32) * scale.astype(np.float32) + shift.astype(np.float32))
    return np.clip(y.astype(np.float64), -(2**31), 2**31 - 1).astype(np.int32)


def build(weight, bias, scale, shift, *, requantize=None, relu=False, matmul=False) -> ModuleOp:
    """f(x) = [requantize]([relu](batch_norm(conv2d or matmul (x, weight, bias))))."""
    x_type = TensorType(i8, [2, 5] if matmul else [1, 5, 5, weight.shape[2]])
    block = Block(arg_types=[x_type])
    consts = [G.ConstantOp.from_numpy(a) for a in (weight, bias, scale, shift)]
    w, b, s, t = (c.result for c in consts)
    prod = G.MatmulOp(block.args[0], w, b) if matmul else G.Conv2DOp(block.args[0], w, b, padding=(1, 1))
    ops = [*consts, prod, G.BatchNormOp(prod.result, s, t)]
    if relu:
        ops.append(G.ReluOp(ops[-1].results[0]))
    if requantize is not None:
        ops.append(G.RequantizeOp(ops[-1].results[0], requantize))
    block.add_ops(ops)
    out = ops[-1].results[0]
    block.add_op(ReturnOp(out))
    return ModuleOp([FuncOp("f", FunctionType.from_lists([x_type], [out.type]), Region(block))])


def unfolded(module: ModuleOp, x: np.ndarray) -> np.ndarray:
    """Evaluate ``module`` with the batch norm computed by :func:`batch_norm_ref`."""
    ops = list(next(iter(module.ops)).body.block.ops)
    prod = next(op for op in ops if isinstance(op, (G.Conv2DOp, G.MatmulOp)))
    bn = next(op for op in ops if isinstance(op, G.BatchNormOp))
    if isinstance(prod, G.Conv2DOp):
        acc = K.conv2d(x, prod.weight.owner.to_numpy(), prod.bias.owner.to_numpy(), prod.stride, prod.padding, (1, 1), 1)
    else:
        acc = K.exact_matmul(x, prod.rhs.owner.to_numpy()) + prod.bias.owner.to_numpy()
    y = batch_norm_ref(acc, bn.scale.owner.to_numpy(), bn.shift.owner.to_numpy())
    for op in ops[ops.index(bn) + 1 :]:
        if isinstance(op, G.ReluOp):
            y = np.maximum(y, 0)
        elif isinstance(op, G.RequantizeOp):
            y = K.scale_to_i8(y, op.scale)
    return y


def fold(module: ModuleOp, **options) -> ModuleOp:
    return applied(FoldBatchNorm(**options), module)


names = graph_op_names


def conv_data(rng, weight_max=127):
    weight = rng.integers(-weight_max, weight_max + 1, size=(3, 3, 3, CO), dtype=np.int8)
    bias = rng.integers(-5000, 5000, size=CO, dtype=np.int32)
    return weight, bias


@EXAMPLES
@given(seed=st.integers(0, 2**32 - 1), relu=st.booleans(), matmul=st.booleans())
def test_integer_batch_norm_folds_exactly(seed, relu, matmul):
    rng = np.random.default_rng(seed)
    weight, bias = conv_data(rng, weight_max=63)
    if matmul:
        weight = weight.reshape(-1, CO)[:5]
    scale = rng.integers(-2, 3, size=CO).astype(np.float32)
    shift = rng.integers(-9000, 9000, size=CO).astype(np.float32)
    before = build(weight, bias, scale, shift, relu=relu, matmul=matmul)
    shape = (2, 5) if matmul else (1, 5, 5, 3)
    after = fold(before)
    assert names(after) == [("graph.matmul" if matmul else "graph.conv2d")] + (["graph.relu"] if relu else [])
    for _ in range(2):
        x = rng.integers(-128, 128, size=shape, dtype=np.int8)
        np.testing.assert_array_equal(evaluate(after, {"arg0": x})["out0"], unfolded(before, x))


@EXAMPLES
@given(seed=st.integers(0, 2**32 - 1), requant=st.floats(0.001, 0.05))
def test_requantized_fold_within_bound(seed, requant):
    rng = np.random.default_rng(seed)
    weight, bias = conv_data(rng)
    scale = (rng.uniform(0.2, 3.0, size=CO) * rng.choice([-1, 1], size=CO)).astype(np.float32)
    shift = rng.uniform(-3000, 3000, size=CO).astype(np.float32)
    before = build(weight, bias, scale, shift, requantize=requant)
    after = fold(before)
    assert names(after) == ["graph.conv2d", "graph.requantize"]
    k = float(np.max(np.abs(weight.astype(np.float64)) * np.abs(scale.astype(np.float64)))) / 127
    for _ in range(2):
        x = rng.integers(-128, 128, size=(1, 5, 5, 3), dtype=np.int8)
        patch = K.conv2d(np.abs(x.astype(np.int32)), np.ones((3, 3, 3, 1), np.int32), None, (1, 1), (1, 1, 1, 1), (1, 1), 1)
        # Before the final rounding: weight and bias re-rounding (k units), BN rounding, f32 slack.
        bound = np.float32(requant) * (k * (0.5 * patch + 0.5) + 0.5) + 1e-3
        diff = np.abs(evaluate(after, {"arg0": x})["out0"].astype(int) - unfolded(before, x).astype(int))
        assert (diff <= np.floor(bound) + 1).all()


def test_exact_only_declines_requantized_fold():
    weight, bias = conv_data(np.random.default_rng(1))
    scale, shift = np.full(CO, 0.7, np.float32), np.zeros(CO, np.float32)
    before = build(weight, bias, scale, shift, requantize=0.01)
    assert "graph.batch_norm" in names(fold(before, exact_only=True))
    assert "graph.batch_norm" not in names(fold(before))


def test_requantized_fold_needs_requantize_users():
    weight, bias = conv_data(np.random.default_rng(2))
    scale, shift = np.full(CO, 0.7, np.float32), np.zeros(CO, np.float32)
    before = build(weight, bias, scale, shift, relu=True, requantize=0.01)
    assert "graph.batch_norm" in names(fold(before))


def test_batch_norm_verifier():
    x = Block(arg_types=[TensorType(i32, [2, 3])]).args[0]
    good = G.ConstantOp.from_numpy(np.ones(3, np.float32))
    with pytest.raises(GraphVerifyError, match="scale must be tensor<3xf32>"):
        G.BatchNormOp(x, G.ConstantOp.from_numpy(np.ones(4, np.float32)).result, good.result)
    bad = G.ConstantOp.from_numpy(np.array([1.0, np.inf, 1.0], np.float32))
    with pytest.raises(GraphVerifyError, match="shift holds a non-finite value"):
        G.BatchNormOp(x, good.result, bad.result).verify()
    assert G.BatchNormOp(x, good.result, good.result).result.type == x.type
    with pytest.raises(GraphVerifyError, match="input must have element type i32"):
        G.BatchNormOp(Block(arg_types=[TensorType(f32, [2, 3])]).args[0], good.result, good.result)
