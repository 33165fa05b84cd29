"""Faithful reimplementation of the Gemmini software library (gemmini.h): the baseline.

Tile selection (``tiled_matmul_auto``, ``tiled_conv_auto``, ``tiled_conv_dw_auto``) and the
instruction streams the library issues (one LOOP_WS / LOOP_CONV_WS per tile), written
from the public sources' behaviour, parameterised by the :class:`~gemforge.target.Target`.

    >>> from gemforge.backends.gemmini.library import compile_layer
    >>> program, info = compile_layer(layer, target)            # auto tiling, random weights
    >>> result = gemforge.sim.run(program, {"input": x}, target)
    >>> assert (result.outputs["output"] == info.expected(x)).all()
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from gemforge.backends.gemmini.library.conv_codegen import ConvOperands, emit_tiled_conv
from gemforge.backends.gemmini.library.conv_tiling import (
    ConvTiling,
    check_conv_tiling,
    conv_auto_search,
    conv_auto_tiling,
)
from gemforge.backends.gemmini.library.matmul_codegen import ACTIVATIONS, MatmulOperands, emit_tiled_matmul
from gemforge.backends.gemmini.library.matmul_tiling import MatmulTiling, TilingError, check_matmul_tiling, matmul_auto_tiling
from gemforge.backends.gemmini.library.resadd import emit_resadd, resadd_reference, resadd_scales, resadd_tiling
from gemforge.backends.gemmini.program import Program
from gemforge.errors import GemforgeError
from gemforge.layers import ConvLayer, Layer, MatmulLayer
from gemforge import reference
from gemforge.target import Target

__all__ = [
    "ConvTiling", "MatmulTiling", "TilingError", "LibraryInfo", "auto_tiling", "compile_layer",
    "conv_auto_tiling", "conv_auto_search", "searched_conv_tiling", "matmul_auto_tiling", "check_conv_tiling", "check_matmul_tiling",
    "default_output_scale", "random_parameters", "emit_resadd", "resadd_reference", "resadd_scales", "resadd_tiling",
]

INPUT, WEIGHTS, BIAS, OUTPUT = "input", "weights", "bias", "output"


@dataclass
class LibraryInfo:
    """What ``compile_layer`` decided, and the numpy reference of what the program computes."""

    layer: Layer
    tiling: MatmulTiling | ConvTiling
    tiles: int
    weights: np.ndarray
    bias: np.ndarray | None
    output_scale: float
    activation: str
    pool: tuple[int, int, int] = (1, 0, 0)
    extra: dict = field(default_factory=dict)

    def expected(self, x: np.ndarray) -> np.ndarray:
        """The int8 output the program must produce for input ``x`` (exact)."""
        if isinstance(self.layer, MatmulLayer):
            acc = reference.matmul(x, self.weights, self.bias)
        else:
            lay = self.layer
            acc = reference.conv2d(x, self.weights, self.bias, stride=lay.stride, pad=lay.pad,
                                   dilation=lay.dilation, groups=lay.groups)
        y = reference.requantize(acc, self.output_scale, self.activation)
        size, stride, padding = self.pool
        return reference.maxpool(y, size, stride, padding) if stride else y


def default_output_scale(layer: Layer) -> float:
    """A requantization scale that keeps random int8 data mostly inside int8 after the layer."""
    if isinstance(layer, MatmulLayer):
        reduction = layer.k
    else:
        reduction = layer.kernel_h * layer.kernel_w * (layer.in_c // layer.groups)
    return 1.0 / (128.0 * math.sqrt(reduction))


def random_parameters(layer: Layer, seed: int = 0, bias: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Seeded random int8 weights (the layer's weight_shape) and int32 bias."""
    rng = np.random.default_rng(seed)
    w = rng.integers(-128, 128, size=layer.weight_shape, dtype=np.int8)
    out = layer.n if isinstance(layer, MatmulLayer) else layer.out_c
    b = rng.integers(-(1 << 14), 1 << 14, size=(out,), dtype=np.int32) if bias else None
    return w, b


def auto_tiling(layer: Layer, target: Target, downsample: bool = True) -> MatmulTiling | ConvTiling:
    """The tiling the library's auto entry point picks for this layer (``downsample``: see
    :func:`compile_layer`)."""
    if isinstance(layer, MatmulLayer):
        return matmul_auto_tiling(layer, target)
    return conv_auto_tiling(layer, target, downsample=downsample)


def searched_conv_tiling(program: Program, layer: ConvLayer, target: Target, pool: tuple[int, int, int] = (1, 0, 0),
                         downsample: bool = True) -> ConvTiling:
    """The tiling of the auto entry point, ``tiled_conv_auto``, after the host step that
    stands for its run-time search (``autotile``: the candidates the search checks on every
    call, which the simulator charges ``host_autotile_eval_cycles`` each)."""
    size, stride, padding = pool
    tiling, candidates = conv_auto_search(layer, target, size, stride, padding, downsample)
    program.host("autotile", [], [], candidates=candidates)
    return tiling


