"""The "light" model zoo that ships inside the onnx package, made runnable.

``onnx/backend/test/data/light/light_<name>.onnx`` holds real architectures (ResNet-50,
SqueezeNet, VGG-19, ...) whose every weight is a ``ConstantOfShape(0.02)`` node, so the
files are a few kilobytes. :func:`light_float_model` replaces each of those nodes by an
initializer of seeded random values chosen by the role of the tensor, so that
activations neither explode nor vanish through fifty layers:

- conv / gemm weights: He-normal, std = sqrt(2 / fan_in) (sqrt(1 / fan_in) for the
  classifier, which has no ReLU after it);
- biases and batch-norm shifts: small uniform values;
- batch-norm scale and variance near 1, mean near 0 (so a folded batch norm is close to
  identity and the He scaling keeps its meaning).
"""

from __future__ import annotations

import os

import numpy as np
import onnx
from onnx import numpy_helper

from gemforge.errors import GemforgeError


def light_dir() -> str:
    """Directory of the light models inside the installed onnx package."""
    return os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")


def light_names() -> list[str]:
    """Names of the light models present (``resnet50``, ``squeezenet``, ...)."""
    files = os.listdir(light_dir()) if os.path.isdir(light_dir()) else []
    return sorted(f[len("light_") : -len(".onnx")] for f in files if f.startswith("light_") and f.endswith(".onnx"))


def light_float_model(name: str, seed: int = 0) -> onnx.ModelProto:
    """The light model ``name`` with seeded random weights in place of its constants."""
    path = os.path.join(light_dir(), f"light_{name}.onnx")
    if not os.path.isfile(path):
        raise GemforgeError(f"onnx light model '{name}' not found (have: {', '.join(light_names())})")
    model = onnx.load(path)
    _materialize_constants(model, np.random.default_rng(seed))
    return model


def light_file_name(path) -> str | None:
    """The light model name if ``path`` is an existing ``light_<name>.onnx`` of the zoo."""
    base = os.path.basename(os.fspath(path))
    name = base[len("light_"):-len(".onnx")]
    ok = base.startswith("light_") and base.endswith(".onnx") and name in light_names() and os.path.isfile(path)
    return name if ok else None


def _materialize_constants(model: onnx.ModelProto, rng: np.random.Generator) -> None:
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    consumers: dict[str, list[tuple[onnx.NodeProto, int]]] = {}
    for node in graph.node:
        for i, name in enumerate(node.input):
            consumers.setdefault(name, []).append((node, i))
    kept, used_shapes = [], set()
    for node in graph.node:
        if node.op_type != "ConstantOfShape" or node.input[0] not in inits:
            kept.append(node)
            continue
        shape = tuple(int(d) for d in numpy_helper.to_array(inits[node.input[0]]))
        role = _role(node.output[0], consumers)
        values = _draw(role, shape, rng, consumers, node.output[0]).astype(np.float32)
        graph.initializer.append(numpy_helper.from_array(values, node.output[0]))
        used_shapes.add(node.input[0])
    del graph.node[:]
    graph.node.extend(kept)
    # The shape tensors fed only the removed nodes; some zoo files carry unused blobs too.
    still_used = {name for node in kept for name in node.input}
    live = [t for t in graph.initializer if t.name in still_used]
    del graph.initializer[:]
    graph.initializer.extend(live)
    # IR version 3 lists every initializer as a graph input (overridable at run time);
    # from IR version 4 on they are plain constants, which is what the weights are.
    model.ir_version = max(model.ir_version, 7)
    inputs = [i for i in graph.input if i.name in still_used and i.name not in {t.name for t in live}]
    del graph.input[:]
    graph.input.extend(inputs)


def _role(name: str, consumers: dict[str, list[tuple[onnx.NodeProto, int]]]) -> str:
    """What a constant is, from the first op that reads it (through Unsqueeze)."""
    uses = consumers.get(name, [])
    if not uses:
        return "unused"
    node, index = uses[0]
    if node.op_type in ("Unsqueeze", "Reshape") and index == 0:
        return _role(node.output[0], consumers)
    if (node.op_type, index) == ("BatchNormalization", 1) and _feeds_sum(node, consumers):
        return "residual_bn_scale"
    table = {
        ("Conv", 1): "conv_weight", ("Conv", 2): "bias",
        ("Gemm", 1): "gemm_weight", ("Gemm", 2): "bias",
        ("BatchNormalization", 1): "bn_scale", ("BatchNormalization", 2): "bias",
        ("BatchNormalization", 3): "bn_mean", ("BatchNormalization", 4): "bn_var",
        ("Mul", 1): "bn_scale", ("Add", 1): "bias",
    }
    role = table.get((node.op_type, index))
    if role is None:
        raise GemforgeError(f"light model: cannot tell what constant '{name}' feeding {node.op_type} input {index} is")
    return role


def _draw(role: str, shape: tuple[int, ...], rng: np.random.Generator, consumers, name: str) -> np.ndarray:
    if role == "conv_weight":
        fan_in = int(np.prod(shape[1:]))
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
    if role == "gemm_weight":
        node = consumers[name][0][0]
        trans_b = any(a.name == "transB" and a.i for a in node.attribute)
        # A weight that reaches the Gemm through a Reshape is stored [out, in, 1, 1].
        fan_in = int(np.prod(shape[1:])) if trans_b or node.op_type == "Reshape" else shape[0]
        node = _final_user(node, consumers)
        # A hidden fully connected layer is followed by ReLU; the classifier is not.
        gain = 1.0 if _feeds_softmax(node, consumers) else 2.0
        return rng.normal(0.0, np.sqrt(gain / fan_in), shape)
    if role == "bias":
        return rng.uniform(-0.1, 0.1, shape)
    if role == "bn_scale":
        return rng.uniform(0.8, 1.2, shape)
    if role == "residual_bn_scale":
        # The last batch norm of a residual branch starts small (as in "zero-init
        # residual" training) so the sum of sixteen branches does not blow up.
        return rng.uniform(0.2, 0.4, shape)
    if role == "bn_mean":
        return rng.uniform(-0.1, 0.1, shape)
    if role == "bn_var":
        return rng.uniform(0.8, 1.2, shape)
    return np.zeros(shape)


def _final_user(node: onnx.NodeProto, consumers) -> onnx.NodeProto:
    while node.op_type == "Reshape":
        node = consumers[node.output[0]][0][0]
    return node


def _feeds_sum(node: onnx.NodeProto, consumers) -> bool:
    return any(user.op_type in ("Sum", "Add") for user, _ in consumers.get(node.output[0], []))


def _feeds_softmax(node: onnx.NodeProto, consumers) -> bool:
    return any(user.op_type == "Softmax" for user, _ in consumers.get(node.output[0], []))
