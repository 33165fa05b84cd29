"""Simulate a compiled network: the whole Program at once, or node by node for per-layer cycles.

Per-layer timing runs each node's slice of the network Program as its own Program (the
same tensors at the same addresses: what the node reads becomes an ``input``, what it
writes an ``output``, its constants and scratch come along) and threads the values
through. Every node ends with a fence (accelerator layers) or is a host kernel (which
waits for the accelerator), so no work of one node overlaps the next in the whole
Program either; the network's cycles are the sum of the nodes' cycles. The only thing
this ignores is cache state carried from one node to the next (the L2 model starts
cold for each node), which makes the total slightly pessimistic.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from gemforge.backends.gemmini.program import Program
from gemforge.network_build import Node


def node_program(program: Program, node: Node) -> Program:
    """The Program running only ``node`` (see the module docstring)."""
    p = Program(program.target_name, name=node.name)
    for name in dict.fromkeys([*node.reads, *node.owned, *node.writes]):
        t = program.tensors[name]
        if t.role != "constant":
            role = "output" if name in node.writes else "input" if name in node.reads else t.role
            t = replace(t, role=role, data=None)
        p.tensors[name] = t
    p.items = program.items[node.start:node.stop]
    p._stack = [p.items]
    p._num_vars = program._num_vars
    return p


def run_nodes(program: Program, nodes: list[Node], inputs: dict[str, np.ndarray], target, *, timing: bool = True,
              trace: bool = False, progress=None):
    """Run node after node; returns (values: tensor name -> array, per-node Results)."""
    from gemforge import sim

    values = dict(inputs)
    results = []
    for node in nodes:
        p = node_program(program, node)
        # a node that reads what it writes (it updates part of the tensor) starts from its value
        feeds = {n: values[n] for n, t in p.tensors.items() if t.role == "input" or (t.role == "output" and n in node.reads)}
        res = sim.run(p, feeds, target, timing=timing, trace=True if trace else None)
        values.update(res.outputs)
        results.append(res)
        if progress is not None:
            progress(node, res)
    return values, results


def merged_trace(nodes: list[Node], results, target_name: str) -> dict:
    """One Chrome trace of the whole network: each node's events shifted by the cycles
    of the nodes before it, plus a ``layers`` track with one span per node."""
    from gemforge.sim.timing import UNITS
    from gemforge.sim.trace import chrome_trace

    events, spans, offset = [], [], 0.0
    for node, res in zip(nodes, results):
        events += [(u, name, s + offset, e + offset) for u, name, s, e in res.events]
        spans.append((node.name, offset, offset + res.cycles))
        offset += res.cycles
    trace = chrome_trace(events, target_name)
    tid = len(UNITS)
    trace["traceEvents"].append({"name": "thread_name", "ph": "M", "pid": 0, "tid": tid, "args": {"name": "layers"}})
    for name, s, e in spans:
        trace["traceEvents"].append({"name": name, "ph": "X", "pid": 0, "tid": tid, "ts": round(s, 3),
                                     "dur": round(e - s, 3)})
    return trace
