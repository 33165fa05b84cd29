"""The light model zoo shipped with onnx, with seeded weights: quantized by
onnxruntime, imported, evaluated by graph_eval and checked bit-exactly against
onnxruntime running the same quantized model (QOperator and QDQ forms)."""

from __future__ import annotations

import os

import pytest

from gemforge.dialects import graph as G
from gemforge.frontends.onnx import builtin_example, load_model
from gemforge.frontends.onnx_check import compare_layers
from gemforge.frontends.onnx_quantize import random_inputs
from gemforge.frontends.onnx_light import light_names


def _count(module, op_type) -> int:
    return sum(isinstance(op, op_type) for op in module.walk())


def test_light_models_are_shipped():
    assert {"resnet50", "squeezenet"} <= set(light_names())


@pytest.mark.parametrize("quant_format", ["qoperator", "qdq"])
def test_squeezenet_bit_exact(compare, quant_format):
    module, info = load_model("squeezenet", quant_format=quant_format)
    assert _count(module, G.Conv2DOp) == 26 and _count(module, G.ConcatOp) == 8
    compare(module, info)
    layers = compare_layers(module, info, random_inputs(info.quantized, seed=3, count=1)[0])
    assert {name: d for name, d in layers.items() if d.count} == {}


def test_resnet50_builtin_example_bit_exact_layer_by_layer(compare):
    module, info = builtin_example()
    assert _count(module, G.Conv2DOp) == 53
    assert _count(module, G.AddOp) == 16
    assert _count(module, G.MatmulOp) == 1
    assert [t.onnx_shape for t in info.inputs] == [(1, 3, 224, 224)]
    assert info.inputs[0].nhwc and info.float_tail is not None  # the final Softmax
    compare(module, info)
    # Every int8 tensor of the network, not only the logits.
    feeds = random_inputs(info.quantized, seed=2, count=1)[0]
    layers = compare_layers(module, info, feeds)
    assert len(layers) > 200
    assert {name: d for name, d in layers.items() if d.count} == {}


@pytest.mark.slow
def test_resnet50_qdq_bit_exact(compare):
    compare(*load_model("resnet50", quant_format="qdq"))


def test_shufflenet_bit_exact(compare):
    # Channel shuffles: Reshape -> Transpose -> Reshape on NHWC tensors.
    module, info = load_model("shufflenet")
    assert _count(module, G.TransposeOp) > 0
    compare(module, info)


# VGG-19 (~2 min: 140M weights through the quantizer), AlexNet, ZFNet and DenseNet-121
# run only on request; GoogLeNet (inception_v1: LRN, float islands) runs by default.
HEAVY = pytest.mark.skipif(not os.environ.get("GEMFORGE_SLOW_TESTS"), reason="set GEMFORGE_SLOW_TESTS=1")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["inception_v2", pytest.param("vgg19", marks=HEAVY)])
def test_other_light_models_bit_exact(compare, name):
    compare(*load_model(name))


def test_inception_v1_lrn_islands(compare):
    module, info = load_model("inception_v1")
    assert _count(module, G.LRNOp) == 2
    compare(module, info, max_lsb=1, max_fraction=1e-3)  # LRN's pow: see test_onnx_float_islands.py


@pytest.mark.slow
@HEAVY
@pytest.mark.parametrize("name, op, count", [("bvlc_alexnet", G.LRNOp, 2), ("zfnet512", G.LRNOp, 2),
                                             ("densenet121", G.ChannelAffineOp, 62)])
def test_float_island_light_models(compare, name, op, count):
    module, info = load_model(name)
    assert _count(module, op) == count
    compare(module, info, max_lsb=1, max_fraction=1e-3)


def test_different_seeds_give_different_weights():
    from gemforge.frontends.onnx_light import light_float_model

    a, b = (light_float_model("squeezenet", seed=s) for s in (0, 1))
    wa = next(t for t in a.graph.initializer if t.name.endswith("_w_0"))
    wb = next(t for t in b.graph.initializer if t.name == wa.name)
    assert wa.raw_data != wb.raw_data


def test_zoo_file_path_reads_as_the_light_model():
    from gemforge.frontends.onnx_light import light_dir

    module, info = load_model(os.path.join(light_dir(), "light_squeezenet.onnx"))
    assert _count(module, G.Conv2DOp) == 26 and info.inputs[0].onnx_shape == (1, 3, 224, 224)
