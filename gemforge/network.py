"""Whole networks: partition a graph module between Gemmini and the host, compile it to
ONE Program, simulate it layer by layer, and report where each node ran.

    from gemforge.network import compile_network
    net = compile_network(module, "gemmini-default", schedule="bnb")   # or "library"
    result = net.run({"data_0": x_int8})          # per-layer timed simulation
    result.outputs["r64"], result.total_cycles, print(result.table())
    net.save("out/")                  # program.npz, program.txt, partition.json

Partitioning and the Program layout: :mod:`gemforge.network_build`; the host kernels
and their CPU cost model: :mod:`gemforge.sim.host_graph`; per-layer simulation:
:mod:`gemforge.network_sim`. ONNX models end to end: :mod:`gemforge.network_model`.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from gemforge.backends.gemmini.program import Program
from gemforge.graph_eval import find_function
from gemforge.layer_compile import LayerDump
from gemforge.network_build import ACCELERATOR, HOST, NetworkBuilder, Node
from gemforge.target import Target, resolve

import gemforge.sim.host_graph  # noqa: F401  (registers the graph host kernels)


def fuse(module: ModuleOp, names: dict | None = None) -> ModuleOp:
    """A copy of ``module`` after ``fuse-epilogues``, ``fold-channel-shuffle`` (layout
    chains that permute channels go into conv weights) and then ``fold-lut`` (chains of
    per-channel int8 ops left on the host become table lookups; the input is left
    untouched). ``names`` (value of ``module`` -> name, e.g. ONNX tensor names) become the
    copy's name hints, which name the nodes of the report (a fused op keeps the name of
    the last op it absorbed)."""
    from gemforge.passes.fold_channel_shuffle import FoldChannelShuffle
    from gemforge.passes.fold_lut import FoldLut
    from gemforge.passes.fuse_epilogues import FuseEpilogues
    from gemforge.testing import context

    mapping: dict = {}
    fused = module.clone(value_mapper=mapping)
    for value, name in (names or {}).items():
        if value in mapping:
            mapping[value].name_hint = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_") or None
    FuseEpilogues().apply(context(), fused)
    FoldChannelShuffle().apply(context(), fused)
    FoldLut().apply(context(), fused)
    return fused


@dataclass
class LayerResult:
    """One node of a simulated network."""

    name: str
    op: str
    where: str
    reason: str
    cycles: int
    macs: int
    utilization: float  # MACs / (cycles * DIM^2) on the accelerator, 0 on the host
    instructions: int

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class NetworkResult:
    """Outputs (graph result name -> int8 array), cycles and the per-layer breakdown."""

    outputs: dict[str, np.ndarray]
    total_cycles: int
    layers: list[LayerResult]
    simulate_seconds: float
    timed: bool = True
    simulate_cpu_seconds: float = 0.0  # process CPU time (less disturbed by a loaded machine)
    trace: dict | None = field(default=None, repr=False)

    def totals(self) -> dict:
        acc = [x for x in self.layers if x.where == ACCELERATOR]
        host = [x for x in self.layers if x.where == HOST]
        return {"accelerator_nodes": len(acc), "host_nodes": len(host),
                "accelerator_cycles": sum(x.cycles for x in acc), "host_cycles": sum(x.cycles for x in host),
                "macs": sum(x.macs for x in self.layers)}

    def table(self) -> str:
        """The per-layer table and totals, for people."""
        lines = [f"{'#':>4} {'layer':<34}{'where':<12}{'cycles':>14}{'util':>8}  note"]
        for i, x in enumerate(self.layers):
            util = f"{x.utilization:.1%}" if x.where == ACCELERATOR else "-"
            lines.append(f"{i:>4} {x.name[:33]:<34}{x.where:<12}{x.cycles:>14,}{util:>8}  {x.reason[:60]}")
        t = self.totals()
        total = max(self.total_cycles, 1)
        lines.append(f"total: {self.total_cycles:,} cycles; accelerator {t['accelerator_nodes']} nodes "
                     f"{t['accelerator_cycles']:,} cycles ({t['accelerator_cycles'] / total:.1%}), host "
                     f"{t['host_nodes']} nodes {t['host_cycles']:,} cycles ({t['host_cycles'] / total:.1%}); "
                     f"{t['macs']:,} MACs")
        return "\n".join(lines)

    def write_trace(self, path: str | Path) -> None:
        if self.trace is None:
            from gemforge.errors import GemforgeError

            raise GemforgeError("no trace recorded: run with trace=True")
        Path(path).write_text(json.dumps(self.trace))


@dataclass
class CompiledNetwork:
    """A network compiled to one Program, with its partition."""

    program: Program
    nodes: list[Node]
    target: Target
    schedule: str
    input_names: list[str]
    output_names: list[str]
    compile_seconds: float
    compile_cpu_seconds: float = 0.0  # process CPU time (less disturbed by a loaded machine)
    adds: str = "host"  # where int8 adds run (gemforge/network_adds.py)

    @property
    def accelerator_nodes(self) -> list[Node]:
        return [n for n in self.nodes if n.where == ACCELERATOR]

    @property
    def host_nodes(self) -> list[Node]:
        return [n for n in self.nodes if n.where == HOST]

    def partition(self) -> list[dict]:
        """Which node runs where, and why (JSON-ready)."""
        return [{"name": n.name, "op": n.op, "where": n.where, "reason": n.reason, "macs": n.macs}
                for n in self.nodes]

    def run(self, inputs: dict[str, np.ndarray], *, timing: bool = True, per_layer: bool = True,
            trace: bool = False, progress=None) -> NetworkResult:
        """Simulate on ``inputs`` (graph argument name -> int8 array).

        ``per_layer`` (default) simulates node by node (:mod:`gemforge.network_sim`) for
        per-layer cycles; ``per_layer=False`` runs the one Program at once (no per-layer
        cycles; with ``timing=True`` its total). ``timing=False``: functional only.
        ``trace``: record a Chrome trace (``result.write_trace``; per-layer runs only).
        ``progress(node, result)`` is called after each node."""
        from gemforge import sim
        from gemforge.network_sim import merged_trace, run_nodes

        t0, c0 = time.perf_counter(), time.process_time()
        if not per_layer:
            res = sim.run(self.program, inputs, self.target, timing=timing)
            layers = [self._layer(n, None) for n in self.nodes]
            return NetworkResult({n: res.outputs[n] for n in self.output_names}, res.cycles, layers,
                                 time.perf_counter() - t0, timing, simulate_cpu_seconds=time.process_time() - c0)
        values, results = run_nodes(self.program, self.nodes, inputs, self.target, timing=timing, trace=trace,
                                    progress=progress)
        layers = [self._layer(n, r) for n, r in zip(self.nodes, results)]
        tr = merged_trace(self.nodes, results, self.target.name) if trace and timing else None
        return NetworkResult({n: values[n] for n in self.output_names}, sum(x.cycles for x in layers), layers,
                             time.perf_counter() - t0, timing, simulate_cpu_seconds=time.process_time() - c0, trace=tr)

    def _layer(self, node: Node, res) -> LayerResult:
        cycles = int(res.cycles) if res is not None else 0
        peak = cycles * self.target.dim ** 2
        util = node.macs / peak if node.where == ACCELERATOR and peak else 0.0
        return LayerResult(node.name, node.op, node.where, node.reason, cycles, node.macs, util,
                           res.instructions if res is not None else 0)

    def save(self, directory: str | Path) -> Path:
        """Write ``program.npz`` (the Program), ``program.txt`` (it, for people: tensors,
        loops, instructions, host kernels) and ``partition.json`` into ``directory``."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        self.program.save(d / "program.npz")
        (d / "program.txt").write_text(f"{self.program}\n")
        meta = {"target": self.target.name, "schedule": self.schedule, "adds": self.adds, "inputs": self.input_names,
                "outputs": self.output_names, "nodes": [asdict(n) for n in self.nodes]}
        (d / "partition.json").write_text(json.dumps(meta, indent=1))
        return d


