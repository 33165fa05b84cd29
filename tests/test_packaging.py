"""The installed package imports every module, and nothing installs as a top-level 'sim' or 'passes'."""

import importlib
import importlib.util
import pkgutil
import tomllib
from pathlib import Path

import gemforge

REPO = Path(__file__).resolve().parent.parent


MAPPED = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]


def _walk(package) -> list[str]:
    """Every module under ``package`` as installed (recursing by import, so an editable
    install's mapped subpackages are followed too)."""
    names = [package.__name__]
    for info in pkgutil.iter_modules(package.__path__, prefix=package.__name__ + "."):
        if info.ispkg:
            names += _walk(importlib.import_module(info.name))
        else:
            names.append(info.name)
    return names


def _installed() -> set[str]:
    names = set(_walk(gemforge))
    for package in MAPPED:
        names |= set(_walk(importlib.import_module(package)))
    return names


def test_every_module_imports():
    names = _installed()
    for sub in ("dialects", "passes", "passes.schedule", "backends", "backends.gemmini", "sim", "frontends"):
        assert f"gemforge.{sub}" in names, f"gemforge.{sub} is not installed"
    for name in names:
        importlib.import_module(name)


def test_every_source_module_is_installed():
    """Every .py file in a mapped source folder is importable under gemforge.* (catches a package missing from pyproject)."""
    installed = _installed()
    for package, folder in MAPPED.items():
        for path in (REPO / folder).rglob("*.py"):
            rel = path.relative_to(REPO / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            name = ".".join([package, *parts])
            assert name in installed, f"{path.relative_to(REPO)} is not installed as {name}"


def test_no_top_level_packages_leak():
    for name in ("sim", "passes", "dialects", "backends", "frontends"):
        assert importlib.util.find_spec(name) is None, f"a top-level '{name}' package is installed"


def test_builtin_targets_are_package_data():
    from gemforge.target import builtin_names

    assert "gemmini-default" in builtin_names()
