"""ONNX models end to end: import (quantized by onnxruntime), compile, simulate, check.

    from gemforge.network_model import run_model
    run = run_model("resnet50", target="gemmini-default", schedule="bnb", check=True)
    run.result.total_cycles, run.check["passed"], run.to_json()

``model`` is an ``.onnx`` file or the name of a light model shipped with onnx (None:
the built-in example, ResNet-50). Inputs: a ``.npy`` file (the model's single input, float,
ONNX layout) or a ``.npz`` (one array per input name), else seeded random data.

The check runs onnxruntime on the very quantized model that was imported and compares
every int8 result of the graph function (and, through the float tail, every ONNX output).
Both sides implement the same integer arithmetic (requantization is
``sat(round_half_even(f32(acc) * f32(scale)))``), so the expected difference is zero; the
pass criterion allows what the project's rounding rule bounds: at most 1 LSB on at most
0.1 % of the elements of each output (:meth:`gemforge.frontends.onnx_check.Diff.within`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from gemforge.errors import GemforgeError
from gemforge.network import CompiledNetwork, NetworkResult, compile_network

MAX_LSB, MAX_FRACTION = 1, 1e-3
DEFAULT_MODEL = "resnet50"


@dataclass
class ModelRun:
    """Everything one ``gemforge run`` produced."""

    model: str
    net: CompiledNetwork
    result: NetworkResult | None
    import_seconds: float
    int8: dict[str, np.ndarray] = field(default_factory=dict)  # graph results, ONNX layout
    outputs: dict[str, np.ndarray] = field(default_factory=dict)  # the ONNX outputs (after the float tail)
    check: dict | None = None

    def to_json(self) -> dict:
        r, net = self.result, self.net
        out = {"model": self.model, "target": net.target.name, "schedule": net.schedule, "adds": net.adds,
               "total_cycles": r.total_cycles if r else None,
               "accelerator_nodes": len(net.accelerator_nodes), "host_nodes": len(net.host_nodes),
               "import_seconds": round(self.import_seconds, 3), "compile_seconds": round(net.compile_seconds, 3),
               "simulate_seconds": round(r.simulate_seconds, 3) if r else None,
               "compile_cpu_seconds": round(net.compile_cpu_seconds, 3),
               "simulate_cpu_seconds": round(r.simulate_cpu_seconds, 3) if r else None,
               "layers": [x.to_json() for x in r.layers] if r else net.partition()}
        if r is not None:
            out["totals"] = r.totals()
        if self.check is not None:
            out["check"] = self.check
        return out


def load(model: str | None, seed: int = 0):
    """(module, info, display name) of an ONNX file or light model (None: the built-in example)."""
    from gemforge.frontends.onnx import load_model

    name = model or DEFAULT_MODEL
    if model is not None and model.endswith(".onnx") and not os.path.isfile(model):
        raise GemforgeError(f"{model}: no such file")
    module, info = load_model(name, seed=seed)
    return module, info, os.path.basename(name)


def model_feeds(info, input_path: str | None, seed: int = 0) -> dict[str, np.ndarray]:
    """Float ONNX feeds: from a .npy / .npz file, else seeded standard-normal data."""
    from gemforge.frontends.onnx_quantize import random_inputs

    if input_path is None:
        return random_inputs(info.quantized, seed=seed, count=1)[0]
    names = [t.name for t in info.inputs]
    try:
        data = np.load(input_path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise GemforgeError(f"{input_path}: cannot read input ({e})") from None
    if isinstance(data, np.ndarray):
        if len(names) != 1:
            raise GemforgeError(f"{input_path}: the model has inputs {', '.join(names)}; give an .npz with each")
        feeds = {names[0]: data}
    else:
        with data:
            missing = [n for n in names if n not in data.files]
            if missing:
                raise GemforgeError(f"{input_path}: no array named {', '.join(missing)}")
            feeds = {n: data[n] for n in names}
    for t in info.inputs:
        if tuple(feeds[t.name].shape) != tuple(t.onnx_shape):
            raise GemforgeError(f"{input_path}: input '{t.name}' must have shape {list(t.onnx_shape)}, "
                                f"got {list(feeds[t.name].shape)}")
    return feeds


def value_names(info) -> dict:
    """IR value -> ONNX tensor name, for naming the report's nodes."""
    return {q.value: name for name, q in info.tensors.items()}


