"""MIDI learn: bind the next moved control to a parameter and save it to the user's map.

``/latentscore/learn brightness`` (OSC) or ``latentscore bridge --learn`` arms a
:class:`LearnSession`; the next control change, note-on or program change (clock and other
system messages never count) becomes a :class:`~bridge.midi_map.Binding` with sensible
defaults for the parameter (a knob on an ordered field is a continuous control with pick-up,
a note on a style cycles its labels, a button on ``tempo/step`` steps up...). A CC 0..31
followed within :data:`PAIR_SECONDS` by its LSB partner (n + 32) is learned as 14-bit.

Learned bindings are appended to the user's map file (by default
``$XDG_CONFIG_HOME/latentscore/controllers/user.toml``, i.e. ``~/.config/...``), replacing any
earlier binding of the same control, and layered over ``--midi-map`` on every start.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import mido

from bridge.midi_map import (
    Binding,
    ControllerMap,
    MapError,
    load_map,
    mappable,
    parse_binding,
    save_map,
)
from bridge.registry import ParamRegistry

PAIR_SECONDS = 0.05
USER_MAP_HEADER = (
    "# LatentScore: controls bound with MIDI learn (/latentscore/learn <param> or\n"
    "# `latentscore bridge --learn`). Edit freely; the format is in presets/controllers/README.md."
)


def default_user_map() -> Path:
    """Where learned bindings are saved unless ``--learn-file`` says otherwise."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "latentscore" / "controllers" / "user.toml"


def load_user_map(path: Path, registry: ParamRegistry) -> ControllerMap:
    """The user's learned map (empty if the file does not exist yet)."""
    if not path.exists():
        return ControllerMap("learned", [], path)
    return load_map(path, registry)


@dataclass(frozen=True)
class Learned:
    """A finished learn: the binding made, and where it was saved."""

    binding: Binding
    path: Path


def binding_for(registry: ParamRegistry, param: str, msg: mido.Message) -> Binding | None:
    """The default binding of ``param`` to the control that sent ``msg`` (None: not a control)."""
    if not hasattr(msg, "channel"):
        return None  # system messages (clock, sysex...) are not controls
    table: dict[str, object] = {"param": param, "channel": msg.channel + 1}
    if msg.type == "control_change":
        table["cc"] = msg.control
    elif msg.type == "note_on" and msg.velocity > 0:
        table["note"] = msg.note
    elif msg.type == "program_change":
        table["program"] = "index"
    else:
        return None
    spec = registry[param]
    if spec.role == "step" and msg.type == "control_change":
        table["mode"] = "button"
    if spec.name in ("play", "stop") and msg.type == "program_change":
        table["program"] = msg.program
    if spec.role == "setting" and msg.type != "control_change":
        return None  # volume/transition need a knob
    try:
        return parse_binding(table, registry)
    except MapError:
        return None


class LearnSession:
    """One armed learn at a time; thread-safe (MIDI callback thread vs OSC threads)."""

    def __init__(
        self,
        registry: ParamRegistry,
        path: Path,
        on_learned: Callable[[Learned], None],
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = registry
        self.path = path
        self.on_learned = on_learned
        self.now = now
        self._lock = threading.Lock()
        self._param: str | None = None
        self._pending: tuple[Binding, float] | None = None  # a CC 0..31 waiting for its LSB
        self.done = threading.Event()

    @property
    def armed(self) -> str | None:
        return self._param

    def arm(self, param: str) -> None:
        """Bind the next moved control to ``param``; raises ValueError if it is not mappable."""
        name = param.strip().removeprefix("/latentscore/")
        try:
            spec = self.registry[name]
        except KeyError:
            raise ValueError(f"unknown parameter {name!r}") from None
        if not mappable(spec):
            raise ValueError(f"{name!r} cannot be driven by a MIDI control")
        with self._lock:
            self._param, self._pending = name, None
            self.done.clear()

    def cancel(self) -> None:
        with self._lock:
            self._param, self._pending = None, None

    def offer(self, msg: mido.Message) -> bool:
        """Consume ``msg`` if a learn is armed (True); the control is bound and saved."""
        with self._lock:
            pending = self._pending
            if pending is not None:
                binding, at = pending
                src = binding.source
                pair = (
                    msg.type == "control_change"
                    and msg.control == (src.number or 0) + 32
                    and msg.channel == src.channel
                )
                if pair or self.now() - at > PAIR_SECONDS:
                    self._pending = None
                    if pair and binding.kind == "continuous":
                        binding = _as_14bit(binding, self.registry)
                    self._finish(binding)
                    return True
                if msg.type == "control_change" and msg.control == src.number:
                    return True  # the same knob still moving: keep waiting for an LSB
            if self._param is None:
                return False
            found = binding_for(self.registry, self._param, msg)
            if found is None:
                return msg.type in ("control_change", "note_on", "note_off", "program_change")
            self._param = None
            if msg.type == "control_change" and msg.control < 32 and found.kind == "continuous":
                self._pending = (found, self.now())  # maybe a 14-bit pair: wait for the LSB
                return True
            self._finish(found)
            return True

    def poll(self) -> None:
        """Finish a pending 7-bit learn whose LSB never came (called periodically)."""
        with self._lock:
            pending = self._pending
            if pending is None or self.now() - pending[1] <= PAIR_SECONDS:
                return
            self._pending = None
            self._finish(pending[0])

    def _finish(self, binding: Binding) -> None:
        current = load_user_map(self.path, self.registry)
        updated = current.with_binding(binding)
        save_map(self.path, updated, USER_MAP_HEADER)
        self.done.set()
        self.on_learned(Learned(binding, self.path))


def _as_14bit(binding: Binding, registry: ParamRegistry) -> Binding:
    src = binding.source
    table: dict[str, object] = {
        "param": binding.param,
        "cc": src.number,
        "channel": "any" if src.channel is None else src.channel + 1,
        "resolution": 14,
    }
    return parse_binding(table, registry)
