"""The Python API of the optimizing path: compile graph IR or one layer to a Program, and run it.

    from gemforge.compile import compile_layer, compile_module, run
    program, info = compile_layer(layer, target, weights=w, bias=b, output_scale=0.01, activation="relu")
    result = run(program, {"input": x}, target)
    assert (result.outputs["output"] == info.expected(x)).all()

``schedule="bnb"`` compiles through ``gemforge-pipeline`` (branch-and-bound tilings);
``schedule="library"`` builds the vendor library's program for the same layer (the
baseline, :mod:`gemforge.backends.gemmini.library`). Both read tensor ``input`` and
write tensor ``output``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType, i8
from xdsl.ir import Block, Region

from gemforge import reference
from gemforge.backends.gemmini.encode import encode
from gemforge.backends.gemmini.program import Program
from gemforge.dialects import graph
from gemforge.errors import GemforgeError
from gemforge.layers import ConvLayer, Layer, MatmulLayer
from gemforge.target import Target, resolve


def target_spec(target: Target) -> str:
    """How a pass option names ``target`` (its built-in name)."""
    return target.name


def compile_module(module: ModuleOp, target: Target | str | None = None, *, tiles: str = "", stationary: str = "",
                   double_buffer: bool = True, name: str | None = None, form: str = "") -> Program:
    """Run ``gemforge-pipeline`` on a graph-dialect module (in place) and encode it."""
    from gemforge.passes.gemforge_pipeline import pipeline_passes
    from gemforge.testing import context

    t = resolve(target)
    ctx = context()
    for p in pipeline_passes(t.name, tiles, stationary, "true" if double_buffer else "false", form):
        p.apply(ctx, module)
    return encode(module, t, name)


@dataclass
class LayerInfo:
    """What ``compile_layer`` compiled, and the exact numpy result it must produce."""

    layer: Layer
    weights: np.ndarray
    bias: np.ndarray | None
    output_scale: float | None
    activation: str

    def expected(self, x: np.ndarray) -> np.ndarray:
        lay = self.layer
        if isinstance(lay, MatmulLayer):
            acc = reference.matmul(x, self.weights, self.bias)
        else:
            acc = reference.conv2d(x, self.weights, self.bias, stride=lay.stride, pad=lay.pad,
                                   dilation=lay.dilation, groups=lay.groups)
        if self.output_scale is None:
            return acc
        return reference.requantize(acc, self.output_scale, self.activation)


def layer_module(layer: Layer, weights: np.ndarray, bias: np.ndarray | None, output_scale: float | None,
                 activation: str) -> ModuleOp:
    """A one-op graph module computing ``layer`` (argument ``input``, constants inline)."""
    x_type = TensorType(i8, layer.input_shape)
    block = Block(arg_types=[x_type])
    block.args[0].name_hint = "input"
    w = graph.ConstantOp.from_numpy(np.asarray(weights, np.int8))
    ops = [w]
    b = None
    if bias is not None:
        b = graph.ConstantOp.from_numpy(np.asarray(bias, np.int32))
        ops.append(b)
    epi = dict(output_scale=output_scale, activation=activation)
    if isinstance(layer, MatmulLayer):
        op = graph.MatmulOp(block.args[0], w.result, b.result if b else None, **epi)
    else:
        s, p, d = layer.stride, layer.pad, layer.dilation
        op = graph.Conv2DOp(block.args[0], w.result, b.result if b else None, stride=(s, s), padding=(p, p),
                            dilation=(d, d), groups=layer.groups, **epi)
    ops += [op, func.ReturnOp(op.result)]
    block.add_ops(ops)
    fn = func.FuncOp(layer.name.replace("-", "_") or "layer", ([x_type], [op.result.type]), Region(block))
    return ModuleOp([fn])


def compile_layer(layer: Layer, target: Target | str | None = None, *, weights: np.ndarray | None = None,
                  bias: np.ndarray | bool | None = True, output_scale: float | None = -1.0, activation: str = "none",
                  seed: int = 0, schedule: str = "bnb", tiles: str = "", stationary: str = "",
                  double_buffer: bool = True, form: str = "") -> tuple[Program, LayerInfo]:
    """A Program computing ``layer`` with the optimizing path (``bnb``) or the vendor library.

    ``weights``/``bias`` default to seeded random data (``bias=False``: none);
    ``output_scale`` defaults to the library's :func:`default_output_scale` (``None``:
    int32 output, bnb only); ``activation`` is 'none' or 'relu'; ``form`` forces the code
    form of the bnb path ('fine' or 'loop'; default: the cost model's choice).
    """
    from gemforge.backends.gemmini import library

    t = resolve(target)
    rand_w, rand_b = library.random_parameters(layer, seed, bias is True)
    w = rand_w if weights is None else np.asarray(weights, np.int8)
    b = rand_b if bias is True else (None if bias is None or bias is False else np.asarray(bias, np.int32))
    scale = library.default_output_scale(layer) if output_scale == -1.0 else output_scale
    info = LayerInfo(layer, w, b, scale, activation)
    if schedule == "library":
        if scale is None:
            raise GemforgeError(f"layer {layer.name}: the library path needs an output scale")
        program, _ = library.compile_layer(layer, t, weights=w, bias=b if b is not None else False,
                                           output_scale=scale, activation=activation)
        return program, info
    if schedule != "bnb":
        raise GemforgeError(f"layer {layer.name}: schedule must be 'bnb' or 'library', got {schedule!r}")
    if isinstance(layer, ConvLayer) and layer.groups > 1 and not layer.depthwise:
        raise GemforgeError(f"layer {layer.name}: grouped convolution is not supported")
    module = layer_module(layer, w, b, scale, activation)
    return compile_module(module, t, tiles=tiles, stationary=stationary, double_buffer=double_buffer, form=form), info


def run(program: Program, inputs: dict[str, np.ndarray], target: Target | str | None = None, **kwargs):
    """Simulate ``program`` (see :func:`gemforge.sim.run`)."""
    from gemforge import sim

    return sim.run(program, inputs, resolve(target), **kwargs)
