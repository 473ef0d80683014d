"""MidiMapper: MIDI messages in, parameter changes out (and values back out as feedback).

Pure logic over mido :class:`~mido.Message` objects and a ``read`` function giving current
parameter values, with no ports or threads: the same object is driven by a live port, by the
unit tests and by the benchmark.

A change is expressed the way an OSC client would send it (:class:`Change`: a parameter name
plus OSC type tags and arguments), because the daemon applies MIDI-driven changes through the
same :class:`~bridge.controller.Controller` path as OSC: same validation, same state, same
glide/crossfade rules, same OSC feedback.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import mido

from bridge.midi_decode import Cc14, SoftTakeover, decode_relative, split14
from bridge.midi_map import Binding, ControllerMap
from bridge.osc_codec import OscValue
from bridge.registry import ParamRegistry
from latentscore.config import Label

log = logging.getLogger("bridge.midi")

ReadValue = Callable[[str], tuple[OscValue, ...] | None]


@dataclass(frozen=True)
class Change:
    """One parameter change, as OSC would carry it (``/latentscore/<param> <args>``)."""

    param: str
    tags: str
    args: tuple[OscValue, ...]


@dataclass
class _Live:
    """A binding plus its runtime state (pick-up, encoder tick accumulator)."""

    binding: Binding
    takeover: SoftTakeover = field(default_factory=SoftTakeover)
    ticks: int = 0
    channel: int = 0  # where the control was last heard (feedback for "any channel" maps)


def _label_args(label: Label) -> tuple[str, tuple[OscValue, ...]]:
    return ("i", (label,)) if isinstance(label, int) else ("s", (label,))


class MidiMapper:
    """Turns messages into :class:`Change` lists using a :class:`ControllerMap`."""

    def __init__(self, registry: ParamRegistry, cmap: ControllerMap, read: ReadValue) -> None:
        self.registry = registry
        self.read = read
        self._cc14 = Cc14()
        self.cmap = ControllerMap()
        self._routes: dict[tuple[str, int | None, int | None], list[_Live]] = {}
        self._by_param: dict[str, list[_Live]] = {}
        self.set_map(cmap)

    # --- the map ---------------------------------------------------------------------------
    def set_map(self, cmap: ControllerMap) -> None:
        """Use ``cmap`` from now on (bindings kept by source keep their pick-up state)."""
        old = {live.binding: live for lives in self._by_param.values() for live in lives}
        self.cmap = cmap
        self._routes, self._by_param = {}, {}
        for binding in cmap.bindings:
            live = old.get(binding) or _Live(binding)
            src = binding.source
            self._routes.setdefault((src.kind, src.channel, src.number), []).append(live)
            if binding.resolution == 14 and src.number is not None:
                self._routes.setdefault(("cc", src.channel, src.number + 32), []).append(live)
            self._by_param.setdefault(binding.param, []).append(live)

    def bound_params(self) -> set[str]:
        return set(self._by_param)

    def _lookup(self, kind: str, channel: int, number: int | None) -> list[_Live]:
        found = self._routes.get((kind, channel, number), [])
        found = found + self._routes.get((kind, None, number), [])
        for live in found:
            live.channel = channel
        return found

    # --- input -----------------------------------------------------------------------------
    def handle(self, msg: mido.Message) -> list[Change]:
        """Changes caused by one message (empty for messages no control is bound to)."""
        kind = msg.type
        if kind == "control_change":
            return self._control_change(msg.channel, msg.control, msg.value)
        if kind == "note_on" and msg.velocity > 0:
            return self._press(self._lookup("note", msg.channel, msg.note))
        if kind == "program_change":
            changes = self._press(self._lookup("program", msg.channel, msg.program))
            for live in self._lookup("program", msg.channel, None):
                labels = live.binding.labels
                if msg.program < len(labels):
                    changes.extend(self._select(live.binding, labels[msg.program]))
            return changes
        return []

    def _control_change(self, channel: int, control: int, value: int) -> list[Change]:
        changes: list[Change] = []
        for live in self._lookup("cc", channel, control):
            b = live.binding
            if b.resolution == 14:
                got = self._cc14.feed(channel, control, value)
                if got is None:
                    continue
                raw, top = got[1], 16383
            else:
                raw, top = value, 127
            if b.mode == "button":
                if value >= 64:
                    changes.extend(self._press([live]))
            elif b.relative:
                changes.extend(self._relative(live, decode_relative(value, b.mode)))
            else:
                changes.extend(self._absolute(live, raw, top))
        return changes

    def _press(self, lives: Sequence[_Live]) -> list[Change]:
        changes: list[Change] = []
        for live in lives:
            b = live.binding
            if b.kind == "trigger":
                changes.append(Change(b.param, "i", (1,)))
            elif b.kind == "step":
                changes.append(Change(b.param, "i", (int(b.value or 1),)))
            elif b.kind == "select" and b.value is not None:
                changes.extend(self._select(b, b.value))
            elif b.kind == "cycle":
                changes.extend(self._cycle(b))
        return changes

    def _absolute(self, live: _Live, raw: int, top: int) -> list[Change]:
        b = live.binding
        x = raw / top
        if b.invert:
            x = 1.0 - x
        if b.kind == "continuous":
            current = self._position(b)
            if b.takeover == "pickup" and not live.takeover.accept(x, current):
                return []
            value = round(b.lo + (b.hi - b.lo) * x, 6)
            return [Change(b.param, "f", (value,))]
        if b.kind == "select":
            n = len(b.labels)
            index = min(n - 1, (raw * n) // (top + 1))
            if b.invert:
                index = n - 1 - index
            if b.takeover == "pickup":
                now = self._label_index(b)
                centre = None if now is None else (now + 0.5) / n
                spot = (index + 0.5) / n
                live.takeover.window = 0.5 / n
                if not live.takeover.accept(spot, centre):
                    return []
            return self._select(b, b.labels[index])
        return []

    def _relative(self, live: _Live, ticks: int) -> list[Change]:
        b = live.binding
        if ticks == 0:
            return []
        if b.invert:
            ticks = -ticks
        if b.kind == "continuous":
            x = self._position(b)
            x = min(1.0, max(0.0, (x if x is not None else 0.0) + ticks * b.step))
            return [Change(b.param, "f", (round(b.lo + (b.hi - b.lo) * x, 6),))]
        live.ticks += ticks
        moves = int(live.ticks / b.ticks)  # toward zero: a reversal starts from a clean slate
        if moves == 0:
            return []
        live.ticks -= moves * b.ticks
        if b.kind == "step":
            return [Change(b.param, "i", (moves * int(b.value or 1),))]
        if b.kind == "select":
            now = self._label_index(b)
            index = min(len(b.labels) - 1, max(0, (now if now is not None else 0) + moves))
            return self._select(b, b.labels[index])
        return []

    def _select(self, b: Binding, label: Label) -> list[Change]:
        if self._current_label(b) == label:
            return []  # already there: no message, no crossfade
        tags, args = _label_args(label)
        field_spec = self.registry[b.param].field
        # a number on a fader is a position: labels of ordered fields go to their label address
        ordered = field_spec is not None and field_spec.ordered
        return [Change(f"{b.param}/label" if ordered else b.param, tags, args)]

    def _cycle(self, b: Binding) -> list[Change]:
        spec = self.registry[b.param]
        assert spec.field is not None
        labels = b.labels or spec.field.labels
        current = self._current_label(b)
        index = labels.index(current) + 1 if current in labels else 0
        return self._select(b, labels[index % len(labels)])

    # --- current values ----------------------------------------------------------------------
    def _current_label(self, b: Binding) -> Label | None:
        spec = self.registry[b.param]
        if spec.field is None:
            return None
        value = self.read(f"{b.param}/label" if spec.field.ordered else b.param)
        return value[0] if value else None  # type: ignore[return-value]

    def _label_index(self, b: Binding) -> int | None:
        current = self._current_label(b)
        return b.labels.index(current) if current in b.labels else None

    def _position(self, b: Binding) -> float | None:
        """The parameter's current value in the control's own 0..1 space (None: unknown)."""
        value = self.read(b.param)
        if not value or not isinstance(value[0], int | float):
            return None
        x = (float(value[0]) - b.lo) / (b.hi - b.lo)
        x = min(1.0, max(0.0, x))
        return 1.0 - x if b.invert else x

    # --- feedback ------------------------------------------------------------------------------
    def feedback_names(self) -> set[str]:
        """Registry names whose changes some control shows (for the feedback target)."""
        names: set[str] = set()
        for param, lives in self._by_param.items():
            if not any(live.binding.feedback for live in lives):
                continue
            field_spec = self.registry[param].field
            names.add(param)
            if field_spec is not None and field_spec.ordered:
                names.add(f"{param}/label")
            if param in ("play", "stop"):
                names.add("playing")
        return names

    def feedback(self, name: str, args: Sequence[OscValue]) -> list[mido.Message]:
        """Messages that show a new value of ``name`` on controls with feedback enabled.

        ``name`` is a registry name; for ordered fields the position (``brightness``) feeds
        continuous controls and the label (``brightness/label``) feeds label buttons/ranges.
        """
        if name == "playing":
            return self.trigger_feedback(bool(args and args[0]))
        label_path = name.endswith("/label")
        param = name.removesuffix("/label")
        if param not in self._by_param:
            return []
        field_spec = self.registry[param].field
        ordered = field_spec is not None and field_spec.ordered
        out: list[mido.Message] = []
        for live in self._by_param[param]:
            b = live.binding
            if not b.feedback or b.relative or b.source.number is None:
                continue
            if ordered and (b.kind == "continuous") == label_path:
                continue
            try:
                out.extend(self._feedback_one(live, args))
            except (TypeError, ValueError):  # a value this control cannot show
                log.debug("no feedback for %s = %r", param, args, exc_info=True)
        return out

    def _feedback_one(self, live: _Live, args: Sequence[OscValue]) -> list[mido.Message]:
        b, src = live.binding, live.binding.source
        channel = src.channel if src.channel is not None else live.channel
        if not args:
            return []
        value = args[0]
        if b.kind == "continuous" and src.kind == "cc" and src.number is not None:
            x = min(1.0, max(0.0, (float(value) - b.lo) / (b.hi - b.lo)))  # type: ignore[arg-type]
            if b.invert:
                x = 1.0 - x
            live.takeover.sync(x)
            if b.resolution == 14:
                msb, lsb = split14(round(x * 16383))
                return [
                    mido.Message("control_change", channel=channel, control=src.number, value=msb),
                    mido.Message(
                        "control_change", channel=channel, control=src.number + 32, value=lsb
                    ),
                ]
            return [
                mido.Message(
                    "control_change", channel=channel, control=src.number, value=round(x * 127)
                )
            ]
        if b.kind == "select" and b.value is None and src.kind == "cc" and b.labels:
            if value not in b.labels or src.number is None:
                return []
            n = len(b.labels)
            index = b.labels.index(value)
            if b.invert:
                index = n - 1 - index
            cc = min(127, math.floor((index + 0.5) * 128 / n))
            live.takeover.sync((index + 0.5) / n)
            return [mido.Message("control_change", channel=channel, control=src.number, value=cc)]
        if b.kind == "select" and b.value is not None and src.number is not None:
            lit = b.led if value == b.value else 0  # a button's LED: lit while its label is chosen
            if src.kind == "note":
                return [mido.Message("note_on", channel=channel, note=src.number, velocity=lit)]
            if src.kind == "cc":
                return [
                    mido.Message("control_change", channel=channel, control=src.number, value=lit)
                ]
        return []

    def trigger_feedback(self, playing: bool) -> list[mido.Message]:
        """LEDs of play/stop buttons (play lit while playing, stop lit while stopped)."""
        out: list[mido.Message] = []
        for name, lit in (("play", playing), ("stop", not playing)):
            for live in self._by_param.get(name, []):
                b, src = live.binding, live.binding.source
                if not b.feedback or src.number is None:
                    continue
                v = b.led if lit else 0
                channel = src.channel if src.channel is not None else live.channel
                if src.kind == "note":
                    out.append(
                        mido.Message("note_on", channel=channel, note=src.number, velocity=v)
                    )
                elif src.kind == "cc":
                    out.append(
                        mido.Message("control_change", channel=channel, control=src.number, value=v)
                    )
        return out
