"""An on-disk cache of quantized models, so a model is calibrated and quantized once.

onnxruntime's static quantizer takes seconds (4.4 s of the ~26 s the built-in ResNet-50
example takes end to end), and its result is a pure function of what it is given. The key
hashes all of that: the float model as the quantizer receives it, every calibration feed
(names, dtypes, shapes and bytes, in order), the quantizer options, and the versions of
gemforge, onnx and onnxruntime, so an upgrade never reads an entry written by another
version.

Where: ``$GEMFORGE_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/gemforge``, else
``~/.cache/gemforge``; entries go in its ``quantized/`` folder, one ``<key>.onnx`` each.
``GEMFORGE_CACHE_DIR=""`` (set but empty) turns the cache off. The cache never changes
a result: an entry that cannot be read is quantized again and rewritten, a folder that
cannot be written is skipped, and entries are written to a temporary file and renamed
into place, so concurrent runs never see half a file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import onnx

# Bump when quantize_model changes what it asks onnxruntime for (entries then go stale).
FORMAT = 1


def cache_dir() -> Path | None:
    """The cache folder, or None when the cache is turned off."""
    explicit = os.environ.get("GEMFORGE_CACHE_DIR")
    if explicit is not None:
        return Path(explicit) if explicit else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gemforge"


def key(model: onnx.ModelProto, feeds: Sequence[dict[str, np.ndarray]], options: Iterable[str]) -> str:
    """The hex digest naming the quantization of ``model`` calibrated on ``feeds``."""
    import onnxruntime

    from gemforge import __version__

    h = hashlib.sha256()
    for part in (f"format {FORMAT}", __version__, onnx.__version__, onnxruntime.__version__, *options):
        h.update(part.encode() + b"\0")
    h.update(model.SerializeToString(deterministic=True))
    for feed in feeds:
        for name in sorted(feed):
            a = np.ascontiguousarray(feed[name])
            h.update(f"{name} {a.dtype.str} {a.shape}".encode() + b"\0")
            h.update(a.tobytes())
        h.update(b"\1")
    return h.hexdigest()


def cached(digest: Callable[[], str], make: Callable[[], onnx.ModelProto]) -> onnx.ModelProto:
    """The model stored under ``digest()`` (computed only when the cache is on), or
    ``make()``'s result, stored for next time."""
    folder = cache_dir()
    path = folder / "quantized" / f"{digest()}.onnx" if folder is not None else None
    if path is not None and path.is_file():
        try:
            return onnx.load(os.fspath(path))
        except Exception:  # a damaged entry: quantize again and replace it
            pass
    model = make()
    if path is not None:
        _store(path, model)
    return model


def _store(path: Path, model: onnx.ModelProto) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(model.SerializeToString())
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:  # read-only or full disk: the cache is an optimisation only
        pass
