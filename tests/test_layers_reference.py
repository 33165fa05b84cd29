"""Layer descriptions and the numpy references they are checked against."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gemforge import reference as ref
from gemforge.layers import ConvLayer, LayerError, MatmulLayer, load_suite


def test_suite_loads_every_row():
    rows = load_suite()
    suites = {s for s, _ in rows}
    assert suites == {"resnet50", "mobilenetv2", "bert"}
    assert len(rows) == 60
    assert len(load_suite(suite="bert")) == 5


def test_bad_suite_row_names_file_and_line(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("suite,name,op,batch,in_h,in_w,in_c,out_c,kernel_h,kernel_w,stride,pad,groups\nx,l1,conv3d,1,8,8,8,8,1,1,1,0,1\n")
    with pytest.raises(LayerError, match=r"bad.csv:2: layer l1: unknown op 'conv3d'"):
        load_suite(p)


def test_conv_output_shape():
    layer = ConvLayer(1, 224, 224, 3, 64, 7, 7, stride=2, pad=3)
    assert (layer.out_h, layer.out_w) == (112, 112)
    with pytest.raises(LayerError, match="groups"):
        ConvLayer(1, 8, 8, 6, 8, 3, 3, groups=4)


def _naive_conv(x, w, stride, pad, dilation, groups):
    n, h, wd, c = x.shape
    kh, kw, cg, cout = w.shape
    oh = (h + 2 * pad - dilation * (kh - 1) - 1) // stride + 1
    ow = (wd + 2 * pad - dilation * (kw - 1) - 1) // stride + 1
    xp = np.pad(x.astype(np.int64), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    out = np.zeros((n, oh, ow, cout), np.int64)
    og = cout // groups
    for o in range(cout):
        g = o // og
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, i * stride : i * stride + dilation * (kh - 1) + 1 : dilation,
                           j * stride : j * stride + dilation * (kw - 1) + 1 : dilation, g * cg : (g + 1) * cg]
                out[:, i, j, o] = (patch * w[..., o].astype(np.int64)).sum(axis=(1, 2, 3))
    return out.astype(np.int32)


@settings(max_examples=25, deadline=None)
@given(
    h=st.integers(3, 9), c=st.sampled_from([1, 2, 4]), groups=st.sampled_from([1, 2]),
    k=st.integers(1, 3), stride=st.integers(1, 2), pad=st.integers(0, 1), dilation=st.integers(1, 2),
    seed=st.integers(0, 2**16),
)
def test_conv_reference_matches_naive(h, c, groups, k, stride, pad, dilation, seed):
    if (k - 1) * dilation + 1 > h + 2 * pad:
        return
    rng = np.random.default_rng(seed)
    cin, cout = c * groups, 2 * groups
    x = rng.integers(-128, 128, (1, h, h, cin), dtype=np.int8)
    w = rng.integers(-128, 128, (k, k, cin // groups, cout), dtype=np.int8)
    got = ref.conv2d(x, w, stride=stride, pad=pad, dilation=dilation, groups=groups)
    np.testing.assert_array_equal(got, _naive_conv(x, w, stride, pad, dilation, groups))


def test_requantize_rounds_half_to_even_and_saturates():
    acc = np.array([5, 15, 25, -5, 1000, -1000], dtype=np.int32)
    got = ref.requantize(acc, 0.1)
    np.testing.assert_array_equal(got, [0, 2, 2, 0, 100, -100])
    np.testing.assert_array_equal(ref.requantize(np.array([3000, -3000], np.int32), 0.1), [127, -128])
    np.testing.assert_array_equal(ref.requantize(np.array([-50, 50], np.int32), 0.1, "relu"), [0, 5])


def test_matmul_layer():
    assert MatmulLayer(4, 5, 6).macs == 120
