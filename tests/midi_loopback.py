"""An in-process mido backend: ports are named buses, so tests need no MIDI hardware or server.

Use it as ``mido.Backend("tests.midi_loopback")``. Anything sent to an output named X is
delivered to every open input named X (to its callback, or queued for ``receive``).
``virtual=True`` ports are listed for others to find, like a real virtual port. Each sent
message is also recorded (with a monotonic timestamp) in :data:`SENT` for assertions.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from typing import Any

import mido
from mido.ports import BaseInput, BaseOutput

_lock = threading.RLock()  # re-entrant: a port garbage-collected while held closes itself
_inputs: dict[str, list[Input]] = defaultdict(list)
_listed: dict[str, dict[str, bool]] = {}  # name -> {"is_input": ..., "is_output": ...}
SENT: dict[str, list[tuple[float, mido.Message]]] = defaultdict(list)


def reset() -> None:
    """Forget every port and recorded message (call between tests)."""
    with _lock:
        _inputs.clear()
        _listed.clear()
        SENT.clear()


def add_device(name: str, *, is_input: bool = True, is_output: bool = True) -> None:
    """Pretend a hardware device called ``name`` is plugged in."""
    with _lock:
        _listed[name] = {"is_input": is_input, "is_output": is_output}


def get_devices(**kwargs: Any) -> list[dict[str, Any]]:
    with _lock:
        return [{"name": n, **flags} for n, flags in _listed.items()]


class Input(BaseInput):
    def _open(self, virtual: bool = False, callback: Any = None, **kwargs: Any) -> None:
        if self.name is None:
            raise OSError("loopback ports need a name")
        self._queue: deque[mido.Message] = deque()
        self.callback = callback
        with _lock:
            _inputs[self.name].append(self)
            if virtual:
                _listed.setdefault(self.name, {"is_input": False, "is_output": False})
                _listed[self.name]["is_output"] = True  # others can send to it

    def deliver(self, msg: mido.Message) -> None:
        if self.callback is not None:
            self.callback(msg)
        else:
            self._queue.append(msg)

    def _receive(self, block: bool = True) -> mido.Message | None:
        return self._queue.popleft() if self._queue else None

    def _close(self) -> None:
        with _lock:
            if self in _inputs[self.name]:
                _inputs[self.name].remove(self)


class Output(BaseOutput):
    def _open(self, virtual: bool = False, **kwargs: Any) -> None:
        if self.name is None:
            raise OSError("loopback ports need a name")
        if virtual:
            with _lock:
                _listed.setdefault(self.name, {"is_input": False, "is_output": False})
                _listed[self.name]["is_input"] = True  # others can receive from it

    def _send(self, msg: mido.Message) -> None:
        with _lock:
            SENT[self.name].append((time.monotonic(), msg))
            targets = list(_inputs.get(self.name, []))
        for port in targets:
            port.deliver(msg)
