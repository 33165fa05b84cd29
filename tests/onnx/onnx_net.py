"""A tiny float ONNX graph builder for the frontend tests (seeded weights, input 'x')."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper, numpy_helper

F32 = np.float32

class Net:
    """A tiny float ONNX graph builder with seeded weights (input 'x')."""

    def __init__(self, shape, seed=0):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.shape = [], [], shape

    def const(self, array):
        name = f"c{len(self.inits)}"
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type, inputs, **attrs):
        out = f"t{len(self.nodes)}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=f"n{len(self.nodes)}", **attrs))
        return out

    def conv(self, x, cin, cout, k, group=1, **attrs):
        w = self.rng.normal(0, np.sqrt(2 / (cin // group * k * k)), (cout, cin // group, k, k)).astype(F32)
        b = self.rng.uniform(-0.1, 0.1, cout).astype(F32)
        return self.op("Conv", [x, self.const(w), self.const(b)], kernel_shape=[k, k], group=group, **attrs)

    def clip(self, x, lo, hi):
        return self.op("Clip", [x, self.const(F32(lo)), self.const(F32(hi))])

    def axes(self, values):
        return self.const(np.array(values, np.int64))

    def model(self, out, opset=13):
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(self.shape))
        y = helper.make_tensor_value_info(out, TensorProto.FLOAT, None)
        m = helper.make_model(helper.make_graph(self.nodes, "net", [x], [y], self.inits),
                              opset_imports=[helper.make_opsetid("", opset)])
        m.ir_version = 8
        return m
