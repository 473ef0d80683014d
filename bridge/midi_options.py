"""MidiOptions: what the daemon is told about MIDI, kept free of MIDI libraries.

The daemon and the CLI import this module at start-up; mido and python-rtmidi are loaded
only when MIDI is actually asked for (:mod:`bridge.midi_bridge`), so an OSC-only bridge
never pays for them (``tests/test_layering.py`` holds the line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Clock = Literal["none", "in", "out"]
API_CHOICES = ("auto", "alsa", "jack", "coremidi", "windows")


@dataclass
class MidiOptions:
    """The daemon's MIDI flags (``--midi-in``, ``--midi-out``, ``--midi-map``, ``--clock``...)."""

    midi_in: str | None = None  # port name substring, or "virtual"
    midi_out: str | None = None
    map: str | None = None  # a file path or a preset name (presets/controllers/<name>.toml)
    learn_file: Path | None = None  # default: ~/.config/latentscore/controllers/user.toml
    learn: list[str] = field(default_factory=list)  # guided learn of these params at start
    clock: Clock = "none"
    api: str = "auto"
    backend: Any = None  # a mido backend to use instead of rtmidi (tests)
    feedback_port: str | None = None  # where LED/motor feedback goes (default: like midi_in)
    lookahead: float = 0.0  # send note/clock messages this many seconds early
    sync_offset_ms: float = 0.0  # clock in: our bars land this much later than the DAW's

    @property
    def wanted(self) -> bool:
        return bool(self.midi_in or self.midi_out or self.learn)
