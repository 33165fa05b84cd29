"""Epilogue fusion passes: the fused graph evaluates bit for bit like the unfused one
(the numpy evaluator gemforge.graph_eval is the judge), except the opt-in residual
fusion, whose difference is bounded by 1 LSB; and each pass declines where fusing
would not be exact."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xdsl.context import Context
from xdsl.dialects.builtin import FunctionType, ModuleOp, TensorType, i8, i32
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Block, Region

from gemforge import graph_eval_ops as K
from gemforge.dialects import graph as G
from gemforge.graph_eval import evaluate
from gemforge.passes import get_all_passes

EXAMPLES = settings(max_examples=40, deadline=None)


# --- helpers ----------------------------------------------------------------------------


def module_of(arg_types, build) -> ModuleOp:
    """A module with one function ``f(args)`` whose body is ``build(*args)`` (a list of
    ops; the last op's result is returned)."""
    block = Block(arg_types=arg_types)
    ops = build(*block.args)
    block.add_ops(ops)
    result = ops[-1].results[0]
    block.add_op(ReturnOp(result))
    return ModuleOp([FuncOp("f", FunctionType.from_lists(arg_types, [result.type]), Region(block))])


def run_pass(spec: str, module: ModuleOp, **options) -> ModuleOp:
    """A verified copy of ``module`` after pass ``spec`` with ``options``."""
    out = module.clone()
    get_all_passes()[spec]()(**options).apply(Context(), out)
    out.verify()
    return out


def graph_ops(module: ModuleOp) -> list[str]:
    """Names of the graph ops left in the function, constants excepted."""
    func = next(iter(module.ops))
    return [op.name for op in func.body.block.ops if op.name.startswith("graph.") and op.name != "graph.constant"]


def random_inputs(module: ModuleOp, rng) -> dict[str, np.ndarray]:
    func = next(iter(module.ops))
    return {
        f"arg{i}": rng.integers(-128, 128, size=a.type.get_shape(), dtype=np.int8)
        for i, a in enumerate(func.body.block.args)
    }


def outputs(module: ModuleOp, inputs) -> np.ndarray:
    return evaluate(module, inputs)["out0"]


def assert_same(before: ModuleOp, after: ModuleOp, rng, trials: int = 2) -> None:
    for _ in range(trials):
        inputs = random_inputs(before, rng)
        np.testing.assert_array_equal(outputs(after, inputs), outputs(before, inputs))


def const(array) -> G.ConstantOp:
    return G.ConstantOp.from_numpy(np.asarray(array))


def conv_args(rng, n=1, h=6, w=6, c=3, co=4, k=3):
    x_type = TensorType(i8, [n, h, w, c])
    weight = const(rng.integers(-128, 128, size=(k, k, c, co), dtype=np.int8))
    bias = const(rng.integers(-(2**14), 2**14, size=co, dtype=np.int32))
    return x_type, weight, bias


scales = st.floats(0.0001, 0.02).map(lambda s: float(np.float32(s)))
activations = st.sampled_from(["none", "relu", "clip"])


def activation_op(kind: str, value, element_type, rng):
    """A graph.relu / graph.clip (random bounds) on ``value``, or None."""
    if kind == "relu":
        return G.ReluOp(value)
    if kind == "clip":
        lo, hi = (-128, 127) if element_type == i8 else (-(2**20), 2**20)
        a, b = sorted(int(v) for v in rng.integers(lo, hi + 1, size=2))
        return G.ClipOp(value, a, b)
    return None


# --- exact fusions: fused == unfused, bit for bit ----------------------------------------


@EXAMPLES
@given(
    seed=st.integers(0, 2**32 - 1),
    scale=scales,
    act_i32=activations,
    act_i8=activations,
    pool=st.sampled_from([None, (2, 2, 0), (3, 2, 1), (3, 1, 2), (2, 1, 1)]),
    hardware=st.booleans(),
)
def test_conv_chain_fuses_exactly(seed, scale, act_i32, act_i8, pool, hardware):
    """conv (i32) -> [relu|clip] -> requantize -> [relu|clip] -> [maxpool]."""
    rng = np.random.default_rng(seed)
    x_type, weight, bias = conv_args(rng)

    def build(x):
        ops = [weight, bias, G.Conv2DOp(x, weight.result, bias.result, padding=(1, 1))]
        for maker in (
            lambda v: activation_op(act_i32, v, i32, rng),
            lambda v: G.RequantizeOp(v, scale),
            lambda v: activation_op(act_i8, v, i8, rng),
            lambda v: pool and G.MaxPoolOp(v, (pool[0],) * 2, (pool[1],) * 2, (pool[2],) * 2),
        ):
            op = maker(ops[-1].results[0])
            ops += [op] if op is not None else []
        return ops

    before = module_of([x_type], build)
    after = run_pass("fuse-epilogues", before, hardware_pool=hardware)
    names = graph_ops(after)
    if names != ["graph.conv2d"]:
        # Only a padded pool on results that may be negative stays apart (Gemmini pads with 0).
        assert names == ["graph.conv2d", "graph.maxpool"] and hardware and pool[2] > 0
        conv = next(op for op in next(iter(after.ops)).body.block.ops if isinstance(op, G.Conv2DOp))
        assert conv.activation != "relu" and (conv.clip is None or conv.clip[0] < 0)
    assert_same(before, after, rng)


@EXAMPLES
@given(seed=st.integers(0, 2**32 - 1), scale=scales, act=activations, batched=st.booleans(), has_bias=st.booleans())
def test_matmul_bias_requantize_activation(seed, scale, act, batched, has_bias):
    """matmul (i32) + per-channel constant [activation] -> requantize -> [relu|clip]."""
    rng = np.random.default_rng(seed)
    rhs_shape = (2, 5, 6) if batched else (5, 6)
    rhs = const(rng.integers(-128, 128, size=rhs_shape, dtype=np.int8))
    bias = const(rng.integers(-1000, 1000, size=6, dtype=np.int32))
    row = rng.integers(-1000, 1000, size=6, dtype=np.int32)
    full = const(np.broadcast_to(row, (2, 3, 6)).copy())

    def build(a):
        mm = G.MatmulOp(a, rhs.result, bias.result if has_bias else None)
        add = G.AddOp(mm.result, full.result, activation="relu" if act == "relu" else "none")
        ops = [rhs, bias, full, mm, add, G.RequantizeOp(add.result, scale)]
        extra = activation_op(act, ops[-1].results[0], i8, rng)
        return ops + ([extra] if extra is not None else [])

    before = module_of([TensorType(i8, [2, 3, 5])], build)
    after = run_pass("fuse-epilogues", before)
    assert graph_ops(after) == ["graph.matmul"]
    assert_same(before, after, rng)


@EXAMPLES
@given(seed=st.integers(0, 2**32 - 1), relu=st.booleans(), pads=st.tuples(*[st.integers(0, 1)] * 4))
def test_pad_then_maxpool_fuses_when_pad_never_wins(seed, relu, pads):
    """conv -> pad(value = least result) -> maxpool fuses; its pads join the pool's."""
    rng = np.random.default_rng(seed)
    x_type, weight, bias = conv_args(rng)
    value = 0 if relu else -128

    def build(x):
        conv = G.Conv2DOp(x, weight.result, bias.result, output_scale=0.01, activation="relu" if relu else "none")
        t, left, b, r = pads
        pad = G.PadOp(conv.result, [0, t, left, 0, 0, b, r, 0], value)
        return [weight, bias, conv, pad, G.MaxPoolOp(pad.result, (2, 2), (2, 2))]

    before = module_of([x_type], build)
    after = run_pass("fuse-pool", before, hardware_pool=False)
    assert graph_ops(after) == ["graph.conv2d"]
    assert_same(before, after, rng)


@EXAMPLES
@given(seed=st.integers(0, 2**32 - 1), act=activations)
def test_activation_fuses_into_add(seed, act):
    rng = np.random.default_rng(seed)
    x = TensorType(i8, [2, 7])

    def build(a, b):
        add = G.AddOp(a, b, lhs_scale=0.02, rhs_scale=0.03, output_scale=0.04, activation="relu")
        extra = activation_op(act, add.result, i8, rng)
        return [add, G.ReluOp(add.result) if extra is None else extra]

    before = module_of([x, x], build)
    after = run_pass("fuse-activation", before)
    assert graph_ops(after) == ["graph.add"]
    assert_same(before, after, rng)


def test_activation_clamps_compose():
    from gemforge.passes._fusion import compose_clamps

    rng = np.random.default_rng(0)
    for _ in range(200):
        a, b = sorted(rng.integers(-20, 20, size=2))
        c, d = sorted(rng.integers(-20, 20, size=2))
        x = np.arange(-30, 30)
        lo, hi = compose_clamps((a, b), (c, d))
        np.testing.assert_array_equal(np.clip(np.clip(x, a, b), c, d), np.clip(x, lo, hi))


# --- declined fusions ------------------------------------------------------------------


def _conv_module(rng, tail, output_scale=0.01, activation="none"):
    x_type, weight, bias = conv_args(rng)

    def build(x):
        conv = G.Conv2DOp(x, weight.result, bias.result, padding=(1, 1), output_scale=output_scale, activation=activation)
        return [weight, bias, conv, *tail(conv.result)]

    return module_of([x_type], build)


def test_multiple_uses_block_fusion():
    rng = np.random.default_rng(1)

    def tail(y):
        relu = G.ReluOp(y)
        return [relu, G.AddOp(relu.result, y, lhs_scale=0.01, rhs_scale=0.01, output_scale=0.02)]

    before = _conv_module(rng, tail)
    after = run_pass("fuse-epilogues", before)
    assert graph_ops(after) == ["graph.conv2d", "graph.relu", "graph.add"]


def test_requantize_of_int8_result_is_not_fused():
    before = _conv_module(np.random.default_rng(2), lambda y: [G.RequantizeOp(y, 0.5)])
    assert graph_ops(run_pass("fuse-requantize", before)) == ["graph.conv2d", "graph.requantize"]


def test_pad_that_could_win_is_not_fused():
    def tail(y):
        pad = G.PadOp(y, [0, 1, 1, 0, 0, 1, 1, 0], 0)  # 0 beats negative results
        return [pad, G.MaxPoolOp(pad.result, (3, 3), (2, 2))]

    before = _conv_module(np.random.default_rng(3), tail)
    assert "graph.maxpool" in graph_ops(run_pass("fuse-pool", before, hardware_pool=False))


@pytest.mark.parametrize(
    "activation,kernel,stride,padding,fused",
    [
        ("none", (3, 3), (2, 2), (1, 1), False),  # Gemmini pads with 0, which could win
        ("relu", (3, 3), (2, 2), (1, 1), True),
        ("none", (2, 2), (2, 2), (0, 0), True),
        ("relu", (4, 4), (2, 2), (0, 0), False),  # window wider than config_st's pool_size
        ("relu", (2, 3), (2, 2), (0, 0), False),  # not square
    ],
)
def test_hardware_pool_limits(activation, kernel, stride, padding, fused):
    before = _conv_module(np.random.default_rng(4), lambda y: [G.MaxPoolOp(y, kernel, stride, padding)], activation=activation)
    names = graph_ops(run_pass("fuse-pool", before))
    assert names == (["graph.conv2d"] if fused else ["graph.conv2d", "graph.maxpool"])
    assert graph_ops(run_pass("fuse-pool", before, hardware_pool=False)) == ["graph.conv2d"]


def test_bias_needs_per_channel_constant():
    rng = np.random.default_rng(5)
    varied = rng.integers(-5, 5, size=(1, 6, 6, 4), dtype=np.int32)
    varied[0, 0, 0, 0] = 9  # not the same row everywhere
    c = const(varied)
    before = _conv_module(rng, lambda y: [c, G.AddOp(y, c.result)], output_scale=None)
    assert graph_ops(run_pass("fuse-bias", before)) == ["graph.conv2d", "graph.add"]


# --- residual: opt-in, at most 1 LSB -----------------------------------------------------


def _residual_module(rng, conv_scale, sa, sb, sy, conv_on_left=True):
    x_type, weight, bias = conv_args(rng)

    def build(x, other):
        conv = G.Conv2DOp(x, weight.result, bias.result, padding=(1, 1), output_scale=conv_scale)
        a, b = (conv.result, other) if conv_on_left else (other, conv.result)
        s1, s2 = (sa, sb) if conv_on_left else (sb, sa)
        return [weight, bias, conv, G.AddOp(a, b, lhs_scale=s1, rhs_scale=s2, output_scale=sy, activation="relu")]

    return module_of([x_type, TensorType(i8, [1, 6, 6, 4])], build)


def test_residual_not_fused_by_default():
    before = _residual_module(np.random.default_rng(6), 1e-3, 0.05, 0.05, 0.08)
    assert graph_ops(run_pass("fuse-epilogues", before)) == ["graph.conv2d", "graph.add"]


@EXAMPLES
@given(
    seed=st.integers(0, 2**32 - 1),
    conv_scale=st.floats(5e-4, 4e-3),
    ma=st.floats(0.2, 1.95),
    mb=st.floats(0.1, 2.0),
    left=st.booleans(),
)
def test_residual_within_one_lsb(seed, conv_scale, ma, mb, left):
    """Where the unfused int8 conv result does not saturate, fused and unfused differ
    by at most 1."""
    rng = np.random.default_rng(seed)
    sy = 0.05
    conv_scale = float(np.float32(conv_scale))
    before = _residual_module(rng, conv_scale, ma * sy, mb * sy, sy, conv_on_left=left)
    after = run_pass("fuse-residual", before, allow_approximate_residual=True)
    assert graph_ops(after) == ["graph.conv2d"]
    conv = next(op for op in next(iter(before.ops)).body.block.ops if isinstance(op, G.Conv2DOp))
    weight, bias = conv.weight.owner.to_numpy(), conv.bias.owner.to_numpy()
    for _ in range(3):
        inputs = random_inputs(before, rng)
        acc = K.conv2d(inputs["arg0"], weight, bias, (1, 1), (1, 1, 1, 1), (1, 1), 1)
        unsaturated = np.abs(np.rint(acc.astype(np.float32) * np.float32(conv_scale))) <= 127
        diff = outputs(after, inputs).astype(int) - outputs(before, inputs).astype(int)
        assert np.abs(diff[unsaturated]).max(initial=0) <= 1