def final_outputs(info, int8: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The ONNX outputs from the graph results (int8, ONNX layout): dequantize and run
    the float tail (onnxruntime), as :func:`gemforge.frontends.onnx.run` does."""
    import onnx

    from gemforge.frontends.onnx_scales import dequantize

    floats = {t.name: dequantize(int8[t.name], t.scale) if t.dequantized else int8[t.name] for t in info.outputs}
    if info.float_tail is not None:
        from gemforge.frontends.onnx_check import onnxruntime_session

        session = onnxruntime_session(info.float_tail)
        tail = info.float_tail.graph
        feeds = {i.name: (floats[i.name] if i.type.tensor_type.elem_type == onnx.TensorProto.FLOAT else int8[i.name])
                 for i in tail.input}
        names = [o.name for o in tail.output]
        floats.update(zip(names, session.run(names, feeds)))
    return {name: floats[name] for name in info.onnx_outputs}


def check_against_onnxruntime(info, feeds, int8: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> dict:
    """Compare with onnxruntime on the same quantized model (see the module docstring)."""
    from gemforge.frontends.onnx_check import diff, onnxruntime_outputs

    theirs, final = onnxruntime_outputs(info, feeds)
    per, worst, frac, passed = {}, 0, 0.0, True
    for t in info.outputs:
        d = diff(int8[t.name], theirs[t.name])
        ok = d.within(MAX_LSB, MAX_FRACTION)
        per[t.name] = {"max_abs_diff_lsb": d.max_lsb, "mismatched": d.count, "elements": d.size, "passed": ok}
        worst, frac, passed = max(worst, d.max_lsb), max(frac, d.fraction), passed and ok
    finals = {}
    for name, value in final.items():
        ours = outputs[name]
        finals[name] = {"max_abs_diff": float(np.max(np.abs(ours.astype(np.float64) - value), initial=0.0)),
                        "equal": bool(np.array_equal(ours, value))}
    return {"passed": passed, "max_abs_diff_lsb": worst, "mismatched_fraction": frac,
            "bound": {"max_lsb": MAX_LSB, "max_fraction": MAX_FRACTION}, "outputs": per, "final_outputs": finals}


def run_model(model: str | None = None, *, target=None, schedule: str = "bnb", input_path: str | None = None,
              check: bool = False, timing: bool = True, trace: bool = False, emit_dir=None, seed: int = 0,
              compile_progress=None, sim_progress=None, simulate: bool = True, adds: str = "host",
              layer_ir: str = "all") -> ModelRun:
    """Import, compile, simulate (unless ``simulate=False``) and optionally check a model.
    ``compile_progress(node)`` / ``sim_progress(node, result)`` are called per node; their
    ``close()`` / ``start(total)`` methods, if any, when compilation ends.  ``emit_dir`` /
    ``layer_ir``: where the IR goes and which per-layer stages (:func:`compile_network`)."""
    from gemforge.frontends.onnx import quantize_inputs, to_onnx_layout

    t0 = time.perf_counter()
    module, info, name = load(model, seed)
    import_seconds = time.perf_counter() - t0
    feeds = model_feeds(info, input_path, seed) if simulate else None  # a bad input fails before compiling
    net = compile_network(module, target, schedule=schedule, progress=compile_progress, emit_dir=emit_dir,
                          names=value_names(info), adds=adds, layer_ir=layer_ir)
    run = ModelRun(name, net, None, import_seconds)
    if hasattr(compile_progress, "close"):
        compile_progress.close()
    if hasattr(sim_progress, "start"):
        sim_progress.start(len(net.nodes))
    if not simulate:
        return run
    run.result = net.run(quantize_inputs(info, feeds), timing=timing, trace=trace, progress=sim_progress)
    run.int8 = to_onnx_layout(info, run.result.outputs)
    run.outputs = final_outputs(info, run.int8)
    if check:
        run.check = check_against_onnxruntime(info, feeds, run.int8, run.outputs)
    return run
