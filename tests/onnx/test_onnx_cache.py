"""The on-disk cache of quantized models (frontends/onnx_cache.py): a hit gives the very
model onnxruntime made, without running it; anything that changes the result changes
the key; a damaged entry or an unwritable folder never changes a result."""

from __future__ import annotations

import numpy as np
import pytest
from onnx_net import Net

import onnxruntime.quantization as ortq
from gemforge.frontends import onnx_cache
from gemforge.frontends.onnx_quantize import quantize_model, random_inputs


def _model(seed=0):
    n = Net((1, 4, 6, 6), seed)
    return n.model(n.op("Relu", [n.conv("x", 4, 8, 3, pads=[1, 1, 1, 1])]))


def _entries(folder):
    return sorted((folder / "quantized").glob("*.onnx")) if (folder / "quantized").exists() else []


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GEMFORGE_CACHE_DIR", str(tmp_path))
    return tmp_path


def _no_quantizer(monkeypatch):
    def fail(*a, **k):
        raise AssertionError("onnxruntime's quantizer ran on a cache hit")
    monkeypatch.setattr(ortq, "quantize_static", fail)


def test_a_hit_returns_the_stored_model_without_quantizing(cache, monkeypatch):
    first = quantize_model(_model())
    assert len(_entries(cache)) == 1
    _no_quantizer(monkeypatch)
    again = quantize_model(_model())
    assert again.SerializeToString() == first.SerializeToString()


@pytest.mark.parametrize("weights_seed, kwargs", [
    (1, {}),  # other weights
    (0, {"seed": 1}),  # other random calibration feeds
    (0, {"quant_format": "qdq"}),
    (0, {"op_types": ("Conv",)}),
], ids=["weights", "seed", "format", "ops"])
def test_what_changes_the_result_changes_the_key(cache, weights_seed, kwargs):
    quantize_model(_model())
    quantize_model(_model(seed=weights_seed), **kwargs)
    assert len(_entries(cache)) == 2


def test_calibration_feeds_are_part_of_the_key(cache):
    m = _model()
    feeds = random_inputs(m, seed=3, count=2)
    a = quantize_model(m, calibration=feeds)
    feeds[1]["x"] = feeds[1]["x"] * 4  # a wider range: another input scale
    b = quantize_model(m, calibration=feeds)
    assert len(_entries(cache)) == 2
    assert a.SerializeToString() != b.SerializeToString()


def test_a_damaged_entry_is_quantized_again_and_replaced(cache):
    good = quantize_model(_model())
    [entry] = _entries(cache)
    entry.write_bytes(b"not a model")
    again = quantize_model(_model())
    assert again.SerializeToString() == good.SerializeToString()
    assert entry.read_bytes() == good.SerializeToString()


def test_an_empty_cache_dir_turns_the_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv("GEMFORGE_CACHE_DIR", "")
    monkeypatch.chdir(tmp_path)
    assert onnx_cache.cache_dir() is None
    quantize_model(_model())
    assert list(tmp_path.rglob("*.onnx")) == []


def test_the_default_folder_follows_xdg(tmp_path, monkeypatch):
    monkeypatch.delenv("GEMFORGE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert onnx_cache.cache_dir() == tmp_path / "gemforge"


def test_an_unwritable_folder_still_quantizes(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")  # a file where the cache folder should be: mkdir fails
    monkeypatch.setenv("GEMFORGE_CACHE_DIR", str(blocker))
    model = quantize_model(_model())
    assert any(node.op_type == "QLinearConv" for node in model.graph.node)


def test_feed_bytes_not_only_shapes_enter_the_key():
    m = _model()
    a = {"x": np.zeros((1, 4, 6, 6), np.float32)}
    b = {"x": np.ones((1, 4, 6, 6), np.float32)}
    assert onnx_cache.key(m, [a], ["qoperator"]) != onnx_cache.key(m, [b], ["qoperator"])
    assert onnx_cache.key(m, [a], ["qoperator"]) == onnx_cache.key(m, [dict(a)], ["qoperator"])
