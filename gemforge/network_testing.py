"""Helpers for testing whole networks: build small graph modules from Python, compile
them with :func:`gemforge.network.compile_network`, simulate and compare with
:func:`gemforge.graph_eval.evaluate` bit for bit (used by ``tests/network``)."""

from __future__ import annotations

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType, i8
from xdsl.ir import Block, Region

from gemforge.dialects import graph as G
from gemforge.graph_eval import evaluate
from gemforge.network import compile_network


def build_module(input_shapes, body) -> ModuleOp:
    """``body(args) -> (ops, results)`` over int8 arguments ``x0, x1, ...``; returns
    the one-function module (results named by func.return order)."""
    types = [TensorType(i8, s) for s in input_shapes]
    block = Block(arg_types=types)
    for i, a in enumerate(block.args):
        a.name_hint = f"x{i}"
    ops, results = body(list(block.args))
    block.add_ops([*ops, func.ReturnOp(*results)])
    fn = func.FuncOp("main", (types, [r.type for r in results]), Region(block))
    return ModuleOp([fn])


def const(array) -> G.ConstantOp:
    return G.ConstantOp.from_numpy(np.asarray(array))


def random_inputs(module, seed: int = 0) -> dict[str, np.ndarray]:
    from gemforge.graph_eval import find_function, input_names

    fn = find_function(module)
    rng = np.random.default_rng(seed)
    return {n: rng.integers(-128, 128, size=a.type.get_shape(), dtype=np.int8)
            for n, a in zip(input_names(fn), fn.body.block.args)}


def check_network(module, *, schedule: str = "bnb", seed: int = 0, timing: bool = False, per_layer: bool = True):
    """Compile, simulate and compare with graph_eval bit for bit; returns (net, result)."""
    net = compile_network(module, schedule=schedule)
    inputs = random_inputs(module, seed)
    expected = evaluate(module, inputs)
    result = net.run(inputs, timing=timing, per_layer=per_layer)
    assert set(result.outputs) == set(expected)
    for name, want in expected.items():
        got = result.outputs[name]
        assert got.dtype == want.dtype and got.shape == want.shape, name
        np.testing.assert_array_equal(got, want, err_msg=name)
    return net, result


def save_float_model(path, nodes, weights, *, input_shape, output, output_shape, extra_inits=(), seed=0,
                     name="model") -> None:
    """Write a small float ONNX model (opset 13) for tests: ``weights`` maps initializer
    names to ``(shape, std)``, drawn in order from one seeded normal generator; input ``x``
    of ``input_shape``, one float output. ``extra_inits`` are ready-made TensorProtos."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    inits = [numpy_helper.from_array((rng.standard_normal(shape) * std).astype(np.float32), n)
             for n, (shape, std) in weights.items()]
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(input_shape))],
                              [helper.make_tensor_value_info(output, TensorProto.FLOAT, list(output_shape))],
                              [*inits, *extra_inits])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
