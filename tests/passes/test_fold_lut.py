"""fold-lut: random chains of unary per-channel int8 ops (channel_affine, requantize,
relu, clip, add of a per-channel constant on either side, with any activation) give
bit-identical results in gemforge.graph_eval before and after the pass, on random
inputs and on inputs that hold every int8 value in every channel; a second use ends a
chain; what is not per-channel is left alone. Then the lookups' absorptions: random
DenseNet-like blocks (requantize -> concat(prev, new) -> lut, with extra readers) stay
bit-identical, and their lookups read no concat and no unary op; the host ``lut`` kernel
on several inputs equals graph_eval_ops.lut and numpy's concatenation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from xdsl.dialects.builtin import FunctionType, ModuleOp, TensorType, i8
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Block, Region

from gemforge.dialects import graph as G
from gemforge.graph_eval import evaluate
from gemforge.passes.fold_lut import FoldLut, chain_table
from gemforge.testing import applied, graph_op_names

F32 = np.float32
_SCALE = st.floats(1e-3, 2.0).map(lambda v: float(F32(v)))
_VECTOR_VALUE = st.floats(-4.0, 4.0, width=32)
_ACTIVATION = st.sampled_from(["none", "relu", "clip"])
KINDS = ("channel_affine", "requantize", "relu", "clip", "add")


@st.composite
def op_specs(draw, channels: int) -> dict:
    """One op of a chain: its kind and every number it needs."""
    kind = draw(st.sampled_from(KINDS))
    vec = lambda: np.array(draw(st.lists(_VECTOR_VALUE, min_size=channels, max_size=channels)), F32)
    lo = draw(st.integers(-128, 127))
    spec = {"kind": kind, "clip": (lo, draw(st.integers(lo, 127)))}
    if kind == "channel_affine":
        spec.update(vectors=[vec(), vec(), vec()], scales=(draw(_SCALE), draw(_SCALE)))
    elif kind == "requantize":
        spec["scale"] = draw(_SCALE)
    elif kind == "add":
        spec.update(bias=np.array(draw(st.lists(st.integers(-128, 127), min_size=channels, max_size=channels)),
                                  np.int8),
                    scales=(draw(_SCALE), draw(_SCALE), draw(_SCALE)), constant_lhs=draw(st.booleans()),
                    activation=draw(_ACTIVATION))
    return spec


def build_op(spec: dict, x, shape) -> tuple[list, object]:
    """(constants, op) computing ``spec`` on ``x``."""
    kind = spec["kind"]
    if kind == "channel_affine":
        consts = [G.ConstantOp.from_numpy(v) for v in spec["vectors"]]
        s_in, s_out = spec["scales"]
        return consts, G.ChannelAffineOp(x, *(c.result for c in consts), input_scale=s_in, output_scale=s_out)
    if kind == "requantize":
        return [], G.RequantizeOp(x, spec["scale"])
    if kind == "relu":
        return [], G.ReluOp(x)
    if kind == "clip":
        return [], G.ClipOp(x, *spec["clip"])
    bias = G.ConstantOp.from_numpy(np.broadcast_to(spec["bias"], shape).copy())
    lhs, rhs = (bias.result, x) if spec["constant_lhs"] else (x, bias.result)
    act = spec["activation"]
    return [bias], G.AddOp(lhs, rhs, lhs_scale=spec["scales"][0], rhs_scale=spec["scales"][1],
                           output_scale=spec["scales"][2], activation="none" if act == "clip" else act,
                           clip=spec["clip"] if act == "clip" else None)


def build_chain(specs: list[dict], shape, also_return: int | None = None) -> ModuleOp:
    """f(x) = the chain of ``specs`` on x (plus the result of op ``also_return``, whose
    second use, the return, must end the chain there)."""
    x_type = TensorType(i8, list(shape))
    block = Block(arg_types=[x_type])
    value, results = block.args[0], []
    for spec in specs:
        consts, op = build_op(spec, value, shape)
        block.add_ops([*consts, op])
        value = op.results[0]
        results.append(value)
    outs = [value] + ([results[also_return]] if also_return is not None else [])
    block.add_op(ReturnOp(*outs))
    ftype = FunctionType.from_lists([x_type], [v.type for v in outs])
    return ModuleOp([FuncOp("f", ftype, Region(block))])


def folded(module: ModuleOp, **options) -> ModuleOp:
    return applied(FoldLut(**options), module)


op_names = graph_op_names


def every_value_input(rng, shape) -> np.ndarray:
    """Each channel holds every int8 value (in a random order of its own)."""
    channels = shape[-1]
    cols = [rng.permutation(np.arange(-128, 128)) for _ in range(channels)]
    return np.stack(cols, axis=-1).astype(np.int8).reshape(shape)


@st.composite
def chains(draw):
    channels = draw(st.integers(1, 20))
    exhaustive = draw(st.booleans())
    lead = (1, 16, 16) if exhaustive else tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=3)))
    specs = draw(st.lists(op_specs(channels), min_size=1, max_size=5))
    also = draw(st.none() | st.integers(0, len(specs) - 1))
    return (*lead, channels), specs, None if also == len(specs) - 1 else also, exhaustive


@settings(max_examples=60, deadline=None)
@given(chains(), st.integers(0, 2**32 - 1))
def test_folded_chain_is_bit_identical(chain, seed):
    shape, specs, also, exhaustive = chain
    module = build_chain(specs, shape, also)
    rng = np.random.default_rng(seed)
    x = every_value_input(rng, shape) if exhaustive else rng.integers(-128, 128, shape).astype(np.int8)
    after = folded(module)
    want, got = evaluate(module, {"arg0": x}), evaluate(after, {"arg0": x})
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    names = op_names(after)
    assert "graph.channel_affine" not in names  # alone it costs 4 visits: always folded
    segments = [specs] if also is None else [specs[:also + 1], specs[also + 1:]]
    assert names.count("graph.lut") == sum(1 for seg in segments if len(seg) >= 2 or
                                            any(s["kind"] == "channel_affine" for s in seg))


def test_min_visits_option_folds_a_lone_op_or_nothing():
    spec = {"kind": "requantize", "scale": 0.3}
    module = build_chain([spec], (2, 3))
    assert op_names(folded(module)) == ["graph.requantize"]
    assert op_names(folded(module, min_visits=1)) == ["graph.lut"]
    two = build_chain([spec, {"kind": "relu"}], (2, 3))
    assert op_names(folded(two, min_visits=3)) == ["graph.requantize", "graph.relu"]


def _add_module(bias: np.ndarray) -> ModuleOp:
    x_type = TensorType(i8, list(bias.shape))
    block = Block(arg_types=[x_type])
    const = G.ConstantOp.from_numpy(bias)
    add = G.AddOp(block.args[0], const.result, lhs_scale=0.5, rhs_scale=0.25, output_scale=0.5, activation="relu")
    relu = G.ReluOp(add.result)
    block.add_ops([const, add, relu, ReturnOp(relu.result)])
    return ModuleOp([FuncOp("f", FunctionType.from_lists([x_type], [x_type]), Region(block))])


def test_non_uniform_add_constant_is_not_folded():
    bias = np.arange(2 * 3 * 4, dtype=np.int8).reshape(1, 2, 3, 4)  # differs between pixels
    assert op_names(folded(_add_module(bias))) == ["graph.add", "graph.relu"]
    uniform = np.broadcast_to(np.array([5, -7, 9, 0], np.int8), (1, 2, 3, 4)).copy()
    assert op_names(folded(_add_module(uniform))) == ["graph.lut"]


def test_table_is_shared_when_channels_agree():
    spec = {"kind": "add", "bias": np.array([3, 3, 3], np.int8), "scales": (0.5, 0.5, 0.25), "constant_lhs": False,
            "activation": "none", "clip": (0, 0)}
    module = build_chain([spec, {"kind": "relu"}], (2, 3))
    chain = [op for op in next(iter(module.ops)).body.block.ops if isinstance(op, G.AddOp | G.ReluOp)]
    table = chain_table(chain)
    assert table.shape == (1, 256) and table.dtype == np.int8
    x = np.arange(-128, 128)
    np.testing.assert_array_equal(table[0], np.maximum(np.clip(np.rint(F32(x) * F32(2) + F32(3) * F32(2)), -128, 127), 0))


def test_lookup_with_non_negative_table_is_known_non_negative():
    from gemforge.passes._sign import known_nonnegative

    relu_last = folded(_add_module(np.zeros((1, 2, 3, 4), np.int8)))
    lut = next(op for op in next(iter(relu_last.ops)).body.block.ops if isinstance(op, G.LutOp))
    assert known_nonnegative(lut.result)
    clip_last = folded(build_chain([{"kind": "requantize", "scale": 0.5}, {"kind": "clip", "clip": (-1, 9)}], (2, 3)))
    lut = next(op for op in next(iter(clip_last.ops)).body.block.ops if isinstance(op, G.LutOp))
    assert not known_nonnegative(lut.result)


# ------------------------------------------------------------------ lookups absorb what they read
@st.composite
def dense_blocks(draw):
    """A DenseNet-like block: x0, then 2..4 steps ``k = concat(k, f(y_i)); l_i = lut(k)``
    with ``f`` a random unary chain (a requantize first, as after a conv) and a random
    table (shared or per channel); some intermediate values also returned."""
    exhaustive = draw(st.booleans())  # 256 pixels: every int8 value in every channel
    lead = (1, 16, 16) if exhaustive else tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    widths = draw(st.lists(st.integers(1, 6), min_size=3, max_size=5))
    steps = []
    for c in widths[1:]:
        chain = [{"kind": "requantize", "scale": draw(_SCALE)}] + draw(st.lists(op_specs(c), max_size=1))
        steps.append({"chain": chain, "shared": draw(st.booleans()), "return": draw(st.sets(
            st.sampled_from(["piece", "concat"]), max_size=2))})
    return lead, widths, steps, exhaustive


def build_dense_block(lead, widths, steps, rng) -> ModuleOp:
    types = [TensorType(i8, [*lead, c]) for c in widths]
    block = Block(arg_types=types)
    concat, outs = block.args[0], []
    for step, y, c in zip(steps, block.args[1:], widths[1:]):
        piece = y
        for spec in step["chain"]:
            consts, op = build_op(spec, piece, (*lead, c))
            block.add_ops([*consts, op])
            piece = op.results[0]
        cat = G.ConcatOp([concat, piece], -1)
        channels = cat.result.type.get_shape()[-1]
        table = G.ConstantOp.from_numpy(rng.integers(-128, 128, (1 if step["shared"] else channels, 256)).astype(np.int8))
        lut = G.LutOp(cat.result, table.result)
        block.add_ops([cat, table, lut])
        concat = cat.result
        outs += [lut.result] + [piece] * ("piece" in step["return"]) + [cat.result] * ("concat" in step["return"])
    block.add_op(ReturnOp(*outs))
    ftype = FunctionType.from_lists(types, [v.type for v in outs])
    return ModuleOp([FuncOp("f", ftype, Region(block))])


@settings(max_examples=40, deadline=None)
@given(dense_blocks(), st.integers(0, 2**32 - 1))
def test_lookups_absorbing_concats_and_producers_are_bit_identical(blocks, seed):
    from gemforge.passes._lut_chain import lut_input

    lead, widths, steps, exhaustive = blocks
    rng = np.random.default_rng(seed)
    module = build_dense_block(lead, widths, steps, rng)
    after = folded(module)
    inputs = {f"arg{i}": every_value_input(rng, (*lead, c)) if exhaustive else
              rng.integers(-128, 128, (*lead, c)).astype(np.int8) for i, c in enumerate(widths)}
    want, got = evaluate(module, inputs), evaluate(after, inputs)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    func = next(iter(after.ops))
    returned = set(func.body.block.last_op.operands)
    for op in func.body.block.ops:
        if isinstance(op, G.LutOp):  # reads the pieces (or a folded chain's lookup): no concat, no unary op
            assert not any(isinstance(v.owner, G.ConcatOp) or lut_input(v.owner) is not None for v in op.inputs
                           if not isinstance(v.owner, Block))
        elif op.name.startswith("graph."):  # anything else left is read (dead code is gone)
            assert op.results[0].first_use is not None
        if isinstance(op, G.ConcatOp):  # only returned concats stay
            assert op.result in returned


@pytest.mark.parametrize("returned, left", [(set(), ["graph.lut", "graph.lut"]),
                                             ({"piece"}, ["graph.requantize", "graph.lut", "graph.lut"])])
def test_first_requantize_is_composed_into_both_lookups(returned, left):
    """The first step's requantize reaches both lookups (through the concats): both compose
    it; it is erased unless the return also reads it."""
    rng = np.random.default_rng(0)
    first = {"chain": [{"kind": "requantize", "scale": 0.37}], "shared": False, "return": returned}
    second = {"chain": [{"kind": "requantize", "scale": 1.7}], "shared": True, "return": set()}
    module = build_dense_block((1, 16, 16), [3, 2, 2], [first, second], rng)
    after = folded(module)
    assert op_names(after) == left
    inputs = {f"arg{i}": every_value_input(rng, (1, 16, 16, c)) for i, c in enumerate([3, 2, 2])}
    want, got = evaluate(module, inputs), evaluate(after, inputs)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=0, max_size=3), st.lists(st.integers(1, 6), min_size=1, max_size=4),
       st.booleans(), st.integers(0, 2**32 - 1))
def test_host_lut_kernel_reads_inputs_as_one_concatenation(lead, widths, shared, seed):
    """sim.host's ``lut`` on inputs [x0.., table] = graph_eval_ops.lut = the table applied to
    numpy's concatenation, channel by channel."""
    from gemforge.graph_eval_ops import lut
    from gemforge.sim.host import KERNELS

    rng = np.random.default_rng(seed)
    xs = [rng.integers(-128, 128, (*lead, c)).astype(np.int8) for c in widths]
    x = np.concatenate(xs, axis=-1)
    table = rng.integers(-128, 128, (1 if shared else x.shape[-1], 256)).astype(np.int8)
    want = np.stack([table[c if not shared else 0][x[..., c].astype(np.int64) + 128] for c in range(x.shape[-1])],
                    axis=-1)
    out = np.zeros_like(x)
    assert KERNELS["lut"]([*xs, table], [out], {}) == (x.size, 0)
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(lut(xs, table), want)
    np.testing.assert_array_equal(lut(x, table), want)


