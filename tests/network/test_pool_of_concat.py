"""A padded max pool of a concat (inception's pool branch) in a network: on Gemmini's pooled
move-out when every concatenated input is provably >= 0 (known_nonnegative sees through
the concat to the ReLU epilogues), on the host when one may be negative; bit-exact both ways."""

from __future__ import annotations

import numpy as np
import pytest

from gemforge.dialects import graph as G
from gemforge.network_build import ACCELERATOR, HOST
from gemforge.network_testing import build_module, check_network, const


def concat_pool(second_activation: str):
    rng = np.random.default_rng(11)
    w1 = const(rng.integers(-128, 128, size=(1, 1, 16, 16), dtype=np.int8))
    w2 = const(rng.integers(-128, 128, size=(3, 3, 16, 16), dtype=np.int8))

    def body(args):
        a = G.Conv2DOp(args[0], w1.result, output_scale=0.004, activation="relu")
        b = G.Conv2DOp(args[0], w2.result, padding=(1, 1), output_scale=0.002, activation=second_activation)
        cat = G.ConcatOp([a.result, b.result], axis=3)
        pool = G.MaxPoolOp(cat.result, (3, 3), (1, 1), (1, 1))
        return [w1, w2, a, b, cat, pool], [pool.result]

    return build_module([(1, 12, 10, 16)], body)


@pytest.mark.parametrize("second, where", [("relu", ACCELERATOR), ("relu6", ACCELERATOR), ("none", HOST)])
def test_padded_pool_of_concat(second, where):
    net, _ = check_network(concat_pool(second), schedule="bnb")
    pool = next(n for n in net.nodes if n.op == "graph.maxpool")
    assert pool.where == where, pool.reason
    if where == HOST:
        assert "possibly negative" in pool.reason
