"""Where a fused max pool runs in a network (gemforge/network_pool.py): on Gemmini's
move-outs when the pooled loop form is no slower, else the conv in its best form and the
pool as a host kernel. A few-channel stride-2 stem (im2col form, tiny host pool) keeps the
pool on the host; a 16-channel 3x3 conv pools on the accelerator. Both are bit-exact."""

from __future__ import annotations

import numpy as np
import pytest

from gemforge.dialects import graph as G
from gemforge.network_build import ACCELERATOR, HOST
from gemforge.network_testing import build_module, check_network, const


def pooled(h, c, oc, k, s, pad):
    w = const(np.random.default_rng(c * oc).integers(-128, 128, size=(k, k, c, oc), dtype=np.int8))

    def body(args):
        conv = G.Conv2DOp(args[0], w.result, stride=(s, s), padding=(pad, pad), output_scale=0.01,
                          activation="relu", pool_kernel=(3, 3), pool_stride=(2, 2), pool_padding=(1, 1))
        return [w, conv], [conv.result]

    return build_module([(1, h, h, c)], body)


@pytest.mark.parametrize("shape, fused", [((32, 3, 24, 3, 2, 1), False), ((32, 16, 32, 3, 1, 1), True)])
def test_pool_goes_where_it_is_faster(shape, fused):
    net, _ = check_network(pooled(*shape), timing=True)
    where = [(n.op, n.where) for n in net.nodes]
    if fused:
        assert where == [("graph.conv2d", ACCELERATOR)]
    else:
        assert where == [("graph.conv2d", ACCELERATOR), ("graph.maxpool", HOST)]
        assert "cheaper on the host" not in net.nodes[0].reason  # the conv itself runs on Gemmini
