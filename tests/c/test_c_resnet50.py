"""The C backend on every ResNet-50 layer of the layer suite: the emitted C, built with cc
against the recording gemmini.h and run, issues exactly the simulator's instruction stream
(full stream, instruction for instruction), for the optimizing (bnb) and library schedules."""

from __future__ import annotations

import pytest

from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.program import HostOp
from gemforge.compile import compile_layer
from gemforge.layers import load_suite

from c_roundtrip import assert_same_stream, needs_cc

RESNET50 = [layer for _, layer in load_suite(suite="resnet50")]
# Accelerator commands whose operands carry the layer's shape: a stream without any of
# them would make the comparison say little about the layer.
_LAYER_FUNCTS = {isa.LOOP_WS, isa.LOOP_CONV_WS, isa.COMPUTE_PRELOADED, isa.COMPUTE_ACCUMULATED}


def test_the_suite_holds_the_resnet50_layers():
    assert len(RESNET50) == 24
    assert len({layer.name for layer in RESNET50}) == 24


def _round_trip(layer, schedule, tmp_path):
    program, _ = compile_layer(layer, schedule=schedule)
    # (the library's run-time tile search is a host step that computes nothing)
    assert all(x.kind == "autotile" for x in program.items if isinstance(x, HostOp)), \
        "a single layer runs wholly on Gemmini"
    # blob=True: the weights go to a binary file beside a small C source (fast to build).
    assert_same_stream(program, tmp_path, blob=True, opt="-O1")
    assert (tmp_path / "prog.bin").stat().st_size > 0
    functs = {int(line.split()[0]) for line in (tmp_path / "expected.txt").read_text().splitlines()}
    assert functs & _LAYER_FUNCTS, f"{layer.name}: no compute or hardware-loop command in the stream"


@needs_cc
@pytest.mark.parametrize("layer", RESNET50, ids=lambda x: x.name)
def test_resnet50_bnb_layer_round_trip(tmp_path, layer):
    _round_trip(layer, "bnb", tmp_path)


@needs_cc
@pytest.mark.parametrize("layer", RESNET50, ids=lambda x: x.name)
def test_resnet50_library_layer_round_trip(tmp_path, layer):
    _round_trip(layer, "library", tmp_path)
