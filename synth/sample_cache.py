"""SampleCache: the voices' rendered-audio caches, bounded by bytes rather than by entries.

Voices cache what is expensive and reusable (drum takes per brightness/grain/root, struck
notes per pitch, oscillator loops, short notes). Bounded by *entry count*, those caches
still grew by hundreds of MB in a long live session: an entry is anything from 4 KB to a
few MB, and a daemon whose faders and roots keep moving meets new keys for hours. One shared
LRU with a byte budget keeps the whole set at a known size; a value evicted is simply
rendered again (every cached function is pure: its RNG is seeded from its key), so the music
is the same either way, only the composer thread works a little more.

Thread-safe: the bridge's composer thread and (rarely) its render thread both render notes.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, ParamSpec, TypeVar

import numpy as np

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_BUDGET_BYTES = 48 * 1024 * 1024  # warm-up fills it; twice this cost 55 MB, no CPU saved


def _nbytes(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, list | tuple):
        return sum(_nbytes(v) for v in value)
    return 64


class SampleCache:
    """An LRU mapping of hashable keys to arrays (or lists of arrays), at most ``budget`` bytes."""

    def __init__(self, budget: int = DEFAULT_BUDGET_BYTES) -> None:
        self.budget = budget
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: Hashable, value: Any) -> None:
        size = _nbytes(value)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.bytes -= old[1]
            self._items[key] = (value, size)
            self.bytes += size
            while self.bytes > self.budget and len(self._items) > 1:
                _, (_, evicted) = self._items.popitem(last=False)
                self.bytes -= evicted

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.bytes = 0

    def memoize(self, namespace: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
        """Decorator: cache a pure function of hashable positional arguments here."""

        def wrap(fn: Callable[P, R]) -> Callable[P, R]:
            @functools.wraps(fn)
            def cached(*args: P.args, **kwargs: P.kwargs) -> R:
                key = (namespace, args, tuple(sorted(kwargs.items())))
                got = self.get(key)
                if got is None:
                    got = fn(*args, **kwargs)
                    self.put(key, got)
                return got

            return cached

        return wrap


SAMPLES = SampleCache()  # the one cache every voice shares
