"""Convolutions with a fused max pool: LOOP_CONV_WS pools on its move-outs.

Random small dense convolutions (kernels 1-5, stride 1-2, padding, 1-2 images, few and
many channels, with and without bias and ReLU) with pools 2x2/2, 3x3/2 (padding 1) and
3x3/1, at the scheduler's tiling or random forced tiles (pooled tiles then recompute
the convolution rows their windows share); the simulated result must equal numpy's
convolution, requantization and max pool bit for bit. Forms that cannot pool and 1x1
convolutions (scheduled as matmuls) are one-line errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType, i8
from xdsl.ir import Block, Region

from gemforge import reference
from gemforge.compile import compile_module, run
from gemforge.dialects import graph
from gemforge.errors import GemforgeError

POOLS = [(2, 2, 0), (3, 2, 1), (3, 1, 1)]


def pooled_module(x_shape, w, bias, stride, pad, scale, relu, pool):
    size, pstride, ppad = pool
    xt = TensorType(i8, list(x_shape))
    block = Block(arg_types=[xt])
    block.args[0].name_hint = "input"
    wc = graph.ConstantOp.from_numpy(w)
    ops = [wc]
    bc = None
    if bias is not None:
        bc = graph.ConstantOp.from_numpy(bias)
        ops.append(bc)
    conv = graph.Conv2DOp(block.args[0], wc.result, bc.result if bc else None, stride=(stride, stride),
                          padding=(pad, pad), output_scale=scale, activation="relu" if relu else "none",
                          pool_kernel=(size, size), pool_stride=(pstride, pstride), pool_padding=(ppad, ppad))
    block.add_ops([*ops, conv, func.ReturnOp(conv.result)])
    return ModuleOp([func.FuncOp("pooled", ([xt], [conv.result.type]), Region(block))])


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 2), h=st.integers(4, 14), c=st.integers(1, 40), oc=st.integers(1, 40),
       kernel=st.sampled_from([1, 3, 5]), stride=st.integers(1, 2), pad=st.integers(0, 2), bias=st.booleans(),
       relu=st.booleans(), pool=st.sampled_from(POOLS), seed=st.integers(0, 2**16), data=st.data())
def test_pooled_conv_matches_reference(n, h, c, oc, kernel, stride, pad, bias, relu, pool, seed, data):
    pad = min(pad, kernel // 2)
    if kernel == 1 and pad == 0:
        pad, kernel = 1, 3  # a 1x1 convolution is scheduled as a matmul: pooled on the host (below)
    out = (h + 2 * pad - kernel) // stride + 1
    if out < pool[0]:
        return
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (n, h, h, c), dtype=np.int8)
    w = rng.integers(-128, 128, (kernel, kernel, c, oc), dtype=np.int8)
    b = rng.integers(-3000, 3000, oc).astype(np.int32) if bias else None
    scale = float(np.float32(1.0 / (kernel * kernel * c * 30)))
    tiles = ""
    if data.draw(st.booleans(), label="force tiles"):
        t = data.draw(st.integers(pool[0], out), label="conv rows per tile")
        tiles = f"oh={t},ow={data.draw(st.integers(pool[0], out), label='conv cols per tile')}"
    module = pooled_module(x.shape, w, b, stride, pad, scale, relu, pool)
    if pool[2] and not relu:  # Gemmini pools padding as 0: exact only over non-negative values
        with pytest.raises(GemforgeError, match="pools padding as zeros"):
            compile_module(module, "gemmini-default", tiles=tiles)
        return
    res = run(compile_module(module, "gemmini-default", tiles=tiles), {"input": x}, "gemmini-default")
    y = reference.requantize(reference.conv2d(x, w, b, stride=stride, pad=pad), scale, "relu" if relu else "none")
    want = reference.maxpool(y, *pool)
    assert np.array_equal(res.outputs["output"], want)


def test_pool_on_the_accelerator_not_the_host():
    """The pooled convolution is one program of LOOP_CONV_WS steps with pooling on (no host kernel)."""
    w = np.ones((3, 3, 8, 16), np.int8)
    program = compile_module(pooled_module((1, 16, 16, 8), w, None, 1, 1, 0.01, True, (3, 2, 1)), "gemmini-default")
    res = run(program, {"input": np.ones((1, 16, 16, 8), np.int8)}, "gemmini-default")
    assert res.outputs["output"].shape == (1, 8, 8, 16)
    assert res.counts.get("loop_conv_ws", 0) >= 1 and "host" not in res.counts


@pytest.mark.parametrize("form", ["fine", "im2col"])
def test_pooling_needs_the_loop_form(form):
    w = np.ones((3, 3, 8, 16), np.int8)
    with pytest.raises(GemforgeError, match="pooling is lowered in the loop form"):
        compile_module(pooled_module((1, 16, 16, 8), w, None, 1, 1, 0.01, True, (3, 2, 1)), "gemmini-default",
                       form=form)


def test_pointwise_pooled_conv_is_a_one_line_error():
    """A 1x1 convolution is scheduled as a matmul, which has no pooled tiles: the pass says
    so (a network then runs the pool on the host, gemforge/network_build.py)."""
    w = np.ones((1, 1, 8, 16), np.int8)
    with pytest.raises(GemforgeError, match="scheduler tiles as convolutions"):
        compile_module(pooled_module((1, 16, 16, 8), w, None, 1, 0, 0.01, True, (2, 2, 0)), "gemmini-default")
