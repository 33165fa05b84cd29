"""A numpy interpreter of the graph dialect: the golden reference that compiled
networks are checked against.

:func:`evaluate` runs one ``func.func`` whose body holds graph ops and ends in
``func.return``, with the exact integer semantics of every op's docstring (kernels in
:mod:`gemforge.graph_eval_ops`). Inputs and outputs are named: argument ``i`` is named
by the ``graph.name`` string in its ``arg_attrs`` (falling back to its SSA name hint,
then ``arg<i>``), result ``i`` likewise by ``res_attrs`` (falling back to ``out<i>``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from xdsl.dialects.builtin import DictionaryAttr, ModuleOp, StringAttr, TensorType
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Operation, SSAValue

from gemforge import graph_eval_ops as K
from gemforge.dialects import graph as G
from gemforge.dialects.graph_constant import NUMPY_DTYPES
from gemforge.errors import GemforgeError

NAME_KEY = "graph.name"


def find_function(module_or_func: ModuleOp | FuncOp, name: str | None = None) -> FuncOp:
    """The function to run: ``module_or_func`` itself, the one named ``name``, or the
    module's only (else first public) ``func.func``."""
    if isinstance(module_or_func, FuncOp):
        return module_or_func
    funcs = [op for op in module_or_func.ops if isinstance(op, FuncOp)]
    if name is not None:
        funcs = [f for f in funcs if f.sym_name.data == name]
    if not funcs:
        raise GemforgeError(f"graph_eval: no func.func{f' named {name}' if name else ''} in the module")
    return funcs[0]


def _names(attrs, count: int, fallback: Callable[[int], str]) -> list[str]:
    names = []
    for i in range(count):
        entry = attrs.data[i] if attrs is not None and i < len(attrs.data) else None
        value = entry.data.get(NAME_KEY) if isinstance(entry, DictionaryAttr) else None
        names.append(value.data if isinstance(value, StringAttr) else fallback(i))
    return names


def input_names(func: FuncOp) -> list[str]:
    """Names of the function's arguments, in order."""
    args = func.body.block.args
    return _names(func.arg_attrs, len(args), lambda i: args[i].name_hint or f"arg{i}")


def output_names(func: FuncOp) -> list[str]:
    """Names of the function's results, in order."""
    return _names(func.res_attrs, len(func.function_type.outputs.data), lambda i: f"out{i}")