# ------------------------------------------------------------------ a concat of requantized branches
@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=2, max_size=4), st.lists(st.booleans(), min_size=4, max_size=4),
       st.lists(_SCALE, min_size=4, max_size=4), st.booleans(), st.integers(0, 2**32 - 1))
@example([1, 1], [True, True, False, False], [2.0**-8, 2.0**-8, 1.0, 1.0], False, 0)  # every entry 0: >= 0 without relu
def test_concat_of_requantized_branches_becomes_one_lookup(widths, requantized, scales, relu, seed):
    """Inception's and SqueezeNet's concats: branch outputs (some requantized to the concat's
    scale, maybe after a relu) joined and read by a max pool; the concat and requantizes
    become one lookup, bit-identical, and the pool's input stays provably >= 0 when every
    branch is."""
    from gemforge.passes._sign import known_nonnegative

    rng = np.random.default_rng(seed)
    lead = (1, 4, 4)
    types = [TensorType(i8, [*lead, c]) for c in widths]
    block = Block(arg_types=types)
    pieces = []
    for arg, c, q, s in zip(block.args, widths, requantized, scales):
        v = arg
        if relu:
            r = G.ReluOp(v)
            block.add_op(r)
            v = r.result
        if q:
            r = G.RequantizeOp(v, s)
            block.add_op(r)
            v = r.result
        pieces.append(v)
    cat = G.ConcatOp(pieces, 3)
    pool = G.MaxPoolOp(cat.result, (2, 2), (2, 2), (0, 0, 0, 0))
    block.add_ops([cat, pool, ReturnOp(pool.result)])
    module = ModuleOp([FuncOp("f", FunctionType.from_lists(types, [pool.result.type]), Region(block))])
    after = folded(module)
    inputs = {f"arg{i}": rng.integers(-128, 128, (*lead, c)).astype(np.int8) for i, c in enumerate(widths)}
    (want,), (got,) = evaluate(module, inputs).values(), evaluate(after, inputs).values()
    np.testing.assert_array_equal(got, want)
    names = op_names(after)
    unary = relu or any(requantized[:len(widths)])  # some piece has a producer only the concat reads
    assert names == (["graph.lut", "graph.maxpool"] if unary else ["graph.concat", "graph.maxpool"])
    pool_input = next(op for op in next(iter(after.ops)).body.block.ops if isinstance(op, G.MaxPoolOp)).input
    # every piece (identity, relu, requantize by a positive scale) is monotone, so the
    # output is >= 0 for every input exactly when it is for the all -128 input; that is the
    # proof's case too (relu, or a lookup table >= 0 everywhere, e.g. a tiny scale's zeros)
    lowest = {name: np.full_like(x, -128) for name, x in inputs.items()}
    (floor,) = evaluate(module, lowest).values()
    assert known_nonnegative(pool_input) == bool((floor >= 0).all())
