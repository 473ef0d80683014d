"""VibeWorker: resolves ``/latentscore/vibe`` requests one at a time, newest wins.

A vibe takes the model from tens of milliseconds to seconds. Controllers can send vibes much
faster than that (a text field that sends on every keystroke, or a flood), and only the
latest one can matter: whatever the worker is thinking about is superseded by the next one.
So there is one slot, not a queue: a new request replaces the waiting one (which is
cancelled: ``on_cancel`` is called for it), memory stays bounded whatever the burst, and a
new vibe waits at most for the one already being computed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

log = logging.getLogger("bridge.vibe")

T = TypeVar("T")


@dataclass(frozen=True)
class VibeRequest(Generic[T]):
    """One request: its sequence number (higher is newer) and what the caller attached."""

    seq: int
    text: str
    context: T


class VibeWorker(Generic[T]):
    """One thread, one waiting slot (see the module docstring)."""

    def __init__(
        self,
        resolve: Callable[[VibeRequest[T]], None],
        on_cancel: Callable[[VibeRequest[T]], None],
    ) -> None:
        self._resolve, self._on_cancel = resolve, on_cancel
        self._cond = threading.Condition()
        self._waiting: VibeRequest[T] | None = None
        self._seq = 0
        self._closed = False
        self.latest = 0  # seq of the newest request (a result older than this is stale)
        self.cancelled = 0
        self._thread = threading.Thread(target=self._run, name="bridge-vibe", daemon=True)
        self._thread.start()

    def submit(self, text: str, context: T) -> VibeRequest[T]:
        """Queue ``text``, replacing (cancelling) any request still waiting."""
        with self._cond:
            self._seq += 1
            request = VibeRequest(self._seq, text, context)
            replaced, self._waiting = self._waiting, request
            self.latest = request.seq
            self._cond.notify()
        if replaced is not None:
            self.cancelled += 1
            self._on_cancel(replaced)
        return request

    def is_latest(self, request: VibeRequest[T]) -> bool:
        return request.seq == self.latest

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._waiting = None
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._waiting is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                request, self._waiting = self._waiting, None
            assert request is not None
            try:
                self._resolve(request)
            except Exception:  # resolve reports its own errors; this is a last resort
                log.exception("vibe request %d failed", request.seq)
