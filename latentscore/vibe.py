"""Vibe text -> MusicConfig: the one entry point every caller (render, streams, live) uses.

No text model ships yet (the "fast" embedding model is its own issue), so for now this
validates the text and explains what to pass instead; render, stream items and live
generators all get the same answer from here.
"""

from __future__ import annotations

from latentscore.config import MusicConfig
from latentscore.errors import InvalidConfigError, ModelNotAvailableError


def vibe_to_config(text: str, model: str = "fast") -> MusicConfig:
    """The MusicConfig for a vibe text (raises until a text model is installed)."""
    if not text.strip():
        raise InvalidConfigError("vibe text is empty", field="vibe", value=text)
    raise ModelNotAvailableError(
        f"vibe {text!r}: turning text into music needs the {model!r} text-to-config model, "
        "which is not installed yet. Pass a MusicConfig (e.g. MusicConfig(tempo='slow', "
        "mode='dorian')), a MusicConfigUpdate, or a preset: "
        "latentscore.presets.load('morning_mist')."
    )
