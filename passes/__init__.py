"""Passes of gemforge, one per file, each a ``ModulePass`` with ``name = "kebab-case"``.

:func:`get_all_passes` is the lazy registry (name -> factory) that ``gemforge-opt``,
``xdsl-opt`` (through the ``xdsl.universe`` entry point) and the Python API use.
Add a pass by adding its file and one line to ``_PASSES``.
"""

from collections.abc import Callable
from importlib import import_module

from xdsl.passes import ModulePass

# pass name -> (module under gemforge.passes, class name)
_PASSES: dict[str, tuple[str, str]] = {}


def _factory(module: str, cls: str) -> Callable[[], type[ModulePass]]:
    def get() -> type[ModulePass]:
        return getattr(import_module(f"gemforge.passes.{module}"), cls)

    return get


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Lazy registry: pass name -> factory returning the pass class."""
    return {name: _factory(mod, cls) for name, (mod, cls) in _PASSES.items()}