def compile_layer(layer: Layer, target: Target, tiling: MatmulTiling | ConvTiling | None = None, *,
                  weights: np.ndarray | None = None, bias: np.ndarray | bool | None = True,
                  output_scale: float | None = None, activation: str = "none", seed: int = 0,
                  pool: tuple[int, int, int] = (1, 0, 0), operand_reuse: bool = True,
                  first_layer_optimizations: bool = True, downsample: bool = True) -> tuple[Program, LibraryInfo]:
    """A Program running ``layer`` exactly as the vendor library would.

    ``tiling=None`` uses the library's auto-tiler; explicit tilings are checked as the
    library's non-auto entry points check them. ``weights`` (the layer's weight_shape,
    int8) and ``bias`` (int32 [out], ``True`` = random, ``False``/``None`` = no bias)
    default to seeded random data. The program reads tensor ``input`` and writes tensor
    ``output`` (int8): ``act(requantize(layer(input) + bias, output_scale))``, then
    max-pooled when ``pool = (size, stride, padding)`` has a nonzero stride (convs only).
    ``operand_reuse``, ``first_layer_optimizations`` and ``downsample`` (the strided-1x1
    shortcut) switch library features off to match older or modified libraries.
    """
    if activation not in ACTIVATIONS:
        raise GemforgeError(f"layer {layer.name}: activation {activation!r} is not one of {', '.join(ACTIVATIONS)}")
    rand_w, rand_b = random_parameters(layer, seed, bias is True)
    w = rand_w if weights is None else np.asarray(weights)
    b = rand_b if bias is True else (None if bias is None or bias is False else np.asarray(bias))
    if w.shape != tuple(layer.weight_shape):
        raise GemforgeError(f"layer {layer.name}: weights have shape {w.shape}, expected {layer.weight_shape}")
    scale = default_output_scale(layer) if output_scale is None else float(output_scale)
    program = Program(target.name, name=f"library:{layer.name}")
    if isinstance(layer, MatmulLayer):
        if pool[1]:
            raise GemforgeError(f"layer {layer.name}: the library's matmul has no pooling")
        tiling = tiling or matmul_auto_tiling(layer, target)
        if not isinstance(tiling, MatmulTiling):
            raise TilingError(f"layer {layer.name}: a matmul needs a MatmulTiling, got {type(tiling).__name__}")
        check_matmul_tiling(layer, tiling, target)
        ops = MatmulOperands(
            a=program.add_tensor(INPUT, layer.input_shape, "int8", "input"),
            b=program.add_tensor(WEIGHTS, layer.weight_shape, "int8", "constant", w),
            d=program.add_tensor(BIAS, (layer.n,), "int32", "constant", b) if b is not None else None,
            c=program.add_tensor(OUTPUT, layer.output_shape, "int8", "output"),
        )
        tiles = emit_tiled_matmul(program, target, layer.m, layer.k, layer.n, ops, tiling, activation=activation,
                                  output_scale=scale, operand_reuse=operand_reuse)
    else:
        tiling, tiles = _compile_conv(program, layer, target, tiling, w, b, scale, activation, pool, operand_reuse,
                                      first_layer_optimizations, downsample)
    return program, LibraryInfo(layer, tiling, tiles, w, b, scale, activation, pool)


def _compile_conv(program, layer: ConvLayer, target, tiling, w, b, scale, activation, pool, operand_reuse, flo,
                  downsample):
    size, stride, padding = pool
    if layer.groups != 1 and not layer.depthwise:
        raise GemforgeError(f"layer {layer.name}: the library has no grouped conv (groups = {layer.groups})")
    if layer.depthwise and layer.dilation != 1:
        raise GemforgeError(f"layer {layer.name}: the library's depthwise conv has no dilation")
    tiling = tiling or searched_conv_tiling(program, layer, target, pool, downsample)
    if not isinstance(tiling, ConvTiling):
        raise TilingError(f"layer {layer.name}: a conv needs a ConvTiling, got {type(tiling).__name__}")
    check_conv_tiling(layer, tiling, target, size, stride, padding, downsample)
    # The depthwise path reads weights channel-major: [C, KH, KW].
    w_dram = np.ascontiguousarray(w[:, :, 0, :].transpose(2, 0, 1)) if layer.depthwise else w
    if stride:
        out_h = (layer.out_h + 2 * padding - size) // stride + 1
        out_w = (layer.out_w + 2 * padding - size) // stride + 1
    else:
        out_h, out_w = layer.out_h, layer.out_w
    ops = ConvOperands(
        input=program.add_tensor(INPUT, layer.input_shape, "int8", "input"),
        weights=program.add_tensor(WEIGHTS, w_dram.shape, "int8", "constant", w_dram),
        bias=program.add_tensor(BIAS, (layer.out_c,), "int32", "constant", b) if b is not None else None,
        output=program.add_tensor(OUTPUT, (layer.batch, out_h, out_w, layer.out_c), "int8", "output"),
    )
    tiles = emit_tiled_conv(program, target, layer, ops, tiling, activation=activation, output_scale=scale,
                            pool_size=size, pool_stride=stride, pool_padding=padding, operand_reuse=operand_reuse,
                            first_layer_optimizations=flo, downsample=downsample)
    return tiling, tiles
