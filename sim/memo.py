"""One bounded memo for the simulator's per-run caches (a layer's tiles repeat the same
operand fields tile after tile, so their state-independent analysis is made once)."""

from __future__ import annotations

from typing import Any, Callable


def memo(cache: dict, key, make: Callable[[], Any], limit: int | None = None) -> Any:
    """``cache[key]``, made by ``make()`` the first time (any value, None included); when
    ``limit`` entries are already held, the cache is emptied first (a new layer's patterns
    replace the old ones)."""
    try:
        return cache[key]
    except KeyError:
        pass
    value = make()
    if limit is not None and len(cache) >= limit:
        cache.clear()
    cache[key] = value
    return value
