"""gemforge.layer_compile: the memoized per-layer pipeline and which IR stages it writes."""

from __future__ import annotations

import numpy as np
import pytest

from gemforge import layer_compile as lc
from gemforge.layer_compile import LayerDump, compiled, op_key
from gemforge.network_groups import detached_conv
from gemforge.target import load

T = load("gemmini-default")


def conv(seed: int = 0, scale: float = 0.05, shape=(1, 8, 8, 16)):
    w = np.random.default_rng(seed).integers(-8, 8, size=(3, 3, shape[3], 16), dtype=np.int8)
    return detached_conv(shape, w, padding=(1, 1, 1, 1), output_scale=scale)


@pytest.fixture(autouse=True)
def empty_cache():
    lc._CACHE.clear()
    yield
    lc._CACHE.clear()


def test_an_equal_op_reuses_the_compiled_module():
    first = compiled(conv(), T, T.name)
    again = compiled(conv(), T, T.name)  # a fresh op: same options, equal weights
    assert again is first and len(lc._CACHE) == 1


@pytest.mark.parametrize("other", [
    lambda: conv(seed=1),  # other weights
    lambda: conv(scale=0.06),  # another property
    lambda: conv(shape=(1, 10, 10, 16)),  # another operand type
])
def test_anything_the_result_depends_on_changes_the_key(other):
    base = compiled(conv(), T, T.name)
    assert op_key(other(), T, T.name) != op_key(conv(), T, T.name)
    assert compiled(other(), T, T.name) is not base


def test_another_target_is_another_key():
    big = load("gemmini-32x32")
    assert op_key(conv(), big, big.name) != op_key(conv(), T, T.name)


def test_the_cache_is_bounded():
    for seed in range(lc._CACHE_LIMIT + 3):
        compiled(conv(seed=seed), T, T.name)
    assert len(lc._CACHE) == lc._CACHE_LIMIT
    assert op_key(conv(seed=0), T, T.name) not in lc._CACHE  # the oldest went first


@pytest.mark.parametrize("stages, expected", [
    ("all", ["0-graph", "1-fuse-epilogues", "2-convert-graph-to-tile", "3-double-buffer",
             "4-allocate-scratchpad", "5-convert-tile-to-gemmini"]),
    ("final", ["5-convert-tile-to-gemmini"]),
    ("none", []),
])
def test_dump_writes_the_chosen_stages_also_on_a_cache_hit(tmp_path, stages, expected):
    for run in ("miss", "hit"):
        folder = tmp_path / run
        folder.mkdir()
        compiled(conv(), T, T.name, LayerDump(folder, stages), prefix="L")
        assert sorted(f.name for f in folder.iterdir()) == [f"L.{e}.mlir" for e in expected]


def test_a_cache_hit_writes_the_same_final_stage(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    compiled(conv(), T, T.name, LayerDump(tmp_path / "a", "final"))
    compiled(conv(), T, T.name, LayerDump(tmp_path / "b", "final"))
    name = "layer.5-convert-tile-to-gemmini.mlir"
    assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()


def test_an_unknown_stage_policy_is_refused(tmp_path):
    with pytest.raises(ValueError, match="'some' are not one of all, final, none"):
        LayerDump(tmp_path, "some")
