"""The optimizing pipeline on one layer: memoized, and with the IR stages it writes.

A network compiles some layers twice: the max-pool placement trial
(:func:`gemforge.network_pool.fused_pool_pays`) compiles a pooled conv in its fused and
its split form, then the builder emits the winner again.  What ``gemforge-pipeline``
makes of a one-op module (a gemmini-dialect module whose DRAM addresses are bound only
when it is encoded) depends on nothing but the op -- its name, properties, attributes,
operand types and constant operands -- and the target, so :func:`compiled` keeps the
last results under that key and a repeated layer costs only its encoding.

:class:`LayerDump` says which stages of each layer are written, and where:
``all`` (the graph module and the module after every pass, ``<prefix>.<k>-<pass>.mlir``),
``final`` (only the last, gemmini-dialect stage) or ``none``.  Writing a stage prints
the layer's weights, the bulk of a network's compile time when every stage is kept.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports LAYER_IR: keep xDSL out of its start-up
    from xdsl.dialects.builtin import ModuleOp
    from xdsl.ir import Operation

    from gemforge.target import Target

LAYER_IR = ("all", "final", "none")
_CACHE: OrderedDict[tuple, ModuleOp] = OrderedDict()
_CACHE_LIMIT = 16  # the trial keeps at most three layers in flight; a few more are free


@dataclass(frozen=True)
class LayerDump:
    """Where (``folder``) and which (``stages``: one of :data:`LAYER_IR`) layer IR is written."""

    folder: Path
    stages: str = "all"

    def __post_init__(self):
        if self.stages not in LAYER_IR:
            raise ValueError(f"layer IR stages {self.stages!r} are not one of {', '.join(LAYER_IR)}")

    def write(self, prefix: str, k: int, name: str, module: ModuleOp, last: bool) -> None:
        """Write stage ``k`` (``name``; ``last``: the pipeline's result) if the policy keeps it."""
        from gemforge.testing import print_ir

        if self.stages == "all" or (self.stages == "final" and last):
            (self.folder / f"{prefix}.{k}-{name}.mlir").write_text(print_ir(module) + "\n")


def op_key(op: Operation, target: Target, spec: str) -> tuple:
    """Everything the pipeline's result depends on (attributes compare by value; a dense
    constant hashes its bytes, well under a millisecond for a large weight tensor)."""
    from gemforge.dialects import graph as G

    consts = tuple(v.owner.value if isinstance(v.owner, G.ConstantOp) else None for v in op.operands)
    return (op.name, tuple(sorted(op.properties.items())), tuple(sorted(op.attributes.items())),
            tuple(v.type for v in op.operands), consts, target, spec)


def compiled(op: Operation, target: Target, spec: str, dump: LayerDump | None = None,
             prefix: str = "layer") -> ModuleOp:
    """``op`` alone in a module, through ``gemforge-pipeline`` for ``spec`` (the pipeline's
    target: a TOML path or built-in name), writing the stages ``dump`` keeps under ``prefix``.
    Memoized: a repeated op is compiled again only when all its stages are to be written."""
    from gemforge.network_layers import single_op_module
    from gemforge.passes.gemforge_pipeline import pipeline_passes
    from gemforge.testing import context

    key = op_key(op, target, spec)
    passes = pipeline_passes(spec)
    hit = _CACHE.get(key)
    if hit is not None and (dump is None or dump.stages != "all"):
        _CACHE.move_to_end(key)
        if dump is not None:
            dump.write(prefix, len(passes), passes[-1].name, hit, last=True)
        return hit
    module = single_op_module(op)
    if dump is not None:
        dump.write(prefix, 0, "graph", module, last=False)
    ctx = context()
    for k, p in enumerate(passes, 1):
        p.apply(ctx, module)
        if dump is not None:
            dump.write(prefix, k, p.name, module, last=k == len(passes))
    _CACHE[key] = module
    if len(_CACHE) > _CACHE_LIMIT:
        _CACHE.popitem(last=False)
    return module
