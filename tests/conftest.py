"""Test-session setup: the quantized-model cache (frontends/onnx_cache.py) lives in a
temporary folder for the session, so tests never read or fill the user's own cache
(subprocesses of the CLI tests inherit it through the environment)."""

from __future__ import annotations

import os
import shutil
import tempfile

_made: list[str] = []


def pytest_configure(config):
    if "GEMFORGE_CACHE_DIR" not in os.environ:
        _made.append(tempfile.mkdtemp(prefix="gemforge-test-cache-"))
        os.environ["GEMFORGE_CACHE_DIR"] = _made[0]


def pytest_unconfigure(config):
    for path in _made:
        shutil.rmtree(path, ignore_errors=True)