def compile_network(module: ModuleOp, target: Target | str | None = None, *, schedule: str = "bnb",
                    progress=None, emit_dir: str | Path | None = None, names: dict | None = None,
                    adds: str = "host", layer_ir: str = "all") -> CompiledNetwork:
    """Fuse, partition and compile a graph module (one ``func.func``) into one Program.

    ``schedule``: ``bnb`` (the optimizing pipeline) or ``library`` (the vendor-library
    baseline) for the accelerator layers. ``progress(node)`` is called after each node.
    ``emit_dir``: write the IR there: ``graph.mlir`` (as given), ``fused.mlir`` (after
    :func:`fuse`'s graph passes) and, per accelerator layer, ``layers/<node>.<k>-<pass>.mlir``
    after each pass of ``gemforge-pipeline`` (``layer_ir``: ``all`` stages, the ``final`` one,
    or ``none``); ``names``: see :func:`fuse`. ``adds``: where
    int8 adds run, ``host`` (exact) or ``gemmini`` (the vendor's tiled_resadd, not bit-exact;
    :mod:`gemforge.network_adds`)."""
    t = resolve(target)
    t0, c0 = time.perf_counter(), time.process_time()
    fused = fuse(module, names)
    dump = None
    if emit_dir is not None:
        from gemforge.testing import print_ir

        Path(emit_dir).mkdir(parents=True, exist_ok=True)
        dump = LayerDump(Path(emit_dir) / "layers", layer_ir)
        if layer_ir != "none":
            dump.folder.mkdir(exist_ok=True)
        (Path(emit_dir) / "graph.mlir").write_text(print_ir(module) + "\n")
        (Path(emit_dir) / "fused.mlir").write_text(print_ir(fused) + "\n")
    if progress is not None and hasattr(progress, "total"):  # e.g. a ProgressBar: nodes to come
        progress.total = max(1, sum(1 for op in find_function(fused).body.block.ops
                                    if op.dialect_name() == "graph" and op.name != "graph.constant"))
    spec = str(target) if isinstance(target, str | Path) else None
    b = NetworkBuilder(fused, t, schedule, progress, dump, spec, adds)
    program = b.build()
    return CompiledNetwork(program, b.nodes, t, schedule, b.input_names, b.output_names, time.perf_counter() - t0,
                           time.process_time() - c0, adds)
