"""Helpers for IR-level unit tests: parse IR text, run a pipeline in-process, print.

    >>> from gemforge.testing import run_pipeline
    >>> print(run_pipeline(IR_TEXT, "canonicalize"))

Everything uses the same dialects and passes as ``gemforge-opt``.
"""

from __future__ import annotations

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser
from xdsl.passes import PassPipeline
from xdsl.printer import Printer
from io import StringIO

from xdsl.utils.exceptions import ArgSpecParseError

from gemforge.diagnostics import pipeline_error
from gemforge.errors import GemforgeError


def context() -> Context:
    """A context that knows xDSL's dialects and gemforge's."""
    from xdsl.dialects import get_all_dialects as xdsl_dialects

    from gemforge.dialects import get_all_dialects

    ctx = Context()
    for name, factory in {**xdsl_dialects(), **get_all_dialects()}.items():
        ctx.register_dialect(name, factory)
    return ctx


def parse(text: str, ctx: Context | None = None, verify: bool = True) -> ModuleOp:
    """Parse IR text into a module (verified unless ``verify=False``)."""
    module = Parser(ctx or context(), text).parse_module()
    if verify:
        module.verify()
    return module


def print_ir(op) -> str:
    """Print an op (usually a module) in custom syntax."""
    out = StringIO()
    Printer(stream=out).print_op(op)
    return out.getvalue()


def pipeline(spec: str) -> PassPipeline:
    """Build a pass pipeline from a ``gemforge-opt -p`` string."""
    from xdsl.transforms import get_all_passes as xdsl_passes

    from gemforge.passes import get_all_passes

    available = {**xdsl_passes(), **get_all_passes()}
    try:
        return PassPipeline.parse_spec(available, spec)
    except (Exception, ArgSpecParseError) as e:  # xDSL raises several types for a bad spec
        raise GemforgeError(pipeline_error(e, spec)) from None


def run_pipeline(text_or_module: str | ModuleOp, spec: str) -> str:
    """Parse (if given text), apply the pipeline, verify and return the printed IR."""
    ctx = context()
    module = parse(text_or_module, ctx) if isinstance(text_or_module, str) else text_or_module
    if spec:
        pipeline(spec).apply(ctx, module)
    module.verify()
    return print_ir(module)


def applied(pass_, module: ModuleOp) -> ModuleOp:
    """A verified copy of ``module`` after the ModulePass instance ``pass_`` (the input is kept)."""
    out = module.clone()
    pass_.apply(context(), out)
    out.verify()
    return out


def graph_op_names(module: ModuleOp) -> list[str]:
    """The names of the graph ops (constants left out) of ``module``'s first function, in order."""
    ops = next(iter(module.ops)).body.block.ops
    return [op.name for op in ops if op.name.startswith("graph.") and op.name != "graph.constant"]
