"""LatentScore: describe a mood, get ambient music, rendered locally.

Quick start::

    import latentscore as ls
    from latentscore import MusicConfig, MusicConfigUpdate, Step

    audio = ls.render(MusicConfig(tempo="slow", mode="dorian", texture="breath"), duration=20)
    audio.save("calm.wav")
    audio.save("calm.mid")  # the same notes as a Standard MIDI File

    faster = ls.render(ls.presets.load("lofi_study"), update=MusicConfigUpdate(tempo=Step(1)))

    for chunk in ls.stream(config, MusicConfigUpdate(brightness=Step(1)), duration=30):
        ...  # float32 chunks, rendered as you iterate (also: async for, .save, .collect)

Importing this package stays light: audio I/O (soundfile), MIDI (mido), playback
(sounddevice) and progress bars (rich) load only when used.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from latentscore import dx, presets
from latentscore.aio import arender, astream
from latentscore.audio import Audio
from latentscore.config import MusicConfig, MusicConfigUpdate, Step, config_json_schema
from latentscore.errors import (
    AudioDeviceError,
    InvalidConfigError,
    LatentScoreError,
    ModelNotAvailableError,
    PresetNotFoundError,
)
from latentscore.items import Streamable
from latentscore.models.result import GenerateResult, Palette, PaletteColor
from latentscore.render import render
from latentscore.stream import AudioStream, stream
from latentscore.vibe import avibe_to_config, avibe_to_result, vibe_to_config, vibe_to_result

if TYPE_CHECKING:
    from latentscore.models.external import ExternalModelSpec

try:
    __version__ = version("latentscore")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "Audio",
    "AudioDeviceError",
    "AudioStream",
    "ExternalModelSpec",
    "GenerateResult",
    "InvalidConfigError",
    "LatentScoreError",
    "ModelNotAvailableError",
    "MusicConfig",
    "MusicConfigUpdate",
    "Palette",
    "PaletteColor",
    "PresetNotFoundError",
    "Step",
    "Streamable",
    "__version__",
    "arender",
    "astream",
    "avibe_to_config",
    "avibe_to_result",
    "config_json_schema",
    "dx",
    "presets",
    "render",
    "stream",
    "vibe_to_config",
    "vibe_to_result",
]


def __getattr__(name: str) -> Any:
    # ExternalModelSpec loads on first use: only programs that bring their own LLM pay for
    # the prompt/repair modules behind it (LiteLLM itself loads later still, on first call).
    if name == "ExternalModelSpec":
        from latentscore.models.external import ExternalModelSpec

        return ExternalModelSpec
    raise AttributeError(f"module 'latentscore' has no attribute {name!r}")
