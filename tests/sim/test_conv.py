"""Convolutions through LOOP_CONV_WS equal numpy's exact result."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gemforge import sim
from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.program import Program
from gemforge.sim.errors import SimError
from gemforge.sim.programs import conv_loop_conv_ws, conv_reference
from gemforge.target import default

T = default()


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 2), h=st.integers(3, 11), w=st.integers(3, 11),
       c=st.integers(1, 40), oc=st.integers(1, 40), k=st.sampled_from([1, 3]), stride=st.integers(1, 2),
       bias=st.booleans(), relu=st.booleans(), tiles=st.sampled_from([(None, None, None), (16, 16, 2)]))
def test_random_conv_is_exact(seed, n, h, w, c, oc, k, stride, bias, relu, tiles):
    padding = k // 2
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (n, h, w, c)).astype(np.int8)
    wt = rng.integers(-128, 128, (k, k, c, oc)).astype(np.int8)
    b = rng.integers(-3000, 3000, oc).astype(np.int32)
    och, ich, rows = tiles
    p = conv_loop_conv_ws(n, h, w, c, oc, k, stride, padding, T, bias=bias, scale=0.004, relu=relu,
                          tile_och=och, tile_ich=ich, tile_rows=rows)
    ins = {"X": x, "W": wt, **({"bias": b} if bias else {})}
    out = sim.run(p, ins, T, timing=False).outputs["Y"]
    assert np.array_equal(out, conv_reference(x, wt, b if bias else None, stride, padding, 0.004, relu))


@pytest.mark.parametrize("pool", [(3, 2, 1), (2, 2, 0)])
def test_conv_with_max_pool(pool):
    rng = np.random.default_rng(1)
    x = rng.integers(-128, 128, (1, 12, 10, 8)).astype(np.int8)
    wt = rng.integers(-128, 128, (3, 3, 8, 20)).astype(np.int8)
    b = rng.integers(-3000, 3000, 20).astype(np.int32)
    p = conv_loop_conv_ws(1, 12, 10, 8, 20, 3, 1, 1, T, bias=True, scale=0.004, relu=True, pool=pool)
    r = sim.run(p, {"X": x, "W": wt, "bias": b}, T)
    assert np.array_equal(r.outputs["Y"], conv_reference(x, wt, b, 1, 1, 0.004, True, pool))
    assert r.generated > 0 and r.cycles > 0


def test_unsupported_conv_modes_are_named():
    p = Program(T.name)
    args = {a: 1 for a in isa.LOOP_CONV_ARGS}
    args.update(trans_output_1203=1, a_spad_id=0, b_spad_id=0, max_pixels_per_row=1)
    p.emit(isa.loop_conv_ws(**args))
    with pytest.raises(SimError, match="trans_output_1203 = 1 is not supported"):
        sim.run(p, {}, T)