def evaluate(
    module_or_func: ModuleOp | FuncOp,
    inputs: dict[str, np.ndarray],
    *,
    func_name: str | None = None,
    trace: dict[SSAValue, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Run the graph function on ``inputs`` (name -> array of the argument's exact type
    and shape); returns result name -> array. A ``trace`` dict, if given, receives the
    value of every SSA value (for layer-by-layer comparisons)."""
    func = find_function(module_or_func, func_name)
    env: dict[SSAValue, np.ndarray] = {} if trace is None else trace
    for name, arg in zip(input_names(func), func.body.block.args):
        if name not in inputs:
            raise GemforgeError(f"graph_eval: missing input '{name}' (have: {', '.join(sorted(inputs))})")
        env[arg] = _check_value(name, np.asarray(inputs[name]), arg.type)
    for op in func.body.block.ops:
        if isinstance(op, ReturnOp):
            return {n: env[v] for n, v in zip(output_names(func), op.arguments)}
        env[op.results[0]] = evaluate_op(op, env)
    raise GemforgeError(f"graph_eval: function '{func.sym_name.data}' has no func.return")


def _check_value(name: str, array: np.ndarray, typ) -> np.ndarray:
    assert isinstance(typ, TensorType)
    dtype, shape = NUMPY_DTYPES[typ.element_type], tuple(typ.get_shape())
    if array.shape != shape or array.dtype != dtype:
        raise GemforgeError(f"graph_eval: input '{name}' must be {dtype} {shape}, got {array.dtype} {array.shape}")
    return array


def _opt(env, value: SSAValue | None) -> np.ndarray | None:
    return None if value is None else env[value]


def _conv2d(op: G.Conv2DOp, env) -> np.ndarray:
    opts = op.options()
    acc = K.conv2d(env[op.input], env[op.weight], _opt(env, op.bias), op.stride, op.padding, op.dilation, op.groups)
    y = K.epilogue(acc, opts, _opt(env, op.residual))
    if op.pool_kernel is not None:
        y = K.maxpool(y, op.pool_kernel, op.pool_stride, op.pool_padding)
    return y


def _matmul(op: G.MatmulOp, env) -> np.ndarray:
    acc = K.exact_matmul(env[op.lhs], env[op.rhs])
    if op.bias is not None:
        acc = acc + env[op.bias].astype(np.int64)
    return K.epilogue(acc, op.options(), _opt(env, op.residual))


def _add(op: G.AddOp, env) -> np.ndarray:
    return K.add(env[op.lhs], env[op.rhs], op.lhs_scale, op.rhs_scale, op.output_scale, op.field("activation"), op.clip)


_HANDLERS: dict[type[Operation], Callable[[Operation, dict], np.ndarray]] = {
    G.ConstantOp: lambda op, env: op.to_numpy(),
    G.Conv2DOp: _conv2d,
    G.MatmulOp: _matmul,
    G.AddOp: _add,
    G.ReluOp: lambda op, env: np.maximum(env[op.input], 0).astype(env[op.input].dtype),
    G.ClipOp: lambda op, env: np.clip(env[op.input], op.min, op.max).astype(env[op.input].dtype),
    G.RequantizeOp: lambda op, env: K.scale_to_i8(env[op.input], op.scale),
    G.SoftmaxOp: lambda op, env: K.softmax(env[op.input], op.axis, op.input_scale, op.output_scale),
    G.MaxPoolOp: lambda op, env: K.maxpool(env[op.input], op.kernel, op.stride, op.padding),
    G.AvgPoolOp: lambda op, env: K.avgpool(env[op.input], op.kernel, op.stride, op.padding, op.count_include_pad, op.scale),
    G.GlobalAvgPoolOp: lambda op, env: K.global_avgpool(env[op.input], op.scale),
    G.ReshapeOp: lambda op, env: env[op.input].reshape(op.result.type.get_shape()),
    G.TransposeOp: lambda op, env: np.ascontiguousarray(np.transpose(env[op.input], op.perm)),
    G.ConcatOp: lambda op, env: np.concatenate([env[v] for v in op.inputs], axis=op.axis),
    G.PadOp: lambda op, env: _pad(env[op.input], op.pads, op.value),
    G.LRNOp: lambda op, env: K.lrn(env[op.input], op.size, op.alpha, op.beta, op.bias, op.input_scale,
                                   op.output_scale),
    G.ChannelAffineOp: lambda op, env: K.channel_affine(env[op.input], env[op.scale], env[op.shift],
                                                        env[op.multiplier], op.input_scale, op.output_scale),
    G.LutOp: lambda op, env: K.lut([env[v] for v in op.inputs], env[op.table]),
}


def evaluate_op(op: Operation, env: dict[SSAValue, np.ndarray]) -> np.ndarray:
    """The value of ``op``'s result given ``env`` (each operand -> its array), with the
    kernels :func:`evaluate` uses. Element-wise ops accept any operand arrays that
    broadcast together (``fold-lut`` evaluates them on all 256 int8 values at once)."""
    handler = _HANDLERS.get(type(op))
    if handler is None:
        raise GemforgeError(f"graph_eval: cannot evaluate op '{op.name}'")
    return handler(op, env)


def _pad(x: np.ndarray, pads, value: int) -> np.ndarray:
    rank = x.ndim
    return np.pad(x, [(pads[i], pads[i + rank]) for i in range(rank)], constant_values=value)
